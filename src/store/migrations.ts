// Schema migrations, applied in order; index i moves the schema from version i to i+1.
// Never edit a shipped migration: append a new one.

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,          -- ULID: sorts by creation time
    origin          TEXT NOT NULL,             -- 'sync' (passthrough caller waiting) | 'async' (/jobs)
    endpoint        TEXT NOT NULL,             -- '/api/chat' | '/api/generate' | ...
    model           TEXT NOT NULL,             -- as the caller sent it (forwarded unchanged)
    model_key       TEXT NOT NULL,             -- normalised model (+ runner options): the drain key
    priority        INTEGER NOT NULL DEFAULT 0,
    request         TEXT NOT NULL,             -- the Ollama request body (JSON)
    state           TEXT NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    not_before      INTEGER NOT NULL,          -- epoch ms; retry backoff
    result          TEXT,                      -- complete non-stream response (JSON)
    error           TEXT,
    error_status    INTEGER,                   -- HTTP status to give the caller for 'failed'
    webhook_url     TEXT,
    metadata        TEXT,
    idempotency_key TEXT UNIQUE,
    request_hash    TEXT,
    load_ms         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER
  );
  -- Partial indexes over the queued rows only: picking the next job stays O(log n) however
  -- many finished jobs the table holds.
  CREATE INDEX jobs_queued_age      ON jobs(id)                        WHERE state = 'queued';
  CREATE INDEX jobs_queued_priority ON jobs(priority DESC, id)         WHERE state = 'queued';
  CREATE INDEX jobs_queued_model    ON jobs(model_key, priority DESC, id) WHERE state = 'queued';
  CREATE INDEX jobs_queued_due      ON jobs(not_before)                WHERE state = 'queued';
  CREATE INDEX jobs_finished        ON jobs(finished_at)               WHERE finished_at IS NOT NULL;
  CREATE INDEX jobs_state           ON jobs(state, id);

  CREATE TABLE artifacts (
    job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (job_id, name)
  );
  `,
  `
  -- The webhook outbox: one row per event, written in the same transaction as the job state change
  -- it announces, so a crash can neither lose nor reorder it.
  CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,          -- 'msg_' + ULID: the webhook-id, stable across retries
    job_id          TEXT NOT NULL,
    url             TEXT NOT NULL,
    state           TEXT NOT NULL,             -- the job state this event announces
    payload         TEXT NOT NULL,             -- the exact body to POST
    status          TEXT NOT NULL DEFAULT 'pending', -- pending | delivered | failed | dropped
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL
  );
  CREATE INDEX webhook_events_job     ON webhook_events(job_id, id);
  CREATE INDEX webhook_events_pending ON webhook_events(next_attempt_at) WHERE status = 'pending';
  `,
  `
  -- Ollama's own load_duration for the job's work request: how long Ollama spent getting the model
  -- ready. Near zero after foreman's explicit load; a real load when the model was evicted behind
  -- foreman's back (foreman then learns the load time from Ollama, not from its own timing).
  ALTER TABLE jobs ADD COLUMN ollama_load_ms INTEGER;
  -- The jobs that paid a load (see paidLoadMs; 200 = COLD_LOAD_MS, and the learned-times query
  -- must repeat this condition word for word for SQLite to use the index).
  CREATE INDEX jobs_loaded ON jobs(finished_at) WHERE load_ms IS NOT NULL OR ollama_load_ms >= 200;
  `,
];

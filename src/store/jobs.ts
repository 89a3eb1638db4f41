// The job table: every state change is one committed statement, guarded by the state it moves
// from (BullMQ-style atomic transitions), so two actors can never both win the same change.
import type { Database, Statement } from "bun:sqlite";
import { monotonicFactory } from "ulid";
import type { ModelTimes } from "../queue/forecast";

// Monotonic: ids made in the same millisecond still sort in creation order.
const ulid = monotonicFactory();

export type JobState = "queued" | "loading" | "working" | "done" | "failed" | "cancelled";
export type JobOrigin = "sync" | "async";
export const TERMINAL: readonly JobState[] = ["done", "failed", "cancelled"];
export const ACTIVE: readonly JobState[] = ["loading", "working"];

export interface JobRow {
  id: string;
  origin: JobOrigin;
  endpoint: string;
  model: string;
  model_key: string;
  priority: number;
  request: string;
  state: JobState;
  attempt: number;
  max_attempts: number;
  not_before: number;
  result: string | null;
  error: string | null;
  error_status: number | null;
  webhook_url: string | null;
  metadata: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  load_ms: number | null;
  ollama_load_ms: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface NewJob {
  origin: JobOrigin;
  endpoint: string;
  model: string;
  modelKey: string;
  request: unknown;
  priority?: number;
  maxAttempts: number;
  webhookUrl?: string | null;
  metadata?: unknown;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

/** Fields a transition may set besides the state. */
export type JobPatch = Partial<Pick<JobRow,
  "attempt" | "not_before" | "result" | "error" | "error_status" | "load_ms" | "ollama_load_ms" | "started_at" | "finished_at">>;

/**
 * Ollama reports a warm model's load_duration as a few milliseconds (it includes its own queueing);
 * more than this on a job foreman did not load means Ollama had to load the model itself.
 */
export const COLD_LOAD_MS = 200;

/** The model load a finished job paid: foreman's explicit load, or one Ollama did inside the request. */
export function paidLoadMs(job: Pick<JobRow, "load_ms" | "ollama_load_ms">): number | null {
  if (job.load_ms !== null) return job.load_ms + (job.ollama_load_ms ?? 0);
  return job.ollama_load_ms !== null && job.ollama_load_ms >= COLD_LOAD_MS ? job.ollama_load_ms : null;
}

export interface QueuedHead { id: string; model_key: string; priority: number; created_at: number }

/** SQLite's own failures (disk full, read-only file, I/O error): storage, not the request, is at fault. */
export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_");
}

/** Runs inside the transaction of every job change (the webhook outbox writes its event here). */
export type ChangeHook = (job: JobRow, previous: JobState | null) => void;

export class JobStore {
  private readonly q: Record<string, Statement>;
  private readonly hooks: ChangeHook[] = [];

  constructor(readonly db: Database) {
    // INDEXED BY: without statistics the planner may pick jobs_state and sort 100k rows (10 ms);
    // the partial indexes answer each of these in microseconds.
    const head = "SELECT id, model_key, priority, created_at FROM jobs";
    this.q = {
      get: db.query("SELECT * FROM jobs WHERE id = ?"),
      state: db.query("SELECT state FROM jobs WHERE id = ?"),
      oldest: db.query(`${head} INDEXED BY jobs_queued_age WHERE state = 'queued' AND not_before <= ? ORDER BY id LIMIT 1`),
      topPriority: db.query(`${head} INDEXED BY jobs_queued_priority WHERE state = 'queued' AND not_before <= ? ORDER BY priority DESC, id LIMIT 1`),
      oldestAt: db.query(`${head} INDEXED BY jobs_queued_priority WHERE state = 'queued' AND not_before <= ? AND priority = ? ORDER BY priority DESC, id LIMIT 1`),
      oldestFor: db.query(`${head} INDEXED BY jobs_queued_model WHERE state = 'queued' AND not_before <= ? AND model_key = ? AND priority = ? ORDER BY model_key, priority DESC, id LIMIT 1`),
      nextDue: db.query("SELECT MIN(not_before) AS t FROM jobs WHERE state = 'queued'"),
      countQueued: db.query("SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'"),
      putArtifact: db.query(
        `INSERT INTO artifacts (job_id, name, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id, name) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
         data = excluded.data, created_at = excluded.created_at`),
    };
  }

  onChange(hook: ChangeHook): void {
    this.hooks.push(hook);
  }

  private changed(row: JobRow | null, previous: JobState | null): JobRow | null {
    if (row) for (const hook of this.hooks) hook(row, previous);
    return row;
  }

  insert(spec: NewJob, now = Date.now()): JobRow {
    return this.db.transaction(() => this.changed(this.db.query(
      `INSERT INTO jobs (id, origin, endpoint, model, model_key, priority, request, state, attempt, max_attempts,
        not_before, webhook_url, metadata, idempotency_key, request_hash, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      ulid(now), spec.origin, spec.endpoint, spec.model, spec.modelKey, spec.priority ?? 0,
      JSON.stringify(spec.request), spec.maxAttempts, now, spec.webhookUrl ?? null,
      spec.metadata === undefined ? null : JSON.stringify(spec.metadata),
      spec.idempotencyKey ?? null, spec.requestHash ?? null, now, now,
    ) as JobRow, null)!)();
  }

  /** Newest first, keyset-paginated by id (`before`). */
  list(f: { states?: JobState[]; modelKey?: string; origin?: JobOrigin; before?: string; limit: number }): JobRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.before) { where.push("id < ?"); args.push(f.before); }
    if (f.states?.length) { where.push(`state IN (${f.states.map(() => "?").join(", ")})`); args.push(...f.states); }
    if (f.modelKey) { where.push("(model_key = ? OR model_key LIKE ?)"); args.push(f.modelKey, `${f.modelKey}|%`); }
    if (f.origin) { where.push("origin = ?"); args.push(f.origin); }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return this.db.query(sql).all(...args, f.limit) as JobRow[];
  }

  artifacts(jobId: string): { name: string; content_type: string; size: number }[] {
    return this.db.query("SELECT name, content_type, size FROM artifacts WHERE job_id = ? ORDER BY name").all(jobId) as
      { name: string; content_type: string; size: number }[];
  }

  artifact(jobId: string, name: string): { content_type: string; data: Uint8Array } | null {
    return (this.db.query("SELECT content_type, data FROM artifacts WHERE job_id = ? AND name = ?").get(jobId, name) as
      { content_type: string; data: Uint8Array } | null) ?? null;
  }

  byIdempotencyKey(key: string): JobRow | null {
    return (this.db.query("SELECT * FROM jobs WHERE idempotency_key = ?").get(key) as JobRow | null) ?? null;
  }

  get(id: string): JobRow | null {
    return (this.q.get.get(id) as JobRow | null) ?? null;
  }

  /**
   * Moves a job to `to` only if it is currently in one of `from`; returns the new row, or null
   * when the job was not in an allowed state (someone else moved it first).
   */
  transition(id: string, from: readonly JobState[], to: JobState, patch: JobPatch = {}, now = Date.now()): JobRow | null {
    const sets = ["state = ?", "updated_at = ?"];
    const args: (string | number | null)[] = [to, now];
    for (const [k, v] of Object.entries(patch)) {
      sets.push(`${k} = ?`);
      args.push(v as string | number | null);
    }
    if (TERMINAL.includes(to) && patch.finished_at === undefined) {
      sets.push("finished_at = ?");
      args.push(now);
    }
    return this.db.transaction(() => {
      const prev = (this.q.state.get(id) as { state: JobState } | null)?.state;
      if (!prev || !from.includes(prev)) return null;
      const row = this.db.query(`UPDATE jobs SET ${sets.join(", ")} WHERE id = ? RETURNING *`).get(...args, id) as JobRow;
      return this.changed(row, prev);
    })();
  }

  /** Claims a queued job for the worker: one guarded UPDATE, so a job is claimed at most once. */
  claim(id: string, to: "loading" | "working", now = Date.now()): JobRow | null {
    return this.db.transaction(() => this.changed((this.db.query(
      `UPDATE jobs SET state = ?, attempt = attempt + 1, started_at = COALESCE(started_at, ?), updated_at = ?
       WHERE id = ? AND state = 'queued' RETURNING *`,
    ).get(to, now, now, id) as JobRow | null) ?? null, "queued"))();
  }

  /** Completes a job and stores its result artifact in one transaction. */
  complete(id: string, result: string, patch: JobPatch = {}, now = Date.now()): JobRow | null {
    return this.db.transaction(() => {
      const state = (this.q.state.get(id) as { state: JobState } | null)?.state;
      if (!state || !ACTIVE.includes(state)) return null;
      // The artifact first, so the 'done' event written by the change hooks can list it.
      this.putArtifact(id, "completion", "application/json", Buffer.from(result), now);
      // A retried job that finished is not in error: the last attempt's error goes.
      return this.transition(id, ACTIVE, "done", { ...patch, result, error: null, error_status: null }, now);
    })();
  }

  putArtifact(jobId: string, name: string, contentType: string, data: Uint8Array, now = Date.now()): void {
    this.q.putArtifact.run(jobId, name, contentType, data.byteLength, data, now);
  }

  // --- the queue view used by the scheduling policy ---
  oldestQueued(now: number): QueuedHead | null {
    return (this.q.oldest.get(now) as QueuedHead | null) ?? null;
  }
  topPriorityQueued(now: number): QueuedHead | null {
    return (this.q.topPriority.get(now) as QueuedHead | null) ?? null;
  }
  oldestQueuedAt(priority: number, now: number): QueuedHead | null {
    return (this.q.oldestAt.get(now, priority) as QueuedHead | null) ?? null;
  }
  oldestQueuedFor(modelKey: string, priority: number, now: number): QueuedHead | null {
    return (this.q.oldestFor.get(now, modelKey, priority) as QueuedHead | null) ?? null;
  }
  /** Earliest not_before among queued jobs (when a deferred retry becomes due). */
  nextDueAt(): number | null {
    return (this.q.nextDue.get() as { t: number | null }).t;
  }
  /** A snapshot of the queue for forecasting: the highest priorities, then the oldest. */
  queuedHeads(limit: number): QueuedHead[] {
    return this.db.query(
      "SELECT id, model_key, priority, created_at FROM jobs INDEXED BY jobs_queued_priority WHERE state = 'queued' ORDER BY priority DESC, id LIMIT ?",
    ).all(limit) as QueuedHead[];
  }

  queuedCounts(): { model_key: string; priority: number; n: number }[] {
    return this.db.query(
      "SELECT model_key, priority, COUNT(*) AS n FROM jobs WHERE state = 'queued' GROUP BY model_key, priority ORDER BY model_key, priority DESC",
    ).all() as { model_key: string; priority: number; n: number }[];
  }

  /**
   * What the scheduler has learned per drain key over recent jobs: the average load (foreman's timing
   * of its explicit load, or Ollama's load_duration when Ollama loaded the model inside the request;
   * see paidLoadMs) and the average run time without the load.
   */
  learnedTimes(): Map<string, ModelTimes> {
    const loads = this.db.query(
      `SELECT model_key, AVG(ms) AS ms, COUNT(*) AS n FROM (
         SELECT model_key, CASE WHEN load_ms IS NOT NULL THEN load_ms + COALESCE(ollama_load_ms, 0) ELSE ollama_load_ms END AS ms
         FROM jobs INDEXED BY jobs_loaded WHERE (load_ms IS NOT NULL OR ollama_load_ms >= ${COLD_LOAD_MS}) AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT 200)
       GROUP BY model_key`).all() as { model_key: string; ms: number; n: number }[];
    const runs = this.db.query(
      `SELECT model_key, AVG(finished_at - started_at - COALESCE(load_ms, 0) - COALESCE(ollama_load_ms, 0)) AS ms, COUNT(*) AS n FROM (
         SELECT model_key, finished_at, started_at, load_ms, ollama_load_ms FROM jobs INDEXED BY jobs_finished
         WHERE finished_at IS NOT NULL AND state = 'done' AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT 500)
       GROUP BY model_key`).all() as { model_key: string; ms: number; n: number }[];
    const out = new Map<string, ModelTimes>();
    const entry = (key: string) => out.get(key) ?? { load_ms: null, load_samples: 0, run_ms: null, samples: 0 };
    for (const r of runs) out.set(r.model_key, { ...entry(r.model_key), run_ms: Math.max(0, Math.round(r.ms)), samples: r.n });
    for (const l of loads) out.set(l.model_key, { ...entry(l.model_key), load_ms: Math.round(l.ms), load_samples: l.n });
    return out;
  }

  /**
   * Jobs marked loading/working that the worker is not running (a state write failed mid-run, e.g.
   * disk full): async ones go back to the queue, sync ones fail (their caller was already answered).
   */
  releaseOrphans(runningId: string | null, now = Date.now()): number {
    return this.db.transaction(() => {
      const rows = this.db.query("SELECT id, origin, state FROM jobs WHERE state IN ('loading', 'working') AND id != ?")
        .all(runningId ?? "") as Pick<JobRow, "id" | "origin" | "state">[];
      for (const r of rows) {
        if (r.origin === "async") this.transition(r.id, [r.state], "queued", { not_before: now }, now);
        else this.transition(r.id, [r.state], "failed", { error: "storage error while the job ran", error_status: 503 }, now);
      }
      return rows.length;
    })();
  }

  queuedIds(origin: JobOrigin): string[] {
    return (this.db.query("SELECT id FROM jobs WHERE state = 'queued' AND origin = ? ORDER BY id").all(origin) as { id: string }[])
      .map((r) => r.id);
  }
  countQueued(): number {
    return (this.q.countQueued.get() as { n: number }).n;
  }

  /**
   * Start-up recovery. Sync callers died with the old process, so their unfinished jobs are
   * cancelled; async jobs interrupted mid-run go back to the queue (the attempt already counted).
   */
  recover(now = Date.now()): { cancelled: number; requeued: number } {
    return this.db.transaction(() => {
      const unfinished = this.db.query(
        "SELECT id, origin, state FROM jobs WHERE state IN ('queued', 'loading', 'working')",
      ).all() as Pick<JobRow, "id" | "origin" | "state">[];
      let cancelled = 0;
      let requeued = 0;
      for (const j of unfinished) {
        if (j.origin === "sync") {
          this.transition(j.id, [j.state], "cancelled",
            { error: "foreman restarted before this request finished", error_status: 499 }, now);
          cancelled++;
        } else if (j.state !== "queued") {
          this.transition(j.id, [j.state], "queued", { not_before: now }, now);
          requeued++;
        }
      }
      return { cancelled, requeued };
    })();
  }

  /** Deletes finished jobs (with their artifacts and settled webhook events) that finished before `cutoff`. */
  prune(cutoff: number): number {
    return this.db.transaction(() => {
      const expired = "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? AND state IN ('done', 'failed', 'cancelled')";
      // Pending webhook events outlive their job until their retries are exhausted; then a later
      // prune finds them orphaned and drops them.
      this.db.query(`DELETE FROM webhook_events WHERE status != 'pending' AND (job_id IN (${expired})
        OR NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = webhook_events.job_id))`).run(cutoff);
      return this.db.query(`DELETE FROM jobs WHERE id IN (${expired})`).run(cutoff).changes;
    })();
  }
}

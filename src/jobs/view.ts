// The public JSON of a job, as /jobs, SSE events and webhooks show it.
import type { JobRow } from "../store/jobs";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface JobView {
  id: string;
  job_id: string;
  state: string;
  endpoint: string;
  model: string;
  origin: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  load_ms: number | null;
  ollama_load_ms: number | null;
  error: string | null;
  metadata: unknown;
  webhook_url: string | null;
  result?: unknown;
}

/** `withResult` adds the complete response of a done job (left out of listings to keep them small). */
export function jobView(row: JobRow, withResult = true): JobView {
  const view: JobView = {
    id: row.id,
    job_id: row.id, // the original Go foreman's clients read job_id
    state: row.state,
    endpoint: row.endpoint,
    model: row.model,
    origin: row.origin,
    priority: row.priority,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    created_at: iso(row.created_at)!,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    updated_at: iso(row.updated_at)!,
    load_ms: row.load_ms, // foreman's timing of its explicit load (the 'loading' state)
    ollama_load_ms: row.ollama_load_ms, // Ollama's load_duration for the work request
    error: row.error,
    metadata: parsed(row.metadata),
    webhook_url: row.webhook_url,
  };
  if (withResult && row.state === "done") view.result = parsed(row.result);
  return view;
}

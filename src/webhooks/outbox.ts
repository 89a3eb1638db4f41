// Writes a webhook event for every state change of a job that has a webhook_url. It runs inside
// the job's own transaction (a JobStore change hook): the event commits with the change or not at all.
import type { Database, Statement } from "bun:sqlite";
import { monotonicFactory } from "ulid";
import type { JobRow, JobState, JobStore } from "../store/jobs";

const ulid = monotonicFactory();
const INLINE_LIMIT = 256 * 1024;

export interface ArtifactRef { name: string; content_type: string; size: number; url: string; data?: string; encoding?: "base64" }

export function artifactUrl(publicUrl: string, jobId: string, name: string): string {
  return `${publicUrl}/jobs/${jobId}/artifacts/${encodeURIComponent(name)}`;
}

const isText = (contentType: string) => /^text\/|json|xml|ndjson/.test(contentType);

export class Outbox {
  private readonly insert: Statement;
  private readonly artifacts: Statement;
  private readonly gone: Statement;

  constructor(db: Database, store: JobStore, private readonly publicUrl: string, private readonly onEvent: () => void) {
    this.insert = db.query(
      `INSERT INTO webhook_events (id, job_id, url, state, payload, status, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.gone = db.query("SELECT 1 FROM webhook_events WHERE job_id = ? AND last_status = 410 LIMIT 1");
    this.artifacts = db.query("SELECT name, content_type, size, data FROM artifacts WHERE job_id = ? ORDER BY name");
    store.onChange((job, previous) => this.record(job, previous));
  }

  private record(job: JobRow, previous: JobState | null): void {
    if (!job.webhook_url) return;
    const now = Date.now();
    const payload: Record<string, unknown> = {
      type: "job.state",
      job_id: job.id,
      state: job.state,
      previous_state: previous,
      timestamp: new Date(now).toISOString(),
      model: job.model,
      attempt: job.attempt,
      metadata: job.metadata === null ? null : JSON.parse(job.metadata),
      error: job.error,
    };
    if (job.state === "done") {
      payload.result = job.result === null ? null : JSON.parse(job.result);
      payload.artifacts = this.artifactRefs(job.id);
    }
    // A receiver that answered 410 Gone for this job gets nothing more about it.
    const status = this.gone.get(job.id) ? "dropped" : "pending";
    this.insert.run(`msg_${ulid(now)}`, job.id, job.webhook_url, job.state, JSON.stringify(payload), status, now, now);
    if (status === "pending") this.onEvent();
  }

  private artifactRefs(jobId: string): ArtifactRef[] {
    const rows = this.artifacts.all(jobId) as { name: string; content_type: string; size: number; data: Uint8Array }[];
    return rows.map((a) => {
      const ref: ArtifactRef = { name: a.name, content_type: a.content_type, size: a.size, url: artifactUrl(this.publicUrl, jobId, a.name) };
      if (a.size <= INLINE_LIMIT) {
        if (isText(a.content_type)) ref.data = Buffer.from(a.data).toString("utf8");
        else Object.assign(ref, { data: Buffer.from(a.data).toString("base64"), encoding: "base64" });
      }
      return ref;
    });
  }
}

// The queue's public face for the HTTP layer: submit, cancel, watch. It composes the store (truth),
// the hub (notifications) and the worker (execution); nothing else writes job state.
import { log } from "../log";
import { TERMINAL, type JobRow, type JobStore, type NewJob } from "../store/jobs";
import type { Hub } from "./hub";
import type { Worker } from "./worker";

export type CancelOutcome =
  | { ok: true; job: JobRow }
  | { ok: false; reason: "not_found" | "finished"; job: JobRow | null };

/** Ollama's own answer when its queue is full (two spaces after "again.", as Ollama writes it). */
export const QUEUE_FULL_MESSAGE = "server busy, please try again.  maximum pending requests exceeded";

export class JobQueue {
  constructor(
    readonly store: JobStore,
    readonly hub: Hub,
    readonly worker: Worker,
  ) {}

  /**
   * Commits a new job, announces it and wakes the worker. The worker only runs on a later tick,
   * so a caller that subscribes right after this returns misses nothing but the 'queued' event.
   */
  submit(spec: NewJob): JobRow {
    const job = this.store.insert(spec);
    log.info({ job_id: job.id, model: job.model, endpoint: job.endpoint, origin: job.origin, priority: job.priority },
      "job queued");
    this.hub.emit(job.id, { type: "state", job });
    this.worker.wake();
    return job;
  }

  /** Cancels a queued job at once, or aborts it if it is the one running. */
  async cancel(id: string, error = "request cancelled"): Promise<CancelOutcome> {
    const row = this.store.transition(id, ["queued"], "cancelled", { error, error_status: 499 });
    if (row) {
      log.info({ job_id: id, reason: error }, "job cancelled while queued");
      this.hub.emit(id, { type: "state", job: row });
      return { ok: true, job: row };
    }
    if (await this.worker.abortRunning(id, "cancel")) {
      const job = this.store.get(id)!;
      return job.state === "cancelled" ? { ok: true, job } : { ok: false, reason: "finished", job };
    }
    const job = this.store.get(id);
    if (!job) return { ok: false, reason: "not_found", job: null };
    if (TERMINAL.includes(job.state)) return { ok: false, reason: "finished", job };
    // Claimed but not yet registered as running (a few microseconds): try again shortly.
    await Bun.sleep(5);
    return this.cancel(id, error);
  }

  /** Cancels every queued sync job (their callers are about to lose the connection). */
  cancelWaitingSync(error: string): number {
    let n = 0;
    for (const id of this.store.queuedIds("sync")) {
      const row = this.store.transition(id, ["queued"], "cancelled", { error, error_status: 503 });
      if (row) {
        n++;
        this.hub.emit(id, { type: "state", job: row });
      }
    }
    return n;
  }
}

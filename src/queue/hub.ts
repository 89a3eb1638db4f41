// In-process fan-out of job events to whoever is waiting on a job (a passthrough caller, an SSE
// client). Events are emitted only after the state change they describe has been committed.
import type { JobRow } from "../store/jobs";

export type JobEvent =
  | { type: "state"; job: JobRow }
  | { type: "chunk"; line: string };

/** A per-subscriber buffer, read with `next()`; never drops events. */
export class Subscription {
  private readonly buffer: JobEvent[] = [];
  private waiter: ((ev: JobEvent | null) => void) | null = null;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  push(ev: JobEvent): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(ev);
    } else {
      this.buffer.push(ev);
    }
  }

  /** Every event already buffered, without waiting. */
  drain(): JobEvent[] {
    return this.buffer.splice(0);
  }

  /** The next event, or null once closed. */
  next(): Promise<JobEvent | null> {
    if (this.buffer.length) return Promise.resolve(this.buffer.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.waiter?.(null);
    this.waiter = null;
  }
}

export class Hub {
  private readonly subs = new Map<string, Set<Subscription>>();
  private readonly global = new Set<(jobId: string, ev: JobEvent) => void>();

  subscribe(jobId: string): Subscription {
    let set = this.subs.get(jobId);
    if (!set) this.subs.set(jobId, (set = new Set()));
    const sub: Subscription = new Subscription(() => {
      set!.delete(sub);
      if (set!.size === 0) this.subs.delete(jobId);
    });
    set.add(sub);
    return sub;
  }

  /** Listens to every job's events (logs, metrics, dashboards). */
  onAny(fn: (jobId: string, ev: JobEvent) => void): () => void {
    this.global.add(fn);
    return () => this.global.delete(fn);
  }

  emit(jobId: string, ev: JobEvent): void {
    for (const sub of this.subs.get(jobId) ?? []) sub.push(ev);
    for (const fn of this.global) fn(jobId, ev);
  }

  hasSubscribers(jobId: string): boolean {
    return (this.subs.get(jobId)?.size ?? 0) > 0;
  }
}

// The live queue's forecast, cached: positions and ETAs for queued jobs, /queue's "next" list, and
// the Retry-After of a full queue all read it. It replays the policy over a snapshot of the queue.
import type { Config } from "../config";
import type { JobStore } from "../store/jobs";
import { forecast, type Forecast } from "./forecast";
import type { Hub } from "./hub";
import type { Worker } from "./worker";

/** How deep the forecast looks: past this, a queued job's position and ETA are unknown (null). */
export const SNAPSHOT = 2000;

// Recomputed whenever the queue has changed, except when the queue is deep: then at most every ten
// times its own cost, so it never takes more than a tenth of the CPU. ETAs age, so never older than 0.5 s.
const MAX_AGE_MS = 500;
const DEEP = 500;
const COST_FACTOR = 10;

interface Cached { at: number; version: number; costMs: number; deep: boolean; list: Forecast[]; byId: Map<string, Forecast> }

export class Forecaster {
  private version = 0;
  private cached: Cached | null = null;

  constructor(private readonly d: { store: JobStore; worker: Worker; hub: Hub; config: Config }) {
    d.hub.onAny((_, ev) => { if (ev.type === "state") this.version++; });
  }

  /**
   * The forecast, fresh unless `followChanges` is false: a submit answers from the forecast as it is,
   * so a burst of submits does not replay the queue once per job; reading the job catches up.
   */
  get(followChanges = true): { list: Forecast[]; byId: Map<string, Forecast> } {
    const now = Date.now();
    const c = this.cached;
    const age = c ? now - c.at : Infinity;
    const changed = followChanges && c !== null && c.version !== this.version && (!c.deep || age >= c.costMs * COST_FACTOR);
    if (c && age < MAX_AGE_MS && !changed) return c;
    const t0 = performance.now();
    const heads = this.d.store.queuedHeads(SNAPSHOT);
    const list = this.compute(heads, now);
    this.cached = { at: now, version: this.version, costMs: performance.now() - t0, deep: heads.length > DEEP,
      list, byId: new Map(list.map((f) => [f.id, f])) };
    return this.cached;
  }

  /**
   * When the queue is full, the seconds until it has room again, estimated from the queue ahead:
   * the forecast start of the job whose departure brings the count under FOREMAN_MAX_QUEUE (the
   * running job's remaining time, then the loads and runs before it). Null when there is room.
   */
  retryAfter(): number | null {
    const queued = this.d.store.countQueued();
    if (queued < this.d.config.maxQueue) return null;
    const { list } = this.get(false);
    const leaving = list[Math.min(queued - this.d.config.maxQueue, list.length - 1)];
    return Math.min(24 * 3600, Math.max(1, Math.ceil((leaving?.start_ms ?? 0) / 1000)));
  }

  private compute(heads: ReturnType<JobStore["queuedHeads"]>, now: number): Forecast[] {
    const times = this.d.store.learnedTimes();
    const running = this.d.worker.current;
    let runningLeftMs = 0;
    if (running?.started_at) {
      const t = times.get(running.model_key);
      // A job still loading has its load ahead of it too.
      const expected = (t?.run_ms ?? 0) + (running.state === "loading" ? t?.load_ms ?? 0 : 0);
      runningLeftMs = Math.max(0, expected - (now - running.started_at));
    }
    return forecast({
      heads, residentKey: this.d.worker.residentKey, now, maxWaitMs: this.d.config.maxWaitMs, times, runningLeftMs,
      limit: SNAPSHOT,
    });
  }
}

// Where each queued job stands: replays the policy over a snapshot of the queue, adding learned load
// and run times per model, to give positions and ETAs (for /queue and a queued job's JSON).
import type { QueuedHead } from "../store/jobs";
import { memoryView, pickNext, type PickReason } from "./policy";

/** Learned per drain key: average load and run times (ms) and how many jobs each is averaged over. */
export interface ModelTimes { load_ms: number | null; load_samples: number; run_ms: number | null; samples: number }

/** `start_ms`: when the job should start, from now. */
export interface Forecast { id: string; model_key: string; priority: number; position: number; start_ms: number; reason: PickReason }

export interface ForecastInput {
  heads: QueuedHead[];
  residentKey: string | null;
  now: number;
  maxWaitMs: number;
  times: Map<string, ModelTimes>;
  /** Estimated time left for the job running now. */
  runningLeftMs: number;
  limit: number;
}

function average(times: Map<string, ModelTimes>, field: "load_ms" | "run_ms"): number {
  const known = [...times.values()].map((t) => t[field]).filter((v): v is number => v !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : 0;
}

export function forecast(input: ForecastInput): Forecast[] {
  const view = memoryView(input.heads);
  const byId = new Map(input.heads.map((h) => [h.id, h]));
  const fallbackLoad = average(input.times, "load_ms");
  const fallbackRun = average(input.times, "run_ms");
  let resident = input.residentKey;
  let clock = input.runningLeftMs;
  const out: Forecast[] = [];
  while (out.length < input.limit) {
    // The replay's clock moves on, so the starvation bound kicks in where it would.
    const pick = pickNext({ view, residentKey: resident, now: input.now + clock, maxWaitMs: input.maxWaitMs });
    if (!pick) break;
    const head = byId.get(pick.id)!;
    view.remove(pick.id);
    const t = input.times.get(pick.modelKey);
    if (pick.modelKey !== resident) clock += t?.load_ms ?? fallbackLoad;
    out.push({ id: pick.id, model_key: pick.modelKey, priority: head.priority, position: out.length + 1,
      start_ms: Math.round(clock), reason: pick.reason });
    clock += t?.run_ms ?? fallbackRun;
    resident = pick.modelKey;
  }
  return out;
}

// The queue as people see it: GET /queue, and a queued job's position and ETA.
import { redactUrl } from "../util/url";
import { jobView, type JobView } from "../jobs/view";
import { keyModel, normalizeModel } from "../ollama/names";
import type { Services } from "../services";
import type { JobRow, QueuedHead } from "../store/jobs";
import { forecast, type Forecast } from "./forecast";

const SNAPSHOT = 2000; // the forecast looks this far into a deep queue
const PREVIEW = 200;

// A forecast replays the policy over a snapshot of the queue. It is recomputed whenever the queue
// has changed, except when the queue is deep (the replay then costs milliseconds): at most every ten
// times its own cost, so it never takes more than a tenth of the CPU. ETAs age, so never older than 0.5 s.
const MAX_AGE_MS = 500;
const DEEP = 500;
const COST_FACTOR = 10;
interface Cached { at: number; version: number; costMs: number; deep: boolean; forecast: Forecast[] }
const caches = new WeakMap<Services, Cached>();
const versions = new WeakMap<Services, { n: number }>();

/** Counts the queue's state changes, from the hub. */
function queueVersion(svc: Services): number {
  let v = versions.get(svc);
  if (!v) {
    const counter = { n: 0 };
    svc.hub.onAny((_, ev) => { if (ev.type === "state") counter.n++; });
    versions.set(svc, (v = counter));
  }
  return v.n;
}

function forecastNow(svc: Services, limit: number, followChanges = true): Forecast[] {
  const version = queueVersion(svc);
  const now = Date.now();
  let c = caches.get(svc);
  const age = c ? now - c.at : Infinity;
  const changed = followChanges && c !== undefined && c.version !== version && (!c.deep || age >= c.costMs * COST_FACTOR);
  if (!c || age >= MAX_AGE_MS || changed) {
    const t0 = performance.now();
    const heads = svc.store.queuedHeads(SNAPSHOT);
    const forecast = computeForecast(svc, heads);
    caches.set(svc, (c = { at: now, version, costMs: performance.now() - t0, deep: heads.length > DEEP, forecast }));
  }
  return c.forecast.slice(0, limit);
}

function computeForecast(svc: Services, heads: QueuedHead[]): Forecast[] {
  const limit = PREVIEW;
  const times = svc.store.learnedTimes();
  const running = svc.worker.current;
  let runningLeftMs = 0;
  if (running?.started_at) {
    const expected = times.get(running.model_key)?.run_ms ?? 0;
    runningLeftMs = Math.max(0, expected - (Date.now() - running.started_at));
  }
  return forecast({
    heads, residentKey: svc.worker.residentKey, now: Date.now(),
    maxWaitMs: svc.config.maxWaitMs, times, runningLeftMs, limit,
  });
}

/**
 * A job's JSON, with `position` (1 = next) and `eta` (seconds) while queued; null when not known yet or
 * beyond the forecast's reach. A submit answers from the forecast as it is (`followChanges` false), so
 * a burst of submits does not replay the queue once per job; reading the job catches up.
 */
export function jobWithPosition(svc: Services, row: JobRow, { withResult = true, followChanges = true } = {}):
  JobView & { position?: number | null; eta?: number | null } {
  const view = jobView(row, withResult);
  if (row.state !== "queued") return view;
  const f = forecastNow(svc, PREVIEW, followChanges).find((x) => x.id === row.id);
  return { ...view, position: f?.position ?? null, eta: f?.eta_s ?? null };
}

export function queueStatus(svc: Services, next = 20) {
  const { store, worker, inventory } = svc;
  const counts = store.queuedCounts();
  const byModel: Record<string, Record<string, number>> = {};
  for (const c of counts) (byModel[c.model_key] ??= {})[String(c.priority)] = c.n;
  const times = store.learnedTimes();
  const running = worker.current;
  return {
    resident: inventory.ps.map((m) => normalizeModel(m.model || m.name)),
    worker_model: worker.residentKey ? keyModel(worker.residentKey) : null,
    running: running ? jobView(store.get(running.id) ?? running, false) : null,
    queued: { total: counts.reduce((a, c) => a + c.n, 0), by_model: byModel },
    models: Object.fromEntries(times),
    next: forecastNow(svc, Math.min(next, PREVIEW)).map((f) => ({
      id: f.id, model: keyModel(f.model_key), priority: f.priority, position: f.position, eta: f.eta_s, reason: f.reason,
    })),
    target: { url: redactUrl(svc.config.ollamaUrl), degraded: inventory.degraded, error: inventory.lastError },
  };
}

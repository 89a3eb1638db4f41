// The queue as people see it: GET /queue, and a queued job's position and ETA.
import { redactUrl } from "../util/url";
import { jobView, type JobView } from "../jobs/view";
import { keyModel, normalizeModel } from "../ollama/names";
import type { Services } from "../services";
import type { JobRow } from "../store/jobs";
import { forecast, type Forecast } from "./forecast";

const SNAPSHOT = 2000; // the forecast looks this far into a deep queue
const PREVIEW = 200;

// A forecast is an estimate: recomputing it at most every half second keeps GET /jobs/{id} and
// /queue cheap under load (a deep queue makes each replay cost milliseconds).
const CACHE_MS = 500;
let cached: { at: number; svc: Services; forecast: Forecast[] } | null = null;

function forecastNow(svc: Services, limit: number): Forecast[] {
  if (cached && cached.svc === svc && Date.now() - cached.at < CACHE_MS) return cached.forecast.slice(0, limit);
  const forecast = computeForecast(svc);
  cached = { at: Date.now(), svc, forecast };
  return forecast.slice(0, limit);
}

function computeForecast(svc: Services): Forecast[] {
  const limit = PREVIEW;
  const times = svc.store.learnedTimes();
  const running = svc.worker.current;
  let runningLeftMs = 0;
  if (running?.started_at) {
    const expected = times.get(running.model_key)?.run_ms ?? 0;
    runningLeftMs = Math.max(0, expected - (Date.now() - running.started_at));
  }
  return forecast({
    heads: svc.store.queuedHeads(SNAPSHOT), residentKey: svc.worker.residentKey, now: Date.now(),
    maxWaitMs: svc.config.maxWaitMs, times, runningLeftMs, limit,
  });
}

/** A job's JSON, with `position` (1 = next) and `eta` (seconds) while it is queued. */
export function jobWithPosition(svc: Services, row: JobRow): JobView & { position?: number | null; eta?: number | null } {
  const view = jobView(row);
  if (row.state !== "queued") return view;
  const f = forecastNow(svc, PREVIEW).find((x) => x.id === row.id);
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

// The queue as people see it: GET /queue, and a queued job's position and ETA.
import { redactUrl } from "../util/url";
import { jobView, type JobView } from "../jobs/view";
import { keyModel, normalizeModel } from "../ollama/names";
import type { Services } from "../services";
import type { JobRow } from "../store/jobs";
import type { Forecast } from "./forecast";

const MAX_NEXT = 200;
const etaSeconds = (f: Forecast) => Math.round(f.start_ms / 1000);

/**
 * A job's JSON, with `position` (1 = next) and `eta` (seconds) while queued; null beyond the
 * forecast's reach (SNAPSHOT jobs deep). `followChanges`: see Forecaster.get.
 */
export function jobWithPosition(svc: Services, row: JobRow, { withResult = true, followChanges = true } = {}):
  JobView & { position?: number | null; eta?: number | null } {
  const view = jobView(row, withResult);
  if (row.state !== "queued") return view;
  const f = svc.forecaster.get(followChanges).byId.get(row.id);
  return { ...view, position: f?.position ?? null, eta: f ? etaSeconds(f) : null };
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
    next: svc.forecaster.get().list.slice(0, Math.min(next, MAX_NEXT)).map((f) => ({
      id: f.id, model: keyModel(f.model_key), priority: f.priority, position: f.position, eta: etaSeconds(f), reason: f.reason,
    })),
    target: { url: redactUrl(svc.config.ollamaUrl), degraded: inventory.degraded, error: inventory.lastError },
  };
}

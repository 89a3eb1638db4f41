// Prometheus metrics (prom-client). One registry per process; the modules that own an event record
// it here (worker: loads and swaps; inventory: target health; dispatcher: deliveries), and job
// lifecycle metrics are derived from the hub's committed state events.
import client from "prom-client";
import { keyModel } from "../ollama/names";
import type { Hub } from "../queue/hub";
import { paidLoadMs, type JobRow, type JobState } from "../store/jobs";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const r = [registry];
const secondsBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const m = {
  jobsTotal: new client.Counter({ name: "foreman_jobs_total", help: "Jobs by terminal outcome", labelNames: ["endpoint", "model", "state"], registers: r }),
  waitSeconds: new client.Histogram({ name: "foreman_job_wait_seconds", help: "Time from enqueue to claim", labelNames: ["model"], buckets: secondsBuckets, registers: r }),
  loadSeconds: new client.Histogram({ name: "foreman_job_load_seconds", help: "Model load time paid by a job", labelNames: ["model"], buckets: secondsBuckets, registers: r }),
  runSeconds: new client.Histogram({ name: "foreman_job_run_seconds", help: "Time from claim to finish", labelNames: ["model"], buckets: secondsBuckets, registers: r }),
  ttftSeconds: new client.Histogram({ name: "foreman_time_to_first_token_seconds", help: "Time from enqueue to the first streamed chunk", labelNames: ["model"], buckets: secondsBuckets, registers: r }),
  modelLoads: new client.Counter({ name: "foreman_model_loads_total", help: "Model loads the worker caused (the first included)", labelNames: ["model"], registers: r }),
  modelSwaps: new client.Counter({ name: "foreman_model_swaps_total", help: "Loads that replaced a resident generation model", labelNames: ["from", "to"], registers: r }),
  residentModel: new client.Gauge({ name: "foreman_resident_model", help: "1 for each model Ollama reports loaded", labelNames: ["model"], registers: r }),
  starvation: new client.Counter({ name: "foreman_starvation_overrides_total", help: "Jobs served early by the FOREMAN_MAX_WAIT bound", registers: r }),
  queueFull: new client.Counter({ name: "foreman_queue_full_rejections_total", help: "Requests refused because the queue was full", labelNames: ["route"], registers: r }),
  targetUp: new client.Gauge({ name: "foreman_target_up", help: "1 when the Ollama target answers", registers: r }),
  pollErrors: new client.Counter({ name: "foreman_target_poll_errors_total", help: "Failed inventory polls", registers: r }),
  targetErrors: new client.Counter({ name: "foreman_target_request_errors_total", help: "Failed requests to the target", labelNames: ["class"], registers: r }),
  webhookDeliveries: new client.Counter({ name: "foreman_webhook_deliveries_total", help: "Webhook delivery attempts by outcome", labelNames: ["outcome"], registers: r }),
  httpRequests: new client.Counter({ name: "foreman_http_requests_total", help: "HTTP requests", labelNames: ["route", "method", "status"], registers: r }),
  httpInFlight: new client.Gauge({ name: "foreman_http_in_flight", help: "HTTP requests being answered", registers: r }),
};

/** Gauges computed at scrape time from the owner's state. */
export function registerCollectors(queued: () => { model_key: string; priority: number; n: number }[], webhookPending: () => number): void {
  new client.Gauge({
    name: "foreman_queue_jobs", help: "Queued jobs by model and priority", labelNames: ["model", "priority"], registers: r,
    collect() {
      this.reset();
      for (const q of queued()) this.inc({ model: keyModel(q.model_key), priority: String(q.priority) }, q.n);
    },
  });
  new client.Gauge({
    name: "foreman_webhook_pending", help: "Webhook events waiting in the outbox", registers: r,
    collect() {
      this.set(webhookPending());
    },
  });
}

export function setResident(models: string[]): void {
  m.residentModel.reset();
  for (const model of models) m.residentModel.set({ model }, 1);
}

const TERMINAL: JobState[] = ["done", "failed", "cancelled"];

/** Job lifecycle metrics, from committed state events. */
export function observeJobs(hub: Hub): void {
  const live = new Map<string, JobRow>(); // unfinished jobs seen, for time-to-first-token
  const claimed = new Set<string>();
  const streaming = new Set<string>();
  hub.onAny((id, ev) => {
    if (ev.type === "chunk") {
      const job = live.get(id);
      if (job && !streaming.has(id)) {
        streaming.add(id);
        m.ttftSeconds.observe({ model: keyModel(job.model_key) }, (Date.now() - job.created_at) / 1000);
      }
      return;
    }
    const job = ev.job;
    const model = keyModel(job.model_key);
    live.set(id, job);
    if ((job.state === "loading" || job.state === "working") && job.started_at && !claimed.has(id)) {
      claimed.add(id);
      m.waitSeconds.observe({ model }, (job.started_at - job.created_at) / 1000);
    }
    if (TERMINAL.includes(job.state)) {
      m.jobsTotal.inc({ endpoint: job.endpoint, model, state: job.state });
      const loadMs = paidLoadMs(job);
      if (loadMs !== null) m.loadSeconds.observe({ model }, loadMs / 1000);
      if (job.started_at && job.finished_at) m.runSeconds.observe({ model }, (job.finished_at - job.started_at) / 1000);
      live.delete(id);
      claimed.delete(id);
      streaming.delete(id);
    }
  });
}

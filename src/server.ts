// Wires a running foreman: database, queue, worker, inventory, HTTP server, and their shutdown.
import type { Server } from "bun";
import { isLoopback, localUrl, redactedConfig, type Config } from "./config";
import { createApp, errorFor } from "./http/app";
import { corsHeaders, originAllowed, preflight } from "./http/cors";
import { log } from "./log";
import { observeJobs, registerCollectors, m } from "./metrics/metrics";
import { routeLabel } from "./metrics/route";
import { OllamaClient } from "./ollama/client";
import { Inventory } from "./ollama/inventory";
import { Hub } from "./queue/hub";
import { Forecaster } from "./queue/forecaster";
import { JobQueue } from "./queue/queue";
import { Worker } from "./queue/worker";
import type { Services } from "./services";
import { openDatabase } from "./store/db";
import { Dispatcher } from "./webhooks/dispatcher";
import { Outbox } from "./webhooks/outbox";
import { JobStore } from "./store/jobs";
import { redactUrl } from "./util/url";
import { VERSION } from "./version";

const PRUNE_EVERY_MS = 10 * 60_000;

export interface RunningForeman {
  services: Services;
  server: Server<unknown>;
  url: string;
  shutdown(): Promise<void>;
}

export async function startForeman(config: Config): Promise<RunningForeman> {
  log.info({ version: VERSION, config: redactedConfig(config) }, "foreman starting");
  if (!config.token && !isLoopback(config.host)) {
    log.warn({ host: config.host }, "listening beyond loopback with no FOREMAN_TOKEN: anyone on the network can use this queue");
  }
  let db;
  try {
    db = openDatabase(config.dbPath);
  } catch (err) {
    throw new Error(`cannot open the database ${config.dbPath}: ${(err as Error).message} (check FOREMAN_DB_PATH and its permissions)`);
  }
  const store = new JobStore(db);

  const client = new OllamaClient(config.ollamaUrl, config.ollamaToken);
  const inventory = new Inventory(client, config.pollIntervalMs, config.embedModel);
  const hub = new Hub();
  const worker = new Worker({ store, hub, client, inventory, config });
  const queue = new JobQueue(store, hub, worker);
  const forecaster = new Forecaster({ store, worker, hub, config });
  const dispatcher = new Dispatcher(db, {
    secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs,
    maxAttempts: config.webhookMaxAttempts, backoffMs: config.webhookBackoffMs,
  });
  new Outbox(db, store, config.publicUrl, () => dispatcher.wake());
  const services: Services = { config, db, store, client, inventory, hub, worker, queue, forecaster, dispatcher };

  const recovered = store.recover();
  if (recovered.cancelled || recovered.requeued) log.info(recovered, "recovered unfinished jobs from the last run");

  await inventory.start();
  worker.start();
  dispatcher.start();
  const prune = () => {
    const n = store.prune(Date.now() - config.jobTtlMs);
    if (n) log.info({ pruned: n }, "pruned finished jobs past FOREMAN_JOB_TTL");
  };
  prune();
  const pruneTimer = setInterval(prune, Math.min(PRUNE_EVERY_MS, Math.max(1000, config.jobTtlMs / 4)));

  registerCollectors(() => store.queuedCounts(), () => dispatcher.pendingCount());
  observeJobs(hub);
  const app = createApp(services);
  let draining = false;
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Queued callers wait minutes for headers: never close an idle connection ourselves.
    idleTimeout: 0,
    // Bodies are read as streams and our own limit (FOREMAN_MAX_BODY, answered with a JSON 413)
    // applies as they arrive; Bun's would answer an empty 413 that no client can show.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request) {
      m.httpInFlight.inc();
      try {
        const res = await answer(request);
        m.httpRequests.inc({ route: routeLabel(new URL(request.url).pathname), method: request.method, status: String(res.status) });
        return res;
      } finally {
        m.httpInFlight.dec();
      }
    },
  });
  async function answer(request: Request): Promise<Response> {
    const origin = request.headers.get("origin");
    if (origin && !originAllowed(origin, request.headers.get("host"), config.origins)) {
      return new Response(null, { status: 403 });
    }
    if (origin && request.method === "OPTIONS") return preflight(origin);
    const res = draining
      ? errorFor(new URL(request.url).pathname, 503, "foreman is shutting down")
      : await app.handle(request);
    res.headers.set("x-foreman-version", VERSION);
    if (origin) for (const [k, v] of Object.entries(corsHeaders(origin))) res.headers.set(k, v);
    return res;
  }
  const url = localUrl(config.host, server.port!);
  log.info({ url, target: redactUrl(config.ollamaUrl), degraded: inventory.degraded }, "foreman listening");

  let stopping: Promise<void> | null = null;
  const shutdown = () => (stopping ??= (async () => {
    log.info({ grace_ms: config.shutdownGraceMs }, "shutting down: no new requests; finishing the running job");
    draining = true;
    void server.stop(false);
    clearInterval(pruneTimer);
    // Callers still waiting in the queue get a clear answer now rather than a dropped connection.
    queue.cancelWaitingSync("foreman shut down before this request started");
    await worker.stop(config.shutdownGraceMs);
    inventory.stop();
    await dispatcher.stop();
    await Bun.sleep(50); // let the last responses flush
    await server.stop(true);
    db.close();
    log.info("foreman stopped");
  })());
  return { services, server, url, shutdown };
}

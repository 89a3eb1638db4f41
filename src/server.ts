// Wires a running foreman: database, queue, worker, inventory, HTTP server, and their shutdown.
import type { Server } from "bun";
import { isLoopback, redactedConfig, type Config } from "./config";
import { createApp } from "./http/app";
import { log } from "./log";
import { OllamaClient } from "./ollama/client";
import { Inventory } from "./ollama/inventory";
import { Hub } from "./queue/hub";
import { JobQueue } from "./queue/queue";
import { Worker } from "./queue/worker";
import type { Services } from "./services";
import { openDatabase } from "./store/db";
import { JobStore } from "./store/jobs";
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
  const db = openDatabase(config.dbPath);
  const store = new JobStore(db);
  const recovered = store.recover();
  if (recovered.cancelled || recovered.requeued) log.info(recovered, "recovered unfinished jobs from the last run");

  const client = new OllamaClient(config.ollamaUrl, config.ollamaToken);
  const inventory = new Inventory(client, config.pollIntervalMs, config.embedModel);
  const hub = new Hub();
  const worker = new Worker({ store, hub, client, inventory, config });
  const queue = new JobQueue(store, hub, worker);
  const services: Services = { config, db, store, client, inventory, hub, worker, queue };

  await inventory.start();
  worker.start();
  const prune = () => {
    const n = store.prune(Date.now() - config.jobTtlMs);
    if (n) log.info({ pruned: n }, "pruned finished jobs past FOREMAN_JOB_TTL");
  };
  prune();
  const pruneTimer = setInterval(prune, Math.min(PRUNE_EVERY_MS, Math.max(1000, config.jobTtlMs / 4)));

  const app = createApp(services);
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Queued callers wait minutes for headers: never close an idle connection ourselves.
    idleTimeout: 0,
    // Above our own limit, so ours (with a JSON body) answers first.
    maxRequestBodySize: config.maxBodyBytes + 1024 * 1024,
    async fetch(request) {
      const res = await app.handle(request);
      res.headers.set("x-foreman-version", VERSION);
      return res;
    },
  });
  const url = `http://${isLoopback(config.host) || config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}`;
  log.info({ url, target: config.ollamaUrl, degraded: inventory.degraded }, "foreman listening");

  let stopping: Promise<void> | null = null;
  const shutdown = () => (stopping ??= (async () => {
    log.info({ grace_ms: config.shutdownGraceMs }, "shutting down: no new requests; finishing the running job");
    clearInterval(pruneTimer);
    inventory.stop();
    await worker.stop(config.shutdownGraceMs);
    await server.stop(true);
    db.close();
    log.info("foreman stopped");
  })());
  return { services, server, url, shutdown };
}

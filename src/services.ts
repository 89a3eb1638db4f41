// The long-lived parts of a running foreman, wired once in server.ts and handed to the routes.
import type { Database } from "bun:sqlite";
import type { Config } from "./config";
import type { OllamaClient } from "./ollama/client";
import type { Inventory } from "./ollama/inventory";
import type { Forecaster } from "./queue/forecaster";
import type { Hub } from "./queue/hub";
import type { JobQueue } from "./queue/queue";
import type { Worker } from "./queue/worker";
import type { JobStore } from "./store/jobs";
import type { Dispatcher } from "./webhooks/dispatcher";

export interface Services {
  config: Config;
  db: Database;
  store: JobStore;
  client: OllamaClient;
  inventory: Inventory;
  hub: Hub;
  worker: Worker;
  queue: JobQueue;
  forecaster: Forecaster;
  dispatcher: Dispatcher;
}

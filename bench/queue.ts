// Queue throughput and scale: durable enqueues per second through POST /jobs, full job cycles per
// second through the single worker against an instant target, pick-next latency and enqueue rate
// with 100,000 queued jobs, foreman's RSS with them, and /jobs listing latency.
import { join } from "node:path";
import { drainKey } from "../src/ollama/names";
import { forecast } from "../src/queue/forecast";
import { SNAPSHOT } from "../src/queue/forecaster";
import { pickNext } from "../src/queue/policy";
import { openDatabase } from "../src/store/db";
import { JobStore } from "../src/store/jobs";
import { startFakeOllama } from "../test/support/fake-ollama";
import { startForeman, tempDir } from "../test/support/foreman";
import { header, median, percentile, repeat, rssMB, SMOKE, table } from "./lib";

const REPS = SMOKE ? 1 : 3;
const ENQUEUES = SMOKE ? 200 : 5000;
const CYCLES = SMOKE ? 100 : 3000;
const SCALE = SMOKE ? 2000 : 100_000;
const CONCURRENCY = 32;
const request = (i: number) => ({ model: i % 3 ? "llama3.2" : "mistral", messages: [{ role: "user", content: `job ${i}` }] });

async function inParallel(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function enqueueRate(): Promise<number> {
  // Unreachable target: jobs stay queued, so this measures the durable enqueue alone.
  const fm = await startForeman({ ollamaUrl: "http://127.0.0.1:9", env: { FOREMAN_LOG_LEVEL: "warn", FOREMAN_MAX_QUEUE: "1000000" } });
  try {
    const t0 = performance.now();
    await inParallel(ENQUEUES, async (i) => {
      const res = await fetch(`${fm.url}/jobs`, { method: "POST", body: JSON.stringify({ request: request(i) }) });
      if (res.status !== 202) throw new Error(`enqueue answered ${res.status}`);
    });
    return ENQUEUES / ((performance.now() - t0) / 1000);
  } finally {
    await fm.stop(9);
  }
}

async function cycleRate(): Promise<number> {
  const fake = await startFakeOllama();
  const fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_LOG_LEVEL: "warn", FOREMAN_MAX_QUEUE: "1000000" } });
  try {
    await fetch(`${fm.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...request(1), stream: false }) }); // load
    const t0 = performance.now();
    await inParallel(CYCLES, async (i) => {
      const res = await fetch(`${fm.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...request(3 * i + 1), stream: false }) });
      if (res.status !== 200) throw new Error(`chat answered ${res.status}`);
      await res.arrayBuffer();
    });
    return CYCLES / ((performance.now() - t0) / 1000);
  } finally {
    await fm.stop(9);
    await fake.stop();
  }
}

/** Fills a database with SCALE queued jobs directly through the store. */
function fill(dbPath: string): JobStore {
  const store = new JobStore(openDatabase(dbPath));
  store.db.transaction(() => {
    for (let i = 0; i < SCALE; i++) {
      const r = request(i);
      store.insert({ origin: "async", endpoint: "/api/chat", model: r.model, modelKey: drainKey(r.model, undefined),
        request: r, priority: i % 10 === 0 ? 5 : 0, maxAttempts: 3 });
    }
  })();
  return store;
}

/** Learned times over a long history: the queue turned into SCALE finished jobs, 1 in 100 of which paid a load. */
function learnedTimesMs(dbPath: string): number {
  const store = new JobStore(openDatabase(dbPath));
  store.db.run(`UPDATE jobs SET state = 'done', started_at = created_at, finished_at = created_at + 1000,
    load_ms = CASE WHEN rowid % 100 = 0 THEN 500 END, ollama_load_ms = 5 WHERE state = 'queued'`);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    store.learnedTimes();
    times.push(performance.now() - t);
  }
  store.db.close();
  return median(times);
}

async function scale() {
  const dir = tempDir("foreman-bench-");
  const dbPath = join(dir, "scale.db");
  const store = fill(dbPath);
  const picks: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const pick = pickNext({ view: store, residentKey: i % 2 ? "llama3.2:latest" : "mistral:latest", now: Date.now(), maxWaitMs: 600_000 });
    store.claim(pick!.id, "working");
    picks.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const extra = SMOKE ? 200 : 2000;
  for (let i = 0; i < extra; i++) {
    store.insert({ origin: "async", endpoint: "/api/chat", model: "llama3.2", modelKey: "llama3.2:latest", request: request(i), maxAttempts: 3 });
  }
  const deepEnqueue = extra / ((performance.now() - t0) / 1000);
  // The forecast behind positions, ETAs and Retry-After: the policy replayed over the first SNAPSHOT jobs.
  const forecasts: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    forecast({ heads: store.queuedHeads(SNAPSHOT), residentKey: "llama3.2:latest", now: Date.now(), maxWaitMs: 600_000,
      times: store.learnedTimes(), runningLeftMs: 0, limit: SNAPSHOT });
    forecasts.push(performance.now() - t);
  }
  store.db.close();

  const fm = await startForeman({ ollamaUrl: "http://127.0.0.1:9", dbPath, env: { FOREMAN_LOG_LEVEL: "warn", FOREMAN_MAX_QUEUE: "1000000" } });
  const lists: number[] = [];
  const gets: number[] = [];
  let rss: number;
  try {
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      const page: any = await (await fetch(`${fm.url}/jobs?limit=50${cursor ? `&before=${cursor}` : ""}`)).json();
      lists.push(performance.now() - t);
      cursor = page.next;
      t = performance.now();
      await (await fetch(`${fm.url}/jobs/${page.jobs[0].id}`)).json();
      gets.push(performance.now() - t);
    }
    await fetch(`${fm.url}/queue`);
    rss = rssMB(fm.proc.pid);
  } finally {
    await fm.stop(9);
  }
  return {
    pickP50: median(picks), pickP99: percentile(picks, 99), deepEnqueue, forecast: median(forecasts),
    learned: learnedTimesMs(dbPath), rss, listP50: median(lists), getP50: median(gets),
  };
}

export async function run(): Promise<void> {
  const r = await repeat(REPS, async () => ({ enqueue: await enqueueRate(), cycles: await cycleRate() }));
  header("Queue throughput", REPS);
  console.log(`${ENQUEUES} enqueues over HTTP and ${CYCLES} complete chat jobs per repetition, ${CONCURRENCY} concurrent clients; medians\n`);
  table([
    ["measure", "value", "goal"],
    ["durable enqueues/s (POST /jobs)", r.enqueue, "≥ 5,000"],
    ["completed jobs/s (sync chat, instant target)", r.cycles, "≥ 1,000"],
  ]);
  const s = await repeat(REPS, scale);
  header(`Scale: ${SCALE.toLocaleString()} queued jobs`, REPS);
  table([
    ["measure", "value", "goal"],
    ["pick-next + claim p50 (ms)", s.pickP50, "< 1"],
    ["pick-next + claim p99 (ms)", s.pickP99, "< 1"],
    ["enqueues/s into the deep queue (store, no HTTP)", s.deepEnqueue, ""],
    [`forecast of the first ${SNAPSHOT.toLocaleString()} (ms; positions, ETAs, Retry-After)`, s.forecast, "< 10"],
    [`learned load/run times over ${SCALE.toLocaleString()} finished jobs (ms)`, s.learned, "< 1"],
    ["foreman RSS with the queue (MB)", s.rss, "< 200"],
    ["GET /jobs?limit=50 p50 (ms)", s.listP50, ""],
    ["GET /jobs/{id} p50 (ms, includes position/ETA)", s.getP50, ""],
  ]);
}

if (import.meta.main) await run();

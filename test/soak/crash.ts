// Crash-at-any-moment harness: async jobs with webhooks run through a real foreman that is SIGKILLed
// at seeded-random moments (enqueue, claim, load, streaming, result write, webhook delivery, webhook
// backlog) and restarted on the same database. At the end every job must be done exactly once with
// its complete result, and every webhook event delivered at least once, in outbox order, with a
// stable id and body and a valid Standard Webhooks signature. The seed fixes the jobs and the kill
// plan; the exact interleaving still depends on timing.
import { Database } from "bun:sqlite";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { startFakeOllama, type FakeOllama } from "../support/fake-ollama";
import { startForeman, tempDir, type ForemanProc } from "../support/foreman";
import { startReceiver, type Received, type Receiver } from "../support/receiver";

export interface CrashOptions { jobs: number; kills: number; seed: number; log?: (s: string) => void }

export const PHASES = ["enqueue", "claim", "load", "stream", "result", "webhook", "backlog"] as const;
/** Where a kill landed; "other" when the planned moment did not come within a few seconds. */
export type Phase = (typeof PHASES)[number] | "other";

export interface Check { name: string; ok: boolean; detail: string }

export interface Report {
  seed: number;
  jobs: number;
  kills: number;
  killsAt: Record<Phase, number>;
  /** Final job states as stored, by state. */
  states: Record<string, number>;
  rows: number;
  /**
   * Jobs whose POST /jobs failed and was repeated with the same Idempotency-Key, how many POSTs that
   * took, and how many repeats found the job already committed (200: the lost answer's job).
   */
  resubmits: { jobs: number; posts: number; existing: number };
  /** Jobs that took more than one attempt (a kill interrupted a run). */
  reruns: number;
  maxAttempt: number;
  /** Outbox events; POSTs the receiver saw; of those, answered 503 (retried); ids accepted more than once. */
  webhooks: { events: number; deliveries: number; rejected: number; duplicates: number };
  timings: { totalMs: number; submitMs: number; drainMs: number; restartAvgMs: number; restartMaxMs: number };
  checks: Check[];
  ok: boolean;
  /** Database and foreman logs; kept only when a check failed. */
  dir: string;
}

const SECRET = "whsec_" + Buffer.from("foreman-crash-harness-signing-key").toString("base64");
const MODELS = ["llama3.2", "mistral", "qwen2.5:7b"];
const TOKEN_MS = 8;
const LOAD_MS = 40;
// The receiver holds each POST open this long, so a kill can land mid-delivery, and answers a few
// with 503 so that retries (with their backoff stored in the database) also straddle kills.
const RX_DELAY_MS = 5;
const RX_REJECT_RATE = 0.05;
// Submitting takes about half as long as running, so early kills can land on an enqueue.
const SUBMIT_GAP_MS = 100;
const TRIGGER_TIMEOUT_MS = 1_500;
const LEGAL: Record<string, string[]> = {
  queued: ["loading", "working", "cancelled"],
  loading: ["working", "queued", "failed", "cancelled"],
  working: ["done", "queued", "failed", "cancelled"],
};

// --- seeded randomness ------------------------------------------------------------------------

interface Rand { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T }

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): Rand {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

// --- the jobs ---------------------------------------------------------------------------------

interface PlannedJob { key: string; body: string; expected: string }

function planJobs(n: number, seed: number, webhookUrl: string, rand: Rand): PlannedJob[] {
  return Array.from({ length: n }, (_, i) => {
    const tokens = rand.int(2, 16);
    const request = { model: rand.pick(MODELS), messages: [{ role: "user", content: `job ${i} [[tokens=${tokens}]]` }] };
    return {
      key: `crash-${seed}-${i}`,
      body: JSON.stringify({ request, webhook_url: webhookUrl, metadata: { i } }),
      expected: Array.from({ length: tokens }, (_, k) => ` tok${k + 1}`).join(""),
    };
  });
}

// --- foreman, killed and restarted ------------------------------------------------------------

class Life {
  fm!: ForemanProc;
  readonly restartMs: number[] = [];
  private generation = 0;

  constructor(private readonly ollamaUrl: string, private readonly dir: string, private readonly env: Record<string, string>) {}

  get dbPath(): string {
    return join(this.dir, "foreman.db");
  }

  async start(port?: number): Promise<void> {
    try {
      this.fm = await startForeman({ ollamaUrl: this.ollamaUrl, dbPath: this.dbPath, env: this.env, port });
    } catch (err) {
      if (port === undefined) throw err;
      this.fm = await startForeman({ ollamaUrl: this.ollamaUrl, dbPath: this.dbPath, env: this.env }); // port still taken
    }
  }

  async crash(): Promise<void> {
    await this.fm.kill9();
    this.saveLogs();
    const t0 = performance.now();
    await this.start(this.fm.port);
    this.restartMs.push(performance.now() - t0);
  }

  async stop(): Promise<void> {
    await this.fm.stop();
    this.saveLogs();
  }

  private saveLogs(): void {
    writeFileSync(join(this.dir, `foreman-${this.generation++}.log`), this.fm.logs());
  }
}

// --- the client: submits every job, re-submitting when a POST fails -----------------------------

class Submitter {
  active = true;
  readonly resubmits = { jobs: 0, posts: 0, existing: 0 };
  readonly errors: string[] = [];
  /** Every job id POST /jobs answered for a key (one, if idempotency holds). */
  readonly ids = new Map<string, Set<string>>();
  firstAt = 0;
  lastAt = 0;
  private waiters: ((key: string) => void)[] = [];

  constructor(private readonly life: Life, private readonly rand: Rand) {}

  /** Resolves with its key as soon as the next POST has been handed to fetch. */
  nextPost(): Promise<string> {
    return new Promise((r) => this.waiters.push(r));
  }

  async run(plan: PlannedJob[]): Promise<void> {
    this.firstAt = performance.now();
    for (const job of plan) {
      await this.submit(job);
      await Bun.sleep(this.rand.int(0, SUBMIT_GAP_MS));
    }
    this.lastAt = performance.now();
    this.active = false;
  }

  private async submit(job: PlannedJob): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      if (attempt > 0) {
        if (attempt === 1) this.resubmits.jobs++;
        this.resubmits.posts++;
        await Bun.sleep(20);
      }
      const res = await this.post(job).catch(() => null); // connection refused or cut by a kill
      if (!res || res.status >= 500) continue;
      const body = await res.json().catch(() => null);
      if (res.status !== 200 && res.status !== 202) return void this.errors.push(`${job.key}: HTTP ${res.status} ${JSON.stringify(body)}`);
      if (!body) continue; // the answer was cut off mid-body: ask again
      if (attempt > 0 && res.status === 200) this.resubmits.existing++;
      if (!this.ids.has(job.key)) this.ids.set(job.key, new Set());
      this.ids.get(job.key)!.add(body.id);
      return;
    }
    this.errors.push(`${job.key}: no answer to POST /jobs for 30 s`);
  }

  private post(job: PlannedJob): Promise<Response> {
    const pending = this.life.fm.fetch("/jobs", {
      method: "POST", body: job.body, headers: { "content-type": "application/json", "idempotency-key": job.key },
    });
    for (const w of this.waiters.splice(0)) w(job.key);
    return pending;
  }
}

// --- reading the database (read-only, beside the running foreman) ------------------------------

interface JobRow { id: string; idempotency_key: string | null; state: string; attempt: number; result: string | null }
interface EventRow { id: string; job_id: string; state: string; payload: string; status: string }
interface Snapshot { jobs: JobRow[]; events: EventRow[]; completions: Map<string, string> }

function withDb<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function outstanding(path: string): { unfinished: number; pending: number } {
  return withDb(path, (db) => ({
    unfinished: (db.query("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'loading', 'working')").get() as { n: number }).n,
    pending: (db.query("SELECT COUNT(*) AS n FROM webhook_events WHERE status = 'pending'").get() as { n: number }).n,
  }));
}

function snapshot(path: string): Snapshot {
  return withDb(path, (db) => ({
    jobs: db.query("SELECT id, idempotency_key, state, attempt, result FROM jobs ORDER BY id").all() as JobRow[],
    events: db.query("SELECT id, job_id, state, payload, status FROM webhook_events ORDER BY id").all() as EventRow[],
    completions: new Map((db.query("SELECT job_id, CAST(data AS TEXT) AS text FROM artifacts WHERE name = 'completion'")
      .all() as { job_id: string; text: string }[]).map((a) => [a.job_id, a.text])),
  }));
}

// --- choosing the moments to kill --------------------------------------------------------------

interface Chaos { life: Life; fake: FakeOllama; rx: Receiver; submitter: Submitter; dbPath: string }

/** Polls `cond` every `stepMs` until it holds (true) or `timeoutMs` passes (false). */
async function poll(cond: () => boolean, timeoutMs: number, stepMs = 1): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(stepMs);
  }
  return true;
}

/** Resolves when a generation at the fake Ollama ends: the worker is writing the result, then claiming. */
async function generationEnds(c: Chaos): Promise<boolean> {
  return await poll(() => c.fake.activeGenerations > 0, TRIGGER_TIMEOUT_MS) && await poll(() => c.fake.activeGenerations === 0, TRIGGER_TIMEOUT_MS);
}

/**
 * Blocks (no await: Bun's fetch keeps sending on its own thread) until the job with `key` is in the
 * database, so the kill that follows lands between foreman's commit and its answer.
 */
function spinUntilCommitted(dbPath: string, key: string, timeoutMs: number): void {
  withDb(dbPath, (db) => {
    const q = db.query("SELECT 1 FROM jobs WHERE idempotency_key = ?");
    const deadline = performance.now() + timeoutMs;
    while (!q.get(key) && performance.now() < deadline) { /* spin */ }
  });
}

/** A model load or unload: a chat/generate request without messages or prompt. */
const isLoadRequest = (r: FakeOllama["requests"][number]) =>
  (r.path === "/api/chat" || r.path === "/api/generate") && !r.body?.messages && !r.body?.prompt;

/** Waits for the phase's moment (true) or gives up (false); then sleeps `f` (0..1) of the phase's window. */
const TRIGGERS: Record<(typeof PHASES)[number], (c: Chaos, f: number) => Promise<boolean>> = {
  async enqueue(c, f) {
    if (!c.submitter.active) return false;
    const key = await Promise.race([c.submitter.nextPost(), Bun.sleep(TRIGGER_TIMEOUT_MS).then(() => null)]);
    if (key === null) return false;
    // Half the kills land just after the row commits, when the answer is usually not yet sent (the
    // case the Idempotency-Key is for); the others 0-3 ms after the request starts.
    if (f < 0.5) spinUntilCommitted(c.dbPath, key, 100);
    else await Bun.sleep(Math.floor((f - 0.5) * 8));
    return true;
  },
  async claim(c, f) {
    const ok = await generationEnds(c);
    await Bun.sleep(1 + Math.floor(f * 4));
    return ok;
  },
  async load(c, f) {
    const seen = c.fake.requests.length;
    const ok = await poll(() => c.fake.requests.slice(seen).some(isLoadRequest), TRIGGER_TIMEOUT_MS);
    await Bun.sleep(Math.floor(f * LOAD_MS));
    return ok;
  },
  async stream(c, f) {
    const ok = await poll(() => c.fake.activeGenerations > 0, TRIGGER_TIMEOUT_MS);
    await Bun.sleep(Math.floor(f * 8 * TOKEN_MS));
    return ok;
  },
  async result(c) {
    return await generationEnds(c);
  },
  async webhook(c, f) {
    const seen = c.rx.received.length;
    const ok = await poll(() => c.rx.received.length > seen, TRIGGER_TIMEOUT_MS);
    await Bun.sleep(Math.floor(f * RX_DELAY_MS));
    return ok;
  },
  async backlog(c, f) {
    const ok = await poll(() => outstanding(c.dbPath).pending > 0, TRIGGER_TIMEOUT_MS, 10);
    await Bun.sleep(Math.floor(f * 20));
    return ok;
  },
};

interface PlannedKill { at: number; phase: (typeof PHASES)[number]; f: number }

/**
 * The kill plan: spread over the run by job progress, each aimed at a phase, with a varied delay.
 * Enqueue kills only in the first half: submitting is over by about then.
 */
function planKills(kills: number, rand: Rand): PlannedKill[] {
  return Array.from({ length: kills }, (_, k) => {
    const at = (k + rand.next()) / (kills + 1);
    const phase = rand.pick(at < 0.5 ? PHASES : PHASES.filter((p) => p !== "enqueue"));
    return { at, phase, f: rand.next() };
  });
}

async function runChaos(c: Chaos, plan: PlannedKill[], jobs: number, log?: (s: string) => void): Promise<Record<Phase, number>> {
  const counts = Object.fromEntries([...PHASES, "other"].map((p) => [p, 0])) as Record<Phase, number>;
  const done = doneCounter(c.rx);
  for (const [k, kill] of plan.entries()) {
    await poll(() => done() >= Math.floor(kill.at * jobs), 60_000, 5);
    const phase: Phase = (await TRIGGERS[kill.phase](c, kill.f)) ? kill.phase : "other";
    counts[phase]++;
    log?.(`kill ${k + 1}/${plan.length}: ${kill.phase}${phase === "other" ? " (moment missed)" : ""}, ${done()}/${jobs} done`);
    await c.life.crash();
  }
  return counts;
}

/** How many jobs the receiver has seen finish. */
function doneCounter(rx: Receiver): () => number {
  const done = new Set<string>();
  let cursor = 0;
  return () => {
    for (; cursor < rx.received.length; cursor++) {
      const b = rx.received[cursor].body;
      if (b.state === "done") done.add(b.job_id);
    }
    return done.size;
  };
}

// --- the checks --------------------------------------------------------------------------------

const idOf = (r: Received) => r.headers["webhook-id"];

/** A check that passes when `problems` is empty; the detail shows the first few. */
function check(name: string, problems: string[]): Check {
  const more = problems.length > 3 ? ` (+${problems.length - 3} more)` : "";
  return { name, ok: problems.length === 0, detail: problems.slice(0, 3).join("; ") + more };
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

function checkJobs(plan: PlannedJob[], snap: Snapshot, sub: Submitter): Check[] {
  const byKey = groupBy(snap.jobs, (j) => j.idempotency_key ?? "(none)");
  const rows = [
    ...sub.errors,
    ...(snap.jobs.length !== plan.length ? [`${snap.jobs.length} rows for ${plan.length} keys`] : []),
    ...plan.filter((p) => byKey.get(p.key)?.length !== 1).map((p) => `${p.key}: ${byKey.get(p.key)?.length ?? 0} rows`),
    ...[...sub.ids].filter(([k, ids]) => ids.size !== 1 || !ids.has(byKey.get(k)?.[0]?.id ?? "")).map(([k, ids]) => `${k}: answered ids ${[...ids]}`),
  ];
  const notDone = snap.jobs.filter((j) => j.state !== "done").map((j) => `${j.idempotency_key} ${j.id} is ${j.state}`);
  const results = plan.flatMap((p) => {
    const job = byKey.get(p.key)?.[0];
    if (!job || job.state !== "done") return [];
    const content = (text: string | null | undefined) => (text ? JSON.parse(text).message?.content : undefined);
    if (content(job.result) !== p.expected) return [`${p.key}: result ${JSON.stringify(content(job.result))}`];
    return content(snap.completions.get(job.id)) === p.expected ? [] : [`${p.key}: completion artifact differs`];
  });
  const doneEvents = groupBy(snap.events.filter((e) => e.state === "done"), (e) => e.job_id);
  const doneOnce = snap.jobs.filter((j) => (doneEvents.get(j.id)?.length ?? 0) !== 1)
    .map((j) => `${j.id}: ${doneEvents.get(j.id)?.length ?? 0} done events`);
  return [
    check("one job per idempotency key", rows),
    check("every job done", notDone),
    check("every result complete", results),
    check("done exactly once", doneOnce),
  ];
}

function checkWebhooks(snap: Snapshot, received: Received[], rejected: Set<Received>): Check[] {
  const outbox = new Map(snap.events.map((e) => [e.id, e]));
  const rx = groupBy(received, (r) => r.body.job_id as string);
  const undelivered = snap.events.filter((e) => e.status !== "delivered").map((e) => `${e.id} (${e.job_id} ${e.state}) ${e.status}`);
  const acceptedIds = new Set(received.filter((r) => !rejected.has(r)).map(idOf));
  const missing = snap.events.filter((e) => !acceptedIds.has(e.id)).map((e) => `${e.job_id}: ${e.state} event ${e.id} never accepted`);
  const bodies = received.filter((r) => outbox.get(idOf(r))?.payload !== r.raw)
    .map((r) => `${idOf(r)}: body differs from the outbox (or unknown id)`);
  const order: string[] = [];
  const paths: string[] = [];
  for (const [jobId, events] of groupBy(snap.events, (e) => e.job_id)) {
    const deliveries = rx.get(jobId) ?? [];
    const problem = orderProblem(events, deliveries, rejected);
    if (problem) order.push(`${jobId}: ${problem}`);
    const firstSeen = [...new Set(deliveries.map(idOf))];
    const path = pathProblem(firstSeen.map((id) => outbox.get(id)).filter((e): e is EventRow => !!e));
    if (path) paths.push(`${jobId}: ${path}`);
  }
  const wh = new Webhook(SECRET);
  const signatures = received.filter((r) => !verifies(wh, r)).map((r) => `${idOf(r)}: bad signature`);
  return [
    check("every event delivered (outbox)", undelivered),
    check("every event received", missing),
    check("events in outbox order", order),
    check("legal state path", paths),
    check("retries reuse id and body", bodies),
    check("signatures verify", signatures),
  ];
}

/**
 * Order within a job: the ids first seen follow the outbox, and no event is sent before the one
 * before it was accepted (the dispatcher waits for each 2xx, across restarts too).
 */
function orderProblem(events: EventRow[], deliveries: Received[], rejected: Set<Received>): string | null {
  const firstSeen = [...new Set(deliveries.map(idOf))];
  const expected = events.map((e) => e.id).filter((id) => firstSeen.includes(id));
  const states = (ids: string[]) => ids.map((id) => events.find((e) => e.id === id)?.state ?? id).join(",");
  if (firstSeen.join() !== expected.join()) return `first saw ${states(firstSeen)}, outbox has ${states(expected)}`;
  for (let k = 1; k < events.length; k++) {
    const sent = deliveries.findIndex((r) => idOf(r) === events[k].id);
    const before = deliveries.findIndex((r) => idOf(r) === events[k - 1].id && !rejected.has(r));
    if (sent >= 0 && (before < 0 || before > sent)) return `${events[k].state} (#${k + 1}) sent before ${events[k - 1].state} (#${k}) was accepted`;
  }
  return null;
}

/** The states a job's events announce must chain (each previous_state is the last state) along LEGAL to done. */
function pathProblem(events: EventRow[]): string | null {
  let last: string | null = null;
  for (const e of events) {
    const p = JSON.parse(e.payload) as { state: string; previous_state: string | null };
    const legal = last === null ? p.state === "queued" : LEGAL[last]?.includes(p.state);
    if (!legal || p.previous_state !== last) return `${last} → ${p.state} (previous_state ${p.previous_state})`;
    last = p.state;
  }
  return last === "done" ? null : `ends in ${last}`;
}

function verifies(wh: Webhook, r: Received): boolean {
  try {
    wh.verify(r.raw, r.headers);
    return true;
  } catch {
    return false;
  }
}

// --- the harness -------------------------------------------------------------------------------

/** Waits until every job is finished and no webhook event is pending; false on timeout. */
async function quiesce(life: Life, submitter: Submitter, timeoutMs: number): Promise<boolean> {
  return await poll(() => {
    if (submitter.active) return false;
    const o = outstanding(life.dbPath);
    return o.unfinished === 0 && o.pending === 0;
  }, timeoutMs, 50);
}

function summarize(snap: Snapshot, received: Received[], rejected: Set<Received>) {
  const states: Record<string, number> = {};
  for (const j of snap.jobs) states[j.state] = (states[j.state] ?? 0) + 1;
  const accepted = received.filter((r) => !rejected.has(r));
  const distinct = new Set(accepted.map(idOf)).size;
  return {
    states,
    rows: snap.jobs.length,
    reruns: snap.jobs.filter((j) => j.attempt > 1).length,
    maxAttempt: Math.max(0, ...snap.jobs.map((j) => j.attempt)),
    webhooks: { events: snap.events.length, deliveries: received.length, rejected: rejected.size, duplicates: accepted.length - distinct },
  };
}

interface World { dir: string; fake: FakeOllama; rx: Receiver; rejected: Set<Received>; life: Life }

async function startWorld(seed: number): Promise<World> {
  const dir = tempDir("foreman-crash-");
  const fake = await startFakeOllama({ tokenMs: TOKEN_MS, loadMs: LOAD_MS });
  const rx = await startReceiver();
  rx.delayMs = RX_DELAY_MS;
  const rejected = new Set<Received>();
  const rxRand = prng(seed ^ 0x2545f491);
  rx.status = (r) => (rxRand.next() < RX_REJECT_RATE ? (rejected.add(r), 503) : 200);
  const life = new Life(fake.url, dir, {
    FOREMAN_WEBHOOK_SECRET: SECRET, FOREMAN_WEBHOOK_BACKOFF: "100ms", FOREMAN_MAX_ATTEMPTS: "20", FOREMAN_LOG_LEVEL: "info",
    // Short: old jobs of other models jump the drain often, so model loads (a kill target) are frequent.
    FOREMAN_MAX_WAIT: "300ms",
  });
  return { dir, fake, rx, rejected, life };
}

export async function crashHarness(opts: CrashOptions): Promise<Report> {
  const t0 = performance.now();
  const w = await startWorld(opts.seed);
  try {
    await w.life.start();
    const plan = planJobs(opts.jobs, opts.seed, w.rx.url, prng(opts.seed));
    const submitter = new Submitter(w.life, prng(opts.seed ^ 0x5bd1e995));
    const chaos: Chaos = { life: w.life, fake: w.fake, rx: w.rx, submitter, dbPath: w.life.dbPath };
    const [, killsAt] = await Promise.all([
      submitter.run(plan),
      runChaos(chaos, planKills(opts.kills, prng(opts.seed + 1)), opts.jobs, opts.log),
    ]);
    const tLastKill = performance.now();
    const quiet = await quiesce(w.life, submitter, 60_000 + opts.jobs * 200);
    const drainMs = performance.now() - tLastKill;
    await w.life.stop();
    const snap = snapshot(w.life.dbPath);
    const received = [...w.rx.received];
    const checks = [
      check("quiesced (nothing stuck)", quiet ? [] : describeStuck(snap)),
      ...checkJobs(plan, snap, submitter),
      ...checkWebhooks(snap, received, w.rejected),
    ];
    const ok = checks.every((c) => c.ok);
    if (ok) rmSync(w.dir, { recursive: true, force: true });
    return {
      seed: opts.seed, jobs: opts.jobs, kills: opts.kills, killsAt, ...summarize(snap, received, w.rejected),
      resubmits: submitter.resubmits,
      timings: { totalMs: performance.now() - t0, submitMs: submitter.lastAt - submitter.firstAt, drainMs, ...restartTimes(w.life) },
      checks, ok, dir: w.dir,
    };
  } finally {
    await w.life.fm?.stop(9).catch(() => {});
    await w.fake.stop();
    await w.rx.stop();
  }
}

function restartTimes(life: Life): { restartAvgMs: number; restartMaxMs: number } {
  const ms = life.restartMs;
  return { restartAvgMs: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length), restartMaxMs: Math.max(0, ...ms) };
}

function describeStuck(snap: Snapshot): string[] {
  return [
    ...snap.jobs.filter((j) => !["done", "failed", "cancelled"].includes(j.state)).map((j) => `job ${j.id} still ${j.state}`),
    ...snap.events.filter((e) => e.status === "pending").map((e) => `event ${e.id} (${e.job_id} ${e.state}) still pending`),
  ];
}

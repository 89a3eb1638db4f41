// Scheduler value: one mixed workload (several models, Poisson arrivals, mixed priorities, load
// costs of seconds scaled down) sent straight to a fake Ollama that schedules like Ollama (FIFO,
// one resident chat model), and through foreman in front of an identical fake. Swaps, makespan and
// wait (arrival → first token) per priority, as ratios.
import { startFakeOllama, type FakeOllama } from "../test/support/fake-ollama";
import { startForeman } from "../test/support/foreman";
import { header, percentile, repeat, SMOKE, table } from "./lib";

const MODELS = ["llama3.2", "qwen2.5:7b", "mistral", "gemma3:4b"];
const LOAD_MS = 400; // "seconds" of real load, scaled down ×10 consistently with token times
const TOKEN_MS = 4;
const JOBS = SMOKE ? 24 : 120;
const MEAN_GAP_MS = 40; // Poisson arrivals: exponential gaps
const REPS = SMOKE ? 1 : 3;
const MAX_WAIT = "20s";

interface Arrival { at: number; model: string; tokens: number; priority: number }

/** A deterministic workload (seeded), so both sides see exactly the same arrivals. */
function workload(seed: number, backlog = false): Arrival[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Arrival[] = [];
  let t = 0;
  for (let i = 0; i < JOBS; i++) {
    t += backlog ? 0.5 : -Math.log(1 - rand()) * MEAN_GAP_MS;
    const r = rand();
    out.push({ at: t, model: MODELS[Math.floor(rand() * MODELS.length)], tokens: 10 + Math.floor(rand() * 40), priority: !backlog && r < 0.15 ? 10 : 0 });
  }
  return out;
}

async function drive(url: string, jobs: Arrival[], fake: FakeOllama) {
  fake.reset();
  const loadsBefore = fake.loads.length;
  const t0 = performance.now();
  const waits: { priority: number; ms: number }[] = [];
  let last = 0;
  await Promise.all(jobs.map(async (j) => {
    await Bun.sleep(Math.max(0, j.at - (performance.now() - t0)));
    const start = performance.now();
    const res = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "x-foreman-priority": String(j.priority) },
      body: JSON.stringify({ model: j.model, messages: [{ role: "user", content: `[[tokens=${j.tokens}]]` }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    waits.push({ priority: j.priority, ms: performance.now() - start });
    while (!(await reader.read()).done) { /* drain */ }
    last = Math.max(last, performance.now() - t0);
  }));
  const by = (p: number) => waits.filter((w) => w.priority === p).map((w) => w.ms);
  return {
    swaps: fake.loads.length - loadsBefore, makespan: last,
    p50: percentile(waits.map((w) => w.ms), 50), p95: percentile(waits.map((w) => w.ms), 95),
    hiP50: percentile(by(10), 50), hiP95: percentile(by(10), 95), loP50: percentile(by(0), 50), loP95: percentile(by(0), 95),
    maxWait: Math.max(...waits.map((w) => w.ms)),
  };
}

export async function run(): Promise<void> {
  const fakeOpts = { loadMs: LOAD_MS, tokenMs: TOKEN_MS, maxLoadedChat: 1 };
  const direct = await startFakeOllama(fakeOpts);
  const behind = await startFakeOllama(fakeOpts);
  const fm = await startForeman({ ollamaUrl: behind.url, env: { FOREMAN_LOG_LEVEL: "warn", FOREMAN_MAX_WAIT: MAX_WAIT } });
  let rep = 0;
  try {
    const b = await repeat(REPS, async () => {
      const jobs = workload(7 + rep++, true);
      const d = await drive(direct.url, jobs, direct);
      const f = await drive(fm.url, jobs, behind);
      return { d: d.swaps, f: f.swaps, dm: d.makespan, fm: f.makespan, fmax: f.maxWait };
    });
    rep = 0;
    const r = await repeat(REPS, async () => {
      const jobs = workload(42 + rep++);
      const d = await drive(direct.url, jobs, direct);
      const f = await drive(fm.url, jobs, behind);
      return Object.fromEntries([...Object.entries(d).map(([k, v]) => [`d_${k}`, v]), ...Object.entries(f).map(([k, v]) => [`f_${k}`, v])]) as Record<string, number>;
    });
    header("Scheduler value: the same workload straight to Ollama-like FIFO vs through foreman", REPS);
    console.log(`${JOBS} jobs, ${MODELS.length} models, load ${LOAD_MS} ms per swap, ${TOKEN_MS} ms/token, 10–50 tokens, Poisson arrivals every ${MEAN_GAP_MS} ms on average, 15% priority 10; FOREMAN_MAX_WAIT=${MAX_WAIT}; medians of ${REPS} runs (different seeds)\n`);
    console.log(`**Backlog** (all ${JOBS} jobs queued at once, one priority): the lower bound is ${MODELS.length} loads (one per distinct model)\n`);
    table([
      ["measure", "direct (FIFO)", "foreman", "foreman/direct"],
      ["model loads", b.d, b.f, b.f / b.d],
      ["makespan (ms)", b.dm, b.fm, b.fm / b.dm],
      ["foreman loads / lower bound", "", b.f / MODELS.length, ""],
      ["foreman longest wait (ms)", "", b.fmax, ""],
    ]);
    console.log(`\n**Poisson arrivals with mixed priorities** (a priority-10 job for another model forces a swap by design)\n`);
    table([
      ["measure", "direct (FIFO)", "foreman", "foreman/direct"],
      ["model loads", r.d_swaps, r.f_swaps, r.f_swaps / r.d_swaps],
      ["makespan (ms)", r.d_makespan, r.f_makespan, r.f_makespan / r.d_makespan],
      ["wait p50, all (ms)", r.d_p50, r.f_p50, r.f_p50 / r.d_p50],
      ["wait p95, all (ms)", r.d_p95, r.f_p95, r.f_p95 / r.d_p95],
      ["wait p50, priority 10 (ms)", r.d_hiP50, r.f_hiP50, r.f_hiP50 / r.d_hiP50],
      ["wait p95, priority 10 (ms)", r.d_hiP95, r.f_hiP95, r.f_hiP95 / r.d_hiP95],
      ["wait p50, priority 0 (ms)", r.d_loP50, r.f_loP50, r.f_loP50 / r.d_loP50],
      ["wait p95, priority 0 (ms)", r.d_loP95, r.f_loP95, r.f_loP95 / r.d_loP95],
      ["longest wait (ms)", r.d_maxWait, r.f_maxWait, r.f_maxWait / r.d_maxWait],
    ]);
  } finally {
    await fm.stop(9);
    await direct.stop();
    await behind.stop();
  }
}

if (import.meta.main) await run();

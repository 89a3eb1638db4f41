// The flapping-target soak: for minutes, the fake Ollama goes away (connections refused, live
// streams cut) and comes back at random, while callers of every kind keep arriving. Checks what
// users would see: every async job done once with its full text, every sync caller one complete
// answer or one clear error, /healthz degraded during outages, nothing left running or queued.
import { readJobs } from "../support/db";
import { startFakeOllama } from "../support/fake-ollama";
import { chatBody, readNdjson, startForeman } from "../support/foreman";

export interface FlapOptions { seconds: number; seed: number; log?: (s: string) => void }
export interface FlapReport {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
  outages: number;
  downSeconds: number;
  async: number;
  sync: { ok: number; errors: Record<string, number> };
  seconds: number;
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ["llama3.2", "mistral"];
/** What the fake generates for `[[tokens=k]]`. */
const tokensText = (k: number) => Array.from({ length: k }, (_, i) => ` tok${i + 1}`).join("");

export async function flapSoak(o: FlapOptions): Promise<FlapReport> {
  const rnd = random(o.seed);
  const between = (lo: number, hi: number) => lo + rnd() * (hi - lo);
  const log = o.log ?? (() => {});
  const fake = await startFakeOllama({ tokenMs: 5, loadMs: 100 });
  const fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_LOG_LEVEL: "info", FOREMAN_MAX_ATTEMPTS: "3" } });
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const asyncIds = new Map<string, string>(); // job id → expected text
  const count = (r: Record<string, number>, k: string) => { r[k] = (r[k] ?? 0) + 1; };
  const sync = { ok: 0, errors: {} as Record<string, number> };
  const wrong: string[] = [];
  const callers: Promise<void>[] = [];
  let outages = 0;
  let downMs = 0;
  let degradedSeen = 0;
  let n = 0;

  const syncCaller = async (stream: boolean) => {
    const k = Math.floor(between(5, 60));
    const res = await fm.fetch("/api/chat", { method: "POST",
      body: chatBody(MODELS[n++ % 2], `sync ${n} [[tokens=${k}]]`, { stream }) }).catch((e) => e as Error);
    if (res instanceof Error) return void wrong.push(`sync caller lost its connection: ${res.message}`);
    if (!stream) {
      const body = await res.json();
      if (res.status === 200 && body.message?.content === tokensText(k)) sync.ok++;
      else if (res.status >= 400 && typeof body.error === "string") count(sync.errors, `${res.status} ${body.error}`);
      else wrong.push(`non-streaming ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
      return;
    }
    const { lines } = await readNdjson(res);
    const last = lines[lines.length - 1];
    const text = lines.map((l) => l.message?.content ?? "").join("");
    if (res.status === 200 && last?.done === true && text === tokensText(k)) sync.ok++;
    else if (last && typeof last.error === "string") count(sync.errors, `stream: ${last.error}`);
    else wrong.push(`streaming ${res.status} ended with ${JSON.stringify(last).slice(0, 200)}`);
  };

  const asyncJob = async () => {
    const k = Math.floor(between(5, 40));
    const request = JSON.parse(chatBody(MODELS[n++ % 2], `async ${n} [[tokens=${k}]]`));
    const res = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request }) });
    if (res.status !== 202) return void wrong.push(`POST /jobs answered ${res.status}`);
    asyncIds.set((await res.json()).id, tokensText(k));
  };

  const arrivals = (async () => {
    while (performance.now() < end) {
      const r = rnd();
      const p = r < 0.5 ? asyncJob() : syncCaller(r < 0.75);
      callers.push(p.catch((e) => void wrong.push(`caller crashed: ${e}`)));
      await Bun.sleep(between(100, 400)); // ~4 arrivals/s: about what the worker serves between outages
    }
  })();

  while (performance.now() < end) {
    await Bun.sleep(between(2000, 12_000));
    if (performance.now() >= end) break;
    const down = Math.min(between(500, 15_000), end - performance.now());
    outages++;
    log(`outage ${outages}: ${Math.round(down)} ms`);
    await fake.refuse(true);
    const t = performance.now();
    await Bun.sleep(down);
    // Foreman notices at its next poll or request; a long outage must show as degraded by now.
    const health = await (await fm.fetch("/healthz")).json();
    if (health.degraded === true) degradedSeen++;
    else if (down > 3000) wrong.push(`/healthz not degraded ${Math.round(down)} ms into an outage`);
    downMs += performance.now() - t;
    await fake.refuse(false);
  }
  await arrivals;
  await Promise.all(callers);
  log(`arrivals over; draining ${asyncIds.size} async jobs`);

  const deadline = performance.now() + 120_000;
  let rows = readJobs(fm.dbPath);
  while (rows.some((j) => !["done", "failed", "cancelled"].includes(j.state)) && performance.now() < deadline) {
    await Bun.sleep(250);
    rows = readJobs(fm.dbPath);
  }
  const health = await (await fm.fetch("/healthz")).json();
  await fm.stop();
  const maxConcurrent = fake.maxConcurrentGenerations;
  await fake.stop();

  const byId = new Map(rows.map((j) => [j.id, j]));
  const asyncBad = [...asyncIds].filter(([id, text]) => {
    const j = byId.get(id);
    return j?.state !== "done" || JSON.parse(j.result!).message.content !== text;
  });
  const unfinished = rows.filter((j) => !["done", "failed", "cancelled"].includes(j.state));
  const checks = [
    { name: "every async job done once, with its full text", ok: asyncBad.length === 0,
      detail: asyncBad.slice(0, 5).map(([id]) => `${id}: ${byId.get(id)?.state} ${byId.get(id)?.error ?? ""}`).join("; ") },
    { name: "every sync caller got one complete answer or one clear error", ok: wrong.length === 0, detail: wrong.slice(0, 5).join("; ") },
    { name: "nothing left queued or running", ok: unfinished.length === 0, detail: unfinished.slice(0, 5).map((j) => `${j.id} ${j.state}`).join("; ") },
    { name: "/healthz degraded during outages, healthy after", ok: health.degraded === false && degradedSeen > 0,
      detail: `degraded seen in ${degradedSeen} of ${outages} outages; at the end ${JSON.stringify(health)}` },
    { name: "never two generations at once on the target", ok: maxConcurrent <= 1, detail: `max ${maxConcurrent}` },
  ];
  return {
    ok: checks.every((c) => c.ok), checks, outages, downSeconds: downMs / 1000, async: asyncIds.size, sync,
    seconds: (performance.now() - t0) / 1000,
  };
}

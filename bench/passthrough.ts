// Passthrough overhead: the same requests straight to the fake Ollama (zero model latency) and
// through foreman. Non-stream latency p50/p99, time to first chunk, and streamed chunks/s.
import { startFakeOllama } from "../test/support/fake-ollama";
import { startForeman } from "../test/support/foreman";
import { header, median, percentile, repeat, SMOKE, table } from "./lib";

const N = SMOKE ? 50 : 1000;
const REPS = SMOKE ? 1 : 5;
// Two stream lengths: at ~300k chunks/s a 5,000-chunk stream lasts ~15 ms, so the job's fixed cost
// (enqueue, claim, result commit: see time to first chunk) is part of its rate; 50,000 shows the
// steady streaming rate.
const LONG = SMOKE ? [200] : [5000, 50_000];

const body = (content: string, stream: boolean) =>
  JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content }], stream });

async function latencies(url: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/chat`, { method: "POST", body: body("hi", false) });
    await res.text();
    out.push(performance.now() - t0);
  }
  return out;
}

async function firstChunk(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/chat`, { method: "POST", body: body("hi", true) });
  const reader = res.body!.getReader();
  await reader.read();
  const t = performance.now() - t0;
  while (!(await reader.read()).done) { /* drain */ }
  return t;
}

async function throughput(url: string, tokens: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/chat`, { method: "POST", body: body(`[[tokens=${tokens}]]`, true) });
  const text = await res.text();
  const lines = text.split("\n").filter(Boolean).length;
  return lines / ((performance.now() - t0) / 1000);
}

/** Alternating streams, so both sides see the same machine load; medians of each. */
async function tputs(direct: string, foreman: string, tokens: number): Promise<{ direct: number; foreman: number }> {
  const d: number[] = [];
  const f: number[] = [];
  for (let i = 0; i < (SMOKE ? 2 : 7); i++) {
    d.push(await throughput(direct, tokens));
    f.push(await throughput(foreman, tokens));
  }
  return { direct: median(d), foreman: median(f) };
}

/** Flat keys for `repeat`: d<length> and f<length>, chunks/s, one length after the other. */
async function streamRates(direct: string, foreman: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of LONG) {
    const r = await tputs(direct, foreman, n);
    out[`d${n}`] = r.direct;
    out[`f${n}`] = r.foreman;
  }
  return out;
}

export async function run(): Promise<void> {
  const fake = await startFakeOllama();
  const fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_LOG_LEVEL: "warn" } });
  try {
    // Warm both paths (model load, JIT).
    await latencies(fake.url);
    await latencies(fm.url);
    const r = await repeat(REPS, async () => {
      const d = await latencies(fake.url);
      const f = await latencies(fm.url);
      const dTtfc: number[] = [];
      const fTtfc: number[] = [];
      for (let i = 0; i < Math.min(N, 100); i++) {
        dTtfc.push(await firstChunk(fake.url));
        fTtfc.push(await firstChunk(fm.url));
      }
      return {
        dP50: median(d), dP99: percentile(d, 99), fP50: median(f), fP99: percentile(f, 99),
        dTtfc: median(dTtfc), fTtfc: median(fTtfc),
        ...(await streamRates(fake.url, fm.url)),
      };
    });
    const rates = r as Record<string, number>;
    header("Passthrough overhead (foreman vs the fake Ollama direct)", REPS);
    console.log(`non-stream chats per repetition: ${N}; long streams: ${LONG.join(", ")} chunks; medians of ${REPS} repetitions\n`);
    table([
      ["measure", "direct", "foreman", "added", "ratio"],
      ["non-stream p50 (ms)", r.dP50, r.fP50, r.fP50 - r.dP50, r.fP50 / r.dP50],
      ["non-stream p99 (ms)", r.dP99, r.fP99, r.fP99 - r.dP99, r.fP99 / r.dP99],
      ["time to first chunk p50 (ms)", r.dTtfc, r.fTtfc, r.fTtfc - r.dTtfc, r.fTtfc / r.dTtfc],
      ...LONG.map((n) => {
        const [d, f] = [rates[`d${n}`]!, rates[`f${n}`]!];
        return [`stream throughput, ${n} chunks (chunks/s)`, d, f, f - d, f / d];
      }),
    ]);
  } finally {
    await fm.stop();
    await fake.stop();
  }
}

if (import.meta.main) await run();

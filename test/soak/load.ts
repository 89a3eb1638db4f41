// Load: many concurrent passthrough callers plus a deep async queue, against one foreman. Checks
// that every caller gets its own complete answer, no request errors (no "database is locked"),
// memory stays bounded, and /healthz and /jobs/{id} stay fast while the queue is deep.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { startFakeOllama } from "../support/fake-ollama";
import { startForeman } from "../support/foreman";

export interface LoadReport {
  callers: number;
  asyncJobs: number;
  errors: string[];
  peakRssMB: number;
  healthzP99Ms: number;
  jobGetP50Ms: number;
  jobGetP99Ms: number;
  seconds: number;
}

const p99 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.max(0, Math.ceil(v.length * 0.99) - 1)] ?? NaN;

function rssMB(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The latency probe runs in its own process (test/soak/probe.ts), so it measures foreman, not this
 *  process's own queue of a thousand outgoing requests. */
async function startProbe(url: string, ids: string[]) {
  const idsFile = `${tmpdir()}/foreman-probe-${process.pid}.json`;
  await Bun.write(idsFile, JSON.stringify(ids));
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/probe.ts`, url, idsFile], { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("latency probe exited before it was ready");
    out += new TextDecoder().decode(value);
  }
  return {
    kill: () => proc.kill(),
    async stop(): Promise<{ healthz: number[]; gets: number[] }> {
      proc.kill("SIGTERM");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      rmSync(idsFile, { force: true });
      return JSON.parse(out.slice(out.indexOf("ready\n") + 6));
    },
  };
}

export async function loadTest(opts: { callers: number; asyncJobs: number }): Promise<LoadReport> {
  const fake = await startFakeOllama();
  const fm = await startForeman({
    ollamaUrl: fake.url, env: { FOREMAN_LOG_LEVEL: "warn", FOREMAN_MAX_QUEUE: String(opts.callers + opts.asyncJobs + 100) },
  });
  const errors: string[] = [];
  const t0 = performance.now();
  let peak = 0;
  let probe: Awaited<ReturnType<typeof startProbe>> | undefined;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMB(fm.proc.pid)); }, 100);
  try {
    // The deep async queue first (mistral), then the interactive callers (llama3.2) on top of it.
    const ids: string[] = [];
    for (let i = 0; i < opts.asyncJobs; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, opts.asyncJobs - i) }, (_, k) =>
        fetch(`${fm.url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model: "mistral", messages: [{ role: "user", content: `async ${i + k}` }] } }) })
          .then(async (r) => (r.status === 202 ? (await r.json()).id : (errors.push(`POST /jobs → ${r.status} ${await r.text()}`), null)))));
      ids.push(...batch.filter(Boolean));
    }
    probe = await startProbe(fm.url, ids);
    await Promise.all(Array.from({ length: opts.callers }, async (_, i) => {
      try {
        const res = await fetch(`${fm.url}/api/chat`, {
          method: "POST", headers: { "x-foreman-priority": "10" },
          body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: `caller ${i}` }], stream: false }),
        });
        const body = await res.json();
        if (res.status !== 200 || body.message?.content !== `Echo: caller ${i}`) errors.push(`caller ${i}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      } catch (err) {
        errors.push(`caller ${i}: ${(err as Error).message}`);
      }
    }));
    const { healthz, gets } = await probe.stop();
    if (/database is locked/i.test(fm.logs())) errors.push("'database is locked' in the logs");
    return {
      callers: opts.callers, asyncJobs: opts.asyncJobs, errors, peakRssMB: Math.round(peak),
      healthzP99Ms: p99(healthz), jobGetP50Ms: [...gets].sort((a, b) => a - b)[Math.floor(gets.length / 2)] ?? NaN, jobGetP99Ms: p99(gets), seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    clearInterval(sampler);
    probe?.kill();
    await fm.stop(9);
    await fake.stop();
  }
}

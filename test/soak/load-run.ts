// `bun test/soak/load-run.ts [--callers N] [--async N]`: the full load soak (default 1,000
// concurrent passthrough callers plus 10,000 queued async jobs); prints a report, exits 1 on errors.
import { parseArgs } from "node:util";
import { loadTest } from "./load";

const { values } = parseArgs({ options: { callers: { type: "string" }, async: { type: "string" } } });
const r = await loadTest({ callers: Number(values.callers ?? 1000), asyncJobs: Number(values.async ?? 10000) });
console.log(`| callers | async jobs | errors | peak RSS (MB) | /healthz p99 (ms) | /jobs/{id} p50 / p99 (ms) | seconds |
|---|---|---|---|---|---|---|
| ${r.callers} | ${r.asyncJobs} | ${r.errors.length} | ${r.peakRssMB} | ${r.healthzP99Ms.toFixed(1)} | ${r.jobGetP50Ms.toFixed(1)} / ${r.jobGetP99Ms.toFixed(1)} | ${r.seconds.toFixed(1)} |`);
for (const e of r.errors.slice(0, 20)) console.log(`error: ${e}`);
process.exit(r.errors.length ? 1 : 0);

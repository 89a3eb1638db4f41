// `bun test/soak/flap-run.ts [--seconds N] [--seed S]` (part of `npm run test:soak`): a target that
// flaps for minutes (default 180 s) under mixed traffic; prints a report, exits 1 if a check failed.
import { parseArgs } from "node:util";
import { flapSoak } from "./flap";

const { values } = parseArgs({ options: { seconds: { type: "string" }, seed: { type: "string" } } });
const r = await flapSoak({ seconds: Number(values.seconds ?? 180), seed: Number(values.seed ?? 1), log: (s) => console.error(s) });
const errors = Object.entries(r.sync.errors).map(([e, n]) => `${n} × ${e}`).join("; ") || "none";
console.log(`| seconds | outages (down s) | async jobs | sync answers | sync errors |
|---|---|---|---|---|
| ${r.seconds.toFixed(0)} | ${r.outages} (${r.downSeconds.toFixed(0)}) | ${r.async} | ${r.sync.ok} | ${errors} |

| check | |
|---|---|
${r.checks.map((c) => `| ${c.name} | ${c.ok ? "ok" : `**FAIL**: ${c.detail.replaceAll("|", "\\|")}`} |`).join("\n")}`);
process.exit(r.ok ? 0 : 1);

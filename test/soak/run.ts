// `bun test/soak/run.ts [--jobs N] [--kills K] [--seed S]` (or `npm run test:soak`): runs the
// crash harness once and prints its report as markdown; exits 1 if any check failed.
import { crashHarness, type Report } from "./crash";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} needs a whole number`);
    process.exit(2);
  }
  return v;
}

const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
const counts = (r: Record<string, number>) => Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");

function markdown(r: Report): string {
  const t = r.timings;
  const rows: [string, string][] = [
    ["seed", String(r.seed)],
    ["jobs", `${r.jobs} (${r.rows} rows; ${counts(r.states)})`],
    ["kills (SIGKILL)", `${r.kills} (${counts(r.killsAt)})`],
    ["jobs re-submitted", `${r.resubmits.jobs} (${r.resubmits.posts} repeated POSTs; ${r.resubmits.existing} found the job already committed)`],
    ["jobs re-run after a kill", `${r.reruns} (max attempt ${r.maxAttempt})`],
    ["webhook events", `${r.webhooks.events} (${r.webhooks.deliveries} POSTs received, ${r.webhooks.rejected} answered 503 and retried, ${r.webhooks.duplicates} duplicates: an id accepted again)`],
    ["time", `${ms(t.totalMs)} total, submitting ${ms(t.submitMs)}, drain after the last kill ${ms(t.drainMs)}`],
    ["restart", `${ms(t.restartAvgMs)} avg, ${ms(t.restartMaxMs)} max`],
  ];
  const table = ["| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
  const checks = ["| check | |", "|---|---|", ...r.checks.map((c) => `| ${c.name} | ${c.ok ? "ok" : `**FAIL**: ${c.detail.replaceAll("|", "\\|")}`} |`)];
  const kept = r.ok ? [] : ["", `Database and foreman logs kept in ${r.dir}`];
  return [...table, "", ...checks, ...kept].join("\n");
}

const report = await crashHarness({
  jobs: arg("jobs", 200), kills: arg("kills", 25), seed: arg("seed", 1),
  log: (s) => console.error(s),
});
console.log(markdown(report));
process.exit(report.ok ? 0 : 1);

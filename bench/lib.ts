// Shared helpers for the benchmarks: statistics, machine info, and a uniform way to print results.
import os from "node:os";

export const SMOKE = process.argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
export const median = (v: number[]) => percentile(v, 50);

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "?";
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.arch()}, Bun ${Bun.version}`;
}

export function header(title: string, reps: number): void {
  console.log(`\n## ${title}\n`);
  console.log(`machine: ${machine()}; repetitions: ${reps}${SMOKE ? " (smoke mode: tiny sizes)" : ""}`);
}

/** Prints a markdown table. */
export function table(rows: (string | number)[][]): void {
  const fmt = (v: string | number) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v);
  console.log(`| ${rows[0].map(fmt).join(" | ")} |`);
  console.log(`|${rows[0].map(() => "---").join("|")}|`);
  for (const r of rows.slice(1)) console.log(`| ${r.map(fmt).join(" | ")} |`);
}

export const ms = (n: number) => Math.round(n * 1000) / 1000;

/** Runs `fn` `reps` times and returns the median of each numeric field. */
export async function repeat<T extends Record<string, number>>(reps: number, fn: () => Promise<T>): Promise<T> {
  const runs: T[] = [];
  for (let i = 0; i < reps; i++) runs.push(await fn());
  const out = {} as Record<string, number>;
  for (const k of Object.keys(runs[0])) out[k] = median(runs.map((r) => r[k]));
  return out as T;
}

export function rssMB(pid: number): number {
  try {
    const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

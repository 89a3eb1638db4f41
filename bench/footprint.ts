// Footprint of the product: binary size, start-to-healthy time and idle RSS, for the compiled
// binary (dist/foreman, built first if missing) and for `bun src/main.ts`.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../test/support/foreman";
import { header, median, rssMB, SMOKE, table } from "./lib";

const ROOT = resolve(import.meta.dir, "..");
const REPS = SMOKE ? 2 : 7;

async function measure(cmd: string[]): Promise<{ ready: number; rss: number }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const t0 = performance.now();
  const proc = Bun.spawn([...cmd, "serve"], {
    cwd: ROOT, stdout: "ignore", stderr: "ignore",
    env: { ...process.env, FOREMAN_ADDR: `127.0.0.1:${port}`, FOREMAN_OLLAMA_URL: "http://127.0.0.1:9", FOREMAN_DB_PATH: join(tempDir(), "f.db"), FOREMAN_LOG_LEVEL: "warn" },
  });
  let ready = NaN;
  for (let i = 0; i < 2000; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) {
        ready = performance.now() - t0;
        break;
      }
    } catch {
      // not yet
    }
    await Bun.sleep(2);
  }
  await Bun.sleep(1000); // settle to idle
  const rss = rssMB(proc.pid);
  proc.kill(9);
  await proc.exited;
  return { ready, rss };
}

export async function run(): Promise<void> {
  const bin = join(ROOT, "dist/foreman");
  if (!existsSync(bin)) {
    const b = Bun.spawn([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
    await b.exited;
  }
  const rows: (string | number)[][] = [["", "size (MB)", "start → healthy p50 (ms)", "idle RSS p50 (MB)"]];
  for (const [name, cmd, size] of [
    ["compiled binary", [bin], statSync(bin).size / 2 ** 20],
    ["bun src/main.ts", [process.execPath, "src/main.ts"], NaN],
  ] as [string, string[], number][]) {
    const runs = [];
    for (let i = 0; i < REPS; i++) runs.push(await measure(cmd));
    rows.push([name, Number.isNaN(size) ? "-" : size, median(runs.map((r) => r.ready)), median(runs.map((r) => r.rss))]);
  }
  header("Footprint", REPS);
  console.log("goals: idle RSS ≤ 60 MB, ready ≤ 150 ms (the binary)\n");
  table(rows);
}

if (import.meta.main) await run();

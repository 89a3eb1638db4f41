// The load soak's latency probe, in its own process so the load generator's thousand sockets do not
// queue its requests: `bun probe.ts <foreman url> <ids file>`, polls /healthz and a random
// /jobs/{id} every 20 ms, and prints {"healthz":[ms…],"gets":[ms…]} once told to stop (SIGTERM).
import { argv } from "node:process";

const [url, idsFile] = argv.slice(2) as [string, string];
const ids = (await Bun.file(idsFile).json()) as string[];
const healthz: number[] = [];
const gets: number[] = [];
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });
console.log("ready");
// At least one round, so a short run still reports.
do {
  let t = performance.now();
  await fetch(`${url}/healthz`);
  healthz.push(performance.now() - t);
  t = performance.now();
  await fetch(`${url}/jobs/${ids[Math.floor(Math.random() * ids.length)]}`);
  gets.push(performance.now() - t);
  await Bun.sleep(20);
} while (!stopping);
console.log(JSON.stringify({ healthz, gets }));

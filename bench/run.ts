// `npm run bench`: every benchmark in turn, printing markdown for docs/benchmarks.md.
// `npm run bench -- --smoke` runs tiny sizes (CI checks the benchmarks still work).
import { run as footprint } from "./footprint";
import { run as passthrough } from "./passthrough";
import { run as queue } from "./queue";
import { run as scheduler } from "./scheduler";

const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const all: Record<string, () => Promise<void>> = { passthrough, queue, scheduler, footprint };
for (const [name, fn] of Object.entries(all)) {
  if (only.length && !only.includes(name)) continue;
  await fn();
}

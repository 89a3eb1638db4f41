// A short version of the load soak (test/soak/load.ts) for every CI run.
import { expect, test } from "bun:test";
import { loadTest } from "./soak/load";

test("200 concurrent callers on top of 1,000 queued async jobs: every answer right, nothing locked, memory bounded", async () => {
  const r = await loadTest({ callers: 200, asyncJobs: 1000 });
  expect(r.errors).toEqual([]);
  expect(r.peakRssMB).toBeLessThan(300);
  expect(r.healthzP99Ms).toBeLessThan(250);
  expect(r.jobGetP99Ms).toBeLessThan(250);
}, 60_000);

// The crash harness in CI size: 20 async jobs with webhooks while foreman is SIGKILLed 5 times.
// `npm run test:soak` runs the full size (200 jobs, 25 kills); see test/soak/crash.ts.
import { expect, test } from "bun:test";
import { crashHarness } from "./soak/crash";

test("kill -9 at any moment: every job done once, complete; every webhook delivered in order, signed", async () => {
  const report = await crashHarness({ jobs: 20, kills: 5, seed: 20250 });
  // Failed checks with their details, so a red run says what broke (the dir keeps DB and logs).
  expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail} [${report.dir}]`)).toEqual([]);
  expect(report.states).toEqual({ done: 20 });
  expect(report.rows).toBe(20);
  expect(Object.values(report.killsAt).reduce((a, b) => a + b, 0)).toBe(5);
  expect(report.webhooks.events).toBeGreaterThanOrEqual(20 * 4);
}, 60_000);

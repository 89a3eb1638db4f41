import { describe, expect, test } from "bun:test";
import type { QueuedHead } from "../store/jobs";
import { memoryView, pickNext } from "./policy";

const view = (jobs: QueuedHead[]) => memoryView(jobs);

const job = (id: string, model: string, created: number, priority = 0): QueuedHead =>
  ({ id, model_key: model, priority, created_at: created });
const MIN = 60_000;

describe("pickNext", () => {
  test("empty queue: nothing", () => {
    expect(pickNext({ view: view([]), residentKey: "a", now: 0, maxWaitMs: 10 * MIN })).toBeNull();
  });

  test("drains the resident model before older jobs for other models", () => {
    const q = view([job("01", "b", 0), job("02", "a", 1), job("03", "a", 2)]);
    expect(pickNext({ view: q, residentKey: "a", now: 10, maxWaitMs: 10 * MIN })).toEqual(
      { id: "02", modelKey: "a", reason: "drain" });
  });

  test("with nothing for the resident model, the oldest job (one swap)", () => {
    const q = view([job("01", "b", 0), job("02", "c", 1)]);
    expect(pickNext({ view: q, residentKey: "a", now: 10, maxWaitMs: 10 * MIN })?.id).toBe("01");
  });

  test("priority beats drain", () => {
    const q = view([job("01", "a", 0), job("02", "b", 1, 10)]);
    expect(pickNext({ view: q, residentKey: "a", now: 10, maxWaitMs: 10 * MIN })).toEqual(
      { id: "02", modelKey: "b", reason: "priority" });
  });

  test("drain within the top priority level", () => {
    const q = view([job("01", "b", 0, 5), job("02", "a", 1, 5), job("03", "a", 2, 0)]);
    expect(pickNext({ view: q, residentKey: "a", now: 10, maxWaitMs: 10 * MIN })?.id).toBe("02");
  });

  test("ties by age", () => {
    const q = view([job("02", "b", 5), job("01", "c", 5)]);
    expect(pickNext({ view: q, residentKey: null, now: 10, maxWaitMs: 10 * MIN })?.id).toBe("01");
  });

  test("starvation bound forces the swap exactly when maxWait has passed", () => {
    const q = view([job("01", "b", 0), job("02", "a", 1), job("03", "a", 2)]);
    const at = (now: number) => pickNext({ view: q, residentKey: "a", now, maxWaitMs: 10 * MIN });
    expect(at(10 * MIN)?.id).toBe("02"); // waited exactly maxWait: not yet
    expect(at(10 * MIN + 1)).toEqual({ id: "01", modelKey: "b", reason: "starvation" });
  });

  test("starvation bound overrides priority too", () => {
    const q = view([job("01", "b", 0, -5), job("02", "a", 1, 10)]);
    expect(pickNext({ view: q, residentKey: "a", now: 11 * MIN, maxWaitMs: 10 * MIN })?.id).toBe("01");
  });

  test("an overdue job the usual rule picks anyway is not counted as a starvation override", () => {
    const q = view([job("01", "b", 0), job("02", "c", 1)]);
    expect(pickNext({ view: q, residentKey: "a", now: 11 * MIN, maxWaitMs: 10 * MIN })?.reason).toBe("oldest");
    // ...but an overdue job of the resident model passed over for a higher priority is.
    const r = view([job("01", "a", 0), job("02", "b", 1, 10)]);
    expect(pickNext({ view: r, residentKey: "a", now: 11 * MIN, maxWaitMs: 10 * MIN })).toEqual(
      { id: "01", modelKey: "a", reason: "starvation" });
  });
});

describe("memoryView", () => {
  test("replaying the policy over a snapshot takes jobs in the policy's order, each once", () => {
    const jobs = Array.from({ length: 300 }, (_, i) =>
      job(String(i).padStart(4, "0"), `m${i % 4}`, i, (i % 3) - 1));
    const q = view(jobs);
    let resident: string | null = null;
    const order: QueuedHead[] = [];
    for (;;) {
      const pick = pickNext({ view: q, residentKey: resident, now: 1000, maxWaitMs: 10 * MIN });
      if (!pick) break;
      order.push(jobs.find((j) => j.id === pick.id)!);
      q.remove(pick.id);
      resident = pick.modelKey;
    }
    expect(new Set(order.map((j) => j.id)).size).toBe(300);
    // Priorities never go up along the order, and within a level each model is drained in one run.
    for (let i = 1; i < order.length; i++) expect(order[i].priority).toBeLessThanOrEqual(order[i - 1].priority);
    const runs = order.map((j) => `${j.priority}/${j.model_key}`).filter((k, i, a) => k !== a[i - 1]);
    expect(runs.length).toBe(new Set(runs).size);
  });
});

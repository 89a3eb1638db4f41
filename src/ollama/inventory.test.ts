import { describe, expect, test } from "bun:test";
import type { OllamaClient } from "./client";
import { Inventory } from "./inventory";

/** A target whose /api/ps answer is held until `release()`, to catch a poll mid-flight. */
function slowTarget() {
  let resident: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const polls = { n: 0 };
  const client = {
    async json(path: string) {
      if (path === "/api/tags") return { models: [] };
      if (path === "/api/version") return { version: "0.12.6" };
      polls.n++;
      const seen = [...resident]; // what the target holds when the request arrives
      await gate;
      return { models: seen.map((name) => ({ name, model: name })) };
    },
  } as unknown as OllamaClient;
  return {
    client, polls,
    hold() { gate = new Promise((r) => { open = r; }); },
    release: () => open(),
    load(name: string) { resident = [name]; },
  };
}

describe("Inventory.refresh", () => {
  test("concurrent callers share one poll", async () => {
    const t = slowTarget();
    const inv = new Inventory(t.client, 60_000);
    t.hold();
    const a = inv.refresh();
    const b = inv.refresh();
    t.release();
    await Promise.all([a, b]);
    expect(t.polls.n).toBe(1);
  });

  test("a fresh refresh during a poll that read /api/ps too early polls once more", async () => {
    const t = slowTarget();
    const inv = new Inventory(t.client, 60_000);
    t.hold();
    const early = inv.refresh(); // reads /api/ps now, before the load below
    await Bun.sleep(1);
    t.load("llama3.2:latest");
    const fresh = inv.refresh({ fresh: true });
    const fresh2 = inv.refresh({ fresh: true });
    t.release();
    await early;
    expect(inv.ps).toEqual([]); // the early poll's stale view
    await Promise.all([fresh, fresh2]);
    expect(inv.ps.map((p) => p.model)).toEqual(["llama3.2:latest"]);
    expect(t.polls.n).toBe(2); // both fresh callers shared the one extra poll
  });
});

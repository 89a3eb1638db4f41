// Target faults: a target that hangs before headers, answers 503 busy, or flaps. Jobs retry per
// policy and finish or fail with a clear error; nothing stays in `working` forever.
import { afterEach, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, startForeman, until, type ForemanProc } from "./support/foreman";
import { readJob } from "./support/db";

let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
afterEach(async () => {
  await fm?.stop(9);
  await fake?.stop();
  fm = fake = undefined;
});

const chat = (f: ForemanProc, content: string) =>
  f.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", content, { stream: false }) });

test("a target that hangs before headers: the stall watchdog retries, then fails with a clear error", async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_JOB_TIMEOUT: "300ms", FOREMAN_MAX_ATTEMPTS: "2" } });
  await chat(fm, "warm"); // loaded, so the hang hits the work request
  fake.faults.hangBeforeHeaders = true;
  const res = await chat(fm, "hang");
  expect(res.status).toBe(502);
  expect((await res.json()).error).toBe("no answer from the target for 300ms (FOREMAN_JOB_TIMEOUT)");
  const job = readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!);
  expect(job).toMatchObject({ state: "failed", attempt: 2 });
  fake.faults.hangBeforeHeaders = false;
  expect((await chat(fm, "after")).status).toBe(200); // the worker is free again
});

test("a hang that clears: the retry succeeds", async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_JOB_TIMEOUT: "300ms" } });
  await chat(fm, "warm");
  fake.faults.hangBeforeHeaders = true;
  const pending = chat(fm, "second try");
  await until(() => fm!.logLines().some((l) => l.msg === "connection error; will retry"));
  fake.faults.hangBeforeHeaders = false;
  const res = await pending;
  expect((await res.json()).message.content).toBe("Echo: second try");
});

test("503 busy from the target is retried, not passed on", async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url });
  await chat(fm, "warm");
  fake.faults.busy = true;
  const pending = chat(fm, "busy then fine");
  await until(() => fm!.logLines().some((l) => l.msg === "connection error; will retry" && /busy/.test(l.err)));
  fake.faults.busy = false;
  const res = await pending;
  expect(res.status).toBe(200);
  expect((await res.json()).message.content).toBe("Echo: busy then fine");
});

test("a flapping target: down, up, down, up — every job completes, none twice", async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url });
  const pending = Array.from({ length: 12 }, (_, i) => chat(fm!, `flap ${i}`));
  for (let i = 0; i < 4; i++) {
    await Bun.sleep(150);
    await fake.refuse(true);
    await Bun.sleep(400);
    await fake.refuse(false);
  }
  const results = await Promise.all(pending);
  for (const [i, r] of results.entries()) expect((await r.json()).message.content).toBe(`Echo: flap ${i}`);
  const served = fake.requests.filter((r) => r.path === "/api/chat" && String(r.body?.messages?.[0]?.content).startsWith("flap"));
  const counts = new Map<string, number>();
  for (const r of served) counts.set(r.body.messages[0].content, (counts.get(r.body.messages[0].content) ?? 0) + 1);
  // A request cut by the outage may have been resent, but each caller got exactly one answer.
  expect(counts.size).toBe(12);
}, 30_000);

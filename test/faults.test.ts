// Target faults: a target that hangs before headers, stalls or drops mid-stream, answers 503 busy,
// or flaps. Jobs retry per policy and finish or fail with a clear error; nothing stays in `working` forever.
import { expect, test } from "bun:test";
import { stopAfterEach } from "./support/cleanup";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, readNdjson, startForeman, until, type ForemanProc } from "./support/foreman";
import { readJob } from "./support/db";

let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
stopAfterEach(() => [fm, fake]);

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

const sent = (f: FakeOllama, content: string) =>
  f.requests.filter((r) => r.path === "/api/chat" && r.body?.messages?.[0]?.content === content).length;

test("a reset mid-stream, streaming caller: the chunks so far, then an error line; no retry", async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url });
  await chat(fm, "warm");
  fake.faults.dropAfterChunks = 3;
  const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "cut [[tokens=10]]", { stream: true }) });
  expect(res.status).toBe(200);
  const { lines } = await readNdjson(res);
  expect(lines.slice(0, -1).map((l) => l.message.content).join("")).toBe(" tok1 tok2 tok3");
  expect(lines.at(-1)).toEqual({ error: expect.stringMatching(/^connection lost mid-stream: ECONNRESET: The socket connection was closed unexpectedly\.$/) });
  // A retry would repeat what the caller already has.
  expect(readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!)).toMatchObject({ state: "failed", attempt: 1 });
  expect(sent(fake, "cut [[tokens=10]]")).toBe(1);
});

test("a reset mid-stream, non-streaming caller: retried, and the caller gets the whole answer", async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url });
  await chat(fm, "warm");
  fake.faults.dropAfterChunks = 3;
  const pending = chat(fm, "cut [[tokens=10]]");
  await until(() => fm!.logLines().some((l) => l.msg === "connection error; will retry" && /connection lost/.test(l.err)));
  fake.faults.dropAfterChunks = null;
  const res = await pending;
  expect(res.status).toBe(200);
  expect((await res.json()).message.content).toBe(" tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10");
  expect(readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!)).toMatchObject({ state: "done", attempt: 2 });
  expect(sent(fake, "cut [[tokens=10]]")).toBe(2);
}, 15_000);

test("a stall mid-stream: the watchdog retries, then fails with a clear error, and the worker is free", async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_JOB_TIMEOUT: "300ms", FOREMAN_MAX_ATTEMPTS: "2" } });
  await chat(fm, "warm");
  fake.faults.stallAfterChunks = 2;
  const res = await chat(fm, "stall [[tokens=10]]");
  expect(res.status).toBe(502);
  expect((await res.json()).error).toBe("no answer from the target for 300ms (FOREMAN_JOB_TIMEOUT)");
  expect(readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!)).toMatchObject({ state: "failed", attempt: 2 });
  expect(sent(fake, "stall [[tokens=10]]")).toBe(2);
  fake.faults.stallAfterChunks = null;
  expect((await chat(fm, "after")).status).toBe(200);
}, 15_000);

test("a flapping target: down, up, down, up — every caller gets exactly one answer", async () => {
  fake = await startFakeOllama({ tokenMs: 20 }); // slow enough that jobs are still queued at the first outage
  fm = await startForeman({ ollamaUrl: fake.url });
  const pending = Array.from({ length: 12 }, (_, i) => chat(fm!, `flap ${i}`));
  const degraded = async () => (await (await fm!.fetch("/healthz")).json()).degraded === true;
  for (let i = 0; i < 4; i++) {
    await Bun.sleep(150);
    await fake.refuse(true);
    const outage = Bun.sleep(400);
    if (i === 0) {
      // The worker hits the refusal and says so; /healthz stays 200 (foreman itself is fine).
      await until(degraded, 5000);
      const health = await fm.fetch("/healthz");
      expect([health.status, await health.json()]).toEqual([200, { status: "ok", degraded: true }]);
    }
    await outage;
    await fake.refuse(false);
  }
  const results = await Promise.all(pending);
  for (const [i, r] of results.entries()) {
    expect(r.status).toBe(200);
    expect((await r.json()).message.content).toBe(`Echo: flap ${i}`);
    expect(readJob(fm.dbPath, r.headers.get("x-foreman-job-id")!).state).toBe("done");
  }
  // A request cut by an outage may have been resent, but every prompt reached the target.
  const served = new Set(fake.requests.filter((r) => r.path === "/api/chat").map((r) => r.body?.messages?.[0]?.content));
  for (let i = 0; i < 12; i++) expect(served.has(`flap ${i}`)).toBe(true);
}, 30_000);

// The single worker: serial execution, drain-by-model, retries, cancellation, restart recovery.
import { describe, expect, test } from "bun:test";
import { stopAfterEach } from "./support/cleanup";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, readNdjson, startForeman, until, type ForemanProc } from "./support/foreman";
import { readJob, readJobs } from "./support/db";

let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
stopAfterEach(() => [fm, fake]);

const chat = (f: ForemanProc, model: string, content: string, extra: Record<string, unknown> = {}, init: RequestInit = {}) =>
  f.fetch("/api/chat", { method: "POST", body: chatBody(model, content, { stream: false, ...extra }), ...init });

const chatLoads = (f: FakeOllama) => f.loads.filter((l) => !l.model.startsWith("all-minilm"));

describe("one job at a time", () => {
  test("20 concurrent callers: the target never sees two generations at once, all succeed", async () => {
    fake = await startFakeOllama({ tokenMs: 5 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      chat(fm!, "llama3.2", `caller ${i}`).then(async (r) => ({ status: r.status, body: await r.json() }))));
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.message.content).toBe(`Echo: caller ${i}`);
    });
    expect(fake.maxConcurrentGenerations).toBe(1);
  });
});

describe("drain-by-model", () => {
  test("a backlog A B C A B C is served A A B B C C with one load per model", async () => {
    fake = await startFakeOllama({ tokenMs: 10, loadMs: 200 });
    fm = await startForeman({ ollamaUrl: fake.url });
    // A long job on A holds the worker while the backlog forms behind it.
    const blocker = chat(fm, "llama3.2", "[[tokens=30]]");
    await until(() => fake!.activeGenerations > 0);
    const order = ["qwen2.5:7b", "mistral", "llama3.2", "qwen2.5:7b", "mistral", "llama3.2"];
    const backlog: Promise<Response>[] = [];
    for (const [i, m] of order.entries()) {
      backlog.push(chat(fm, m, `backlog ${i}`));
      await Bun.sleep(15); // distinct arrival order
    }
    expect((await blocker).status).toBe(200);
    for (const r of await Promise.all(backlog)) expect(r.status).toBe(200);
    const served = fake.requests
      .filter((r) => r.path === "/api/chat" && r.body?.messages?.[0]?.content?.startsWith("backlog"))
      .map((r) => r.body.messages[0].content);
    expect(served).toEqual(["backlog 2", "backlog 5", "backlog 0", "backlog 3", "backlog 1", "backlog 4"]);
    expect(chatLoads(fake).map((l) => l.model)).toEqual(["llama3.2:latest", "qwen2.5:7b", "mistral:latest"]);
    // The job JSON records the load separately from the work.
    const loaded = readJobs(fm.dbPath).filter((j) => j.load_ms !== null);
    expect(loaded.length).toBe(3);
    expect(loaded.every((j) => j.load_ms >= 150)).toBe(true);
  });
});

describe("failures", () => {
  test("target down: jobs are held, /healthz is degraded, and everything completes when it returns", async () => {
    fake = await startFakeOllama();
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_MAX_ATTEMPTS: "2" } });
    await fake.refuse(true);
    const pending = Array.from({ length: 3 }, (_, i) => chat(fm!, "llama3.2", `held ${i}`));
    await until(async () => (await (await fm!.fetch("/healthz")).json()).degraded === true);
    await Bun.sleep(2500); // longer than two backoffs: attempts must not be burnt while down
    expect(readJobs(fm.dbPath).every((j) => j.state === "queued")).toBe(true);
    await fake.refuse(false);
    const done = await Promise.all(pending);
    for (const [i, r] of done.entries()) expect((await r.json()).message.content).toBe(`Echo: held ${i}`);
    expect((await (await fm.fetch("/healthz")).json()).degraded).toBe(false);
  });

  test("a dropped stream is retried with backoff and the caller gets one clean answer", async () => {
    fake = await startFakeOllama({ tokenMs: 5 });
    fm = await startForeman({ ollamaUrl: fake.url });
    fake.faults.dropAfterChunks = 2;
    const res = chat(fm, "llama3.2", "flaky [[tokens=6]]");
    const jobWithError = await until(() => readJobs(fm!.dbPath).find((j) => j.error && j.state === "queued"));
    expect(jobWithError.attempt).toBe(1);
    expect(jobWithError.not_before).toBeGreaterThan(Date.now() - 100);
    fake.faults.dropAfterChunks = null;
    const r = await res;
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.message.content).toBe(" tok1 tok2 tok3 tok4 tok5 tok6");
    const job = readJob(fm.dbPath, r.headers.get("x-foreman-job-id")!);
    expect(job.state).toBe("done");
    expect(job.attempt).toBe(2);
  });

  test("out of attempts: failed with the last connection error", async () => {
    fake = await startFakeOllama({ tokenMs: 5 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_MAX_ATTEMPTS: "2" } });
    fake.faults.dropAfterChunks = 1;
    const r = await chat(fm, "llama3.2", "[[tokens=5]]");
    expect(r.status).toBe(502);
    expect((await r.json()).error).toMatch(/connection lost|closed the stream/);
    expect(readJob(fm.dbPath, r.headers.get("x-foreman-job-id")!).attempt).toBe(2);
  });
});

describe("cancellation", () => {
  test("a caller that disconnects while queued: the job is cancelled and never runs", async () => {
    fake = await startFakeOllama({ tokenMs: 20 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const blocker = chat(fm, "llama3.2", "[[tokens=25]]");
    await until(() => fake!.activeGenerations > 0);
    const ctl = new AbortController();
    const gone = chat(fm, "llama3.2", "never run me", {}, { signal: ctl.signal }).catch(() => null);
    await until(() => readJobs(fm!.dbPath).length === 2);
    ctl.abort();
    await gone;
    const victim = await until(() => readJobs(fm!.dbPath).find((j) => j.state === "cancelled"));
    expect(JSON.parse(victim.request).messages[0].content).toBe("never run me");
    await blocker;
    await Bun.sleep(100);
    expect(fake.requests.some((r) => r.body?.messages?.[0]?.content === "never run me")).toBe(false);
  });

  test("a streaming caller that disconnects mid-generation aborts the upstream request", async () => {
    fake = await startFakeOllama({ tokenMs: 50 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const ctl = new AbortController();
    const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "[[tokens=100]]"), signal: ctl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ctl.abort();
    const id = res.headers.get("x-foreman-job-id")!;
    await until(() => readJob(fm!.dbPath, id).state === "cancelled");
    await until(() => fake!.activeGenerations === 0, 2000);
    // The worker is free again.
    expect((await chat(fm, "llama3.2", "next")).status).toBe(200);
  });
});

describe("restart and shutdown", () => {
  test("after kill -9, unfinished sync jobs are cancelled on restart and never run", async () => {
    fake = await startFakeOllama({ tokenMs: 50 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const dbPath = fm.dbPath;
    const calls = [chat(fm, "llama3.2", "[[tokens=100]]"), chat(fm, "llama3.2", "queued 1"), chat(fm, "qwen2.5:7b", "queued 2")]
      .map((p) => p.catch(() => null));
    await until(() => fake!.activeGenerations > 0 && readJobs(dbPath).length === 3);
    await fm.kill9();
    await Promise.all(calls);
    const before = readJobs(dbPath);
    expect(before.map((j) => j.state).sort()).toEqual(["queued", "queued", "working"]);
    const seen = fake.requests.length;
    fm = await startForeman({ ollamaUrl: fake.url, dbPath });
    const after = readJobs(dbPath);
    for (const j of after) {
      expect(j.state).toBe("cancelled");
      expect(j.error).toBe("foreman restarted before this request finished");
    }
    await Bun.sleep(300);
    expect(fake.requests.slice(seen).some((r) => r.path === "/api/chat")).toBe(false);
    // The queue works after recovery.
    expect((await chat(fm, "llama3.2", "after restart")).status).toBe(200);
  });

  test("SIGTERM lets the running job finish, then exits 0", async () => {
    fake = await startFakeOllama({ tokenMs: 20 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const running = chat(fm, "llama3.2", "[[tokens=20]]");
    await until(() => fake!.activeGenerations > 0);
    const exit = fm.stop("SIGTERM");
    const r = await running;
    expect(r.status).toBe(200);
    expect((await r.json()).message.content.trim().split(" ").length).toBe(20);
    expect(await exit).toBe(0);
    expect(fm.logs()).toContain("foreman stopped");
    fm = undefined;
  });

  test("SIGTERM past the grace period aborts the job and still exits 0", async () => {
    fake = await startFakeOllama({ tokenMs: 100 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_SHUTDOWN_GRACE: "300ms" } });
    const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "[[tokens=100]]") });
    const id = res.headers.get("x-foreman-job-id")!;
    const body = readNdjson(res).catch(() => null);
    const exit = await fm.stop("SIGTERM");
    expect(exit).toBe(0);
    await body;
    const job = readJob(fm.dbPath, id);
    expect(job.state).toBe("cancelled");
    expect(job.error).toContain("shut down");
    fm = undefined;
  });
});

describe("streaming while queued", () => {
  test("a streaming caller queued behind another job gets its own chunks after the first job", async () => {
    fake = await startFakeOllama({ tokenMs: 10 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const first = fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "one [[tokens=10]]") });
    const second = fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "second") });
    const [a, b] = await Promise.all([first.then(readNdjson), second.then(readNdjson)]);
    expect(a.lines.length).toBe(11);
    expect(b.lines.map((l) => l.message.content).join("")).toBe("Echo: second");
  });
});

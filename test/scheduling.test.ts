// Scheduling beyond drain-by-model: priorities, the starvation bound, backpressure, heartbeats,
// residency and the /queue view — observed through the fake Ollama.
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { stopAfterEach } from "./support/cleanup";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, readNdjson, startForeman, until, type ForemanProc } from "./support/foreman";
import { readJobs } from "./support/db";

let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
stopAfterEach(() => [fm, fake]);

const chat = (f: ForemanProc, model: string, content: string, headers: Record<string, string> = {}) =>
  f.fetch("/api/chat", { method: "POST", body: chatBody(model, content, { stream: false }), headers });
const servedOrder = (f: FakeOllama, prefix: string) => f.requests
  .filter((r) => r.path === "/api/chat" && String(r.body?.messages?.[0]?.content ?? "").startsWith(prefix))
  .map((r) => r.body.messages[0].content);

describe("priority", () => {
  test("a priority-10 chat overtakes a backlog", async () => {
    fake = await startFakeOllama({ tokenMs: 5 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const blocker = chat(fm, "llama3.2", "blocker [[tokens=30]]");
    await until(() => fake!.activeGenerations > 0);
    const backlog = Array.from({ length: 5 }, (_, i) => chat(fm!, "llama3.2", `p0 ${i}`));
    await until(() => readJobs(fm!.dbPath).length === 6);
    const urgent = chat(fm, "llama3.2", "p0 urgent", { "x-foreman-priority": "10" });
    await Promise.all([blocker, ...backlog, urgent]);
    expect(servedOrder(fake, "p0")[0]).toBe("p0 urgent");
  });

  test("/jobs priority field orders async jobs too", async () => {
    fake = await startFakeOllama({ tokenMs: 5 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const blocker = chat(fm, "llama3.2", "blocker [[tokens=30]]");
    await until(() => fake!.activeGenerations > 0);
    for (const p of [-5, 0, 7]) {
      await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", `prio ${p}`)), priority: p }) });
    }
    await blocker;
    await until(() => servedOrder(fake!, "prio").length === 3);
    expect(servedOrder(fake, "prio")).toEqual(["prio 7", "prio 0", "prio -5"]);
  });
});

describe("starvation bound", () => {
  test("a lone job for another model is served within FOREMAN_MAX_WAIT despite a flood for the resident one", async () => {
    fake = await startFakeOllama({ tokenMs: 20 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_MAX_WAIT: "1s" } });
    const flood: Promise<Response>[] = [];
    flood.push(chat(fm, "llama3.2", "flood 0 [[tokens=10]]"));
    await until(() => fake!.activeGenerations > 0);
    const lone = chat(fm, "qwen2.5:7b", "lone");
    for (let i = 1; i < 15; i++) flood.push(chat(fm, "llama3.2", `flood ${i} [[tokens=10]]`));
    const t0 = Date.now();
    const r = await lone;
    const waited = Date.now() - t0;
    expect(r.status).toBe(200);
    // 15 flood jobs take ~3 s; the lone job must not wait for all of them.
    expect(waited).toBeLessThan(2500);
    const log = await until(() => fm!.logLines().find((l) => l.msg === "job claimed" && l.model === "qwen2.5:7b"));
    expect(log?.reason).toBe("starvation");
    await Promise.all(flood);
  });
});

describe("backpressure", () => {
  test("over FOREMAN_MAX_QUEUE: Ollama's 503 with Retry-After; nothing already queued is lost", async () => {
    fake = await startFakeOllama({ tokenMs: 20 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_MAX_QUEUE: "3" } });
    const blocker = chat(fm, "llama3.2", "blocker [[tokens=20]]");
    await until(() => fake!.activeGenerations > 0);
    const queued = [1, 2].map((i) => chat(fm!, "llama3.2", `q${i}`));
    const keyed = { method: "POST", headers: { "idempotency-key": "k-1" }, body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", "keyed")) }) };
    const first = await fm.fetch("/jobs", keyed);
    expect(first.status).toBe(202);
    await until(() => readJobs(fm!.dbPath).filter((j) => j.state === "queued").length === 3);
    const over = await chat(fm, "llama3.2", "one too many");
    expect(over.status).toBe(503);
    expect(await over.json()).toEqual({ error: "server busy, please try again.  maximum pending requests exceeded" });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const job = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", "async")) }) });
    expect(job.status).toBe(503);
    expect((await job.json()).error).toContain("queue full");
    expect(Number(job.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Re-submitting a job that is already queued is not refused: same key, the same job.
    const again = await fm.fetch("/jobs", keyed);
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe((await first.json()).id);
    const v1 = await fm.fetch("/v1/chat/completions", { method: "POST", body: chatBody("llama3.2", "openai") });
    expect(v1.status).toBe(503);
    expect(await v1.json()).toEqual({ error: { message: "server busy, please try again.  maximum pending requests exceeded", type: "api_error", param: null, code: null } });
    expect(v1.headers.get("retry-after")).toBeTruthy();
    for (const r of await Promise.all([blocker, ...queued])) expect(r.status).toBe(200);
  });
  test("Retry-After is the forecast wait for a place: the running job's remainder plus the swap the head needs", async () => {
    fake = await startFakeOllama({ tokenMs: 20, loadMs: 1200 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_MAX_QUEUE: "2" } });
    await chat(fm, "llama3.2", "learn llama3.2's load time");
    await chat(fm, "mistral", "learn mistral's load time");
    const blocker = chat(fm, "mistral", "blocker [[tokens=40]]");
    await until(() => fake!.activeGenerations > 0);
    const queued = [1, 2].map((i) => chat(fm!, "llama3.2", `q${i}`)); // the head needs a swap back
    await until(() => readJobs(fm!.dbPath).filter((j) => j.state === "queued").length === 2);
    const over = await chat(fm, "llama3.2", "one too many");
    expect(over.status).toBe(503);
    // A place frees when q1 starts: after the blocker (learned run ~0 s) and llama3.2's load (~1.2 s).
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    expect(retryAfter).toBeLessThanOrEqual(4);
    for (const r of await Promise.all([blocker, ...queued])) expect(r.status).toBe(200);
  });
});

describe("heartbeats", () => {
  /** Foreman with 200 ms heartbeats, against a fake generating a token per 100 ms. */
  async function start() {
    fake = await startFakeOllama({ tokenMs: 100 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_STREAM_HEARTBEAT: "200ms" } });
  }
  /** Keeps the worker busy for `tokens` × 100 ms; resolves once the target is generating. */
  async function occupyWorker(tokens: number): Promise<{ done: Promise<Response> }> {
    const done = chat(fm!, "llama3.2", `[[tokens=${tokens}]]`);
    await until(() => fake!.activeGenerations > 0);
    return { done }; // wrapped: an async function returning the promise itself would wait for it
  }
  /** The JSON of each `data:` event of an SSE body, up to [DONE]. */
  const sseData = (text: string) => text.split("\n\n").filter((e) => e && e !== "data: [DONE]").map((e) => {
    expect(e).toStartWith("data: "); // data events only, no comments
    return JSON.parse(e.slice(6));
  });

  test("a streaming caller waiting in the queue gets empty chunks, and the text is unchanged", async () => {
    await start();
    const blocker = await occupyWorker(12);
    const t0 = performance.now();
    const res = await fm!.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "after the wait") });
    expect(performance.now() - t0).toBeLessThan(800); // headers long before the ~1.2 s wait is over
    const { lines } = await readNdjson(res);
    const beats = lines.filter((l) => l.message.content === "" && !l.done);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    for (const b of beats) expect(b).toMatchObject({ model: "llama3.2", message: { role: "assistant", content: "" }, done: false });
    expect(lines.map((l) => l.message.content).join("")).toBe("Echo: after the wait");
    expect(lines[lines.length - 1].done).toBe(true);
    await blocker.done;
  });

  test("a failure after heartbeats is a final error line (native) or error event (/v1)", async () => {
    await start();
    const blocker = await occupyWorker(8);
    const native = fm!.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "doomed") });
    const v1 = fm!.fetch("/v1/chat/completions", { method: "POST", body: chatBody("llama3.2", "doomed too", { stream: true }) });
    fake!.faults.failNext = { status: 500, error: "model runner crashed", count: 2 };
    const res = await native;
    expect(res.status).toBe(200); // headers went out with the first heartbeat
    const { lines } = await readNdjson(res);
    expect(lines.slice(0, -1).every((l) => l.message?.content === "" && l.done === false)).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines[lines.length - 1]).toEqual({ error: "model runner crashed" });
    const events = sseData(await (await v1).text());
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events[events.length - 1]).toMatchObject({ error: { message: "model runner crashed" } });
    await blocker.done;
  });

  test("/v1 streaming callers get empty OpenAI chunks; the SDK's text is unchanged", async () => {
    await start();
    let blocker = await occupyWorker(12);
    const res = await fm!.fetch("/v1/chat/completions", { method: "POST", body: chatBody("llama3.2", "raw", { stream: true }) });
    const chunks = sseData(await res.text());
    const beats = chunks.filter((c) => c.choices[0]?.delta?.content === "" && c.choices[0].finish_reason === null);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1); // one completion id throughout
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Echo: raw");
    await blocker.done;

    blocker = await occupyWorker(12);
    const client = new OpenAI({ baseURL: `${fm!.url}/v1`, apiKey: "unused" });
    let text = "";
    for await (const c of await client.chat.completions.create({ model: "llama3.2", stream: true,
      messages: [{ role: "user", content: "sdk" }] })) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: sdk");
    await blocker.done;

    blocker = await occupyWorker(12);
    const legacy = await fm!.fetch("/v1/completions", { method: "POST",
      body: JSON.stringify({ model: "llama3.2", prompt: "legacy", stream: true }) });
    const parts = sseData(await legacy.text());
    expect(parts.filter((c) => c.choices[0].text === "" && c.choices[0].finish_reason === null).length).toBeGreaterThanOrEqual(3);
    expect(parts.map((c) => c.choices[0].text).join("")).toBe("Echo: legacy");
    await blocker.done;
  });
});

describe("residency", () => {
  test("on a swap the previous model is unloaded first; the job records load time apart", async () => {
    fake = await startFakeOllama({ loadMs: 150, maxLoadedChat: 2 });
    fm = await startForeman({ ollamaUrl: fake.url });
    await chat(fm, "llama3.2", "a");
    await chat(fm, "mistral", "b");
    expect(fake.unloads.map((u) => u.model)).toContain("llama3.2:latest");
    expect(fake.resident()).toEqual(["mistral:latest"]);
    const unloadReq = fake.requests.find((r) => r.body?.keep_alive === 0);
    expect(unloadReq?.body.model).toBe("llama3.2:latest");
  });

  test("load time is learned from foreman's explicit load and from Ollama's load_duration when Ollama loaded behind its back", async () => {
    fake = await startFakeOllama({ loadMs: 400 });
    fm = await startForeman({ ollamaUrl: fake.url });
    await chat(fm, "llama3.2", "a");
    // Evicted behind foreman's back: the worker still thinks the model resident and runs the next job
    // without an explicit load, so only Ollama's load_duration can tell what the job paid.
    await fetch(`${fake.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama3.2", keep_alive: 0 }) });
    await until(() => fake!.resident().length === 0);
    await chat(fm, "llama3.2", "b");
    expect(fake.loads.length).toBe(2);

    const jobs = (await (await fm.fetch("/jobs?state=done")).json()).jobs;
    const [b, a] = jobs;
    expect(a.load_ms).toBeGreaterThanOrEqual(390); // foreman timed its own load
    expect(a.ollama_load_ms).toBeLessThan(100); // the model was warm for the work itself
    expect(b.load_ms).toBeNull();
    expect(b.ollama_load_ms).toBeGreaterThanOrEqual(390); // Ollama's load_duration
    const learned = (await (await fm.fetch("/queue")).json()).models["llama3.2:latest"];
    expect(learned.load_samples).toBe(2);
    expect(learned.load_ms).toBeGreaterThanOrEqual(390);
    expect(learned.run_ms).toBeLessThan(300); // the surprise load is not counted as run time
    expect(fm.logLines().some((l) => l.msg === "Ollama loaded the model during the request" && l.job_id === b.id)).toBe(true);
  });

  test("FOREMAN_UNLOAD_ON_SWAP=false leaves eviction to Ollama", async () => {
    fake = await startFakeOllama({ loadMs: 50, maxLoadedChat: 2 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_UNLOAD_ON_SWAP: "false" } });
    await chat(fm, "llama3.2", "a");
    await chat(fm, "mistral", "b");
    expect(fake.resident().sort()).toEqual(["llama3.2:latest", "mistral:latest"]);
  });

  test("different runner options drain as a different model (one reload, not thrash)", async () => {
    fake = await startFakeOllama({ tokenMs: 5, loadMs: 50 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const blocker = chat(fm, "llama3.2", "blocker [[tokens=20]]");
    await until(() => fake!.activeGenerations > 0);
    const big = (i: number) => fm!.fetch("/api/chat", { method: "POST",
      body: chatBody("llama3.2", `ctx ${i}`, { stream: false, options: { num_ctx: 8192 } }) });
    const rs = [big(1), chat(fm, "llama3.2", "plain 1"), big(2), chat(fm, "llama3.2", "plain 2")];
    await Promise.all([blocker, ...rs]);
    expect(fake.loads.length).toBe(2); // the first load, then one reload for num_ctx=8192
  });

  test("the embedder is loaded with keep_alive -1 and re-warmed when it disappears", async () => {
    fake = await startFakeOllama();
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_EMBED_MODEL: "all-minilm", FOREMAN_POLL_INTERVAL: "200ms" } });
    await until(() => fake!.resident().includes("all-minilm:latest"));
    const warm = fake.requests.find((r) => r.path === "/api/embed");
    expect(warm?.body.keep_alive).toBe(-1);
    await fetch(`${fake.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "all-minilm", keep_alive: 0 }) });
    const before = fake.loads.length;
    await until(() => fake!.loads.length > before && fake!.resident().includes("all-minilm:latest"), 5000);
  });
});

describe("visibility", () => {
  test("/queue, job position and ETA, X-Foreman-Queue-Wait", async () => {
    fake = await startFakeOllama({ tokenMs: 20, loadMs: 100 });
    fm = await startForeman({ ollamaUrl: fake.url });
    const first = await chat(fm, "llama3.2", "warm up");
    expect(Number(first.headers.get("x-foreman-queue-wait"))).toBeGreaterThanOrEqual(0);
    const blocker = chat(fm, "llama3.2", "[[tokens=30]]");
    await until(() => fake!.activeGenerations > 0);
    const submit = (m: string, c: string) => fm!.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody(m, c)) }) }).then((r) => r.json());
    const a = await submit("mistral", "a");
    expect(a.position).toBe(1); // the 202 reply is the job as GET /jobs/{id} shows it
    expect(a.eta).toBeGreaterThanOrEqual(0);
    const b = await submit("llama3.2", "b");
    const q = await (await fm.fetch("/queue")).json();
    expect(q.running.model).toBe("llama3.2");
    expect(q.queued.total).toBe(2);
    expect(q.queued.by_model).toEqual({ "mistral:latest": { "0": 1 }, "llama3.2:latest": { "0": 1 } });
    expect(q.next.map((n: any) => n.id)).toEqual([b.id, a.id]); // drain first
    expect(q.models["llama3.2:latest"].load_ms).toBeGreaterThanOrEqual(90);
    const aNow = await (await fm.fetch(`/jobs/${a.id}`)).json();
    expect(aNow.position).toBe(2);
    expect(aNow.eta).toBeGreaterThanOrEqual(0);
    const listed = (await (await fm.fetch("/jobs?state=queued")).json()).jobs;
    expect(listed.map((j: any) => [j.id, j.position])).toEqual([[b.id, 1], [a.id, 2]]);
    await blocker;
  });

  test("every queued job has a position and ETA, deep in the queue too", async () => {
    fake = await startFakeOllama({ tokenMs: 20 });
    fm = await startForeman({ ollamaUrl: fake.url });
    // Holds the worker for 10 s (the process is stopped after the test): the queue stays put.
    chat(fm, "llama3.2", "blocker [[tokens=500]]").catch(() => {});
    await until(() => fake!.activeGenerations > 0);
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", `j${i}`)) }) });
      ids.push((await res.json()).id);
    }
    const last = await (await fm.fetch(`/jobs/${ids[299]}`)).json();
    expect(last.position).toBe(300);
    expect(last.eta).toBeGreaterThanOrEqual(0);
    const page = (await (await fm.fetch("/jobs?state=queued&limit=500")).json()).jobs;
    expect(page.map((j: any) => j.position)).toEqual(Array.from({ length: 300 }, (_, i) => 300 - i));
  });
});

// Self-test of the fake Ollama (test/support/fake-ollama.ts), driven with plain fetch.
import { afterEach, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama, type FakeOptions } from "./support/fake-ollama";

const fakes: FakeOllama[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

async function start(opts: FakeOptions = {}): Promise<FakeOllama> {
  const f = await startFakeOllama(opts);
  fakes.push(f);
  return f;
}
const post = (f: FakeOllama, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(f.url + path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), ...init });
const chat = (content: string, extra: Record<string, unknown> = {}) =>
  ({ model: "llama3.2", messages: [{ role: "user", content }], ...extra });
async function ndjson(res: Response): Promise<{ text: string; lines: any[] }> {
  const text = await res.text();
  return { text, lines: text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) };
}
async function until(cond: () => boolean, ms = 1000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}
const METRICS = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"];

test("meta routes: /, version, tags, ps, show, 404 and 405", async () => {
  const f = await start();
  const root = await fetch(f.url + "/");
  expect(await root.text()).toBe("Ollama is running");
  expect(root.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect((await fetch(f.url + "/", { method: "HEAD" })).status).toBe(200);
  expect(await (await fetch(f.url + "/api/version")).json()).toEqual({ version: "0.12.6" });

  const tags = await (await fetch(f.url + "/api/tags")).json();
  expect(tags.models.map((m: any) => m.name)).toEqual(["llama3.2:latest", "qwen2.5:7b", "mistral:latest", "gemma3:4b", "deepseek-r1:8b", "all-minilm:latest"]);
  for (const m of tags.models) {
    expect(m.model).toBe(m.name);
    expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(m.modified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(Object.keys(m.details)).toEqual(["parent_model", "format", "family", "families", "parameter_size", "quantization_level"]);
  }
  const ps = await fetch(f.url + "/api/ps");
  expect(ps.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expect(await ps.text()).toBe('{"models":[]}');

  const show = await (await post(f, "/api/show", { name: "mistral" })).json();
  expect(show.model_info["general.architecture"]).toBe("llama");
  expect(show.model_info["llama.context_length"]).toBe(32768);
  expect(show.model_info["llama.embedding_length"]).toBe(4096);
  expect(show.capabilities).toEqual(["completion", "tools"]);
  const missing = await post(f, "/api/show", { model: "nope" });
  expect([missing.status, (await missing.json()).error]).toEqual([404, "model 'nope:latest' not found"]);

  const nf = await fetch(f.url + "/api/nothing");
  expect([nf.status, await nf.text()]).toEqual([404, "404 page not found"]);
  const wm = await fetch(f.url + "/api/chat");
  expect([wm.status, await wm.text()]).toEqual([405, "405 method not allowed"]);
});

test("streaming chat: chunks arrive one by one and the done chunk carries all metrics", async () => {
  const f = await start({ tokenMs: 25 });
  const res = await post(f, "/api/chat", chat("one <two> three"));
  expect(res.headers.get("content-type")).toBe("application/x-ndjson");
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const arrivals: number[] = [];
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push(performance.now());
    text += dec.decode(value);
  }
  expect(text.endsWith("\n")).toBe(true);
  expect(text).toContain("\\u003ctwo\\u003e");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => l.message.content)).toEqual(["Echo:", " one", " <two>", " three", ""]);
  expect(arrivals.length).toBeGreaterThanOrEqual(4);
  expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(60);
  for (const l of lines) {
    expect(l.model).toBe("llama3.2");
    expect(l.created_at).toMatch(/Z$/);
    expect(l.message.role).toBe("assistant");
  }
  const last = lines[lines.length - 1];
  expect(last).toMatchObject({ done: true, done_reason: "stop", eval_count: 4 });
  for (const k of METRICS) expect(last[k]).toBeGreaterThan(0);
  expect(f.activeGenerations).toBe(0);
  expect(f.maxConcurrentGenerations).toBe(1);
});

test("stream:false, generate context, thinking, tool calls, [[tokens=N]] and num_predict", async () => {
  const f = await start();
  const res = await post(f, "/api/generate", { model: "llama3.2", prompt: "hello world", stream: false });
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  const text = await res.text();
  expect(text.endsWith("}")).toBe(true);
  const gen = JSON.parse(text);
  expect(gen).toMatchObject({ model: "llama3.2", response: "Echo: hello world", done: true, done_reason: "stop" });
  expect(Array.isArray(gen.context)).toBe(true);
  for (const k of METRICS) expect(gen[k]).toBeGreaterThan(0);

  const think = await (await post(f, "/api/chat", { ...chat("q"), model: "deepseek-r1:8b", stream: false })).json();
  expect(think.message).toEqual({ role: "assistant", content: "Echo: q", thinking: "Let me think" });
  const { lines } = await ndjson(await post(f, "/api/chat", { ...chat("q"), model: "deepseek-r1:8b" }));
  expect(lines.slice(0, 3).map((l) => [l.message.thinking, l.message.content])).toEqual([["Let", ""], [" me", ""], [" think", ""]]);

  const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
  const call = await ndjson(await post(f, "/api/chat", chat("weather? [[tool]]", { tools })));
  expect(call.lines.length).toBe(2);
  expect(call.lines[0].message.tool_calls).toEqual([{ id: "call_1", function: { index: 0, name: "get_weather", arguments: {} } }]);
  expect(call.lines[1]).toMatchObject({ done: true, done_reason: "stop", message: { role: "assistant", content: "" } });

  const n = await (await post(f, "/api/chat", chat("x [[tokens=5]]", { stream: false }))).json();
  expect([n.message.content, n.eval_count]).toEqual([" tok1 tok2 tok3 tok4 tok5", 5]);
  const capped = await (await post(f, "/api/chat", chat("x [[tokens=5]]", { stream: false, options: { num_predict: 2 } }))).json();
  expect([capped.message.content, capped.done_reason]).toEqual([" tok1 tok2", "length"]);
});

test("load-only, keep_alive forever in /api/ps, and unload", async () => {
  const f = await start();
  const load = await post(f, "/api/generate", { model: "llama3.2", keep_alive: -1 });
  expect(load.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expect(await load.json()).toEqual({ model: "llama3.2", created_at: expect.stringMatching(/Z$/), response: "", done: true, done_reason: "load" });
  const ps = await (await fetch(f.url + "/api/ps")).json();
  expect(ps.models[0]).toMatchObject({ name: "llama3.2:latest", model: "llama3.2:latest", context_length: 4096 });
  expect(ps.models[0].size_vram).toBe(ps.models[0].size);
  expect(Number(ps.models[0].expires_at.slice(0, 4))).toBeGreaterThan(2300);

  const chatLoad = await (await post(f, "/api/chat", { model: "llama3.2", messages: [] })).json();
  expect(chatLoad).toMatchObject({ message: { role: "assistant", content: "" }, done_reason: "load" });
  expect(chatLoad.total_duration).toBeUndefined();
  expect(f.loads.length).toBe(1);

  const unload = await (await post(f, "/api/chat", { model: "registry.ollama.ai/library/LLAMA3.2:latest", keep_alive: "0s" })).json();
  expect(unload).toMatchObject({ model: "registry.ollama.ai/library/LLAMA3.2:latest", message: { role: "assistant", content: "" }, done_reason: "unload" });
  expect(f.resident()).toEqual([]);
  expect(f.unloads.map((u) => u.model)).toEqual(["llama3.2:latest"]);
});

test("keep_alive: the timer starts when the model goes idle, the value is sticky, 0 unloads after the work", async () => {
  const f = await start({ tokenMs: 20, defaultKeepAliveMs: 60 });
  await (await post(f, "/api/chat", chat("[[tokens=5]]", { stream: false }))).json(); // ~80 ms of work > 60 ms
  expect(f.resident()).toEqual(["llama3.2:latest"]);
  await until(() => f.resident().length === 0, 500);

  await (await post(f, "/api/generate", { model: "llama3.2", keep_alive: "1h" })).json();
  await (await post(f, "/api/generate", { model: "llama3.2", prompt: "x", stream: false })).json();
  const expires = Date.parse((await (await fetch(f.url + "/api/ps")).json()).models[0].expires_at);
  expect(expires - Date.now()).toBeGreaterThan(50 * 60_000);

  await (await post(f, "/api/chat", chat("bye", { stream: false, keep_alive: 0 }))).json();
  expect(f.resident()).toEqual([]);
  expect(f.loads.length).toBe(2);
});

test("loads are counted; maxLoadedChat 1 evicts the LRU chat model but never the embedder", async () => {
  const f = await start({ loadMs: 20 });
  await post(f, "/api/embed", { model: "all-minilm", input: "warm" });
  for (const m of ["llama3.2", "llama3.2", "qwen2.5:7b"]) await (await post(f, "/api/chat", { ...chat("a", { stream: false }), model: m })).json();
  expect(f.loads.map((l) => l.model)).toEqual(["all-minilm:latest", "llama3.2:latest", "qwen2.5:7b"]);
  expect(f.loads.every((l) => l.ms >= 15)).toBe(true);
  expect(f.unloads.map((u) => u.model)).toEqual(["llama3.2:latest"]);
  expect(f.resident().sort()).toEqual(["all-minilm:latest", "qwen2.5:7b"]);
  // A different num_ctx reloads; the same one again does not.
  await (await post(f, "/api/chat", { ...chat("b", { stream: false }), model: "qwen2.5:7b", options: { num_ctx: 8192 } })).json();
  await (await post(f, "/api/chat", { ...chat("c", { stream: false }), model: "qwen2.5:7b", options: { num_ctx: 8192 } })).json();
  expect(f.loads.length).toBe(4);
  expect((await (await fetch(f.url + "/api/ps")).json()).models.find((m: any) => m.name === "qwen2.5:7b").context_length).toBe(8192);
});

test("headers wait for the load and prompt eval; load_duration reports the wait", async () => {
  const f = await start({ loadMs: 150, promptMs: 40 });
  let t0 = performance.now();
  const cold = await post(f, "/api/chat", chat("hi"));
  expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
  const { lines } = await ndjson(cold);
  expect(lines[lines.length - 1].load_duration).toBeGreaterThanOrEqual(150e6);
  expect(lines[lines.length - 1].prompt_eval_duration).toBeGreaterThanOrEqual(40e6);
  t0 = performance.now();
  const warm = await post(f, "/api/chat", chat("hi"));
  expect(performance.now() - t0).toBeLessThan(120);
  const last = (await ndjson(warm)).lines.pop();
  expect(last.load_duration).toBeLessThan(50e6);
});

test("numParallel slots bound concurrent generations; embeddings don't count", async () => {
  for (const numParallel of [1, 2]) {
    const f = await start({ tokenMs: 10, numParallel });
    const calls = Array.from({ length: 4 }, (_, i) => post(f, "/api/chat", chat(`c${i}`, { stream: false })).then((r) => r.json()));
    await until(() => f.activeGenerations > 0);
    await Promise.all([...calls, post(f, "/api/embed", { model: "all-minilm", input: ["a", "b"] })]);
    expect(f.maxConcurrentGenerations).toBe(numParallel);
    expect(f.activeGenerations).toBe(0);
  }
});

test("a client that goes away during the load abandons it; mid-stream aborts stop generating", async () => {
  const f = await start({ loadMs: 200, tokenMs: 20 });
  const ctl = new AbortController();
  const gone = post(f, "/api/chat", chat("x"), { signal: ctl.signal }).catch((e) => e);
  await Bun.sleep(50);
  ctl.abort();
  await gone;
  await Bun.sleep(200);
  expect(f.loads).toEqual([]);
  expect(f.resident()).toEqual([]);

  const ctl2 = new AbortController();
  const res = await post(f, "/api/chat", chat("[[tokens=100]]"), { signal: ctl2.signal });
  await res.body!.getReader().read();
  expect(f.activeGenerations).toBe(1);
  ctl2.abort();
  await until(() => f.activeGenerations === 0, 500);
});

test("faults: refuse, failNext, busy, midStreamError, dropAfterChunks, hangBeforeHeaders", async () => {
  const f = await start({ tokenMs: 5 });
  const port = f.port;
  await f.refuse(true);
  expect(await fetch(f.url + "/api/version").then(() => "ok", () => "refused")).toBe("refused");
  await f.refuse(false);
  expect(f.port).toBe(port);
  expect((await fetch(f.url + "/api/version")).status).toBe(200);

  f.faults.failNext = { status: 500, error: "model runner has unexpectedly stopped", count: 2 };
  for (let i = 0; i < 2; i++) {
    const r = await post(f, "/api/chat", chat("x"));
    expect(r.status).toBe(500);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await r.json()).toEqual({ error: "model runner has unexpectedly stopped" });
  }
  expect(f.faults.failNext).toBeNull();
  expect((await post(f, "/api/chat", chat("x"))).status).toBe(200);

  f.faults.busy = true;
  const busy = await post(f, "/api/generate", { model: "llama3.2", prompt: "x" });
  expect([busy.status, (await busy.json()).error]).toEqual([503, "server busy, please try again.  maximum pending requests exceeded"]);
  f.reset();

  f.faults.midStreamError = { afterChunks: 2, error: "an error was encountered while running the model" };
  const mid = await post(f, "/api/chat", chat("[[tokens=8]]"));
  expect(mid.status).toBe(200);
  const { lines } = await ndjson(mid);
  expect(lines.length).toBe(3);
  expect(lines[2]).toEqual({ error: "an error was encountered while running the model" });
  f.reset();

  f.faults.dropAfterChunks = 2;
  const drop = await post(f, "/api/chat", chat("[[tokens=8]]"));
  expect(await drop.text().then(() => "clean", () => "cut")).toBe("cut");
  const dropSync = await post(f, "/api/chat", chat("[[tokens=8]]", { stream: false })).then((r) => r.json()).then(() => "ok", () => "cut");
  expect(dropSync).toBe("cut");
  await until(() => f.activeGenerations === 0);
  f.reset();

  f.faults.hangBeforeHeaders = true;
  const hang = await post(f, "/api/chat", chat("x"), { signal: AbortSignal.timeout(100) }).then(() => "answered", () => "hung");
  expect(hang).toBe("hung");
  f.reset();
  expect(f.requests).toEqual([]);
  expect((await post(f, "/api/chat", chat("x", { stream: false }))).status).toBe(200);
});

test("decode, model and keep_alive errors use Ollama's statuses and messages", async () => {
  const f = await start();
  const cases: [string, string, number, string][] = [
    ["/api/chat", "", 400, "missing request body"],
    ["/api/chat", "hello", 400, "invalid character 'h' looking for beginning of value"],
    ["/api/chat", "{nope", 400, "invalid character 'n' looking for beginning of object key string"],
    ["/api/chat", '{"model":', 400, "unexpected EOF"],
    ["/api/chat", "[]", 400, "json: cannot unmarshal array into Go value of type api.ChatRequest"],
    ["/api/chat", JSON.stringify(chat("x", { stream: "yes" })), 400, "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool"],
    ["/api/chat", JSON.stringify({ messages: [] }), 400, "model is required"],
    ["/api/generate", JSON.stringify({ prompt: "x" }), 404, "model '' not found"],
    ["/api/chat", JSON.stringify({ ...chat("x"), model: "nope" }), 404, "model 'nope' not found"],
    ["/api/chat", JSON.stringify(chat("x", { keep_alive: "-1" })), 400, 'time: missing unit in duration "-1"'],
    ["/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x", keep_alive: "abc" }), 400, 'time: invalid duration "abc"'],
    ["/api/chat", JSON.stringify(chat("x", { keep_alive: true })), 400, "Unsupported type: 'bool'"],
    ["/api/chat", JSON.stringify(chat("x", { think: true })), 400, '"llama3.2" does not support thinking'],
    ["/api/generate", JSON.stringify({ model: "all-minilm", prompt: "x" }), 400, '"all-minilm" does not support generate'],
    ["/api/embed", JSON.stringify({ model: "nope", input: "x" }), 404, 'model "nope" not found, try pulling it first'],
    ["/api/embed", JSON.stringify({ input: "x" }), 404, "model '' not found"],
    ["/api/embed", JSON.stringify({ model: "all-minilm", input: ["a", 1] }), 400, "invalid input type"],
    ["/api/embeddings", JSON.stringify({ prompt: "x" }), 400, "model is required"],
  ];
  for (const [path, body, status, error] of cases) {
    const res = await post(f, path, body);
    expect([path, body, res.status, (await res.json()).error]).toEqual([path, body, status, error]);
  }
  expect(f.loads).toEqual([]);
});

test("embed and legacy embeddings shapes", async () => {
  const f = await start();
  const norm = (v: number[]) => Math.hypot(...v);
  const one = await (await post(f, "/api/embed", { model: "all-minilm", input: "hello" })).json();
  expect(Object.keys(one)).toEqual(["model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"]);
  expect(one.embeddings.length).toBe(1);
  expect(one.embeddings[0].length).toBe(16);
  expect(norm(one.embeddings[0])).toBeCloseTo(1, 5);
  const two = await (await post(f, "/api/embed", { model: "all-minilm", input: ["hello", "world"], dimensions: 4 })).json();
  expect(two.embeddings.map((e: number[]) => e.length)).toEqual([4, 4]);
  expect(norm(two.embeddings[1])).toBeCloseTo(1, 5);
  const again = await (await post(f, "/api/embed", { model: "all-minilm", input: ["hello"] })).json();
  expect(again.embeddings).toEqual(one.embeddings);
  expect(await (await post(f, "/api/embed", { model: "all-minilm", input: [] })).json()).toEqual({ model: "all-minilm", embeddings: [] });
  expect(await (await post(f, "/api/embed", { model: "all-minilm", input: "" })).json()).toEqual({ model: "all-minilm", embeddings: [] });
  const legacy = await (await post(f, "/api/embeddings", { model: "all-minilm", prompt: "hello" })).json();
  expect(Object.keys(legacy)).toEqual(["embedding"]);
  expect(legacy.embedding.length).toBe(16);
  expect(await (await post(f, "/api/embeddings", { model: "all-minilm", prompt: "" })).json()).toEqual({ embedding: [] });
  expect(f.loads.map((l) => l.model)).toEqual(["all-minilm:latest"]);
  expect(f.maxConcurrentGenerations).toBe(0);
});

test("pull, create, copy and delete manage the catalog", async () => {
  const f = await start();
  const names = async () => (await (await fetch(f.url + "/api/tags")).json()).models.map((m: any) => m.name);
  const pull = await ndjson(await post(f, "/api/pull", { name: "phi3" }));
  expect(pull.lines[0]).toEqual({ status: "pulling manifest" });
  expect(pull.lines.find((l) => l.digest)).toMatchObject({ status: expect.stringMatching(/^pulling [0-9a-f]{12}$/), total: expect.any(Number) });
  expect(pull.lines.at(-1)).toEqual({ status: "success" });
  expect(await names()).toContain("phi3:latest");
  const bad = await post(f, "/api/pull", { model: "", name: "nope" });
  expect(bad.status).toBe(200);
  expect((await ndjson(bad)).lines).toEqual([{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }]);
  const badSync = await post(f, "/api/pull", { name: "nope", stream: false });
  expect([badSync.status, (await badSync.json()).error]).toEqual([500, "pull model manifest: file does not exist"]);
  expect((await post(f, "/api/pull", { name: "" })).status).toBe(400);

  expect(await (await post(f, "/api/create", { model: "mine", from: "llama3.2", system: "hi", stream: false })).json()).toEqual({ status: "success" });
  const copy = await post(f, "/api/copy", { source: "mine", destination: "mine-2" });
  expect([copy.status, await copy.text()]).toEqual([200, ""]);
  expect(await names()).toEqual(expect.arrayContaining(["mine:latest", "mine-2:latest"]));
  const copyMissing = await post(f, "/api/copy", { source: "zz", destination: "y" });
  expect([copyMissing.status, (await copyMissing.json()).error]).toEqual([404, 'model "zz" not found']);

  await post(f, "/api/generate", { model: "mine" });
  expect(f.resident()).toEqual(["mine:latest"]);
  const del = await fetch(f.url + "/api/delete", { method: "DELETE", body: JSON.stringify({ name: "mine" }) });
  expect([del.status, await del.text()]).toEqual([200, ""]);
  expect(f.resident()).toEqual([]);
  const again = await fetch(f.url + "/api/delete", { method: "DELETE", body: JSON.stringify({ model: "mine" }) });
  expect([again.status, (await again.json()).error]).toEqual([404, "model 'mine' not found"]);
});

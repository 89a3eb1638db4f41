// foreman as a drop-in Ollama: the native routes' shapes, streaming, errors, over real HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, readNdjson, startForeman, type ForemanProc } from "./support/foreman";
import { readArtifacts, readJob } from "./support/db";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 30, loadMs: 100 });
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fm.fetch(path, { method: "POST", body, headers });

describe("read-only routes", () => {
  test("GET and HEAD / answer like Ollama", async () => {
    const res = await fm.fetch("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("Ollama is running");
    const head = await fm.fetch("/", { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  test("/api/version is the target's; foreman's own goes in X-Foreman-Version", async () => {
    const res = await fm.fetch("/api/version");
    expect(await res.json()).toEqual({ version: "0.12.6" });
    expect(res.headers.get("x-foreman-version")).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("/api/tags lists the target's models with name and model", async () => {
    const body = await (await fm.fetch("/api/tags")).json();
    const names = body.models.map((m: any) => m.model);
    expect(names).toContain("llama3.2:latest");
    expect(body.models[0].name).toBe(body.models[0].model);
    expect(body.models[0].digest).toMatch(/^[0-9a-f]{64}$/);
  });

  test("/api/ps is an array, never null", async () => {
    const body = await (await fm.fetch("/api/ps")).json();
    expect(Array.isArray(body.models)).toBe(true);
  });

  test("/api/show is passed through, errors included", async () => {
    const ok = await post("/api/show", JSON.stringify({ model: "llama3.2" }));
    expect(ok.status).toBe(200);
    expect((await ok.json()).model_info["general.architecture"]).toBe("llama");
    const missing = await post("/api/show", JSON.stringify({ model: "nope" }));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toContain("not found");
  });

  test("/healthz is ok and not degraded", async () => {
    expect(await (await fm.fetch("/healthz")).json()).toEqual({ status: "ok", degraded: false });
  });
});

describe("chat and generate through the queue", () => {
  test("streaming is the default and chunks arrive incrementally", async () => {
    const t0 = performance.now();
    const res = await post("/api/chat", chatBody("llama3.2", "[[tokens=12]]"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const jobId = res.headers.get("x-foreman-job-id");
    expect(jobId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const { lines, times, raw } = await readNdjson(res);
    expect(raw.endsWith("\n")).toBe(true);
    expect(raw).not.toContain("\n\n");
    expect(lines.length).toBe(13);
    // 12 tokens at 30 ms: the first chunk comes long before the last.
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(200);
    expect(times[0] - t0).toBeLessThan(times[times.length - 1] - t0 - 200);
    for (const l of lines) {
      expect(l.model).toBe("llama3.2");
      expect(l.message.role).toBe("assistant");
      expect(typeof l.message.content).toBe("string");
    }
    const final = lines[lines.length - 1];
    expect(final.done).toBe(true);
    expect(final.done_reason).toBe("stop");
    for (const k of ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"]) {
      expect(final[k]).toBeGreaterThan(0);
    }
    // The job is stored done, with the complete non-stream result and its artifact.
    const job = readJob(fm.dbPath, jobId!);
    expect(job.state).toBe("done");
    expect(job.origin).toBe("sync");
    const result = JSON.parse(job.result);
    expect(result.message.content).toBe(lines.map((l) => l.message.content).join(""));
    const [artifact] = readArtifacts(fm.dbPath, jobId!);
    expect(artifact.name).toBe("completion");
    expect(artifact.content_type).toBe("application/json");
    expect(JSON.parse(artifact.text)).toEqual(result);
  });

  test("stream:false gets one JSON document with the whole text", async () => {
    const res = await post("/api/chat", chatBody("llama3.2", "hello world", { stream: false }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(false);
    const body = JSON.parse(text);
    expect(body.message).toEqual({ role: "assistant", content: "Echo: hello world" });
    expect(body.done).toBe(true);
    expect(body.eval_count).toBeGreaterThan(0);
  });

  test("generate streams `response` and its final chunk carries context", async () => {
    const res = await post("/api/generate", JSON.stringify({ model: "llama3.2", prompt: "why is the sky blue" }));
    const { lines } = await readNdjson(res);
    expect(lines.map((l) => l.response).join("")).toBe("Echo: why is the sky blue");
    expect(Array.isArray(lines[lines.length - 1].context)).toBe(true);
    const nonStream = await (await post("/api/generate",
      JSON.stringify({ model: "llama3.2", prompt: "hi there", stream: false }))).json();
    expect(nonStream.response).toBe("Echo: hi there");
    expect(Array.isArray(nonStream.context)).toBe(true);
  });

  test("the model name is echoed exactly as sent; lookups are normalised", async () => {
    for (const model of ["LLAMA3.2", "llama3.2:latest", "registry.ollama.ai/library/llama3.2"]) {
      const body = await (await post("/api/chat", chatBody(model, "x", { stream: false }))).json();
      expect(body.model).toBe(model);
    }
  });

  test("load-only and unload requests are answered as Ollama does (one JSON object)", async () => {
    const load = await post("/api/chat", JSON.stringify({ model: "mistral" }));
    expect(load.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(load.headers.get("x-foreman-job-id")).toBeTruthy();
    const lb = await load.json();
    expect(lb).toMatchObject({ model: "mistral", done: true, done_reason: "load", message: { role: "assistant", content: "" } });
    const gen = await (await post("/api/generate", JSON.stringify({ model: "mistral", prompt: "" }))).json();
    expect(gen.done_reason).toBe("load");
    const unload = await (await post("/api/generate", JSON.stringify({ model: "mistral", keep_alive: 0 }))).json();
    expect(unload).toMatchObject({ model: "mistral", response: "", done: true, done_reason: "unload" });
  });

  test("the worker pins the resident model with keep_alive unless the client set one", async () => {
    fake.requests.length = 0;
    await post("/api/chat", chatBody("llama3.2", "pin", { stream: false }));
    await post("/api/chat", chatBody("llama3.2", "own", { stream: false, keep_alive: "5m" }));
    const sent = fake.requests.filter((r) => r.path === "/api/chat" && r.body?.messages?.length);
    expect(sent[0].body.keep_alive).toBe(-1);
    expect(sent[1].body.keep_alive).toBe("5m");
    expect(sent[0].body.model).toBe("llama3.2");
  });
});

describe("errors in Ollama's shape", () => {
  const cases: [string, string, number, string | RegExp][] = [
    ["/api/chat", "", 400, "missing request body"],
    ["/api/chat", "{nope", 400, /invalid|unexpected/],
    ["/api/chat", "hello", 400, "invalid character 'h' looking for beginning of value"],
    ["/api/chat", JSON.stringify({ messages: [] }), 400, "model is required"],
    ["/api/generate", JSON.stringify({ prompt: "x" }), 404, "model '' not found"],
    ["/api/chat", chatBody("nope", "x"), 404, "model 'nope' not found"],
    ["/api/generate", JSON.stringify({ model: "nope", prompt: "x" }), 404, "model 'nope' not found"],
    ["/api/chat", chatBody("llama3.2", "x", { stream: "yes" }), 400,
      "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool"],
    ["/api/chat", chatBody("llama3.2", "x", { keep_alive: "-1" }), 400, 'time: missing unit in duration "-1"'],
    ["/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x", keep_alive: "abc" }), 400, 'time: invalid duration "abc"'],
    ["/api/chat", chatBody("llama3.2", "x", { think: "lots" }), 400, /invalid think value/],
    ["/api/chat", "[]", 400, /cannot unmarshal array/],
  ];
  for (const [path, body, status, message] of cases) {
    test(`${path} ${body.slice(0, 60) || "(empty)"} → ${status}`, async () => {
      const res = await post(path, body);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      const err = (await res.json()).error;
      if (typeof message === "string") expect(err).toBe(message);
      else expect(err).toMatch(message);
    });
  }

  test("a target error before the first chunk keeps its status, and the job is failed", async () => {
    fake.faults.failNext = { status: 500, error: "model runner has unexpectedly stopped", count: 1 };
    const res = await post("/api/chat", chatBody("llama3.2", "boom"));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "model runner has unexpectedly stopped" });
    expect(readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!).state).toBe("failed");
  });

  test("a target error mid-stream reaches the caller as a final error line", async () => {
    fake.faults.midStreamError = { afterChunks: 2, error: "an error was encountered while running the model" };
    try {
      const res = await post("/api/chat", chatBody("llama3.2", "[[tokens=8]]"));
      expect(res.status).toBe(200);
      const { lines } = await readNdjson(res);
      expect(lines.length).toBe(3);
      expect(lines[2]).toEqual({ error: "an error was encountered while running the model" });
      expect(lines.some((l) => l.done)).toBe(false);
      const job = readJob(fm.dbPath, res.headers.get("x-foreman-job-id")!);
      expect(job.state).toBe("failed");
      expect(job.error).toBe("an error was encountered while running the model");
    } finally {
      fake.faults.midStreamError = null;
    }
  });

  test("the same failure for a stream:false caller is Ollama's 500 with the error, not a 200", async () => {
    fake.faults.midStreamError = { afterChunks: 2, error: "an error was encountered while running the model" };
    try {
      const res = await post("/api/chat", chatBody("llama3.2", "[[tokens=8]]", { stream: false }));
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: "an error was encountered while running the model" });
    } finally {
      fake.faults.midStreamError = null;
    }
  });

  test("unknown routes are gin's 404, wrong methods 405", async () => {
    const nf = await fm.fetch("/api/nothing");
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe("404 page not found");
    const wm = await fm.fetch("/api/chat");
    expect(wm.status).toBe(405);
  });

  test("X-Foreman-Priority must be an integer in [-100, 100]", async () => {
    const res = await post("/api/chat", chatBody("llama3.2", "x"), { "x-foreman-priority": "high" });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain("X-Foreman-Priority");
  });
});

describe("embeddings go straight through", () => {
  test("/api/embed and /api/embeddings are proxied and not queued", async () => {
    const res = await post("/api/embed", JSON.stringify({ model: "all-minilm", input: ["a", "b"] }));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-foreman-job-id")).toBeNull();
    const body = await res.json();
    expect(body.embeddings.length).toBe(2);
    const legacy = await (await post("/api/embeddings", JSON.stringify({ model: "all-minilm", prompt: "a" }))).json();
    expect(Array.isArray(legacy.embedding)).toBe(true);
    const missing = await post("/api/embed", JSON.stringify({ model: "nope", input: "a" }));
    expect(missing.status).toBe(404);
  });

  test("embeddings run while a long generation holds the worker", async () => {
    const long = post("/api/chat", chatBody("llama3.2", "[[tokens=40]]", { stream: false }));
    await Bun.sleep(150);
    const t0 = performance.now();
    const res = await post("/api/embed", JSON.stringify({ model: "all-minilm", input: "x" }));
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(500);
    expect((await long).status).toBe(200);
  });
});

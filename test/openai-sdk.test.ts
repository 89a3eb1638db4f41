// The official `openai` npm SDK, unchanged, pointed at foreman's /v1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, type ForemanProc } from "./support/foreman";
import { readJob } from "./support/db";

let fake: FakeOllama;
let fm: ForemanProc;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: "sk-foreman" } });
  client = new OpenAI({ baseURL: `${fm.url}/v1`, apiKey: "sk-foreman", maxRetries: 0 });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

test("chat completion, non-stream, queued as a job with the OpenAI-shaped result", async () => {
  const { data, response } = await client.chat.completions.create({
    model: "llama3.2", messages: [{ role: "user", content: "hello" }],
  }).withResponse();
  expect(data.object).toBe("chat.completion");
  expect(data.choices[0].message.content).toBe("Echo: hello");
  expect(data.choices[0].finish_reason).toBe("stop");
  expect(data.usage!.completion_tokens).toBeGreaterThan(0);
  const jobId = response.headers.get("x-foreman-job-id")!;
  const job = readJob(fm.dbPath, jobId);
  expect(job.endpoint).toBe("/v1/chat/completions");
  expect(JSON.parse(job.result).choices[0].message.content).toBe("Echo: hello");
  // The worker sent Ollama's /v1 defaults to the native route.
  const sent = fake.requests.filter((r) => r.path === "/api/chat" && r.body?.messages?.[0]?.content === "hello").pop()!;
  expect(sent.body.options.temperature).toBe(1);
  expect(sent.body.options.top_p).toBe(1);
});

test("chat completion, stream, with usage", async () => {
  const stream = await client.chat.completions.create({
    model: "llama3.2", messages: [{ role: "user", content: "[[tokens=4]]" }], stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let usage: any = null;
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  expect(text).toBe(" tok1 tok2 tok3 tok4");
  expect(finish).toBe("stop");
  expect(usage.completion_tokens).toBe(4);
});

test("legacy completions, stream and not", async () => {
  const res = await client.completions.create({ model: "llama3.2", prompt: "abc" });
  expect(res.choices[0].text).toBe("Echo: abc");
  let text = "";
  for await (const c of await client.completions.create({ model: "llama3.2", prompt: "def", stream: true })) text += c.choices[0]?.text ?? "";
  expect(text).toBe("Echo: def");
});

test("embeddings, float and base64", async () => {
  const res = await client.embeddings.create({ model: "all-minilm", input: ["a", "b"] });
  expect(res.data.length).toBe(2);
  expect(res.data[0].embedding.length).toBeGreaterThan(0);
  // Asked for explicitly, base64 comes back as the string: little-endian float32s.
  const b64 = await client.embeddings.create({ model: "all-minilm", input: "a", encoding_format: "base64" });
  const bytes = Buffer.from(b64.data[0].embedding as unknown as string, "base64");
  const floats = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
  floats.forEach((f, i) => expect(f).toBeCloseTo(res.data[0].embedding[i], 5));
});

test("models list and retrieve", async () => {
  const list = await client.models.list();
  expect(list.data.map((m) => m.id)).toContain("llama3.2:latest");
  const one = await client.models.retrieve("llama3.2");
  expect(one.id).toBe("llama3.2");
  expect(one.owned_by).toBe("library");
});

test("errors arrive as OpenAI APIErrors with Ollama's types", async () => {
  const nf = await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
  expect(nf).toBeInstanceOf(OpenAI.NotFoundError);
  expect(nf.message).toContain("model 'nope' not found");
  expect(nf.error.type).toBe("not_found_error");
  const bad = await client.chat.completions.create({ model: "llama3.2", messages: [] }).catch((e) => e);
  expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
  expect(bad.error.message).toBe("[] is too short - 'messages'");
  const unauth = await new OpenAI({ baseURL: `${fm.url}/v1`, apiKey: "wrong", maxRetries: 0 }).models.list().catch((e) => e);
  expect(unauth).toBeInstanceOf(OpenAI.AuthenticationError);
  expect(unauth.error.type).toBe("api_error");
});

test("a mid-stream failure raises in the SDK instead of a silent truncation", async () => {
  fake.faults.midStreamError = { afterChunks: 1, error: "an error was encountered while running the model" };
  try {
    const stream = await client.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "[[tokens=5]]" }], stream: true });
    const err = await (async () => {
      for await (const _ of stream) { /* drain */ }
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toContain("an error was encountered");
  } finally {
    fake.faults.midStreamError = null;
  }
});

test("/jobs accepts /v1 endpoints", async () => {
  const res = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({
    endpoint: "/v1/chat/completions", request: { model: "llama3.2", messages: [{ role: "user", content: "via jobs" }] } }) });
  expect(res.status).toBe(202);
  const job = await res.json();
  let done: any;
  for (let i = 0; i < 100 && done?.state !== "done"; i++) {
    await Bun.sleep(30);
    done = await (await fm.fetch(`/jobs/${job.id}`)).json();
  }
  expect(done.result.object).toBe("chat.completion");
  expect(done.result.choices[0].message.content).toBe("Echo: via jobs");
});

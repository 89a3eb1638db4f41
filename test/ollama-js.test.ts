// The official `ollama` npm client, unchanged, pointed at foreman.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;
let ollama: Ollama;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url });
  ollama = new Ollama({ host: fm.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

test("list", async () => {
  const { models } = await ollama.list();
  expect(models.map((m) => m.model)).toContain("llama3.2:latest");
});

test("ps", async () => {
  await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "warm" }] });
  const { models } = await ollama.ps();
  expect(models.map((m) => m.name)).toContain("llama3.2:latest");
});

test("show", async () => {
  const info = await ollama.show({ model: "llama3.2" });
  expect(info.details.family).toBe("llama");
  expect(info.capabilities).toContain("completion");
});

test("chat, non-stream", async () => {
  const res = await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "hello" }] });
  expect(res.message.content).toBe("Echo: hello");
  expect(res.done).toBe(true);
});

test("chat, stream", async () => {
  const parts: string[] = [];
  let final: any;
  for await (const part of await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "[[tokens=5]]" }], stream: true })) {
    parts.push(part.message.content);
    if (part.done) final = part;
  }
  expect(parts.join("")).toBe(" tok1 tok2 tok3 tok4 tok5");
  expect(final.eval_count).toBeGreaterThan(0);
});

test("generate, stream and not", async () => {
  const res = await ollama.generate({ model: "llama3.2", prompt: "abc" });
  expect(res.response).toBe("Echo: abc");
  let text = "";
  for await (const part of await ollama.generate({ model: "llama3.2", prompt: "def", stream: true })) text += part.response;
  expect(text).toBe("Echo: def");
});

test("embed", async () => {
  const res = await ollama.embed({ model: "all-minilm", input: ["one", "two"] });
  expect(res.embeddings.length).toBe(2);
});

test("pull with progress, copy and delete", async () => {
  const statuses: string[] = [];
  for await (const p of await ollama.pull({ model: "tinyllama", stream: true })) statuses.push(p.status);
  expect(statuses[0]).toBe("pulling manifest");
  expect(statuses[statuses.length - 1]).toBe("success");
  expect((await ollama.list()).models.map((m) => m.model)).toContain("tinyllama:latest");
  expect((await ollama.copy({ source: "tinyllama", destination: "tiny-copy" })).status).toBe("success");
  expect((await ollama.delete({ model: "tiny-copy" })).status).toBe("success");
  expect((await ollama.list()).models.map((m) => m.model)).not.toContain("tiny-copy:latest");
  const missing = await ollama.delete({ model: "tiny-copy" }).catch((e) => e);
  expect(missing.status_code).toBe(404);
});

test("errors surface as ResponseError with the status", async () => {
  try {
    await ollama.chat({ model: "nope", messages: [{ role: "user", content: "x" }] });
    throw new Error("should have thrown");
  } catch (err: any) {
    expect(err.name).toBe("ResponseError");
    expect(err.status_code).toBe(404);
    expect(err.error).toBe("model 'nope' not found");
  }
});

// More real client libraries, unchanged, pointed at foreman: the Vercel AI SDK with
// ollama-ai-provider-v2, and LangChain's ChatOllama.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ChatOllama } from "@langchain/ollama";
import { generateText, streamText } from "ai";
import { createOllama } from "ollama-ai-provider-v2";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 5 });
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

test("AI SDK generateText", async () => {
  const ollama = createOllama({ baseURL: `${fm.url}/api` });
  const { text, usage } = await generateText({ model: ollama("llama3.2"), prompt: "vercel" });
  expect(text).toBe("Echo: vercel");
  expect(usage.outputTokens).toBeGreaterThan(0);
});

test("AI SDK streamText", async () => {
  const ollama = createOllama({ baseURL: `${fm.url}/api` });
  const result = streamText({ model: ollama("llama3.2"), prompt: "[[tokens=4]]" });
  let text = "";
  for await (const part of result.textStream) text += part;
  expect(text).toBe(" tok1 tok2 tok3 tok4");
});

test("LangChain ChatOllama invoke and stream", async () => {
  const model = new ChatOllama({ baseUrl: fm.url, model: "llama3.2" });
  const res = await model.invoke("langchain");
  expect(res.content).toBe("Echo: langchain");
  let text = "";
  for await (const chunk of await model.stream("[[tokens=3]]")) text += chunk.content;
  expect(text).toBe(" tok1 tok2 tok3");
});

// Smoke test of the product as shipped: CI runs this file against the compiled binary
// (FOREMAN_BIN=dist/foreman); locally it runs against the sources.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, foremanCommand, readNdjson, startForeman, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 10 });
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop(9);
  await fake?.stop();
});

test("version", async () => {
  const proc = Bun.spawn([...foremanCommand(), "--version"], { stdout: "pipe" });
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stdout).text()).toMatch(/^foreman \d+\.\d+\.\d+ \(\S+\)\n$/);
});

test("a streaming chat through the binary", async () => {
  const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "[[tokens=5]]") });
  expect(res.status).toBe(200);
  const { lines } = await readNdjson(res);
  expect(lines.map((l) => l.message.content).join("")).toBe(" tok1 tok2 tok3 tok4 tok5");
  expect(lines[lines.length - 1].done).toBe(true);
});

test("clean shutdown on SIGTERM", async () => {
  expect(await fm.stop("SIGTERM")).toBe(0);
  expect(fm.logs()).toContain("foreman stopped");
});

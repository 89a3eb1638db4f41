// The rest of the native surface: model management passed through with progress intact, HEAD
// routes, CORS, content types.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { readNdjson, startForeman, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const post = (path: string, body: unknown, method = "POST") => fm.fetch(path, { method, body: JSON.stringify(body) });
const tagNames = async () => (await (await fm.fetch("/api/tags")).json()).models.map((m: any) => m.model);

describe("model management", () => {
  test("pull streams progress and the new model is usable at once", async () => {
    const res = await post("/api/pull", { name: "phi3" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const { lines } = await readNdjson(res);
    expect(lines[0]).toEqual({ status: "pulling manifest" });
    expect(lines[lines.length - 1]).toEqual({ status: "success" });
    expect(lines.some((l) => l.total > 0)).toBe(true);
    expect(await tagNames()).toContain("phi3:latest");
    const chat = await post("/api/chat", { model: "phi3", messages: [{ role: "user", content: "hi" }], stream: false });
    expect(chat.status).toBe(200);
  });

  test("a pull of an unknown model fails in-stream, as Ollama does", async () => {
    const { lines } = await readNdjson(await post("/api/pull", { model: "", name: "does-not-exist" }));
    expect(lines[lines.length - 1].error).toContain("file does not exist");
  });

  test("copy, then delete with the deprecated name alias", async () => {
    expect((await post("/api/copy", { source: "llama3.2", destination: "llama-copy" })).status).toBe(200);
    expect(await tagNames()).toContain("llama-copy:latest");
    const del = await post("/api/delete", { model: "", name: "llama-copy" }, "DELETE");
    expect(del.status).toBe(200);
    expect(await tagNames()).not.toContain("llama-copy:latest");
    const again = await post("/api/delete", { name: "llama-copy" }, "DELETE");
    expect(again.status).toBe(404);
  });

  test("create streams status lines", async () => {
    const { lines } = await readNdjson(await post("/api/create", { model: "mine", from: "llama3.2", system: "be brief" }));
    expect(lines[lines.length - 1]).toEqual({ status: "success" });
    expect(await tagNames()).toContain("mine:latest");
  });

  test("push streams progress", async () => {
    const { lines } = await readNdjson(await post("/api/push", { name: "llama3.2" }));
    expect(lines[lines.length - 1]).toEqual({ status: "success" });
  });
});

describe("HEAD, content types, CORS", () => {
  test("HEAD /api/version and /api/tags", async () => {
    expect((await fm.fetch("/api/version", { method: "HEAD" })).status).toBe(200);
    expect((await fm.fetch("/api/tags", { method: "HEAD" })).status).toBe(200);
  });

  test("requests need no application/json content type (curl -d)", async () => {
    const res = await fm.fetch("/api/chat", {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "form" }], stream: false }),
    });
    expect((await res.json()).message.content).toBe("Echo: form");
  });

  test("a local browser origin is allowed, with a preflight that allows Ollama's headers", async () => {
    const pre = await fm.fetch("/api/chat", { method: "OPTIONS", headers: {
      origin: "http://localhost:3000", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(pre.headers.get("access-control-allow-headers")).toContain("Authorization");
    const res = await fm.fetch("/api/tags", { headers: { origin: "http://localhost:3000" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
  });

  test("a foreign origin gets 403 with an empty body", async () => {
    const res = await fm.fetch("/api/tags", { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("");
  });
});

// Token, body limits and configuration errors, seen from outside.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, foremanCommand, startForeman, until, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;
const TOKEN = "s3cret-token";

beforeAll(async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: TOKEN, FOREMAN_MAX_BODY: "4KiB" } });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const raw = (path: string, init: RequestInit = {}) => fetch(fm.url + path, init);

describe("bearer token", () => {
  test("/healthz is public", async () => {
    expect((await raw("/healthz")).status).toBe(200);
  });

  for (const [method, path] of [["GET", "/"], ["GET", "/api/tags"], ["GET", "/api/ps"], ["GET", "/api/version"],
    ["POST", "/api/chat"], ["POST", "/api/generate"], ["POST", "/api/embed"], ["POST", "/api/show"]] as const) {
    test(`${method} ${path} needs the token`, async () => {
      const body = method === "POST" ? chatBody("llama3.2", "x") : undefined;
      const none = await raw(path, { method, body });
      expect(none.status).toBe(401);
      expect((await none.json()).error).toContain("unauthorized");
      const wrong = await raw(path, { method, body, headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      const ok = await raw(path, { method, body, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).not.toBe(401);
    });
  }

  test("the token never appears in the logs", () => {
    expect(fm.logs()).not.toContain(TOKEN);
    expect(fm.logs()).toContain('"token":"(set)"');
  });
});

describe("secrets stay secret", () => {
  test("neither the token nor a password in the Ollama URL appears in /queue or the logs", async () => {
    const url = new URL(fake.url);
    url.username = "ollama";
    url.password = "hunter2-pw";
    const f2 = await startForeman({ ollamaUrl: url.toString(), env: { FOREMAN_TOKEN: TOKEN, FOREMAN_WEBHOOK_SECRET: "whsec-sekrit" } });
    try {
      const queue = await (await f2.fetch("/queue")).text();
      for (const secret of [TOKEN, "hunter2-pw", "whsec-sekrit"]) {
        expect(queue).not.toContain(secret);
        expect(f2.logs()).not.toContain(secret);
      }
      expect(JSON.parse(queue).target.url).toContain("redacted");
    } finally {
      await f2.stop();
    }
  });
});

describe("exposure", () => {
  test("listening beyond loopback with no token logs a warning", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const f2 = await startForeman({ ollamaUrl: fake.url, port, env: { FOREMAN_ADDR: `0.0.0.0:${port}` } });
    try {
      await until(() => f2.logLines().some((l) => l.level === "warn" && /no FOREMAN_TOKEN/.test(l.msg)));
    } finally {
      await f2.stop();
    }
  });

  test("`foreman healthcheck` (the Docker HEALTHCHECK) exits 0 when the daemon answers, 1 when not", async () => {
    const run = async (addr: string) => {
      const p = Bun.spawn([...foremanCommand(), "healthcheck"], { env: { PATH: process.env.PATH ?? "", FOREMAN_ADDR: addr }, stdout: "ignore", stderr: "ignore" });
      return await p.exited;
    };
    expect(await run(`:${fm.port}`)).toBe(0);
    expect(await run(":9")).toBe(1);
  });
});

describe("body size limit", () => {
  test("an oversized body is 413 with a JSON error", async () => {
    const big = chatBody("llama3.2", "x".repeat(10_000));
    const res = await fm.fetch("/api/chat", { method: "POST", body: big });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toContain("too large");
  });

  test("an oversized chunked body (no Content-Length) is 413 too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 10) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fm.fetch("/api/chat", { method: "POST", body: stream });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toContain("too large");
  });

  test("a body under the limit is fine", async () => {
    const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "small", { stream: false }) });
    expect(res.status).toBe(200);
  });
});

describe("configuration errors", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ FOREMAN_POLL_INTERVAL: "soon" }, /^foreman: FOREMAN_POLL_INTERVAL="soon" is not a valid duration \(use Go syntax/],
    [{ FOREMAN_ADDR: "nonsense" }, /^foreman: FOREMAN_ADDR="nonsense" is not a valid listen address/],
    [{ FOREMAN_MAX_ATTEMPTS: "0" }, /^foreman: FOREMAN_MAX_ATTEMPTS="0" is not a valid integer/],
    [{ FOREMAN_OLLAMA_URL: "ftp://x" }, /^foreman: FOREMAN_OLLAMA_URL="ftp:\/\/x" is not a valid URL/],
    [{ FOREMAN_MAX_BODY: "lots" }, /^foreman: FOREMAN_MAX_BODY="lots" is not a valid size/],
    [{ FOREMAN_LOG_LEVEL: "loud" }, /^foreman: FOREMAN_LOG_LEVEL="loud" is not a valid level/],
    [{ FOREMAN_LOG_FORMAT: "xml" }, /^foreman: FOREMAN_LOG_FORMAT="xml" is not a valid format/],
  ];
  for (const [env, message] of cases) {
    test(`${Object.keys(env)[0]} bad → exit 2 with one clear line`, async () => {
      const proc = Bun.spawn([...foremanCommand(), "serve"], {
        env: { PATH: process.env.PATH ?? "", FOREMAN_DB_PATH: "/tmp/never-created.db", ...env },
        stdout: "pipe", stderr: "pipe",
      });
      expect(await proc.exited).toBe(2);
      const err = await new Response(proc.stderr).text();
      expect(err.trim().split("\n").length).toBe(1);
      expect(err).toMatch(message);
      expect(err).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  test("a bad log level does not break client commands", async () => {
    const proc = Bun.spawn([...foremanCommand(), "version"], { env: { PATH: process.env.PATH ?? "", FOREMAN_LOG_LEVEL: "loud" }, stdout: "pipe", stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stdout).text()).toMatch(/^foreman \d+\.\d+\.\d+/);
  });
});

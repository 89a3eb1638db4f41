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

test("/docs and its assets are served from inside the binary, with no external URL", async () => {
  const html = await (await fm.fetch("/docs")).text();
  expect(html).not.toMatch(/https?:\/\//);
  const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]).filter((u) => u.startsWith("/"));
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const a of assets) {
    const res = await fm.fetch(a);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  }
  const spec = await (await fm.fetch("/docs/json")).json();
  expect(Object.keys(spec.paths)).toContain("/jobs");
  const ui = await fm.fetch("/ui");
  expect(await ui.text()).toContain("<title>foreman</title>");
});

test("a /jobs round trip", async () => {
  const res = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", "binary job")) }) });
  expect(res.status).toBe(202);
  const { id } = await res.json();
  let job: any;
  for (let i = 0; i < 200 && job?.state !== "done"; i++) {
    await Bun.sleep(20);
    job = await (await fm.fetch(`/jobs/${id}`)).json();
  }
  expect(job.result.message.content).toBe("Echo: binary job");
  expect((await (await fm.fetch(`/jobs/${id}/artifacts/completion`)).json()).message.content).toBe("Echo: binary job");
});

test("clean shutdown on SIGTERM", async () => {
  expect(await fm.stop("SIGTERM")).toBe(0);
  expect(fm.logs()).toContain("foreman stopped");
});

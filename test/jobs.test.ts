// The async job API over real HTTP: submit, inspect, list, cancel, follow, artifacts, bad input.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, until, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 10 });
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const chatRequest = (content: string, model = "llama3.2") => ({ model, messages: [{ role: "user", content }] });
const submit = (body: unknown, headers: Record<string, string> = {}) =>
  fm.fetch("/jobs", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
const getJob = async (id: string) => (await fm.fetch(`/jobs/${id}`)).json();
const waitState = (id: string, states: string[]) => until(async () => {
  const j = await getJob(id);
  return states.includes(j.state) ? j : null;
});

/** Reads an SSE stream to its end into {event, data} records. */
async function readSSE(res: Response): Promise<{ event: string; data: any }[]> {
  const text = await res.text();
  return text.split("\n\n").filter((b) => b.startsWith("event:")).map((block) => {
    const event = /^event: (.*)$/m.exec(block)![1];
    const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]);
    return { event, data };
  });
}

describe("submit and inspect", () => {
  test("202 with the job and Location; the job completes with its result and artifact", async () => {
    const res = await submit({ endpoint: "/api/chat", request: chatRequest("batch one"), metadata: { batch: 7 } });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(res.headers.get("location")).toBe(`/jobs/${job.id}`);
    expect(job.job_id).toBe(job.id);
    expect(job).toMatchObject({ state: "queued", endpoint: "/api/chat", model: "llama3.2", origin: "async", priority: 0, metadata: { batch: 7 } });
    const done = await waitState(job.id, ["done"]);
    expect(done.result.message.content).toBe("Echo: batch one");
    expect(done.started_at).toBeTruthy();
    expect(done.finished_at).toBeTruthy();
    const artifacts = await (await fm.fetch(`/jobs/${job.id}/artifacts`)).json();
    expect(artifacts).toEqual([{ name: "completion", content_type: "application/json", size: expect.any(Number),
      url: `${fm.url}/jobs/${job.id}/artifacts/completion` }]);
    const bytes = await fm.fetch(`/jobs/${job.id}/artifacts/completion`);
    expect(bytes.headers.get("content-type")).toBe("application/json");
    expect((await bytes.json()).message.content).toBe("Echo: batch one");
  });

  test("async jobs stream internally even when the request says stream:false", async () => {
    const job = await (await submit({ request: { ...chatRequest("[[tokens=5]]"), stream: false } })).json();
    await waitState(job.id, ["done"]);
    const sent = fake.requests.filter((r) => r.path === "/api/chat" && r.body?.messages?.[0]?.content === "[[tokens=5]]");
    expect(sent[0].body.stream).toBe(true);
  });

  test("the original Go foreman's form: a bare chat body with state_webhook_url", async () => {
    const res = await submit({ ...chatRequest("go form"), state_webhook_url: "http://127.0.0.1:9/never" });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(job.webhook_url).toBe("http://127.0.0.1:9/never");
    const done = await waitState(job.id, ["done"]);
    expect(done.result.message.content).toBe("Echo: go form");
  });

  test("generate jobs", async () => {
    const job = await (await submit({ endpoint: "/api/generate", request: { model: "llama3.2", prompt: "gen" } })).json();
    expect((await waitState(job.id, ["done"])).result.response).toBe("Echo: gen");
  });

  test("idempotency: same key → the same job with 200; a different body → 409", async () => {
    const body = { request: chatRequest("once only") };
    const first = await submit(body, { "idempotency-key": "key-1" });
    expect(first.status).toBe(202);
    const again = await submit(body, { "idempotency-key": "key-1" });
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe((await first.json()).id);
    const other = await submit({ request: chatRequest("something else") }, { "idempotency-key": "key-1" });
    expect(other.status).toBe(409);
    const viaField = await submit({ ...body, idempotency_key: "key-2" });
    const viaField2 = await submit({ ...body, idempotency_key: "key-2" });
    expect((await viaField2.json()).id).toBe((await viaField.json()).id);
  });
});

describe("follow over SSE", () => {
  test("the current state first, every change, chunks while working, then the end", async () => {
    const job = await (await submit({ request: chatRequest("[[tokens=6]]") })).json();
    const events = await readSSE(await fm.fetch(`/jobs/${job.id}/events`));
    const states = events.filter((e) => e.event === "state").map((e) => e.data.state);
    expect(states[states.length - 1]).toBe("done");
    expect(states).toContain("working");
    const chunks = events.filter((e) => e.event === "chunk").map((e) => e.data.message.content);
    expect(chunks.join("")).toBe(" tok1 tok2 tok3 tok4 tok5 tok6");
    const lastState = events.filter((e) => e.event === "state").pop()!;
    expect(lastState.data.result.message.content).toBe(" tok1 tok2 tok3 tok4 tok5 tok6");
  });

  test("joining mid-stream: the text so far is replayed, so the follower sees the whole reply", async () => {
    const job = await (await submit({ request: chatRequest("[[tokens=30]]") })).json();
    await until(() => fake.requests.some((r) => r.body?.messages?.[0]?.content === "[[tokens=30]]" && r.body?.stream));
    await Bun.sleep(120); // several chunks have gone by
    const events = await readSSE(await fm.fetch(`/jobs/${job.id}/events`));
    expect(events[0]).toMatchObject({ event: "state", data: { state: "working" } });
    const text = events.filter((e) => e.event === "chunk").map((e) => e.data.message.content).join("");
    expect(text).toBe(Array.from({ length: 30 }, (_, i) => ` tok${i + 1}`).join(""));
  });

  test("connecting after the job finished: the terminal state and the end", async () => {
    const job = await (await submit({ request: chatRequest("late") })).json();
    await waitState(job.id, ["done"]);
    const events = await readSSE(await fm.fetch(`/jobs/${job.id}/events`));
    expect(events.map((e) => [e.event, e.data.state])).toEqual([["state", "done"]]);
  });
});

describe("cancel", () => {
  test("queued → cancelled and never run; running → aborted and cancelled; finished → 409", async () => {
    const long = await (await submit({ request: chatRequest("[[tokens=200]]") })).json();
    await waitState(long.id, ["working"]);
    const queued = await (await submit({ request: chatRequest("cancel me while queued") })).json();
    const c1 = await fm.fetch(`/jobs/${queued.id}`, { method: "DELETE" });
    expect(c1.status).toBe(200);
    expect((await c1.json()).state).toBe("cancelled");
    const c2 = await fm.fetch(`/jobs/${long.id}`, { method: "DELETE" });
    expect(c2.status).toBe(200);
    expect((await c2.json()).state).toBe("cancelled");
    await until(() => fake.activeGenerations === 0, 2000);
    const c3 = await fm.fetch(`/jobs/${long.id}`, { method: "DELETE" });
    expect(c3.status).toBe(409);
    expect(fake.requests.some((r) => r.body?.messages?.[0]?.content === "cancel me while queued")).toBe(false);
  });

  test("cancel while loading", async () => {
    const slow = await startFakeOllama({ loadMs: 3000 });
    const f2 = await (await import("./support/foreman")).startForeman({ ollamaUrl: slow.url });
    try {
      const res = await f2.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x", "qwen2.5:7b") }) });
      const job = await res.json();
      await until(async () => (await (await f2.fetch(`/jobs/${job.id}`)).json()).state === "loading");
      const c = await f2.fetch(`/jobs/${job.id}`, { method: "DELETE" });
      expect((await c.json()).state).toBe("cancelled");
    } finally {
      await f2.stop(9);
      await slow.stop();
    }
  });
});

describe("listing", () => {
  test("newest first, filters, and cursor pagination over 1,000 jobs", async () => {
    const f2 = await (await import("./support/foreman")).startForeman({ ollamaUrl: "http://127.0.0.1:9" });
    try {
      // Target unreachable: the jobs stay queued, which is all listing needs.
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const r = await f2.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: chatRequest(`n${i}`, i % 2 ? "mistral" : "llama3.2") }) });
        ids.push((await r.json()).id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: any = await (await f2.fetch(`/jobs?limit=500${cursor ? `&before=${cursor}` : ""}`)).json();
        seen.push(...page.jobs.map((j: any) => j.id));
        cursor = page.next;
        pages++;
      } while (cursor);
      expect(pages).toBe(2); // the second page is the last: its `next` is null
      expect(seen).toEqual([...ids].reverse());
      const mistral = await (await f2.fetch("/jobs?model=MISTRAL:latest&limit=500")).json();
      expect(mistral.jobs.length).toBe(500);
      expect(mistral.jobs.every((j: any) => j.model === "mistral")).toBe(true);
      const byState = await (await f2.fetch("/jobs?state=done,failed")).json();
      expect(byState.jobs).toEqual([]);
      const async = await (await f2.fetch("/jobs?origin=sync")).json();
      expect(async.jobs).toEqual([]);
    } finally {
      await f2.stop(9);
    }
  }, 60_000);
});

describe("bad input", () => {
  const cases: [string, RequestInit, number, RegExp][] = [
    ["POST /jobs", { method: "POST", body: "{nope" }, 400, /JSON/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ endpoint: "/api/pull", request: chatRequest("x") }) }, 400, /endpoint/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ webhook_url: "http://x" }) }, 400, /request/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), priority: "high" }) }, 400, /priority/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), priority: 1000 }) }, 400, /priority/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), webhook_url: "ftp://x" }) }, 400, /webhook_url/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), webhook_url: "not a url" }) }, 400, /webhook_url/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), metadata: { big: "x".repeat(70_000) } }) }, 400, /metadata/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x"), metadata: "str" }) }, 400, /metadata/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: { messages: [] } }) }, 400, /model is required/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: chatRequest("x", "nope") }) }, 404, /model 'nope' not found/],
    ["POST /jobs", { method: "POST", body: JSON.stringify({ request: { ...chatRequest("x"), stream: "no" } }) }, 400, /stream/],
    ["GET /jobs/%FF", {}, 400, /id/],
    ["GET /jobs/not-a-ulid", {}, 400, /id/],
    ["GET /jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", {}, 404, /not found/],
    ["DELETE /jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", { method: "DELETE" }, 404, /not found/],
    ["GET /jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events", {}, 404, /not found/],
    ["GET /jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/artifacts/completion", {}, 404, /not found/],
    ["GET /jobs?limit=0", {}, 400, /limit/],
    ["GET /jobs?limit=100000", {}, 400, /limit/],
    ["GET /jobs?limit=-1", {}, 400, /limit/],
    ["GET /jobs?state=bogus", {}, 400, /state/],
    ["GET /jobs?before=xyz", {}, 400, /before/],
    ["GET /jobs?origin=both", {}, 400, /origin/],
  ];
  for (const [name, init, status, message] of cases) {
    test(`${name} ${String(init.body ?? "").slice(0, 50)} → ${status}`, async () => {
      const path = name.split(" ")[1];
      const res = await fm.fetch(path, init);
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(typeof body.error).toBe("string");
      expect(body.error).toMatch(message);
    });
  }

  test("an oversized body is 413 with a JSON error", async () => {
    const res = await submit({ request: chatRequest("x".repeat(70 * 1024 * 1024)) });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toContain("too large");
  });
});

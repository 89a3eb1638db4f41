// What an operator sees: Prometheus metrics after real work, and a job's story in the logs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { stopAfterEach } from "./support/cleanup";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, readNdjson, startForeman, until, type ForemanProc } from "./support/foreman";
import { startReceiver, type Receiver } from "./support/receiver";

let fake: FakeOllama;
let fm: ForemanProc;
const TOKEN = "metrics-token";

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 5, loadMs: 50 });
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: TOKEN } });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const chat = (model: string, content: string) =>
  fm.fetch("/api/chat", { method: "POST", body: chatBody(model, content, { stream: false }) });

/** Parses Prometheus text into `name{labels}` → value. */
async function scrape(f: ForemanProc = fm): Promise<Map<string, number>> {
  const res = await f.fetch("/metrics");
  expect(res.status).toBe(200);
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+|NaN)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe("metrics", () => {
  test("jobs, loads, swaps, waits, target health and HTTP counts after real work", async () => {
    await chat("llama3.2", "[[tokens=3]]");
    await chat("mistral", "[[tokens=3]]");
    await (await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "[[tokens=3]]") })).text(); // streamed
    fake.faults.failNext = { status: 500, error: "boom", count: 1 };
    await chat("llama3.2", "fail");
    const m = await scrape();
    expect(m.get('foreman_jobs_total{endpoint="/api/chat",model="llama3.2:latest",state="done"}')).toBe(2);
    expect(m.get('foreman_jobs_total{endpoint="/api/chat",model="llama3.2:latest",state="failed"}')).toBe(1);
    expect(m.get('foreman_model_loads_total{model="llama3.2:latest"}')).toBe(2);
    expect(m.get('foreman_model_loads_total{model="mistral:latest"}')).toBe(1);
    expect(m.get('foreman_model_swaps_total{from="llama3.2:latest",to="mistral:latest"}')).toBe(1);
    expect(m.get('foreman_model_swaps_total{from="mistral:latest",to="llama3.2:latest"}')).toBe(1);
    expect(m.get('foreman_job_wait_seconds_count{model="llama3.2:latest"}')).toBe(3);
    expect(m.get('foreman_job_load_seconds_count{model="mistral:latest"}')).toBe(1);
    expect(m.get('foreman_time_to_first_token_seconds_count{model="llama3.2:latest"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('foreman_target_request_errors_total{class="http"}')).toBe(1);
    const failed = fm.logLines().find((l) => l.msg === "job failed: target error");
    expect(failed).toMatchObject({ model: "llama3.2", status: 500, err: "boom", wait_ms: expect.any(Number), run_ms: expect.any(Number) });
    expect(m.get("foreman_target_up")).toBe(1);
    expect(m.get('foreman_http_requests_total{route="/api/chat",method="POST",status="200"}')).toBe(3);
    expect(m.get("foreman_webhook_pending")).toBe(0);
    expect(m.get("foreman_starvation_overrides_total")).toBe(0); // swaps here are drain order, not the bound
    expect(m.has("process_resident_memory_bytes")).toBe(true);
  });

  test("queued jobs by model and priority, and queue-full rejections", async () => {
    const blocker = chat("llama3.2", "[[tokens=60]]");
    await until(() => fake.activeGenerations > 0);
    const waiting = [chat("mistral", "a"), fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "b", { stream: false }), headers: { "x-foreman-priority": "7" } })];
    await until(async () => (await scrape()).get('foreman_queue_jobs{model="mistral:latest",priority="0"}') === 1);
    expect((await scrape()).get('foreman_queue_jobs{model="llama3.2:latest",priority="7"}')).toBe(1);
    await Promise.all([blocker, ...waiting]);
  });

  test("behind the token unless FOREMAN_METRICS_PUBLIC", async () => {
    expect((await fetch(`${fm.url}/metrics`)).status).toBe(401);
  });
});

describe("logs", () => {
  test("a job's life is traceable by job_id, with the scheduler's reason and durations", async () => {
    const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("qwen2.5:7b", "[[tokens=4]]") });
    const id = res.headers.get("x-foreman-job-id")!;
    await res.text();
    // The log lines come through foreman's stdout pipe: wait until the last one has arrived.
    await until(() => fm.logLines().some((l) => l.job_id === id && l.msg === "job done"));
    const lines = fm.logLines().filter((l) => l.job_id === id);
    expect(lines.map((l) => l.msg)).toEqual(["job queued", "job claimed", "swapping model", "unloaded previous model before swap", "model loaded", "first token", "job done"]);
    const claimed = lines.find((l) => l.msg === "job claimed")!;
    expect(claimed.reason).toBe("oldest");
    expect(lines.find((l) => l.msg === "model loaded")!.load_ms).toBeGreaterThanOrEqual(40);
    const done = lines.find((l) => l.msg === "job done")!;
    expect(done.eval_count).toBe(4);
    expect(typeof done.run_ms).toBe("number");
    for (const l of fm.logLines()) {
      expect(typeof l.time).toBe("string");
      expect(typeof l.level).toBe("string");
    }
    expect(fm.logs()).not.toContain(TOKEN);
  });
});

// Each test below runs its own fake Ollama and foreman, so counts start at zero and nothing leaks.
let fake2: FakeOllama | undefined;
let fm2: ForemanProc | undefined;
let rx: Receiver | undefined;
stopAfterEach(() => [fm2, fake2, rx]);

const chatOn = (f: ForemanProc, model: string, content: string) =>
  f.fetch("/api/chat", { method: "POST", body: chatBody(model, content, { stream: false }) });
const submitJob = (f: ForemanProc, body: unknown) => f.fetch("/jobs", { method: "POST", body: JSON.stringify(body) });
/** Scrapes until `pred` holds for the metrics, and returns them. */
async function scrapeUntil(f: ForemanProc, pred: (m: Map<string, number>) => boolean, timeoutMs?: number): Promise<Map<string, number>> {
  let last = new Map<string, number>();
  await until(async () => pred(last = await scrape(f)), timeoutMs);
  return last;
}
const L = 'model="llama3.2:latest"';
const M = 'model="mistral:latest"';

describe("metrics: job timings", () => {
  test("run, load and time-to-first-token histograms count per model, in seconds", async () => {
    fake2 = await startFakeOllama({ tokenMs: 20, loadMs: 200 });
    fm2 = await startForeman({ ollamaUrl: fake2.url });
    const t0 = performance.now();
    for (const c of ["[[tokens=5]]", "[[tokens=5]]"]) expect((await chatOn(fm2, "llama3.2", c)).status).toBe(200);
    // Streamed: the first token arrives long before the run is over.
    await readNdjson(await fm2.fetch("/api/chat", { method: "POST", body: chatBody("mistral", "[[tokens=30]]") }));
    const elapsed = (performance.now() - t0) / 1000;
    const m = await scrapeUntil(fm2, (s) => s.get(`foreman_job_run_seconds_count{${M}}`) === 1);
    // run: every job, claim to finish, so it includes the load and the tokens.
    expect(m.get(`foreman_job_run_seconds_count{${L}}`)).toBe(2);
    expect(m.get(`foreman_job_run_seconds_sum{${L}}`)).toBeGreaterThanOrEqual(0.2 + 2 * 3 * 0.02);
    expect(m.get(`foreman_job_run_seconds_sum{${M}}`)).toBeGreaterThanOrEqual(0.2 + 25 * 0.02);
    expect(m.get(`foreman_job_run_seconds_sum{${L}}`)! + m.get(`foreman_job_run_seconds_sum{${M}}`)!).toBeLessThan(elapsed);
    expect(m.get(`foreman_job_run_seconds_bucket{le="+Inf",${L}}`)).toBe(2);
    // load: only jobs that paid for one (the second llama3.2 job found it resident).
    expect(m.get(`foreman_job_load_seconds_count{${L}}`)).toBe(1);
    expect(m.get(`foreman_job_load_seconds_count{${M}}`)).toBe(1);
    expect(m.get(`foreman_job_load_seconds_sum{${L}}`)).toBeGreaterThanOrEqual(0.2);
    expect(m.get(`foreman_job_load_seconds_bucket{le="0.1",${L}}`)).toBe(0);
    expect(m.get(`foreman_job_load_seconds_sum{${L}}`)).toBeLessThan(m.get(`foreman_job_run_seconds_sum{${L}}`)!);
    // time to first token: once per job, from enqueue, so the first job's includes its load.
    expect(m.get(`foreman_time_to_first_token_seconds_count{${L}}`)).toBe(2);
    expect(m.get(`foreman_time_to_first_token_seconds_count{${M}}`)).toBe(1);
    expect(m.get(`foreman_time_to_first_token_seconds_sum{${L}}`)).toBeGreaterThanOrEqual(0.2);
    const mistralTtft = m.get(`foreman_time_to_first_token_seconds_sum{${M}}`)!;
    expect(mistralTtft).toBeGreaterThanOrEqual(0.2);
    expect(mistralTtft).toBeLessThan(m.get(`foreman_job_run_seconds_sum{${M}}`)! - 0.25); // not the end of the run
  });
});

describe("metrics: residency", () => {
  test("foreman_resident_model follows Ollama's /api/ps; the previous model disappears after a swap", async () => {
    fake2 = await startFakeOllama({ loadMs: 20 });
    fm2 = await startForeman({ ollamaUrl: fake2.url });
    const resident = async () => [...(await scrape(fm2)).entries()]
      .filter(([k]) => k.startsWith("foreman_resident_model{")).map(([k, v]) => `${k}=${v}`);
    expect(await resident()).toEqual([]);
    await chatOn(fm2, "llama3.2", "a");
    await until(async () => (await resident()).length > 0);
    expect(await resident()).toEqual([`foreman_resident_model{${L}}=1`]);
    await chatOn(fm2, "mistral", "b");
    expect(fake2.resident()).toEqual(["mistral:latest"]);
    await until(async () => (await resident()).includes(`foreman_resident_model{${M}}=1`));
    expect(await resident()).toEqual([`foreman_resident_model{${M}}=1`]);
  });

  test("a model unloaded behind foreman's back drops out at the next inventory poll", async () => {
    fake2 = await startFakeOllama();
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_POLL_INTERVAL: "200ms" } });
    await chatOn(fm2, "llama3.2", "a");
    await until(async () => (await scrape(fm2)).get(`foreman_resident_model{${L}}`) === 1);
    await fetch(`${fake2.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama3.2", keep_alive: 0 }) });
    expect(fake2.resident()).toEqual([]);
    await until(async () => !(await scrape(fm2)).has(`foreman_resident_model{${L}}`), 5000);
  });
});

describe("metrics: scheduling", () => {
  test("foreman_starvation_overrides_total counts the jobs the FOREMAN_MAX_WAIT bound served", async () => {
    fake2 = await startFakeOllama({ tokenMs: 20 });
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_MAX_WAIT: "300ms" } });
    expect((await scrape(fm2)).get("foreman_starvation_overrides_total")).toBe(0);
    const backlog = [chatOn(fm2, "llama3.2", "A0 [[tokens=10]]")];
    await until(() => fake2!.activeGenerations > 0);
    const lone = chatOn(fm2, "qwen2.5:7b", "B");
    for (let i = 1; i <= 8; i++) backlog.push(chatOn(fm2, "llama3.2", `A${i} [[tokens=10]]`));
    expect((await lone).status).toBe(200);
    for (const r of await Promise.all(backlog)) expect(r.status).toBe(200);
    const served = fake2.requests.filter((r) => r.path === "/api/chat" && r.body?.messages).map((r) => r.body.messages[0].content.split(" ")[0]);
    // Drain-by-model alone would serve B last; the bound serves it early.
    expect(served.indexOf("B")).toBeGreaterThan(0);
    expect(served.indexOf("B")).toBeLessThan(served.length - 1);
    await until(() => fm2!.logLines().filter((l) => l.msg === "job claimed").length === 10);
    const claims = fm2.logLines().filter((l) => l.msg === "job claimed");
    // Exactly one override: B. The swap back to llama3.2 afterwards is the usual oldest-first pick.
    expect(claims.filter((l) => l.reason === "starvation").map((l) => l.model)).toEqual(["qwen2.5:7b"]);
    expect((await scrape(fm2)).get("foreman_starvation_overrides_total")).toBe(1);
  }, 15_000);

  test("foreman_queue_full_rejections_total by route: /api/chat, /v1/chat/completions, /jobs", async () => {
    fake2 = await startFakeOllama({ tokenMs: 20 });
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_MAX_QUEUE: "1" } });
    const blocker = chatOn(fm2, "llama3.2", "[[tokens=30]]");
    await until(() => fake2!.activeGenerations > 0);
    const queued = chatOn(fm2, "llama3.2", "queued");
    await until(async () => (await scrape(fm2)).get(`foreman_queue_jobs{${L},priority="0"}`) === 1);
    const before = await scrape(fm2);
    expect([...before.keys()].some((k) => k.startsWith("foreman_queue_full_rejections_total"))).toBe(false);
    expect((await chatOn(fm2, "llama3.2", "over 1")).status).toBe(503);
    expect((await chatOn(fm2, "llama3.2", "over 2")).status).toBe(503);
    expect((await fm2.fetch("/v1/chat/completions", { method: "POST", body: chatBody("llama3.2", "over") })).status).toBe(503);
    expect((await submitJob(fm2, { request: JSON.parse(chatBody("llama3.2", "over")) })).status).toBe(503);
    const m = await scrape(fm2);
    expect(m.get('foreman_queue_full_rejections_total{route="/api/chat"}')).toBe(2);
    expect(m.get('foreman_queue_full_rejections_total{route="/v1/chat/completions"}')).toBe(1);
    expect(m.get('foreman_queue_full_rejections_total{route="/jobs"}')).toBe(1);
    expect(m.get('foreman_http_requests_total{route="/api/chat",method="POST",status="503"}')).toBe(2);
    for (const r of await Promise.all([blocker, queued])) expect(r.status).toBe(200);
  });
});

describe("metrics: target health", () => {
  test("foreman_target_up goes 1 → 0 → 1 across an outage; failed polls are counted only while down", async () => {
    fake2 = await startFakeOllama();
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_POLL_INTERVAL: "200ms" } });
    let m = await scrape(fm2);
    expect(m.get("foreman_target_up")).toBe(1);
    expect(m.get("foreman_target_poll_errors_total")).toBe(0);
    await fake2.refuse(true); // stops listening; the same port comes back below
    m = await scrapeUntil(fm2, (s) => s.get("foreman_target_up") === 0);
    expect(m.get("foreman_target_poll_errors_total")).toBeGreaterThanOrEqual(1);
    const first = m.get("foreman_target_poll_errors_total")!;
    await until(async () => (await scrape(fm2!)).get("foreman_target_poll_errors_total")! > first, 5000); // still polling
    await fake2.refuse(false);
    m = await scrapeUntil(fm2, (s) => s.get("foreman_target_up") === 1, 5000);
    const errors = m.get("foreman_target_poll_errors_total")!;
    expect((await fm2.fetch("/api/tags")).status).toBe(200); // one more poll, a good one
    m = await scrape(fm2);
    expect(m.get("foreman_target_poll_errors_total")).toBe(errors);
    expect(m.get("foreman_target_up")).toBe(1);
  }, 15_000);

  test("foreman_target_request_errors_total by class: http from the worker, connection from the worker and the proxy", async () => {
    fake2 = await startFakeOllama({ tokenMs: 5 });
    fm2 = await startForeman({ ollamaUrl: fake2.url });
    const errs = async () => [...(await scrape(fm2)).entries()].filter(([k]) => k.startsWith("foreman_target_request_errors_total"));
    expect(await chatOn(fm2, "llama3.2", "warm").then((r) => r.status)).toBe(200);
    expect(await errs()).toEqual([]);
    // An HTTP error from Ollama fails the job: class http.
    fake2.faults.failNext = { status: 500, error: "boom", count: 1 };
    expect((await chatOn(fm2, "llama3.2", "fail")).status).toBe(500);
    expect(await errs()).toEqual([['foreman_target_request_errors_total{class="http"}', 1]]);
    // A reset mid-stream of a streaming caller: class connection (no retry, so exactly one).
    fake2.faults.dropAfterChunks = 2;
    const { lines } = await readNdjson(await fm2.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "cut [[tokens=10]]") }));
    expect(lines.at(-1).error).toMatch(/connection lost/);
    fake2.faults.dropAfterChunks = null;
    expect(new Map(await errs()).get('foreman_target_request_errors_total{class="connection"}')).toBe(1);
    // A proxied request while Ollama is down: class connection too.
    await fake2.refuse(true);
    const embed = await fm2.fetch("/api/embed", { method: "POST", body: JSON.stringify({ model: "all-minilm", input: "x" }) });
    expect(embed.status).toBe(502);
    expect(new Map(await errs())).toEqual(new Map([
      ['foreman_target_request_errors_total{class="http"}', 1],
      ['foreman_target_request_errors_total{class="connection"}', 2],
    ]));
  });
});

describe("metrics: webhooks", () => {
  const outcomes = async (f: ForemanProc) => Object.fromEntries([...(await scrape(f)).entries()]
    .filter(([k]) => k.startsWith("foreman_webhook_deliveries_total"))
    .map(([k, v]) => [/outcome="([a-z]+)"/.exec(k)![1], v]));

  test("deliveries by outcome and the pending gauge, with a receiver that fails first, then recovers", async () => {
    fake2 = await startFakeOllama({ tokenMs: 5 });
    rx = await startReceiver();
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_WEBHOOK_BACKOFF: "50ms" } });
    rx.status = 500;
    const job = await (await submitJob(fm2, { request: JSON.parse(chatBody("llama3.2", "hook")), webhook_url: rx.url })).json();
    // The job is done, but its four events (queued, loading, working, done) wait behind the failing first one.
    await until(async () => {
      const s = await scrape(fm2!);
      return s.get("foreman_webhook_pending") === 4 && (s.get('foreman_webhook_deliveries_total{outcome="retry"}') ?? 0) >= 1;
    });
    expect((await outcomes(fm2)).delivered).toBeUndefined();
    rx.status = 200;
    await until(async () => (await scrape(fm2!)).get("foreman_webhook_pending") === 0, 10_000);
    const o = await outcomes(fm2);
    expect(o.delivered).toBe(4);
    const deliveries = await (await fm2.fetch(`/jobs/${job.id}/deliveries`)).json();
    const attempts = deliveries.reduce((n: number, d: any) => n + d.attempts, 0);
    expect(o.retry).toBe(attempts - 4);
    expect(o.retry).toBeGreaterThanOrEqual(1);
    expect(o.retry + o.delivered).toBe(rx.received.length); // one count per POST the receiver saw
    expect(Object.keys(o).sort()).toEqual(["delivered", "retry"]);
  }, 15_000);

  test("410 Gone and give-up after FOREMAN_WEBHOOK_MAX_ATTEMPTS are counted apart", async () => {
    fake2 = await startFakeOllama({ tokenMs: 5 });
    rx = await startReceiver();
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_WEBHOOK_BACKOFF: "50ms", FOREMAN_WEBHOOK_MAX_ATTEMPTS: "2" } });
    rx.status = (r) => (r.body.metadata?.kind === "gone" ? 410 : 500);
    const ids: Record<string, string> = {};
    for (const kind of ["gone", "broken"]) {
      const res = await submitJob(fm2, { request: JSON.parse(chatBody("llama3.2", kind)), webhook_url: rx.url, metadata: { kind } });
      expect(res.status).toBe(202);
      ids[kind] = (await res.json()).id;
    }
    await until(async () => (await (await fm2!.fetch(`/jobs/${ids.broken}`)).json()).state === "done");
    await until(async () => (await scrape(fm2!)).get("foreman_webhook_pending") === 0);
    // "broken": each of its events (queued, working, done: the model was already loaded) is tried
    // twice, one retry and then it gives up; "gone": one 410, and nothing more for that job.
    const broken = await (await fm2.fetch(`/jobs/${ids.broken}/deliveries`)).json();
    expect(broken.map((d: any) => [d.event, d.status, d.attempts])).toEqual([["queued", "failed", 2], ["working", "failed", 2], ["done", "failed", 2]]);
    expect(await outcomes(fm2)).toEqual({ gone: 1, retry: 3, failed: 3 });
    expect(rx.received.length).toBe(1 + 6);
  }, 15_000);
});

describe("metrics: HTTP requests", () => {
  test("foreman_http_requests_total labels templated routes, so ids and scanners add no series", async () => {
    fake2 = await startFakeOllama();
    fm2 = await startForeman({ ollamaUrl: fake2.url });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await submitJob(fm2, { request: JSON.parse(chatBody("llama3.2", `j${i}`)) })).json()).id);
    for (const id of ids) await until(async () => (await (await fm2!.fetch(`/jobs/${id}`)).json()).state === "done");
    for (const id of ids) expect((await fm2.fetch(`/jobs/${id}/artifacts/completion`)).status).toBe(200);
    expect((await fm2.fetch("/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404); // a ULID, but no such job
    expect((await fm2.fetch("/jobs/not-a-ulid")).status).toBe(400);
    expect((await fm2.fetch("/v1/models/llama3.2")).status).toBe(200);
    expect((await fm2.fetch("/v1/models/mistral")).status).toBe(200);
    for (const p of ["/wp-login.php", "/api/nope", "/api/zzz", "/v1/abc/def", "/.env", "/jobs/x/y/z"]) {
      expect((await fm2.fetch(p)).status).toBe(404);
    }
    const m = await scrape(fm2);
    const http = [...m.keys()].filter((k) => k.startsWith("foreman_http_requests_total"));
    for (const id of ids) expect(http.some((k) => k.includes(id))).toBe(false);
    expect(m.get('foreman_http_requests_total{route="/jobs",method="POST",status="202"}')).toBe(3);
    expect(m.get('foreman_http_requests_total{route="/jobs/:id",method="GET",status="200"}')).toBeGreaterThanOrEqual(3);
    expect(m.get('foreman_http_requests_total{route="/jobs/:id",method="GET",status="404"}')).toBe(1);
    expect(m.get('foreman_http_requests_total{route="/jobs/:id",method="GET",status="400"}')).toBe(1);
    expect(m.get('foreman_http_requests_total{route="/jobs/:id/artifacts/:name",method="GET",status="200"}')).toBe(3);
    expect(m.get('foreman_http_requests_total{route="/v1/models/:model",method="GET",status="200"}')).toBe(2);
    expect(m.get('foreman_http_requests_total{route="other",method="GET",status="404"}')).toBe(6);
    const routes = new Set(http.map((k) => /route="([^"]*)"/.exec(k)![1]));
    expect([...routes].sort()).toEqual(["/healthz", "/jobs", "/jobs/:id", "/jobs/:id/artifacts/:name", "/v1/models/:model", "other"]);
  });

  test("every served route gets its own label: /events, /queue, /healthz, /metrics, /ui", async () => {
    fake2 = await startFakeOllama();
    fm2 = await startForeman({ ollamaUrl: fake2.url });
    const before = await scrape(fm2); // start-up polled /healthz, and this scrape is one /metrics
    for (const p of ["/queue", "/healthz", "/metrics", "/ui", "/api/tags", "/api/ps", "/v1/models"]) expect((await fm2.fetch(p)).status).toBe(200);
    const events = await fm2.fetch("/events");
    expect(events.status).toBe(200);
    await events.body!.cancel();
    const m = await scrape(fm2);
    for (const p of ["/queue", "/healthz", "/metrics", "/ui", "/events", "/api/tags", "/api/ps", "/v1/models"]) {
      const key = `foreman_http_requests_total{route="${p}",method="GET",status="200"}`;
      expect([p, m.get(key)! - (before.get(key) ?? 0)]).toEqual([p, p === "/metrics" ? 2 : 1]);
    }
    expect([...m.keys()].some((k) => k.startsWith('foreman_http_requests_total{route="other"'))).toBe(false);
  });
});

describe("metrics: access", () => {
  test("FOREMAN_METRICS_PUBLIC=true: /metrics without the token; everything else still needs it", async () => {
    fake2 = await startFakeOllama();
    fm2 = await startForeman({ ollamaUrl: fake2.url, env: { FOREMAN_TOKEN: "secret-token", FOREMAN_METRICS_PUBLIC: "true" } });
    const open = await fetch(`${fm2.url}/metrics`);
    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toContain("text/plain");
    expect(await open.text()).toContain("foreman_target_up 1");
    for (const [method, path] of [["GET", "/queue"], ["GET", "/api/tags"], ["GET", "/jobs"], ["POST", "/api/chat"]]) {
      const res = await fetch(`${fm2.url}${path}`, { method, body: method === "POST" ? chatBody("llama3.2", "x") : undefined });
      expect([path, res.status]).toEqual([path, 401]);
    }
    expect((await fm2.fetch("/queue")).status).toBe(200); // with the token
    expect((await fetch(`${fm2.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(200);
  });
});

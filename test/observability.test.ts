// What an operator sees: Prometheus metrics after real work, and a job's story in the logs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, startForeman, until, type ForemanProc } from "./support/foreman";

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
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fm.fetch("/metrics")).text();
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

// Webhooks seen by a real receiver: order, signatures (verified with the standardwebhooks package),
// retries while the receiver is down, 410, and delivery across a foreman crash.
import { describe, expect, test } from "bun:test";
import { stopAfterEach } from "./support/cleanup";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, until, type ForemanProc } from "./support/foreman";
import { startReceiver, type Receiver } from "./support/receiver";

const SECRET = "whsec_" + Buffer.from("a-very-secret-key-for-tests-1234").toString("base64");
let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
let rx: Receiver | undefined;

stopAfterEach(() => [fm, fake, rx]);

async function setup(env: Record<string, string> = {}, fakeOpts = {}) {
  fake = await startFakeOllama({ tokenMs: 5, ...fakeOpts });
  rx = await startReceiver();
  fm = await startForeman({
    ollamaUrl: fake.url,
    env: { FOREMAN_WEBHOOK_SECRET: SECRET, FOREMAN_WEBHOOK_BACKOFF: "100ms", ...env },
  });
  return { fake, rx, fm };
}

const submit = (f: ForemanProc, body: unknown) => f.fetch("/jobs", { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
const chat = (content: string) => ({ model: "llama3.2", messages: [{ role: "user", content }] });
const statesFor = (r: Receiver, id: string) => r.received.filter((x) => x.body.job_id === id).map((x) => x.body.state);

describe("webhook events", () => {
  test("every state change, in order, signed; the done event carries result and inline artifacts", async () => {
    const { rx, fm } = await setup();
    const job = await submit(fm, { request: chat("hook me"), webhook_url: rx.url, metadata: { user: "ann" } });
    await until(() => statesFor(rx, job.id).includes("done"));
    expect(statesFor(rx, job.id)).toEqual(["queued", "loading", "working", "done"]);
    const events = rx.received.map((x) => x.body);
    expect(events[0]).toMatchObject({ type: "job.state", job_id: job.id, state: "queued", previous_state: null, model: "llama3.2", attempt: 0, metadata: { user: "ann" }, error: null });
    expect(events.map((e) => e.previous_state)).toEqual([null, "queued", "loading", "working"]);
    const done = events[3];
    expect(done.result.message.content).toBe("Echo: hook me");
    expect(done.artifacts[0]).toMatchObject({ name: "completion", content_type: "application/json" });
    expect(JSON.parse(done.artifacts[0].data).message.content).toBe("Echo: hook me");
    // Standard Webhooks verification with the reference library, and the Go foreman's header.
    const wh = new Webhook(SECRET);
    const key = Buffer.from(SECRET.slice(6), "base64");
    for (const r of rx.received) {
      expect(() => wh.verify(r.raw, r.headers)).not.toThrow();
      expect(r.headers["x-foreman-signature"]).toBe("sha256=" + createHmac("sha256", key).update(r.raw).digest("hex"));
    }
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"])).size).toBe(4);
    // A tampered body fails verification.
    expect(() => wh.verify(rx.received[0].raw.replace("ann", "bob"), rx.received[0].headers)).toThrow();
  });

  test("GET, SSE and webhooks tell the same story in the same order", async () => {
    const { rx, fm } = await setup();
    const job = await submit(fm, { request: chat("[[tokens=3]]"), webhook_url: rx.url });
    const sse = await (await fm.fetch(`/jobs/${job.id}/events`)).text();
    const sseStates = [...sse.matchAll(/event: state\ndata: (.*)/g)].map((m) => JSON.parse(m[1]).state);
    await until(() => statesFor(rx, job.id).includes("done"));
    const hookStates = statesFor(rx, job.id);
    expect(hookStates.slice(hookStates.length - sseStates.length)).toEqual(sseStates);
    expect((await (await fm.fetch(`/jobs/${job.id}`)).json()).state).toBe("done");
  });

  test("a raw (non-whsec) secret is used as bytes", async () => {
    const { rx, fm } = await setup({ FOREMAN_WEBHOOK_SECRET: "plain-secret" });
    const job = await submit(fm, { request: chat("raw"), webhook_url: rx.url });
    await until(() => statesFor(rx, job.id).includes("done"));
    const r = rx.received[0];
    const expected = createHmac("sha256", "plain-secret").update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.raw}`).digest("base64");
    expect(r.headers["webhook-signature"]).toBe(`v1,${expected}`);
  });
});

describe("delivery", () => {
  test("receiver down, then up: every event delivered exactly in order, retries visible", async () => {
    const { rx, fm } = await setup();
    await rx.down();
    const job = await submit(fm, { request: chat("while down"), webhook_url: rx.url });
    await until(async () => (await (await fm.fetch(`/jobs/${job.id}`)).json()).state === "done");
    await until(async () => {
      const d = await (await fm.fetch(`/jobs/${job.id}/deliveries`)).json();
      return d[0]?.attempts >= 2;
    });
    await rx.up();
    await until(() => statesFor(rx, job.id).length === 4, 15_000);
    expect(statesFor(rx, job.id)).toEqual(["queued", "loading", "working", "done"]);
    const deliveries = await (await fm.fetch(`/jobs/${job.id}/deliveries`)).json();
    expect(deliveries.map((d: any) => d.event)).toEqual(["queued", "loading", "working", "done"]);
    expect(deliveries.every((d: any) => d.status === "delivered")).toBe(true);
    expect(deliveries[0].attempts).toBeGreaterThanOrEqual(3);
    expect(deliveries[0].last_status).toBe(200);
  }, 30_000);

  test("a 500 is retried with the same webhook-id; 410 stops delivery for the job", async () => {
    const { rx, fm } = await setup();
    let calls = 0;
    rx.status = () => (++calls === 1 ? 500 : 200);
    const job = await submit(fm, { request: chat("retry"), webhook_url: rx.url });
    await until(() => statesFor(rx, job.id).includes("done"));
    expect(rx.received[0].headers["webhook-id"]).toBe(rx.received[1].headers["webhook-id"]);
    expect(statesFor(rx, job.id)).toEqual(["queued", "queued", "loading", "working", "done"]);

    rx.received.length = 0;
    rx.status = 410;
    const gone = await submit(fm, { request: chat("gone"), webhook_url: rx.url });
    await until(async () => (await (await fm.fetch(`/jobs/${gone.id}`)).json()).state === "done");
    await Bun.sleep(500);
    expect(rx.received.length).toBe(1);
    const deliveries = await (await fm.fetch(`/jobs/${gone.id}/deliveries`)).json();
    expect(deliveries[0]).toMatchObject({ status: "dropped", last_status: 410 });
  });

  test("a receiver that never answers times out and does not stall the worker", async () => {
    const { rx, fm } = await setup({ FOREMAN_WEBHOOK_TIMEOUT: "300ms" });
    rx.delayMs = 5_000;
    const t0 = Date.now();
    const slow = await submit(fm, { request: chat("slow hook"), webhook_url: rx.url });
    const plain = await fm.fetch("/api/chat", { method: "POST", body: JSON.stringify({ ...chat("not blocked"), stream: false }) });
    expect(plain.status).toBe(200);
    await until(async () => (await (await fm.fetch(`/jobs/${slow.id}`)).json()).state === "done");
    expect(Date.now() - t0).toBeLessThan(3000);
    await until(async () => (await (await fm.fetch(`/jobs/${slow.id}/deliveries`)).json())[0]?.last_error?.includes("no answer"));
  });

  test("kill -9 mid-job: after restart the async job completes and no event is lost", async () => {
    const { fake, rx, fm: first } = await setup({}, { tokenMs: 50 });
    const job = await submit(first, { request: chat("[[tokens=60]]"), webhook_url: rx.url });
    await until(() => fake.activeGenerations > 0);
    await first.kill9();
    fm = await startForeman({ ollamaUrl: fake.url, dbPath: first.dbPath, env: { FOREMAN_WEBHOOK_SECRET: SECRET, FOREMAN_WEBHOOK_BACKOFF: "100ms" } });
    const done = await until(async () => {
      const j = await (await fm!.fetch(`/jobs/${job.id}`)).json();
      return j.state === "done" ? j : null;
    }, 20_000);
    expect(done.result.message.content.trim().split(" ").length).toBe(60);
    expect(done.attempt).toBe(2);
    await until(() => statesFor(rx, job.id).includes("done"));
    const states = statesFor(rx, job.id);
    // Delivered at least once each, in order: the run interrupted by the crash, then the rerun.
    const dedup = states.filter((s, i) => s !== states[i - 1]);
    expect(dedup.slice(0, 4)).toEqual(["queued", "loading", "working", "queued"]);
    expect(dedup[dedup.length - 1]).toBe("done");
  }, 30_000);
});

// The OpenAPI document at /docs/json: every job/queue route is described (summary, bearer security,
// success and error responses, a real chat job as example), and what it says is what foreman answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TSchema } from "elysia";
import { Value } from "@sinclair/typebox/value";
import { ArtifactList, DeliveryList, EXAMPLE_JOB, JobPage, JobSchema, QueueSchema } from "../src/http/job-schemas";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, until, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;
let doc: any;
const TOKEN = "openapi-token";
const UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"; // a valid ULID no job has

// The error statuses each operation must document, besides 401 (every route sits behind the token).
const ERRORS: Record<string, number[]> = {
  "post /jobs": [400, 404, 409, 413, 503],
  "get /jobs": [400, 503],
  "get /jobs/{id}": [400, 404, 503],
  "delete /jobs/{id}": [400, 404, 409, 503],
  "get /jobs/{id}/events": [400, 404, 503],
  "get /jobs/{id}/artifacts": [400, 404, 503],
  "get /jobs/{id}/artifacts/{name}": [400, 404, 503],
  "get /jobs/{id}/deliveries": [400, 404, 503],
  "get /queue": [400, 503],
};

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 1, loadMs: 10 });
  // A small body limit so a 413 is cheap to provoke.
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: TOKEN, FOREMAN_MAX_BODY: "1KiB" } });
  const res = await fetch(`${fm.url}/docs/json`); // public: no token
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const operation = (key: string) => {
  const [method, path] = key.split(" ");
  return doc.paths[path][method];
};
const jsonSchema = (key: string, status: number) => operation(key).responses[status].content["application/json"].schema;

/** Checks a real answer: the status is documented for the operation, and an error has the documented body. */
async function expectDocumented(key: string, res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(Object.keys(operation(key).responses)).toContain(String(status));
  if (status >= 400) expect(await res.json()).toEqual({ error: expect.any(String) });
}

/** The real body matches the schema the document was generated from. */
function expectMatches(schema: TSchema, value: unknown) {
  expect([...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
}

/** A real job: matches JobSchema, and has no field the document leaves out (the schema allows extras). */
function expectJob(job: Record<string, unknown>) {
  expectMatches(JobSchema, job);
  expect(Object.keys(JobSchema.properties)).toEqual(expect.arrayContaining(Object.keys(job)));
}

const chatJob = (content: string) => fm.fetch("/jobs", {
  method: "POST", body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content }] } }),
});

describe("the document", () => {
  test("lists exactly the job and queue operations", () => {
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith("/jobs") || path.startsWith("/queue"))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect(ops.sort()).toEqual(Object.keys(ERRORS).sort());
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
  });

  test.each(Object.entries(ERRORS))("%s: summary, security, success and error responses", (key, statuses) => {
    const op = operation(key);
    expect(op.summary).toBeString();
    expect(op.summary.length).toBeGreaterThan(0);
    expect(op.security).toContainEqual({ bearerAuth: [] });
    const codes = Object.keys(op.responses).map(Number);
    expect(codes.some((c) => c >= 200 && c < 300)).toBe(true);
    expect(codes).toContain(401);
    for (const s of statuses) expect(codes).toContain(s);
    for (const s of codes.filter((c) => c >= 400)) {
      expect(op.responses[s].description).not.toMatch(/^Response for status/); // the plugin's placeholder
      const schema = jsonSchema(key, s);
      expect(schema.required).toContain("error");
      expect(schema.properties.error.type).toBe("string");
    }
  });

  test("examples: a chat request to submit, a done chat job", () => {
    const body = operation("post /jobs").requestBody.content["application/json"].schema;
    expect(body.examples[0].request).toMatchObject({ model: expect.any(String), messages: [{ role: "user", content: expect.any(String) }] });

    const job = jsonSchema("get /jobs/{id}", 200).examples[0];
    expect(job.state).toBe("done");
    expect(job.result.message.content).toBeString();
    expect(job.result.message.content.length).toBeGreaterThan(0);
    expect(jsonSchema("post /jobs", 202).examples[0].state).toBe("queued");
    // The examples are valid instances of their own schemas.
    expectMatches(JobSchema, EXAMPLE_JOB);
    expectMatches(JobSchema, jsonSchema("post /jobs", 202).examples[0]);
  });

  test("non-JSON successes: the event stream and the artifact download", () => {
    const sse = operation("get /jobs/{id}/events").responses[200].content["text/event-stream"];
    expect(sse.example).toStartWith("event: state\ndata: {");
    expect(Object.keys(operation("get /jobs/{id}/artifacts/{name}").responses[200].content)).toEqual(["*/*"]);
  });
});

describe("the document is true", () => {
  test("documented errors are the ones foreman answers", async () => {
    await expectDocumented("get /jobs", await fetch(`${fm.url}/jobs`), 401);
    await expectDocumented("get /jobs/{id}", await fetch(`${fm.url}/jobs/${UNKNOWN}`, { headers: { authorization: "Bearer wrong" } }), 401);
    await expectDocumented("get /jobs/{id}", await fm.fetch("/jobs/NOTAULID"), 400);
    await expectDocumented("get /jobs/{id}", await fm.fetch(`/jobs/${UNKNOWN}`), 404);
    await expectDocumented("delete /jobs/{id}", await fm.fetch(`/jobs/${UNKNOWN}`, { method: "DELETE" }), 404);
    await expectDocumented("get /jobs", await fm.fetch("/jobs?limit=0"), 400);
    await expectDocumented("get /jobs", await fm.fetch("/jobs?state=sleeping"), 400);
    await expectDocumented("get /queue", await fm.fetch("/queue?next=lots"), 400);
    await expectDocumented("get /jobs/{id}/events", await fm.fetch(`/jobs/${UNKNOWN}/events`), 404);
    await expectDocumented("get /jobs/{id}/artifacts", await fm.fetch(`/jobs/${UNKNOWN}/artifacts`), 404);
    await expectDocumented("get /jobs/{id}/artifacts/{name}", await fm.fetch(`/jobs/${UNKNOWN}/artifacts/out.png`), 404);
    await expectDocumented("get /jobs/{id}/deliveries", await fm.fetch("/jobs/nope/deliveries"), 400);
    await expectDocumented("post /jobs", await fm.fetch("/jobs", { method: "POST", body: "{" }), 400);
    await expectDocumented("post /jobs", await chatJob("x".repeat(2000)), 413);
    await expectDocumented("post /jobs", await fm.fetch("/jobs", {
      method: "POST", body: JSON.stringify({ request: { model: "no-such-model", messages: [] } }),
    }), 404);
  });

  test("a real chat job matches the documented schemas, and its answers the documented statuses", async () => {
    const submitted = await fm.fetch("/jobs", {
      method: "POST", headers: { "idempotency-key": "docs-1" },
      body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "Why is the sky blue?" }] } }),
    });
    expect(submitted.status).toBe(202);
    const queued = await submitted.json();
    expectJob(queued);
    await expectDocumented("post /jobs", await fm.fetch("/jobs", {
      method: "POST", headers: { "idempotency-key": "docs-1" }, body: JSON.stringify({ request: { model: "llama3.2", prompt: "other" } }),
    }), 409);

    const done = await until(async () => {
      const job = await (await fm.fetch(`/jobs/${queued.id}`)).json();
      return job.state === "done" && job;
    });
    expectJob(done);
    // The example's result is shaped like the real one (Ollama's non-stream /api/chat answer).
    expect(Object.keys(done.result)).toEqual(expect.arrayContaining(Object.keys(EXAMPLE_JOB.result)));
    expect(done.result.message.content).toBeString();

    await expectDocumented("delete /jobs/{id}", await fm.fetch(`/jobs/${queued.id}`, { method: "DELETE" }), 409);
    expectMatches(JobPage, await (await fm.fetch("/jobs?limit=5")).json());
    expectMatches(ArtifactList, await (await fm.fetch(`/jobs/${queued.id}/artifacts`)).json());
    expectMatches(DeliveryList, await (await fm.fetch(`/jobs/${queued.id}/deliveries`)).json());
    expectMatches(QueueSchema, await (await fm.fetch("/queue")).json());

    const events = await fm.fetch(`/jobs/${queued.id}/events`);
    await expectDocumented("get /jobs/{id}/events", events, 200);
    expect(events.headers.get("content-type")).toStartWith("text/event-stream");
    expect(await events.text()).toStartWith("event: state\ndata: ");
  });
});

// The async job API: submit, list, inspect, cancel, follow (SSE), artifacts and webhook deliveries.
// Request shapes are Elysia `t` schemas, which also generate the OpenAPI document; the response
// schemas (job-schemas.ts) only document, since every route answers with a `Response`.
import { Elysia, t } from "elysia";
import { jobView } from "../jobs/view";
import { m } from "../metrics/metrics";
import { JOB_ENDPOINTS, QueueFullError, SubmitError, submitAsyncJob } from "../jobs/submit";
import { normalizeModel } from "../ollama/names";
import type { Services } from "../services";
import type { JobState } from "../store/jobs";
import { artifactUrl } from "../webhooks/outbox";
import { jobEvents } from "./job-events";
import { jobWithPosition, queueStatus } from "../queue/status";
import {
  ArtifactList, DeliveryList, EXAMPLE_QUEUED, errorResponses, errors, JobPage, JobSchema, QueueSchema, SSE_EXAMPLE, STATES, ULID,
} from "./job-schemas";
import { readJSON } from "./body";
import { json, ollamaError } from "./responses";

const Id = t.Object({ id: t.String({ pattern: ULID, description: "job id (ULID)" }) });

const SubmitSchema = t.Object({
  endpoint: t.Optional(t.UnionEnum(JOB_ENDPOINTS, { description: "which Ollama endpoint runs the request", default: "/api/chat" })),
  request: t.Optional(t.Record(t.String(), t.Any(), {
    description: "exactly the Ollama request body, including model",
    examples: [{ model: "llama3.2", messages: [{ role: "user", content: "Why is the sky blue?" }] }],
  })),
  webhook_url: t.Optional(t.String({ description: "http(s) URL that receives a signed POST on every state change", maxLength: 2048 })),
  state_webhook_url: t.Optional(t.String({ description: "alias of webhook_url (the original Go foreman's name)", maxLength: 2048 })),
  priority: t.Optional(t.Integer({ minimum: -100, maximum: 100, default: 0, description: "higher runs first" })),
  metadata: t.Optional(t.Record(t.String(), t.Any(), { description: "opaque; echoed in the job and its webhooks" })),
  idempotency_key: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
}, {
  additionalProperties: true,
  examples: [{
    request: { model: "llama3.2", messages: [{ role: "user", content: "Why is the sky blue?" }] },
    webhook_url: "https://example.com/hooks/foreman", metadata: { user: "alice" },
  }],
});

const ListQuery = t.Object({
  state: t.Optional(t.String({ pattern: `^(${STATES.join("|")})(,(${STATES.join("|")}))*$`, description: "comma list of states" })),
  model: t.Optional(t.String({ maxLength: 512 })),
  origin: t.Optional(t.String({ pattern: "^(sync|async)$", description: "sync (passthrough callers) or async (/jobs)" })),
  limit: t.Optional(t.String({ pattern: "^[0-9]{1,6}$", description: "page size, 1 to 500 (default 50)" })),
  before: t.Optional(t.String({ pattern: ULID, description: "cursor: the `next` of the previous page" })),
});

const detail = (summary: string, description?: string, tag = "jobs") =>
  ({ tags: [tag], summary, description, security: [{ bearerAuth: [] }] });

const BAD_ID = "The id is not a ULID";
const NO_JOB = "No job with this id";

export function jobRoutes(svc: Services) {
  const { store, queue, config } = svc;
  const notFound = (id: string) => ollamaError(404, `job ${id} not found`);

  return new Elysia()
    .post("/jobs", async ({ body, request }) => {
      try {
        const { job, created } = await submitAsyncJob(svc, body, request.headers.get("idempotency-key"));
        return json(jobWithPosition(svc, job, { followChanges: false }), created ? 202 : 200, { location: `/jobs/${job.id}` });
      } catch (err) {
        if (err instanceof QueueFullError) {
          m.queueFull.inc({ route: "/jobs" });
          return ollamaError(503, err.message, { "retry-after": String(err.retryAfter) });
        }
        if (err instanceof SubmitError) return ollamaError(err.status, err.message);
        throw err;
      }
    }, {
      // Our own reader first: the size limit counts chunked bodies too, and any Content-Type is JSON.
      // ("json" after it is never reached; it tells the OpenAPI document the body is JSON.)
      parse: [({ request }) => readJSON(request, config.maxBodyBytes), "json"],
      body: SubmitSchema,
      detail: detail("Submit a job", "Queues an Ollama chat/generate request. Answers 202 with the job; "
        + "with an Idempotency-Key already used for the same body, 200 with the existing job (409 for a different body)."),
      response: {
        200: t.Object(JobSchema.properties, { description: "Idempotency-Key seen before with the same body: the existing job", examples: JobSchema.examples }),
        202: t.Object(JobSchema.properties, { description: "Queued: the new job (Location: /jobs/{id})", examples: [EXAMPLE_QUEUED] }),
        ...errors({
          400: "Invalid JSON, or a field or the Ollama request is invalid",
          404: "The model is not on the Ollama server",
          409: "Idempotency-Key already used for a different request",
          413: "Body larger than FOREMAN_MAX_BODY (default 64 MiB)",
          503: "Queue full (FOREMAN_MAX_QUEUE; see Retry-After), or storage unavailable",
        }),
      },
    })
    .get("/jobs", ({ query }) => {
      const limit = Number(query.limit ?? 50);
      if (limit < 1 || limit > 500) return ollamaError(400, "invalid field 'limit': must be from 1 to 500");
      const rows = store.list({
        states: query.state?.split(",") as JobState[] | undefined,
        modelKey: query.model ? normalizeModel(query.model) : undefined,
        origin: query.origin as "sync" | "async" | undefined, before: query.before?.toUpperCase(), limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const jobs = page.map((r) => jobWithPosition(svc, r, { withResult: false }));
      return json({ jobs, next: rows.length > limit ? page[page.length - 1].id : null });
    }, {
      query: ListQuery, detail: detail("List jobs", "Newest first; pass `next` as `before` for the next page."),
      response: { 200: JobPage, ...errors({ 400: "A query parameter is invalid (or limit is not 1 to 500)" }) },
    })
    .get("/jobs/:id", ({ params }) => {
      const row = store.get(params.id.toUpperCase());
      return row ? json(jobWithPosition(svc, row)) : notFound(params.id);
    }, {
      params: Id, detail: detail("Get a job", "With the complete non-stream result once done."),
      response: { 200: JobSchema, ...errors({ 400: BAD_ID, 404: NO_JOB }) },
    })
    .delete("/jobs/:id", async ({ params }) => {
      const out = await queue.cancel(params.id.toUpperCase(), "cancelled by request");
      if (out.ok) return json(jobView(out.job));
      if (out.reason === "not_found") return notFound(params.id);
      return ollamaError(409, `job ${params.id} already ${out.job!.state}`);
    }, {
      params: Id, detail: detail("Cancel a job", "Queued: cancelled at once. Running: the Ollama request is aborted. Finished: 409."),
      response: { 200: JobSchema, ...errors({ 400: BAD_ID, 404: NO_JOB, 409: "The job already finished (done, failed or cancelled)" }) },
    })
    .get("/jobs/:id/events", ({ params, request }) => {
      const id = params.id.toUpperCase();
      return store.get(id) ? jobEvents(svc, id, request) : notFound(params.id);
    }, {
      params: Id,
      // No `response`: @elysiajs/openapi would rebuild `responses` from it, as JSON or text/plain only.
      detail: {
        ...detail("Follow a job (Server-Sent Events)",
          "`event: state` with the job JSON on every change (the current state first), `event: chunk` with each Ollama chunk while working; ends after the terminal state."),
        responses: {
          200: { description: "The event stream", content: { "text/event-stream": { schema: { type: "string" }, example: SSE_EXAMPLE } } },
          ...errorResponses({ 400: BAD_ID, 404: NO_JOB }),
        },
      },
    })
    .get("/jobs/:id/artifacts", ({ params }) => {
      const id = params.id.toUpperCase();
      if (!store.get(id)) return notFound(params.id);
      return json(store.artifacts(id).map((a) => ({ ...a, url: artifactUrl(config.publicUrl, id, a.name) })));
    }, { params: Id, detail: detail("List a job's artifacts"), response: { 200: ArtifactList, ...errors({ 400: BAD_ID, 404: NO_JOB }) } })
    .get("/jobs/:id/artifacts/:name", ({ params }) => {
      const a = store.artifact(params.id.toUpperCase(), params.name);
      if (!a) return ollamaError(404, `artifact ${params.name} of job ${params.id} not found`);
      return new Response(a.data, { headers: { "content-type": a.content_type } });
    }, {
      params: t.Object({ id: t.String({ pattern: ULID }), name: t.String({ minLength: 1, maxLength: 255 }) }),
      // `detail.responses` for the same reason as the event stream: the body is any type, not JSON.
      detail: {
        ...detail("Download an artifact"),
        responses: {
          200: { description: "The file, with its own Content-Type", content: { "*/*": { schema: { type: "string", format: "binary" } } } },
          ...errorResponses({ 400: "The id is not a ULID, or the name is empty or too long", 404: "No such job, or no artifact of that name" }),
        },
      },
    })
    .get("/queue", ({ query }) => json(queueStatus(svc, Number(query.next ?? 20))), {
      query: t.Object({ next: t.Optional(t.String({ pattern: "^[0-9]{1,3}$", description: "how many upcoming jobs to list (max 200)" })) }),
      detail: detail("The queue as the scheduler sees it", "Resident models, the running job, queued counts by model and priority, "
        + "learned load/run times, and the next jobs in the order the scheduler would take them, with ETAs.", "queue"),
      response: { 200: QueueSchema, ...errors({ 400: "next is not a number from 0 to 999" }) },
    })
    .get("/jobs/:id/deliveries", ({ params }) => {
      const id = params.id.toUpperCase();
      if (!store.get(id)) return notFound(params.id);
      return json(svc.dispatcher.deliveries(id).map((e) => ({
        id: e.id, event: e.state, status: e.status, attempts: e.attempts, last_status: e.last_status,
        last_error: e.last_error, next_attempt_at: e.status === "pending" ? new Date(e.next_attempt_at).toISOString() : null,
        delivered_at: e.delivered_at === null ? null : new Date(e.delivered_at).toISOString(),
      })));
    }, { params: Id, detail: detail("Webhook deliveries of a job"), response: { 200: DeliveryList, ...errors({ 400: BAD_ID, 404: NO_JOB }) } });
}

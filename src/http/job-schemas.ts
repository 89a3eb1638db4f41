// Response schemas of the job API, for the OpenAPI document. Documentation only: the routes answer
// with `Response` objects (json()/ollamaError()), which Elysia passes through without validating.
import { Type } from "@sinclair/typebox";
import { t, type TSchema } from "elysia";
import { JOB_ENDPOINTS } from "../jobs/submit";
import type { JobState } from "../store/jobs";

export const STATES: JobState[] = ["queued", "loading", "working", "done", "failed", "cancelled"];
export const ULID = "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$";

// `t.String({ enum })` rather than t.UnionEnum: that one adds a `default`, wrong for a response field.
const oneOf = (values: readonly string[], description: string) => t.String({ enum: [...values], description });
// TypeBox's Integer: Elysia's t.Integer also takes integer strings (for query coercion), which would
// document every count here as "string or integer".
const int = (description?: string) => Type.Integer({ description });
const time = (description: string) => t.String({ format: "date-time", description });
const maybe = <T extends TSchema>(schema: T, description: string) => t.Nullable(schema, { description });

const ID = "01JXQ4M7ZK3V8N5R2T6W9YB0CD";
const ANSWER = "The sky looks blue because of Rayleigh scattering: air molecules scatter short (blue) wavelengths "
  + "of sunlight far more than long (red) ones, so blue light reaches your eyes from every direction of the sky.";

/** A finished chat job as GET /jobs/{id} returns it; `result` is Ollama's non-stream /api/chat answer. */
export const EXAMPLE_JOB = {
  id: ID, job_id: ID, state: "done", endpoint: "/api/chat", model: "llama3.2", origin: "async",
  priority: 0, attempt: 1, max_attempts: 3,
  created_at: "2025-06-14T11:54:01.075Z", started_at: "2025-06-14T11:54:01.081Z",
  finished_at: "2025-06-14T11:54:05.199Z", updated_at: "2025-06-14T11:54:05.199Z",
  load_ms: 2134, ollama_load_ms: 15, error: null, metadata: { user: "alice" }, webhook_url: "https://example.com/hooks/foreman",
  result: {
    model: "llama3.2", created_at: "2025-06-14T11:54:05.196874Z",
    message: { role: "assistant", content: ANSWER },
    done_reason: "stop", done: true,
    total_duration: 1983507625, load_duration: 14873042,
    prompt_eval_count: 31, prompt_eval_duration: 186204000, eval_count: 48, eval_duration: 1764112000,
  },
};

const { result: _, ...unfinished } = EXAMPLE_JOB;
/** The same job as POST /jobs answers it: just queued, first in line. */
export const EXAMPLE_QUEUED = {
  ...unfinished, state: "queued", attempt: 0, started_at: null, finished_at: null, updated_at: EXAMPLE_JOB.created_at,
  load_ms: null, ollama_load_ms: null, position: 1, eta: 0,
};

const jobFields = {
  id: t.String({ description: "job id (ULID)" }),
  job_id: t.String({ description: "the same id (the original Go foreman's field name)" }),
  state: oneOf(STATES, "queued → loading → working → done | failed | cancelled"),
  endpoint: oneOf(JOB_ENDPOINTS, "the Ollama (or OpenAI-compatible) endpoint the request runs on"),
  model: t.String({ description: "the model as requested" }),
  origin: oneOf(["sync", "async"], "async: submitted to /jobs; sync: a passthrough call to /api/* or /v1/*"),
  priority: int("higher runs first"),
  attempt: int("attempts started so far"),
  max_attempts: int(),
  created_at: time("when submitted"),
  started_at: maybe(time("when the first attempt started"), "null until started"),
  finished_at: maybe(time("when it reached done, failed or cancelled"), "null until finished"),
  updated_at: time("the last state change"),
  load_ms: maybe(int(), "how long foreman's explicit model load took (the loading state); null when the model was resident"),
  ollama_load_ms: maybe(int(), "Ollama's load_duration for the request itself, in ms (a few ms when the model was warm)"),
  error: maybe(t.String(), "why it failed or was cancelled"),
  metadata: t.Any({ description: "as submitted; null when none" }),
  webhook_url: maybe(t.String(), "where state changes are POSTed"),
  result: t.Optional(t.Any({ description: "Done jobs only, and not in listings: the endpoint's complete non-stream response" })),
  position: t.Optional(maybe(int(), "queued jobs only: 1 = next; null when beyond the forecast")),
  eta: t.Optional(maybe(t.Number(), "queued jobs only: estimated seconds until it starts")),
};

export const JobSchema = t.Object(jobFields, { description: "A job", examples: [EXAMPLE_JOB] });

export const JobPage = t.Object({
  jobs: t.Array(JobSchema, { description: "newest first, without `result`" }),
  next: maybe(t.String(), "pass as `before` for the next page; null on the last page"),
});

export const ArtifactList = t.Array(t.Object({
  name: t.String(),
  content_type: t.String(),
  size: int("bytes"),
  url: t.String({ description: "where to download it (FOREMAN_PUBLIC_URL based)" }),
}), { description: "Files a job produced (e.g. images)" });

export const DeliveryList = t.Array(t.Object({
  id: t.String({ description: "the webhook-id header, the same on every retry" }),
  event: oneOf(STATES, "the job state this delivery announces"),
  status: oneOf(["pending", "delivered", "failed", "dropped"], "dropped: the receiver answered 410 Gone"),
  attempts: int(),
  last_status: maybe(int(), "the receiver's HTTP status on the last attempt"),
  last_error: maybe(t.String(), "why the last attempt failed"),
  next_attempt_at: maybe(time("next retry"), "set while pending"),
  delivered_at: maybe(time("when the receiver accepted it"), "null until delivered"),
}), { description: "Webhook deliveries of the job, oldest first" });

// Loose: the scheduler's view grows fields; clients should ignore the ones they don't know.
export const QueueSchema = t.Object({
  resident: t.Array(t.String(), { description: "models loaded in Ollama now" }),
  worker_model: maybe(t.String(), "the model the worker last ran"),
  running: maybe(JobSchema, "the job running now"),
  queued: t.Object({
    total: int(),
    by_model: t.Record(t.String(), t.Record(t.String(), int()), { description: "model → priority → count" }),
  }),
  models: t.Record(t.String(), t.Object({
    load_ms: maybe(int(), "average model load (foreman's timing of its load, or Ollama's load_duration when Ollama loaded it)"),
    load_samples: int("loads averaged"),
    run_ms: maybe(int(), "average run time without the load"),
    samples: int("finished jobs averaged"),
  }), { description: "learned per model (drain key): what ETAs and Retry-After are computed from" }),
  next: t.Array(t.Object({
    id: t.String(), model: t.String(), priority: int(), position: int(),
    eta: t.Number({ description: "seconds until it should start" }),
    reason: t.String({ description: "why the scheduler takes it then, e.g. drain, priority, oldest, starvation" }),
  }), { description: "the next jobs in the order the scheduler would take them" }),
  target: t.Object({ url: t.String(), degraded: t.Boolean(), error: maybe(t.String(), "the last error reaching Ollama") },
    { additionalProperties: true }),
}, { additionalProperties: true, description: "The queue as the scheduler sees it" });

const UNAUTHORIZED = "Missing or wrong bearer token (only when FOREMAN_TOKEN is set)";
const STORAGE = "Storage unavailable: the database could not be read or written";

/** Ollama's error shape, with what the status means on this route. */
const errorBody = (description: string) => t.Object({ error: t.String() }, { description });

/** A route's error responses; every route can answer 401 (token) and 503 (storage). */
export function errors(described: Record<number, string>) {
  const all: Record<number, string> = { 401: UNAUTHORIZED, 503: STORAGE, ...described };
  return Object.fromEntries(Object.entries(all).map(([status, d]) => [status, errorBody(d)])) as Record<number, ReturnType<typeof errorBody>>;
}

/**
 * The same as raw OpenAPI response objects, for routes whose success body @elysiajs/openapi cannot
 * describe (it only emits application/json or text/plain): there `detail.responses` says it all.
 */
export function errorResponses(described: Record<number, string>) {
  return Object.fromEntries(Object.entries(errors(described)).map(([status, schema]) =>
    [status, { description: schema.description!, content: { "application/json": { schema } } }]));
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const SSE_EXAMPLE = sse("state", { ...unfinished, state: "working", finished_at: null, updated_at: "2025-06-14T11:54:03.215Z", ollama_load_ms: null })
  + sse("chunk", { model: "llama3.2", created_at: "2025-06-14T11:54:03.421Z", message: { role: "assistant", content: "The" }, done: false })
  + sse("state", EXAMPLE_JOB);

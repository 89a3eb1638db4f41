// Turning a POST /jobs body into a queued async job: both accepted forms, validation as the
// passthrough validates, and idempotency keys (same key + same body → the same job).
import { createHash } from "node:crypto";
import type { Config } from "../config";
import { RequestError, validateInference } from "../http/ollama-validate";
import type { Inventory } from "../ollama/inventory";
import { drainKey } from "../ollama/names";
import { chatToNative, completionToNative, OpenAIRequestError } from "../openai/translate";
import { JOB_ENDPOINTS } from "../queue/endpoints";
import type { Forecaster } from "../queue/forecaster";
import type { JobQueue } from "../queue/queue";
import type { JobRow } from "../store/jobs";

export { JOB_ENDPOINTS };
export type JobEndpoint = (typeof JOB_ENDPOINTS)[number];

/** Fields of the job envelope; in the Go form they sit beside the chat body and are stripped from it. */
const ENVELOPE = ["endpoint", "request", "webhook_url", "state_webhook_url", "priority", "metadata", "idempotency_key"];
const MAX_METADATA_BYTES = 64 * 1024;

export interface SubmitBody {
  endpoint?: string;
  request?: Record<string, unknown>;
  webhook_url?: string;
  state_webhook_url?: string;
  priority?: number;
  metadata?: Record<string, unknown>;
  idempotency_key?: string;
  [k: string]: unknown;
}

export type SubmitOutcome = { job: JobRow; created: boolean };

export class SubmitError extends RequestError {}

/** FOREMAN_MAX_QUEUE reached; `retryAfter` in seconds. */
export class QueueFullError extends SubmitError {
  constructor(readonly retryAfter: number, maxQueue: number) {
    super(503, `queue full: ${maxQueue} jobs already waiting (FOREMAN_MAX_QUEUE); retry later`);
  }
}

/** The Ollama request in either form: {endpoint, request} or the Go foreman's bare /api/chat body. */
function normalize(body: SubmitBody): { endpoint: JobEndpoint; request: Record<string, unknown> } {
  if (body.request !== undefined) {
    const endpoint = (body.endpoint ?? "/api/chat") as JobEndpoint;
    return { endpoint, request: body.request };
  }
  if (body.model === undefined && body.messages === undefined) {
    throw new SubmitError(400, "invalid field 'request': required (an Ollama request body, including model)");
  }
  const request = Object.fromEntries(Object.entries(body).filter(([k]) => !ENVELOPE.includes(k)));
  return { endpoint: (body.endpoint ?? "/api/chat") as JobEndpoint, request };
}

function checkWebhookUrl(url: string | undefined): string | null {
  if (url === undefined || url === "") return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SubmitError(400, `invalid field 'webhook_url': not a URL: ${JSON.stringify(url.slice(0, 200))}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new SubmitError(400, `invalid field 'webhook_url': must be http or https, not ${parsed.protocol}`);
  }
  return url;
}

export async function submitAsyncJob(
  deps: { queue: JobQueue; forecaster: Forecaster; inventory: Inventory; config: Config },
  body: SubmitBody,
  idempotencyHeader: string | null,
): Promise<SubmitOutcome> {
  const { endpoint, request } = normalize(body);
  const native = validated(endpoint, request);
  const webhookUrl = checkWebhookUrl(body.webhook_url ?? body.state_webhook_url);
  if (body.metadata !== undefined && JSON.stringify(body.metadata).length > MAX_METADATA_BYTES) {
    throw new SubmitError(400, `invalid field 'metadata': larger than ${MAX_METADATA_BYTES} bytes`);
  }
  // A blank key is no key (fetch trims header values, so "" is what a space-only key becomes).
  const key = idempotencyHeader?.trim() || body.idempotency_key || null;
  if (key && key.length > 255) throw new SubmitError(400, "invalid Idempotency-Key: longer than 255 characters");
  const hash = createHash("sha256")
    .update(JSON.stringify([endpoint, request, webhookUrl, body.priority ?? 0, body.metadata ?? null]))
    .digest("hex");
  if (key) {
    const existing = deps.queue.store.byIdempotencyKey(key);
    if (existing) return sameKey(existing, hash);
  }
  // After the key lookup: re-submitting a job that is already queued is never refused as "full".
  const retryAfter = deps.forecaster.retryAfter();
  if (retryAfter !== null) throw new QueueFullError(retryAfter, deps.config.maxQueue);
  const model = native.model as string;
  if (deps.inventory.known && !(await deps.inventory.ensureKnown(model))) {
    throw new SubmitError(404, `model '${model}' not found`);
  }
  try {
    const job = deps.queue.submit({
      origin: "async", endpoint, model, modelKey: drainKey(model, native.options), request,
      priority: body.priority ?? 0, maxAttempts: deps.config.maxAttempts, webhookUrl,
      metadata: body.metadata, idempotencyKey: key, requestHash: hash,
    });
    return { job, created: true };
  } catch (err) {
    // Two submissions with the same key raced; the other one won.
    const existing = key ? deps.queue.store.byIdempotencyKey(key) : null;
    if (existing) return sameKey(existing, hash);
    throw err;
  }
}

/** The request validated as its route validates it; returns the native Ollama body it runs as. */
function validated(endpoint: JobEndpoint, request: Record<string, unknown>): Record<string, unknown> {
  try {
    if (endpoint === "/v1/chat/completions") return chatToNative(request).native;
    if (endpoint === "/v1/completions") return completionToNative(request).native;
    return validateInference(endpoint, request);
  } catch (err) {
    if (err instanceof RequestError || err instanceof OpenAIRequestError) {
      throw new SubmitError(err.status, err.status === 404 ? err.message : `invalid field 'request': ${err.message}`);
    }
    throw err;
  }
}

function sameKey(existing: JobRow, hash: string): SubmitOutcome {
  if (existing.request_hash !== hash) {
    throw new SubmitError(409, "idempotency key already used for a different request");
  }
  return { job: existing, created: false };
}

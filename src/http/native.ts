// The native Ollama routes. Chat and generate become sync jobs; embeddings and /api/show are
// proxied straight to the target; tags, ps and version come from the inventory.
import { Elysia } from "elysia";
import { m } from "../metrics/metrics";
import { drainKey } from "../ollama/names";
import { QUEUE_FULL_MESSAGE } from "../queue/queue";
import { requestKind } from "../queue/requests";
import type { Services } from "../services";
import { decodeJSON, readBody } from "./body";
import { parsePriority, RequestError, validateInference } from "./ollama-validate";
import { answerSyncJob, ollamaWire } from "./passthrough";
import { proxy, proxyBlob } from "./proxy";
import { json, ollamaError, text } from "./responses";

type Endpoint = "/api/chat" | "/api/generate";

export function nativeRoutes(svc: Services) {
  const { inventory, queue, config } = svc;

  async function inference(endpoint: Endpoint, request: Request): Promise<Response> {
    const decoded = decodeJSON(await readBody(request, config.maxBodyBytes));
    if (!decoded.ok) return ollamaError(400, decoded.error);
    let body: Record<string, unknown>;
    let priority: number;
    try {
      body = validateInference(endpoint, decoded.value);
      priority = parsePriority(request.headers.get("x-foreman-priority"));
    } catch (err) {
      if (err instanceof RequestError) return ollamaError(err.status, err.message);
      throw err;
    }
    const model = body.model as string;
    const retryAfter = svc.forecaster.retryAfter();
    if (retryAfter !== null) {
      m.queueFull.inc({ route: endpoint });
      return ollamaError(503, QUEUE_FULL_MESSAGE, { "retry-after": String(retryAfter) });
    }
    // With no inventory yet (target never reached) the job is accepted and waits for the target.
    if (inventory.known && !(await inventory.ensureKnown(model))) {
      return ollamaError(404, `model '${model}' not found`);
    }
    const job = queue.submit({
      origin: "sync", endpoint, model, modelKey: drainKey(model, body.options), request: body,
      priority, maxAttempts: config.maxAttempts,
    });
    const sub = queue.hub.subscribe(job.id);
    const stream = body.stream !== false && requestKind(endpoint, body) === "work";
    return answerSyncJob({ queue, request, job, sub, stream, heartbeatMs: config.streamHeartbeatMs, wire: ollamaWire(job) });
  }

  /** Inventory answers refresh first (single-flight), falling back to the last good copy. */
  async function fromInventory<T>(pick: () => T): Promise<Response> {
    await inventory.refresh();
    if (!inventory.known) return ollamaError(502, `ollama target unreachable: ${inventory.lastError ?? "no answer"}`);
    return json(pick());
  }

  const running = () => text("Ollama is running");
  const refresh = () => void inventory.refresh({ fresh: true }); // the models just changed
  return new Elysia()
    .get("/", running)
    .head("/", running)
    .get("/healthz", () => json({ status: "ok", degraded: inventory.degraded }))
    .get("/api/version", () => fromInventory(() => ({ version: inventory.version })))
    .head("/api/version", () => fromInventory(() => ({ version: inventory.version })))
    .get("/api/tags", () => fromInventory(() => ({ models: inventory.tags })))
    .head("/api/tags", () => fromInventory(() => ({ models: inventory.tags })))
    .get("/api/ps", () => fromInventory(() => ({ models: inventory.ps })))
    .post("/api/chat", ({ request }) => inference("/api/chat", request), { parse: "none" })
    .post("/api/generate", ({ request }) => inference("/api/generate", request), { parse: "none" })
    .post("/api/show", ({ request }) => proxy(svc, request, "/api/show"), { parse: "none" })
    .post("/api/embed", ({ request }) => proxy(svc, request, "/api/embed"), { parse: "none" })
    .post("/api/embeddings", ({ request }) => proxy(svc, request, "/api/embeddings"), { parse: "none" })
    // Model management: straight through, progress streams intact; the inventory is refreshed once
    // the target has answered, so the next request sees the change.
    .post("/api/pull", ({ request }) => proxy(svc, request, "/api/pull", "POST", refresh), { parse: "none" })
    .post("/api/push", ({ request }) => proxy(svc, request, "/api/push"), { parse: "none" })
    .post("/api/create", ({ request }) => proxy(svc, request, "/api/create", "POST", refresh), { parse: "none" })
    .post("/api/copy", ({ request }) => proxy(svc, request, "/api/copy", "POST", refresh), { parse: "none" })
    .delete("/api/delete", ({ request }) => proxy(svc, request, "/api/delete", "DELETE", refresh), { parse: "none" })
    .head("/api/blobs/:digest", ({ request, params }) => blob(svc, request, params.digest))
    .post("/api/blobs/:digest", ({ request, params }) => blob(svc, request, params.digest), { parse: "none" });
}

/** An undecodable digest (e.g. "%FF") arrives as null: refuse it rather than send the upload to /api/blobs/. */
function blob(svc: Services, request: Request, digest: string | null | undefined): Response | Promise<Response> {
  if (!digest) return ollamaError(400, "invalid digest");
  return proxyBlob(svc, request, `/api/blobs/${encodeURIComponent(digest)}`);
}

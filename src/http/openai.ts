// The OpenAI-compatible routes, as Ollama serves them on /v1: chat and completions are queued like
// their native twins (same worker, drain-by-model, priority header); embeddings go straight through;
// models come from the inventory. Every error uses OpenAI's envelope.
import { Elysia, t } from "elysia";
import { m } from "../metrics/metrics";
import { describeFetchError, errorText, readText, TargetConnectionError } from "../ollama/client";
import { drainKey } from "../ollama/names";
import {
  ChatStreamTranslator, chatToNative, CompletionStreamTranslator, completionToNative,
  embeddingsResult, embeddingsToNative, modelEntry, modelsList, openAIError, OpenAIRequestError, type NativeRequest,
} from "../openai/translate";
import { QUEUE_FULL_MESSAGE } from "../queue/queue";
import type { Services } from "../services";
import type { JobRow } from "../store/jobs";
import { decodeJSON, readBody } from "./body";
import { parsePriority, RequestError } from "./ollama-validate";
import { answerSyncJob, type Wire } from "./passthrough";
import { json } from "./responses";

type Body = Record<string, unknown>;

export const v1Error = (status: number, message: string, headers: Record<string, string> = {}) =>
  json(openAIError(status, message), status, headers);

function sseWire(translator: ChatStreamTranslator | CompletionStreamTranslator): Wire {
  return {
    streamType: "text/event-stream",
    body: (result) => result + "\n", // Ollama's /v1 writes with json.Encoder: a trailing newline
    error: v1Error,
    chunk: (line) => translator.chunk(JSON.parse(line)).join(""),
    end: () => translator.done(),
    // Ollama's own /v1 just truncates the stream; an error event lets OpenAI SDKs raise it instead.
    streamError: (message) => `data: ${JSON.stringify(openAIError(500, message))}\n\n`,
    // A valid empty chunk, as Ollama's /v1 writes for an empty token (each translator reads its field).
    heartbeat: () => translator.chunk({ message: { role: "assistant", content: "" }, response: "", done: false }).join(""),
  };
}

export function openaiRoutes(svc: Services) {
  const { queue, inventory, config } = svc;

  async function decode(request: Request): Promise<unknown> {
    const decoded = decodeJSON(await readBody(request, config.maxBodyBytes));
    if (!decoded.ok) throw new OpenAIRequestError(decoded.error === "missing request body" ? "missing request body" : `invalid JSON: ${decoded.error}`);
    return decoded.value;
  }

  async function queued(endpoint: "/v1/chat/completions" | "/v1/completions", request: Request): Promise<Response> {
    let req: NativeRequest;
    let body: Body;
    let priority: number;
    try {
      body = (await decode(request)) as Body;
      req = endpoint === "/v1/chat/completions" ? chatToNative(body) : completionToNative(body);
      priority = parsePriority(request.headers.get("x-foreman-priority"));
    } catch (err) {
      if (err instanceof OpenAIRequestError || err instanceof RequestError) return v1Error(err.status, err.message);
      throw err;
    }
    if (inventory.known && !(await inventory.ensureKnown(req.model))) return v1Error(404, `model '${req.model}' not found`);
    const retryAfter = svc.forecaster.retryAfter();
    if (retryAfter !== null) {
      m.queueFull.inc({ route: endpoint });
      return v1Error(503, QUEUE_FULL_MESSAGE, { "retry-after": String(retryAfter) });
    }
    const job: JobRow = queue.submit({
      origin: "sync", endpoint, model: req.model, modelKey: drainKey(req.model, req.native.options), request: body,
      priority, maxAttempts: config.maxAttempts,
    });
    const sub = queue.hub.subscribe(job.id);
    const opts = { includeUsage: req.includeUsage };
    const translator = endpoint === "/v1/chat/completions"
      ? new ChatStreamTranslator(req.model, opts)
      : new CompletionStreamTranslator(req.model, opts);
    return answerSyncJob({ queue, request, job, sub, stream: req.stream, heartbeatMs: config.streamHeartbeatMs, wire: sseWire(translator) });
  }

  async function embeddings(request: Request): Promise<Response> {
    let req;
    try {
      req = embeddingsToNative(await decode(request));
    } catch (err) {
      if (err instanceof OpenAIRequestError) return v1Error(err.status, err.message);
      throw err;
    }
    try {
      const res = await svc.client.send("/api/embed", { body: req.native, signal: request.signal });
      const text = await readText(res, request.signal);
      if (!res.ok) return v1Error(res.status, errorText(text, res.status));
      return json(embeddingsResult(JSON.parse(text), req.model, req.encodingFormat));
    } catch (err) {
      if (!(err instanceof TargetConnectionError)) throw err;
      inventory.markDown(describeFetchError(err));
      return v1Error(502, `ollama target unreachable: ${describeFetchError(err)}`);
    }
  }

  return new Elysia()
    .post("/v1/chat/completions", ({ request }) => queued("/v1/chat/completions", request), { parse: "none" })
    .post("/v1/completions", ({ request }) => queued("/v1/completions", request), { parse: "none" })
    .post("/v1/embeddings", ({ request }) => embeddings(request), { parse: "none" })
    .get("/v1/models", async () => {
      await inventory.refresh();
      if (!inventory.known) return v1Error(502, `ollama target unreachable: ${inventory.lastError ?? "no answer"}`);
      return json(modelsList(inventory.tags));
    })
    .get("/v1/models/:model", async ({ params }) => {
      await inventory.refresh();
      const tag = inventory.find(params.model);
      return tag ? json(modelEntry(tag, params.model)) : v1Error(404, `model '${params.model}' not found`);
    }, { params: t.Object({ model: t.String({ minLength: 1 }) }) }); // a bad %-encoding decodes to null: a 400
}

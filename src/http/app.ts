// The Elysia application: global guards (body size, token), error mapping, and the route groups.
import { Elysia } from "elysia";
import { log } from "../log";
import { isStorageError } from "../store/jobs";
import { registry } from "../metrics/metrics";
import type { Services } from "../services";
import { bearer, isPublicPath, tokenMatches } from "./auth";
import { BadJSON, BodyTooLarge } from "./body";
import { jobRoutes } from "./jobs";
import { VERSION } from "../version";
import { docsPlugin } from "./docs";
import { nativeRoutes } from "./native";
import { openaiRoutes } from "./openai";
import { uiRoutes } from "./ui";
import { json, ollamaError, text } from "./responses";

/** An error in the shape the route's clients expect: OpenAI's envelope on /v1, Ollama's elsewhere. */
export function errorFor(path: string, status: number, message: string): Response {
  if (path.startsWith("/v1/")) {
    const type = status === 400 ? "invalid_request_error" : status === 404 ? "not_found_error" : "api_error";
    return json({ error: { message, type, param: null, code: null } }, status);
  }
  return ollamaError(status, message);
}

const pathOf = (request: Request) => new URL(request.url).pathname;

export function createApp(svc: Services) {
  const { config } = svc;
  const routes: { method: string; path: string }[] = [];
  // normalize: false — Elysia's default normaliser turns a string sent where an object is expected
  // into {"0":…} and lets it pass; without it the schemas validate bodies exactly as sent.
  const app = new Elysia({ normalize: false })
    .use(docsPlugin({
      version: VERSION,
      description: "The async job API of foreman, a durable queue in front of one Ollama server. "
        + "The Ollama-compatible routes (/api/*, /v1/*) behave exactly as Ollama documents them and are not listed here.",
      exclude: ["/", "/healthz", "/metrics", "/ui", "/ui/", /^\/api\//, /^\/v1\//],
    }))
    .onRequest(({ request }) => {
      const path = pathOf(request);
      const declared = Number(request.headers.get("content-length") ?? "0");
      // Blob uploads (model files for /api/create) stream straight to Ollama: no JSON limit there.
      if (declared > config.maxBodyBytes && !path.startsWith("/api/blobs/")) {
        return errorFor(path, 413, `request body too large (limit ${config.maxBodyBytes} bytes)`);
      }
      if (config.token && !isPublicPath(path, config) && !tokenMatches(bearer(request), config.token)) {
        return errorFor(path, 401, "unauthorized: a valid bearer token is required");
      }
    })
    .onError(({ code, error: raised, request }) => {
      const path = pathOf(request);
      // Elysia wraps what a custom body parser throws in a ParseError; look at the original.
      const error = code === "PARSE" && (raised as Error).cause ? (raised as Error).cause : raised;
      if (code === "NOT_FOUND") return notFound(routes, request.method, path);
      if (error instanceof BodyTooLarge) return errorFor(path, 413, error.message);
      if (error instanceof BadJSON) return errorFor(path, 400, error.message);
      if (code === "PARSE") return errorFor(path, 400, "invalid JSON in request body");
      if (code === "VALIDATION") return errorFor(path, 400, validationMessage(error));
      if (isStorageError(error)) {
        log.error({ path, err: (error as Error).message, code: (error as { code?: string }).code }, "storage error");
        return errorFor(path, 503, `storage unavailable: ${(error as Error).message}`);
      }
      log.error({ path, err: (error as Error)?.message, stack: (error as Error)?.stack }, "unhandled error");
      return errorFor(path, 500, "internal error");
    })
    .use(nativeRoutes(svc))
    .use(openaiRoutes(svc))
    .use(jobRoutes(svc))
    .use(uiRoutes(svc))
    .get("/metrics", async () => new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }),
      { detail: { hide: true } });
  routes.push(...app.routes);
  return app;
}

/** gin's answers: 405 when the path exists for another method, else 404, both as plain text. */
function notFound(routes: { method: string; path: string }[], method: string, path: string): Response {
  const matches = (pattern: string) => new RegExp(`^${pattern.replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*")}$`).test(path);
  const other = routes.some((r) => r.method !== method && matches(r.path));
  return other ? text("405 method not allowed", 405) : text("404 page not found", 404);
}

function validationMessage(error: unknown): string {
  const e = error as { type?: string; all?: { path?: string; message?: string; summary?: string }[]; message?: string };
  const first = e.all?.[0];
  if (first) {
    const field = (first.path ?? "").replace(/^\//, "").replace(/\//g, ".") || e.type || "body";
    return `invalid field '${field}': ${first.summary ?? first.message ?? "invalid value"}`;
  }
  return "invalid request";
}

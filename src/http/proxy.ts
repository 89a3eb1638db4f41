// Straight-through proxying for routes that are not queued (embeddings, /api/show, model management):
// the body goes to the target as-is and the answer, streamed or not, comes back with its status.
import { m } from "../metrics/metrics";
import { describeFetchError, TargetConnectionError } from "../ollama/client";
import type { Services } from "../services";
import { readBody } from "./body";
import { ollamaError } from "./responses";

const PASSED_HEADERS = ["content-type"];

/** `afterOk` runs once a 2xx answer has been fully relayed (e.g. to refresh the inventory). */
export async function proxy(svc: Services, request: Request, path: string, method = "POST", afterOk?: () => void): Promise<Response> {
  const body = method === "HEAD" || method === "GET" ? null : await readBody(request, svc.config.maxBodyBytes);
  return relay(svc, request, path, method, body, afterOk);
}

/** A blob upload (a model file, possibly gigabytes) streams through without the JSON body limit. */
export function proxyBlob(svc: Services, request: Request, path: string): Promise<Response> {
  return relay(svc, request, path, request.method, request.method === "POST" ? request.body : null);
}

async function relay(svc: Services, request: Request, path: string, method: string,
  body: string | ReadableStream<Uint8Array> | null, afterOk?: () => void): Promise<Response> {
  let res: Response;
  try {
    res = await svc.client.send(path, { method, rawBody: body, signal: request.signal, contentType: request.headers.get("content-type") });
  } catch (err) {
    if (!(err instanceof TargetConnectionError)) throw err;
    m.targetErrors.inc({ class: "connection" });
    svc.inventory.markDown(describeFetchError(err));
    return ollamaError(502, `ollama target unreachable: ${describeFetchError(err)}`);
  }
  const headers = new Headers();
  for (const h of PASSED_HEADERS) {
    const v = res.headers.get(h);
    if (v) headers.set(h, v);
  }
  let out = res.body;
  if (afterOk && res.ok) {
    out = res.body ? res.body.pipeThrough(new TransformStream({ flush: afterOk })) : null;
    if (!res.body) afterOk();
  }
  return new Response(out, { status: res.status, headers });
}

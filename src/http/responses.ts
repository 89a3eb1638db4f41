// Response builders shared by the routes. Ollama-shaped JSON is written the way Go's encoder
// writes it (see goJSON), with gin's content type.
import { goJSON } from "../ollama/assemble";

export const JSON_TYPE = "application/json; charset=utf-8";
export const NDJSON_TYPE = "application/x-ndjson";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(goJSON(body), { status, headers: { "content-type": JSON_TYPE, ...headers } });
}

/** Ollama's error shape: {"error":"..."} with the given status. */
export function ollamaError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: message }, status, headers);
}

export function text(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

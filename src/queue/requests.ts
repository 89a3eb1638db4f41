// What kind of Ollama request a job body is. Load and unload requests are jobs too, but answer
// with one JSON object and never stream (ollama-api.md §4).

export type RequestKind = "load" | "unload" | "work";

export function isZeroKeepAlive(v: unknown): boolean {
  return v === 0 || v === "0" || (typeof v === "string" && /^[+-]?0+(\.0*)?(ns|us|µs|ms|s|m|h)?$/.test(v));
}

export function requestKind(endpoint: string, body: Record<string, unknown>): RequestKind {
  const empty = endpoint === "/api/chat"
    ? !Array.isArray(body.messages) || body.messages.length === 0
    : !body.prompt;
  if (!empty) return "work";
  return isZeroKeepAlive(body.keep_alive) ? "unload" : "load";
}

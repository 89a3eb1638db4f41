// Validation of native Ollama request bodies with Ollama's own statuses and messages
// (ollama-api.md §5.1, §7), so clients show the same errors they would get from Ollama.
import { parseDuration } from "../util/duration";

export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Kind = "string" | "bool" | "array" | "object" | "number";

const GO_TYPE: Record<Kind, string> = {
  string: "string", bool: "bool", array: "[]interface {}", object: "map[string]interface {}", number: "float64",
};

const FIELDS: Record<string, { struct: string; fields: Record<string, Kind> }> = {
  "/api/chat": {
    struct: "ChatRequest",
    fields: {
      model: "string", messages: "array", stream: "bool", options: "object", tools: "array",
      logprobs: "bool", top_logprobs: "number", truncate: "bool", shift: "bool",
    },
  },
  "/api/generate": {
    struct: "GenerateRequest",
    fields: {
      model: "string", prompt: "string", suffix: "string", system: "string", template: "string",
      context: "array", stream: "bool", raw: "bool", images: "array", options: "object",
      logprobs: "bool", top_logprobs: "number", truncate: "bool", shift: "bool",
    },
  },
};

function kindOf(v: unknown): Kind {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v as Kind;
}

/** Go's "time.ParseDuration" error for a keep_alive string, or null when valid. */
export function keepAliveError(v: unknown): string | null {
  if (v === undefined || v === null || typeof v === "number") return null;
  if (typeof v === "string") {
    if (parseDuration(v) !== null) return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v.trim())) return `time: missing unit in duration ${JSON.stringify(v)}`;
    const unit = /^[+-]?(?:\d+\.?\d*|\.\d+)([^\d.]+)/.exec(v.trim());
    if (unit) return `time: unknown unit ${JSON.stringify(unit[1])} in duration ${JSON.stringify(v)}`;
    return `time: invalid duration ${JSON.stringify(v)}`;
  }
  return `Unsupported type: '${GO_TYPE[kindOf(v)]}'`;
}

function thinkError(v: unknown): string | null {
  if (v === undefined || v === null || typeof v === "boolean") return null;
  if (typeof v === "string" && ["high", "medium", "low", "max"].includes(v)) return null;
  return `invalid think value: ${JSON.stringify(v)} (must be "high", "medium", "low", "max", true, or false)`;
}

/**
 * Checks a chat/generate body; throws RequestError with Ollama's status and text.
 * Model existence is checked separately (it needs the inventory).
 */
export function validateInference(endpoint: "/api/chat" | "/api/generate", body: unknown): Record<string, unknown> {
  const spec = FIELDS[endpoint];
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new RequestError(400, `json: cannot unmarshal ${kindOf(body)} into Go value of type api.${spec.struct}`);
  }
  const b = body as Record<string, unknown>;
  for (const [field, kind] of Object.entries(spec.fields)) {
    const v = b[field];
    if (v === undefined || v === null || kindOf(v) === kind) continue;
    throw new RequestError(400,
      `json: cannot unmarshal ${kindOf(v)} into Go struct field ${spec.struct}.${field} of type ${GO_TYPE[kind]}`);
  }
  if (endpoint === "/api/chat") {
    checkMessages(b.messages);
    const tool = Array.isArray(b.tools) ? b.tools.find((x) => kindOf(x) !== "object" || x === null) : undefined;
    if (tool !== undefined) throw new RequestError(400, `json: cannot unmarshal ${kindOf(tool)} into Go struct field ChatRequest.tools of type api.Tool`);
  }
  checkStrings(b.images, `${spec.struct}.images`);
  if (Array.isArray(b.context)) {
    const bad = b.context.find((x) => !Number.isInteger(x));
    if (bad !== undefined) throw new RequestError(400, `json: cannot unmarshal ${kindOf(bad)} into Go struct field ${spec.struct}.context of type int`);
  }
  if (b.top_logprobs !== undefined && b.top_logprobs !== null) {
    const n = b.top_logprobs as number;
    if (!Number.isInteger(n) || n < 0 || n > 20) throw new RequestError(400, "top_logprobs must be between 0 and 20");
  }
  if (b.raw === true && (b.template || b.system || (Array.isArray(b.context) && b.context.length))) {
    throw new RequestError(400, "raw mode does not support template, system, or context");
  }
  const ka = keepAliveError(b.keep_alive);
  if (ka) throw new RequestError(400, ka);
  const th = thinkError(b.think);
  if (th) throw new RequestError(400, th);
  if (!b.model) {
    throw endpoint === "/api/chat"
      ? new RequestError(400, "model is required")
      : new RequestError(404, "model '' not found");
  }
  return b;
}

const MESSAGE_FIELDS: Record<string, Kind> = {
  role: "string", content: "string", thinking: "string", images: "array", tool_calls: "array", tool_name: "string", tool_call_id: "string",
};

/** The messages of a chat request, field by field, as Go's decoder would reject them. */
function checkMessages(messages: unknown): void {
  if (!Array.isArray(messages)) return;
  for (const m of messages) {
    if (m === null) continue;
    if (typeof m !== "object" || Array.isArray(m)) {
      throw new RequestError(400, `json: cannot unmarshal ${kindOf(m)} into Go struct field ChatRequest.messages of type api.Message`);
    }
    for (const [field, kind] of Object.entries(MESSAGE_FIELDS)) {
      const v = (m as Record<string, unknown>)[field];
      if (v === undefined || v === null || kindOf(v) === kind) continue;
      throw new RequestError(400, `json: cannot unmarshal ${kindOf(v)} into Go struct field Message.messages.${field} of type ${GO_TYPE[kind]}`);
    }
    checkStrings((m as Record<string, unknown>).images, "Message.messages.images");
  }
}

/** Images travel as base64 strings. */
function checkStrings(list: unknown, where: string): void {
  if (!Array.isArray(list)) return;
  const bad = list.find((x) => typeof x !== "string");
  if (bad !== undefined) throw new RequestError(400, `json: cannot unmarshal ${kindOf(bad)} into Go struct field ${where} of type string`);
}

/** X-Foreman-Priority: an integer in [-100, 100]; absent means 0. */
export function parsePriority(header: string | null): number {
  if (header === null || header.trim() === "") return 0;
  if (!/^[+-]?\d+$/.test(header.trim()) || Math.abs(Number(header)) > 100) {
    throw new RequestError(400, `invalid X-Foreman-Priority ${JSON.stringify(header)}: must be an integer from -100 to 100`);
  }
  return Number(header);
}

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
    fields: { model: "string", messages: "array", stream: "bool", options: "object", tools: "array" },
  },
  "/api/generate": {
    struct: "GenerateRequest",
    fields: {
      model: "string", prompt: "string", suffix: "string", system: "string", template: "string",
      context: "array", stream: "bool", raw: "bool", images: "array", options: "object",
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

/** X-Foreman-Priority: an integer in [-100, 100]; absent means 0. */
export function parsePriority(header: string | null): number {
  if (header === null || header.trim() === "") return 0;
  if (!/^[+-]?\d+$/.test(header.trim()) || Math.abs(Number(header)) > 100) {
    throw new RequestError(400, `invalid X-Foreman-Priority ${JSON.stringify(header)}: must be an integer from -100 to 100`);
  }
  return Number(header);
}

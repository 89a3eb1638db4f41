// The OpenAI-compatible /v1 layer, translated the way Ollama's own does it (openai/openai.go and
// middleware/openai.go; shared/ollama-api.md §9). Requests become native /api/chat, /api/generate
// and /api/embed bodies; native chunks and results become OpenAI responses, streamed in the
// v0.32.6+ wire format. Pure: no I/O. Request errors carry Ollama's exact messages and statuses.

type Obj = Record<string, unknown>;

export class OpenAIRequestError extends Error {
  constructor(message: string, public status = 400, public param: string | null = null) {
    super(message);
    this.name = "OpenAIRequestError";
  }
}

export interface NativeRequest {
  /** The model exactly as the client sent it; responses echo it. */
  model: string;
  /** The native body. `stream` mirrors the client's flag, as Ollama sends it; a worker may force it. */
  native: Obj;
  stream: boolean;
  includeUsage: boolean;
}

export interface NativeEmbedRequest {
  model: string;
  native: Obj;
  encodingFormat: "float" | "base64";
}

export interface StreamOptions {
  includeUsage: boolean;
  id?: string;
  /** Unix seconds, one value for the whole stream. */
  created?: number;
}

export interface ModelTag {
  name: string;
  model: string;
  modified_at?: string;
}

// ---------------------------------------------------------------------------------------------
// Request decoding: the errors gin's ShouldBindJSON gives before Ollama sees a field.

type GoType =
  | "string" | "bool" | "int" | "float64" | "float32" | "any"
  | { slice: GoType; name: string }
  | { struct: string; name: string; fields: Record<string, GoType> };

const anyStruct = (struct: string, name: string): GoType => ({ struct, name, fields: {} });
const sliceOf = (elem: GoType & { name: string }): GoType => ({ slice: elem, name: `[]${elem.name}` });

const TOOL_CALL = {
  struct: "ToolCall", name: "openai.ToolCall",
  fields: {
    id: "string", index: "int", type: "string",
    // An anonymous struct: Go prints an empty struct name and the full struct type.
    function: {
      struct: "", name: 'struct { Name string "json:\\"name\\""; Arguments string "json:\\"arguments\\"" }',
      fields: { name: "string", arguments: "string" },
    },
  },
} satisfies GoType;

const MESSAGE = {
  struct: "Message", name: "openai.Message",
  fields: {
    role: "string", content: "any", reasoning: "string", tool_calls: sliceOf(TOOL_CALL),
    name: "string", tool_call_id: "string",
  },
} satisfies GoType;

const STREAM_OPTIONS: GoType = { struct: "StreamOptions", name: "openai.StreamOptions", fields: { include_usage: "bool" } };

const CHAT_REQUEST: GoType = {
  struct: "ChatCompletionRequest", name: "openai.ChatCompletionRequest",
  fields: {
    model: "string", messages: sliceOf(MESSAGE), stream: "bool", stream_options: STREAM_OPTIONS,
    max_tokens: "int", seed: "int", stop: "any", temperature: "float64", frequency_penalty: "float64",
    presence_penalty: "float64", top_p: "float64",
    response_format: {
      struct: "ResponseFormat", name: "openai.ResponseFormat",
      fields: { type: "string", json_schema: anyStruct("JsonSchema", "openai.JsonSchema") },
    },
    tools: sliceOf({ struct: "Tool", name: "api.Tool", fields: {} }),
    reasoning: { struct: "Reasoning", name: "openai.Reasoning", fields: { effort: "string" } },
    reasoning_effort: "string", logprobs: "bool", top_logprobs: "int", _debug_render_only: "bool",
  },
};

const COMPLETION_REQUEST: GoType = {
  struct: "CompletionRequest", name: "openai.CompletionRequest",
  fields: {
    model: "string", prompt: "string", frequency_penalty: "float32", max_tokens: "int",
    presence_penalty: "float32", seed: "int", stop: "any", stream: "bool", stream_options: STREAM_OPTIONS,
    temperature: "float32", top_p: "float32", suffix: "string", logprobs: "int", _debug_render_only: "bool",
  },
};

const EMBED_REQUEST: GoType = {
  struct: "EmbedRequest", name: "openai.EmbedRequest",
  fields: { input: "any", model: "string", dimensions: "int", encoding_format: "string" },
};

function jsonKind(v: unknown): string {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string" || typeof v === "number") return typeof v;
  return Array.isArray(v) ? "array" : "object";
}

/** encoding/json's UnmarshalTypeError text for the first value that does not fit, if any. */
function goDecodeError(v: unknown, t: GoType, struct = "", path: string[] = []): string | null {
  if (v === null || v === undefined || t === "any") return null;
  if (typeof t === "object" && "slice" in t) {
    if (!Array.isArray(v)) return mismatch(v, t, struct, path);
    for (const e of v) {
      const err = goDecodeError(e, t.slice, struct, path);
      if (err) return err;
    }
    return null;
  }
  if (typeof t === "object") {
    if (!isObj(v)) return mismatch(v, t, struct, path);
    for (const [k, fv] of Object.entries(v)) {
      const err = Object.hasOwn(t.fields, k) ? goDecodeError(fv, t.fields[k], t.struct, [...path, k]) : null;
      if (err) return err;
    }
    return null;
  }
  const fits = t === "string" ? typeof v === "string"
    : t === "bool" ? typeof v === "boolean"
    : typeof v === "number" && (t !== "int" || Number.isSafeInteger(v));
  return fits ? null : mismatch(v, t, struct, path);
}

function mismatch(v: unknown, t: GoType, struct: string, path: string[]): string {
  const value = typeof v === "number" && t === "int" ? `number ${v}` : jsonKind(v);
  const into = path.length ? `Go struct field ${struct}.${path.join(".")}` : "Go value";
  return `json: cannot unmarshal ${value} into ${into} of type ${typeof t === "string" ? t : t.name}`;
}

function decodeRequest(body: unknown, type: GoType): Obj {
  if (body === undefined) throw new OpenAIRequestError("EOF");
  const err = goDecodeError(body, type);
  if (err) throw new OpenAIRequestError(err);
  return isObj(body) ? body : {};
}

/** Go's %T for a value decoded into `any`. */
function goDynType(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  return Array.isArray(v) ? "[]interface {}" : "map[string]interface {}";
}

// ---------------------------------------------------------------------------------------------
// Request mapping

/** POST /v1/chat/completions → /api/chat (FromChatRequest, then ChatHandler's model check). */
export function chatToNative(body: unknown): NativeRequest {
  const req = decodeRequest(body, CHAT_REQUEST);
  const messages = Array.isArray(req.messages) ? req.messages : [];
  if (messages.length === 0) throw new OpenAIRequestError("[] is too short - 'messages'");
  const stream = req.stream === true;
  const native: Obj = { model: str(req.model), messages: nativeMessages(messages), stream };
  const format = responseFormat(req.response_format);
  if (format !== undefined) native.format = format;
  if (Array.isArray(req.tools) && req.tools.length) native.tools = req.tools;
  native.options = chatOptions(req);
  const think = thinkValue(req);
  if (think !== undefined) native.think = think;
  if (req.logprobs === true) native.logprobs = true;
  if (num(req.top_logprobs)) native.top_logprobs = req.top_logprobs;
  if (req._debug_render_only === true) native._debug_render_only = true;
  if (!native.model) throw new OpenAIRequestError("model is required");
  return { model: str(req.model), native, stream, includeUsage: includeUsage(req) };
}

/** POST /v1/completions → /api/generate (FromCompleteRequest, then GenerateHandler's model check). */
export function completionToNative(body: unknown): NativeRequest {
  const req = decodeRequest(body, COMPLETION_REQUEST);
  const options = completionOptions(req);
  const stream = req.stream === true;
  const native: Obj = { model: str(req.model), prompt: str(req.prompt) };
  if (str(req.suffix)) native.suffix = req.suffix;
  native.stream = stream;
  native.options = options;
  const topLogprobs = num(req.logprobs);
  if (topLogprobs > 0) Object.assign(native, { logprobs: true, top_logprobs: topLogprobs });
  if (req._debug_render_only === true) native._debug_render_only = true;
  // /api/generate answers an empty model with 404, unlike /api/chat's 400 "model is required".
  if (!native.model) throw new OpenAIRequestError("model '' not found", 404);
  return { model: str(req.model), native, stream, includeUsage: includeUsage(req) };
}

/** POST /v1/embeddings → /api/embed (EmbeddingsMiddleware, then EmbedHandler's input and model checks). */
export function embeddingsToNative(body: unknown): NativeEmbedRequest {
  const req = decodeRequest(body, EMBED_REQUEST);
  const format = str(req.encoding_format);
  if (format && !/^(float|base64)$/iu.test(format)) {
    throw new OpenAIRequestError(`Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`);
  }
  const input = req.input === "" ? [""] : req.input;
  if (input === null || input === undefined || (Array.isArray(input) && input.length === 0)) {
    throw new OpenAIRequestError("invalid input");
  }
  if (typeof input !== "string" && !(Array.isArray(input) && input.every((s) => typeof s === "string"))) {
    throw new OpenAIRequestError("invalid input type");
  }
  const model = str(req.model);
  if (!model) throw new OpenAIRequestError("model '' not found", 404);
  const native: Obj = { model, input };
  if (num(req.dimensions)) native.dimensions = req.dimensions;
  return { model, native, encodingFormat: /^base64$/iu.test(format) ? "base64" : "float" };
}

function includeUsage(req: Obj): boolean {
  return isObj(req.stream_options) && req.stream_options.include_usage === true;
}

function chatOptions(req: Obj): Obj {
  const o: Obj = {};
  const stop = stopList(req.stop, false);
  if (stop) o.stop = stop;
  if (isNum(req.max_tokens)) o.num_predict = req.max_tokens;
  o.temperature = isNum(req.temperature) ? req.temperature : 1.0;
  if (isNum(req.seed)) o.seed = req.seed;
  if (isNum(req.frequency_penalty)) o.frequency_penalty = req.frequency_penalty;
  if (isNum(req.presence_penalty)) o.presence_penalty = req.presence_penalty;
  o.top_p = isNum(req.top_p) ? req.top_p : 1.0;
  return sortKeys(o);
}

/** Completions' penalties and top_p are plain float32s in Go: always sent, and top_p 0 means unset. */
function completionOptions(req: Obj): Obj {
  const o: Obj = {};
  const stop = stopList(req.stop, true);
  if (stop) o.stop = stop;
  if (isNum(req.max_tokens)) o.num_predict = req.max_tokens;
  o.temperature = isNum(req.temperature) ? req.temperature : 1.0;
  if (isNum(req.seed)) o.seed = req.seed;
  o.frequency_penalty = num(req.frequency_penalty);
  o.presence_penalty = num(req.presence_penalty);
  o.top_p = num(req.top_p) || 1.0;
  return sortKeys(o);
}

/** `stop` as a list; chat drops non-strings silently, completions reject them (upstream asymmetry). */
function stopList(stop: unknown, strict: boolean): string[] | undefined {
  if (typeof stop === "string") return [stop];
  if (!Array.isArray(stop)) return undefined;
  const bad = stop.find((s) => typeof s !== "string");
  if (strict && bad !== undefined) throw new OpenAIRequestError(`invalid type for 'stop' field: ${goDynType(bad)}`);
  return stop.filter((s): s is string => typeof s === "string");
}

/** Go marshals map keys sorted. */
function sortKeys(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function responseFormat(rf: unknown): unknown {
  if (!isObj(rf)) return undefined;
  const type = str(rf.type).trim().toLowerCase();
  if (type === "json_object") return "json";
  if (type === "json_schema" && isObj(rf.json_schema)) return rf.json_schema.schema ?? undefined;
  return undefined;
}

const THINK: Record<string, string | false> = {
  none: false, minimal: "low", low: "low", medium: "medium", high: "high", max: "max", xhigh: "max", ultra: "max",
};

/** `reasoning.effort` wins whenever `reasoning` is an object, even an empty one. */
function thinkValue(req: Obj): string | false | undefined {
  const effort = isObj(req.reasoning) ? str(req.reasoning.effort) : str(req.reasoning_effort);
  if (!effort) return undefined;
  if (!Object.hasOwn(THINK, effort)) {
    throw new OpenAIRequestError(`invalid reasoning value: '${effort}' (must be "high", "medium", "low", "max", or "none")`);
  }
  return THINK[effort];
}

// --- messages

interface NativeMessageFields {
  role: string;
  content?: string;
  thinking?: unknown;
  images?: string[];
  tool_calls?: Obj[];
  tool_name?: string;
  tool_call_id?: unknown;
}

/** An api.Message in Go's field order, with its omitempty fields left out when empty. */
function nativeMessage(f: NativeMessageFields): Obj {
  const m: Obj = { role: f.role, content: f.content ?? "" };
  if (str(f.thinking)) m.thinking = f.thinking;
  if (f.images?.length) m.images = f.images;
  if (f.tool_calls?.length) m.tool_calls = f.tool_calls;
  if (f.tool_name) m.tool_name = f.tool_name;
  if (str(f.tool_call_id)) m.tool_call_id = f.tool_call_id;
  return m;
}

function nativeMessages(messages: unknown[]): Obj[] {
  const out: Obj[] = [];
  for (const m of messages) appendMessage(out, isObj(m) ? m : {}, messages);
  return out;
}

function appendMessage(out: Obj[], msg: Obj, all: unknown[]): void {
  const role = str(msg.role);
  const toolCallId = str(msg.tool_call_id);
  const toolName = role.toLowerCase() === "tool" ? str(msg.name) || toolNameFor(all, toolCallId) : "";
  // Built only once the content is known good, so errors come in Ollama's order.
  const withCalls = (f: NativeMessageFields): Obj => nativeMessage({
    thinking: msg.reasoning, tool_calls: toolCallsToNative(msg.tool_calls), tool_name: toolName, tool_call_id: toolCallId, ...f,
  });
  const content = msg.content;
  if (typeof content === "string") {
    out.push(withCalls({ role, content }));
  } else if (Array.isArray(content)) {
    for (const part of content) out.push(partToNative(role, part));
    // Each part became its own message, so tool calls go on the last one (which, for an empty
    // parts array, is the previous message: Ollama does the same).
    if (out.length && Array.isArray(msg.tool_calls) && msg.tool_calls.length) {
      const last = out[out.length - 1];
      out[out.length - 1] = withCalls({ role: str(last.role), content: str(last.content), images: last.images as string[] | undefined });
    }
  } else {
    // Content may only be missing when tool calls are present ([] counts as present, null does not).
    if (msg.tool_calls === null || msg.tool_calls === undefined) {
      throw new OpenAIRequestError(`invalid message content type: ${goDynType(content)}`);
    }
    out.push(withCalls({ role, tool_name: "" })); // Ollama sets no tool_name on this path
  }
}

/** The function name of the conversation's last call with this id ("last one wins", as Ollama). */
function toolNameFor(all: unknown[], id: string): string {
  if (!id) return "";
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i];
    const calls = isObj(m) && Array.isArray(m.tool_calls) ? m.tool_calls : [];
    const call = calls.find((tc) => isObj(tc) && tc.id === id);
    if (isObj(call)) return str(obj(call.function).name);
  }
  return "";
}

function toolCallsToNative(calls: unknown): Obj[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((tc) => {
    const call = isObj(tc) ? tc : {};
    const fn = obj(call.function);
    const out: Obj = {};
    if (str(call.id)) out.id = call.id;
    out.function = { index: 0, name: str(fn.name), arguments: parseArguments(fn.arguments) };
    return out;
  });
}

function parseArguments(raw: unknown): Obj {
  try {
    const v: unknown = JSON.parse(str(raw));
    if (v === null) return {};
    if (isObj(v)) return v;
  } catch {
    // fall through
  }
  throw new OpenAIRequestError("invalid tool call arguments");
}

const invalidFormat = () => new OpenAIRequestError("invalid message format");

function partToNative(role: string, part: unknown): Obj {
  if (!isObj(part)) throw invalidFormat();
  switch (part.type) {
    case "text":
      if (typeof part.text !== "string") throw invalidFormat();
      return nativeMessage({ role, content: part.text });
    case "image_url":
      return nativeMessage({ role, images: [decodeImageURL(imageURL(part.image_url))] });
    case "input_audio":
      return nativeMessage({ role, images: [decodeAudio(part.input_audio)] });
    default:
      throw invalidFormat();
  }
}

function imageURL(v: unknown): string {
  const url = isObj(v) ? v.url : v;
  if (typeof url !== "string") throw invalidFormat();
  return url;
}

const IMAGE_PREFIXES = ["data:;base64,", ...["jpeg", "jpg", "png", "webp"].map((t) => `data:image/${t};base64,`)];

function decodeImageURL(url: string): string {
  if (url.startsWith("http://") || url.startsWith("https://")) {
    throw new OpenAIRequestError("image URLs are not currently supported, please use base64 encoded data instead");
  }
  const prefix = IMAGE_PREFIXES.find((p) => url.startsWith(p));
  if (prefix === undefined) throw new OpenAIRequestError("invalid image input");
  const bytes = goBase64Decode(url.slice(prefix.length));
  if (typeof bytes === "number") throw new OpenAIRequestError("invalid image input");
  return Buffer.from(bytes).toString("base64");
}

function decodeAudio(audio: unknown): string {
  if (!isObj(audio)) throw new OpenAIRequestError("invalid input_audio format");
  if (typeof audio.data !== "string") throw new OpenAIRequestError("invalid input_audio format: missing data");
  const bytes = goBase64Decode(audio.data);
  if (typeof bytes === "number") {
    throw new OpenAIRequestError(`invalid input_audio base64 data: illegal base64 data at input byte ${bytes}`);
  }
  return Buffer.from(bytes).toString("base64");
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Go's base64.StdEncoding.DecodeString: the bytes, or the offset it reports as corrupt. Go skips
 * \r and \n, insists on padding, and tolerates non-zero trailing bits (so Buffer's lenient
 * decoder is not a substitute). Follows decodeQuantum.
 */
function goBase64Decode(s: string): Uint8Array | number {
  const out: number[] = [];
  let si = 0;
  const skipNewlines = () => { while (si < s.length && (s[si] === "\n" || s[si] === "\r")) si++; };
  while (si < s.length) {
    const q = [0, 0, 0, 0];
    let n = 0;
    while (n < 4) {
      if (si === s.length) return n === 0 ? Uint8Array.from(out) : si - n;
      const c = s[si++];
      const v = B64.indexOf(c);
      if (v >= 0) { q[n++] = v; continue; }
      if (c === "\n" || c === "\r") continue;
      if (c !== "=" || n < 2) return si - 1;
      if (n === 2) {
        skipNewlines();
        if (si === s.length) return s.length;
        if (s[si] !== "=") return si - 1;
        si++;
      }
      skipNewlines();
      if (si < s.length) return si;
      break;
    }
    const bits = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
    out.push(...[(bits >> 16) & 255, (bits >> 8) & 255, bits & 255].slice(0, n - 1));
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Response mapping

const FINGERPRINT = "fp_ollama";
/** Go's zero time.Time, in Unix seconds: what Ollama reports for a missing timestamp. */
const GO_ZERO_TIME = -62135596800;

const randomId = (prefix: string) => `${prefix}-${Math.floor(Math.random() * 999)}`;

/** JSON as Go's encoder writes it: <, > and & (and U+2028/9) escaped. */
function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const sse = (value: unknown) => `data: ${goJSON(value)}\n\n`;

function usageOf(native: Obj): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = num(native.prompt_eval_count);
  const completion = num(native.eval_count);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** RFC 3339 (any number of fraction digits) → Unix seconds, rounded down as Go's Unix() does. */
function unixSeconds(ts: unknown, fallback: number): number {
  const m = typeof ts === "string" ? /^(.*T\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(ts) : null;
  const ms = m ? Date.parse(m[1] + m[2]) : NaN;
  return Number.isNaN(ms) ? fallback : Math.floor(ms / 1000);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Ollama's own tool-call id shape, for native calls that arrive without one. */
function toolCallId(): string {
  let id = "call_";
  for (let i = 0; i < 8; i++) id += ID_CHARS[Math.floor(Math.random() * ID_CHARS.length)];
  return id;
}

/** ToToolCalls: arguments as a JSON string; `index` from the native call, else its position. */
function toolCallsToOpenAI(calls: unknown, firstIndex = 0): Obj[] {
  const list = Array.isArray(calls) ? calls : [];
  return list.map((tc, i) => {
    const call = obj(tc);
    const fn = obj(call.function);
    return {
      id: str(call.id) || toolCallId(),
      index: isNum(fn.index) ? fn.index : firstIndex + i,
      type: "function",
      function: { name: str(fn.name), arguments: goJSON(fn.arguments ?? {}) },
    };
  });
}

function withLogprobs(choice: Obj, logprobs: unknown): Obj {
  if (Array.isArray(logprobs) && logprobs.length) choice.logprobs = { content: logprobs };
  return choice;
}

/** Non-stream chat.completion from the assembled native /api/chat response (ToChatCompletion). */
export function chatResult(nativeFinal: Obj, model: string, id = randomId("chatcmpl")): Obj {
  const msg = obj(nativeFinal.message);
  const toolCalls = toolCallsToOpenAI(msg.tool_calls);
  const message: Obj = { role: str(msg.role) || "assistant", content: str(msg.content) };
  if (str(msg.thinking)) message.reasoning = msg.thinking;
  if (toolCalls.length) message.tool_calls = toolCalls;
  const finish = toolCalls.length ? "tool_calls" : str(nativeFinal.done_reason) || null;
  const choice = withLogprobs({ index: 0, message, finish_reason: finish }, nativeFinal.logprobs);
  const out: Obj = {
    id, object: "chat.completion", created: unixSeconds(nativeFinal.created_at, nowSeconds()), model,
    system_fingerprint: FINGERPRINT, choices: [choice], usage: usageOf(nativeFinal),
  };
  if (nativeFinal._debug_info !== undefined) out._debug_info = nativeFinal._debug_info;
  return out;
}

/** Non-stream text_completion from the assembled native /api/generate response (ToCompletion). */
export function completionResult(nativeFinal: Obj, model: string, id = randomId("cmpl")): Obj {
  return {
    id, object: "text_completion", created: unixSeconds(nativeFinal.created_at, nowSeconds()), model,
    system_fingerprint: FINGERPRINT,
    choices: [{ text: str(nativeFinal.response), index: 0, finish_reason: str(nativeFinal.done_reason) || null }],
    usage: usageOf(nativeFinal),
  };
}

/**
 * Streams one /v1/chat/completions response. Per native chunk it returns the SSE events to write;
 * after the done chunk's events, write done(). A native `{"error":...}` line yields no events: end
 * the stream there without [DONE], which is what an Ollama client ends up seeing.
 */
export class ChatStreamTranslator {
  readonly id: string;
  readonly created: number;
  private roleSent = false;
  private toolCallsSent = 0;

  constructor(private readonly model: string, private readonly opts: StreamOptions) {
    this.id = opts.id ?? randomId("chatcmpl");
    this.created = opts.created ?? nowSeconds();
  }

  chunk(native: Obj): string[] {
    if ("error" in native) return [];
    const done = native.done === true;
    const choices = this.deltas(obj(native.message), done).map((delta) => ({ index: 0, delta, finish_reason: null } as Obj));
    if (done) choices.push({ index: 0, delta: {}, finish_reason: this.finishReason(native.done_reason) });
    if (choices.length) withLogprobs(choices[0], native.logprobs);
    const events = choices.map((c) => this.event([c]));
    if (done && this.opts.includeUsage) events.push(this.event([], usageOf(native)));
    return events;
  }

  done(): string {
    return "data: [DONE]\n\n";
  }

  /** Reasoning and content/tool calls go in separate deltas; the stream's first delta carries the role. */
  private deltas(msg: Obj, done: boolean): Obj[] {
    const content = str(msg.content);
    const thinking = str(msg.thinking);
    const toolCalls = toolCallsToOpenAI(msg.tool_calls, this.toolCallsSent);
    this.toolCallsSent += toolCalls.length;
    const deltas: Obj[] = [];
    if (thinking) deltas.push({ reasoning: thinking });
    if (content || toolCalls.length) {
      const delta: Obj = {};
      if (content) delta.content = content;
      if (toolCalls.length) delta.tool_calls = toolCalls;
      deltas.push(delta);
    }
    // An empty chunk is still an (empty) content delta, except the done chunk's, which has one
    // only if it must open the stream.
    if (!deltas.length && !(done && this.roleSent)) deltas.push({ content: "" });
    if (deltas.length && !this.roleSent) {
      deltas[0] = { role: "assistant", ...deltas[0] };
      this.roleSent = true;
    }
    return deltas;
  }

  private finishReason(doneReason: unknown): string | null {
    const reason = str(doneReason);
    if (!reason) return null;
    return this.toolCallsSent > 0 ? "tool_calls" : reason;
  }

  private event(choices: Obj[], usage?: Obj): string {
    const chunk: Obj = {
      id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model,
      system_fingerprint: FINGERPRINT, choices,
    };
    if (usage) chunk.usage = usage;
    return sse(chunk);
  }
}

/**
 * Streams one /v1/completions response: one event per native chunk (the done chunk's carries
 * finish_reason), then with include_usage a usage event; every chunk then also carries a zero
 * usage object, as Ollama sends it. Errors as in ChatStreamTranslator.
 */
export class CompletionStreamTranslator {
  readonly id: string;
  readonly created: number;

  constructor(private readonly model: string, private readonly opts: StreamOptions) {
    this.id = opts.id ?? randomId("cmpl");
    this.created = opts.created ?? nowSeconds();
  }

  chunk(native: Obj): string[] {
    if ("error" in native) return [];
    const choice = { text: str(native.response), index: 0, finish_reason: str(native.done_reason) || null };
    const zero = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    const events = [this.event([choice], this.opts.includeUsage ? zero : undefined)];
    if (native.done === true && this.opts.includeUsage) events.push(this.event([], usageOf(native)));
    return events;
  }

  done(): string {
    return "data: [DONE]\n\n";
  }

  private event(choices: Obj[], usage?: Obj): string {
    const chunk: Obj = {
      id: this.id, object: "text_completion", created: this.created, choices, model: this.model,
      system_fingerprint: FINGERPRINT,
    };
    if (usage) chunk.usage = usage;
    return sse(chunk);
  }
}

/** /v1/embeddings body from the native /api/embed response (ToEmbeddingList, quirks included). */
export function embeddingsResult(
  nativeEmbed: { embeddings?: number[][] | null; prompt_eval_count?: number },
  model: string,
  encodingFormat: "float" | "base64",
): Obj {
  const usage = (n: number) => ({ prompt_tokens: n, total_tokens: n });
  if (!Array.isArray(nativeEmbed.embeddings)) return { object: "", data: null, model: "", usage: usage(0) };
  const data = nativeEmbed.embeddings.map((e, index) => ({
    object: "embedding",
    embedding: encodingFormat === "base64" ? floatsToBase64(e) : e,
    index,
  }));
  return { object: "list", data: data.length ? data : null, model, usage: usage(num(nativeEmbed.prompt_eval_count)) };
}

/** Little-endian float32s, base64-encoded. */
function floatsToBase64(floats: number[]): string {
  const view = new DataView(new ArrayBuffer(floats.length * 4));
  floats.forEach((f, i) => view.setFloat32(i * 4, f, true));
  return Buffer.from(view.buffer).toString("base64");
}

/** GET /v1/models from /api/tags' models. No models gives `"data": null` (Ollama's nil slice). */
export function modelsList(tags: ModelTag[]): Obj {
  return { object: "list", data: tags.length ? tags.map((t) => modelEntry(t, t.name)) : null };
}

/** GET /v1/models/{model}: the id exactly as given, `owned_by` the namespace of that id. */
export function modelEntry(tag: ModelTag, idAsGiven: string): Obj {
  const created = unixSeconds(tag.modified_at, GO_ZERO_TIME);
  return { id: idAsGiven, object: "model", created, owned_by: namespaceOf(idAsGiven) };
}

/** model.ParseName(name).Namespace: the path segment before the model, "library" by default. */
function namespaceOf(name: string): string {
  let s = name.includes("@") ? name.slice(0, name.lastIndexOf("@")) : name;
  if (s.lastIndexOf(":") > s.lastIndexOf("/")) s = s.slice(0, s.lastIndexOf(":"));
  const parts = s.split("/");
  return (parts.length >= 2 && parts[parts.length - 2]) || "library";
}

export function errorType(status: number): string {
  return status === 400 ? "invalid_request_error" : status === 404 ? "not_found_error" : "api_error";
}

/** The /v1 error envelope (openai.NewError); `code` is always null. */
export function openAIError(
  status: number,
  message: string,
  param: string | null = null,
): { error: { message: string; type: string; param: string | null; code: null } } {
  return { error: { message, type: errorType(status), param, code: null } };
}

// ---------------------------------------------------------------------------------------------

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const isNum = (v: unknown): v is number => typeof v === "number";
const num = (v: unknown): number => (isNum(v) ? v : 0);

// A fake Ollama server for foreman's integration tests and benchmarks. It speaks the native /api
// wire format of Ollama v0.12+ as described in /work/shared/ollama-api.md: deterministic "Echo:"
// replies, headers delayed until load + prompt eval are done, a one-load-at-a-time scheduler with
// LRU eviction, sticky keep-alive and per-model slots, Go-style error messages, and injectable faults.
// Standalone: bun test/support/fake-ollama.ts --port 11434 [--load-ms 2000] [--token-ms 30] [--prompt-ms 0]
import { createHash } from "node:crypto";

export interface FakeModel { name: string; family?: string; parameterSize?: string; capabilities?: string[]; embedding?: boolean; loadMs?: number }
export interface FakeOptions {
  port?: number;
  hostname?: string;
  models?: FakeModel[];
  loadMs?: number;
  promptMs?: number;
  tokenMs?: number;
  maxLoadedChat?: number;
  version?: string;
  defaultKeepAliveMs?: number;
  numParallel?: number;
  /** Called with one line per request (the standalone mode prints them). */
  log?: (line: string) => void;
}
export interface Faults {
  refuse: boolean;
  failNext: { status: number; error: string; count: number } | null;
  midStreamError: { afterChunks: number; error: string } | null;
  dropAfterChunks: number | null;
  /** After N chunks, send nothing more but keep the connection open until the request is aborted. */
  stallAfterChunks: number | null;
  hangBeforeHeaders: boolean;
  busy: boolean;
}
export interface FakeOllama {
  url: string; port: number;
  faults: Faults;
  loads: { model: string; at: number; ms: number }[];
  unloads: { model: string; at: number }[];
  requests: { method: string; path: string; body: any; at: number; headers: Record<string, string> }[];
  activeGenerations: number;
  maxConcurrentGenerations: number;
  resident(): string[];
  reset(): void;
  refuse(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Catalog

interface Entry {
  key: string; name: string; family: string; parameterSize: string; capabilities: string[];
  loadMs?: number; digest: string; size: number; modifiedAt: number; quantization: string;
  contextLength: number; embeddingLength: number;
}

const DEFAULT_MODELS: FakeModel[] = [
  { name: "llama3.2:latest", family: "llama", parameterSize: "3.2B", capabilities: ["completion", "tools"] },
  { name: "qwen2.5:7b", family: "qwen2", parameterSize: "7.6B", capabilities: ["completion", "tools"] },
  { name: "mistral:latest", family: "llama", parameterSize: "7.2B", capabilities: ["completion", "tools"] },
  { name: "gemma3:4b", family: "gemma3", parameterSize: "4.3B", capabilities: ["completion", "vision"] },
  { name: "deepseek-r1:8b", family: "qwen3", parameterSize: "8.2B", capabilities: ["completion", "thinking"] },
  { name: "all-minilm:latest", family: "bert", parameterSize: "23M", capabilities: ["embedding"], embedding: true },
];
const REGISTRY_EXTRAS: FakeModel[] = [
  { name: "phi3:latest", family: "phi3", parameterSize: "3.8B", capabilities: ["completion"] },
  { name: "tinyllama:latest", family: "llama", parameterSize: "1.1B", capabilities: ["completion"] },
];
// Real sizes / quantizations of the well-known models, so /api/tags looks familiar.
const KNOWN: Record<string, { size: number; quant?: string; ctx?: number; emb?: number }> = {
  "llama3.2:latest": { size: 2019393189 },
  "qwen2.5:7b": { size: 4683087332 },
  "mistral:latest": { size: 4113301824, quant: "Q4_0", ctx: 32768, emb: 4096 },
  "gemma3:4b": { size: 3338801804 },
  "deepseek-r1:8b": { size: 5225376047 },
  "all-minilm:latest": { size: 45960996, quant: "F16" },
  "phi3:latest": { size: 2176178913, quant: "Q4_0" },
  "tinyllama:latest": { size: 637700138, quant: "Q4_0", ctx: 2048, emb: 2048 },
};
const ARCH: Record<string, [ctx: number, emb: number]> = {
  llama: [131072, 3072], qwen2: [32768, 3584], gemma3: [131072, 2560], qwen3: [131072, 4096], bert: [512, 384], phi3: [131072, 3072],
};
const CATALOG_EPOCH = Date.UTC(2025, 4, 5, 0, 37, 44, 706);
const DAY = 86_400_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Shortest display form: drops registry.ollama.ai/library/, adds :latest. */
function displayName(name: string): string {
  let n = name.trim().replace(/^registry\.ollama\.ai\//i, "").replace(/^library\//i, "");
  if (!n.slice(n.lastIndexOf("/") + 1).includes(":")) n += ":latest";
  return n;
}
const nameKey = (name: string) => displayName(name).toLowerCase();
const fullName = (e: Entry) => (e.name.split("/")[0].includes(".") ? e.name : `registry.ollama.ai/${e.name.includes("/") ? "" : "library/"}${e.name}`);

function paramCount(size: string): number {
  const m = /^([\d.]+)\s*([KMBT]?)/i.exec(size);
  const scale: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 };
  return m ? Math.round(Number(m[1]) * (scale[m[2].toUpperCase()] ?? 1)) : 7e9;
}

function makeEntry(m: FakeModel, modifiedAt: number, base?: Entry): Entry {
  const name = displayName(m.name);
  const embedding = m.embedding ?? base?.capabilities.includes("embedding") ?? false;
  const family = m.family ?? base?.family ?? (embedding ? "bert" : "llama");
  const parameterSize = m.parameterSize ?? base?.parameterSize ?? (embedding ? "23M" : "7B");
  const known = KNOWN[name.toLowerCase()];
  const [ctx, emb] = ARCH[family] ?? [8192, 4096];
  return {
    key: name.toLowerCase(), name, family, parameterSize, loadMs: m.loadMs ?? base?.loadMs,
    capabilities: m.capabilities ?? base?.capabilities ?? (embedding ? ["embedding"] : ["completion"]),
    digest: sha256(name), modifiedAt,
    size: base?.size ?? known?.size ?? Math.round(paramCount(parameterSize) * (embedding ? 2 : 0.6)),
    quantization: base?.quantization ?? known?.quant ?? (embedding ? "F16" : "Q4_K_M"),
    contextLength: base?.contextLength ?? known?.ctx ?? ctx,
    embeddingLength: base?.embeddingLength ?? known?.emb ?? emb,
  };
}

const details = (e: Entry) => ({
  parent_model: "", format: "gguf", family: e.family, families: [e.family], parameter_size: e.parameterSize, quantization_level: e.quantization,
});

// ---------------------------------------------------------------------------------------------
// Wire helpers: Go-style JSON, timestamps, responses

/** Go's json.Marshal escapes <, > and & (and the JS line separators). */
const goJson = (v: unknown) =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** RFC3339 with trailing fractional zeros trimmed, like Go's time.Time marshalling. */
function goTime(ms: number, utc: boolean, micros = 0): string {
  const off = utc ? 0 : -new Date(ms).getTimezoneOffset();
  const shifted = new Date(Math.floor(ms) + off * 60_000);
  const frac = (pad(shifted.getUTCMilliseconds(), 3) + pad(micros, 3)).replace(/0+$/, "");
  const zone = off === 0 ? "Z" : `${off > 0 ? "+" : "-"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return shifted.toISOString().slice(0, 19) + (frac ? "." + frac : "") + zone;
}
const createdAt = () => goTime(Date.now(), true, Math.floor((performance.now() % 1) * 1000));

const JSON_TYPE = "application/json; charset=utf-8";
const json = (status: number, body: unknown) => new Response(goJson(body), { status, headers: { "content-type": JSON_TYPE } });
const fail = (status: number, error: string) => json(status, { error });
const plain = (status: number, text: string, type = "text/plain") => new Response(text, { status, headers: { "content-type": type } });
const canceled = () => fail(499, "request canceled");
const BUSY = "server busy, please try again.  maximum pending requests exceeded";

/** NDJSON body fed by an async generator; a throw cuts the connection instead of ending cleanly. */
function ndjson(lines: AsyncGenerator<string>, onEnd: () => void): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const next = await lines.next();
        if (next.done) { onEnd(); ctl.close(); } else ctl.enqueue(enc.encode(next.value));
      } catch {
        onEnd();
        ctl.error(undefined); // an undefined reason makes Bun reset the socket without logging
      }
    },
    async cancel() { onEnd(); await lines.return(undefined); },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then((v) => { signal.removeEventListener("abort", onAbort); resolve(v); });
  });
}
const sleep = (ms: number, signal: AbortSignal) => untilAborted(ms > 0 ? Bun.sleep(ms) : Promise.resolve(), signal);
const DROP_FLUSH_MS = 10;
const toNs = (ms: number) => Math.max(1, Math.round(ms * 1e6));

/** FIFO counting semaphore whose waiters can give up. */
class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.free > 0 && this.waiters.length === 0) { this.free--; return Promise.resolve(); }
    return new Promise((resolve, reject) => {
      const grant = () => { signal.removeEventListener("abort", onAbort); resolve(); };
      const onAbort = () => { this.waiters = this.waiters.filter((w) => w !== grant); reject(signal.reason); };
      this.waiters.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
  release() {
    const next = this.waiters.shift();
    if (next) next(); else this.free++;
  }
}

// ---------------------------------------------------------------------------------------------
// Request decoding with encoding/json's error messages

type Field = string | Schema; // a Go type name, or the element struct of []api.Message
interface Schema { name: string; fields: Record<string, Field> }
type Decoded = { ok: true; value: Record<string, any> } | { ok: false; error: string };

const MAP = "map[string]interface {}";
const MESSAGE: Schema = { name: "Message", fields: { role: "string", content: "string", thinking: "string", images: "[]api.ImageData", tool_calls: "[]api.ToolCall", tool_name: "string", tool_call_id: "string" } };
const RUN = { model: "string", keep_alive: "duration", options: MAP };
const GEN_FLAGS = { stream: "bool", format: "any", think: "think", truncate: "bool", shift: "bool", logprobs: "bool", top_logprobs: "int" };
const GENERATE: Schema = { name: "GenerateRequest", fields: { ...RUN, ...GEN_FLAGS, prompt: "string", suffix: "string", system: "string", template: "string", context: "[]int", raw: "bool", images: "[]api.ImageData" } };
const CHAT: Schema = { name: "ChatRequest", fields: { ...RUN, ...GEN_FLAGS, messages: MESSAGE, tools: "api.Tools" } };
const EMBED: Schema = { name: "EmbedRequest", fields: { ...RUN, input: "any", truncate: "bool", dimensions: "int" } };
const EMBEDDINGS: Schema = { name: "EmbeddingRequest", fields: { ...RUN, prompt: "string" } };
const SHOW: Schema = { name: "ShowRequest", fields: { model: "string", name: "string", system: "string", template: "string", verbose: "bool", options: MAP } };
const PULL: Schema = { name: "PullRequest", fields: { model: "string", name: "string", insecure: "bool", stream: "bool", username: "string", password: "string" } };
const PUSH: Schema = { ...PULL, name: "PushRequest" };
const CREATE: Schema = { name: "CreateRequest", fields: { model: "string", name: "string", from: "string", stream: "bool", quantize: "string", system: "string", template: "string", files: "map[string]string", parameters: MAP, license: "any", messages: MESSAGE } };
const COPY: Schema = { name: "CopyRequest", fields: { source: "string", destination: "string" } };
const DELETE: Schema = { name: "DeleteRequest", fields: { model: "string", name: "string" } };

function decode(text: string, schema: Schema): Decoded {
  if (!text.trim()) return { ok: false, error: "missing request body" };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const scan = scanJson(text);
    if ("error" in scan) return { ok: false, error: scan.error };
    try { v = JSON.parse(text.slice(0, scan.end)); } catch { return { ok: false, error: "unexpected EOF" }; } // Go's Decoder ignores trailing data
  }
  if (v === null) return { ok: true, value: {} };
  if (jsonKind(v) !== "object") return { ok: false, error: `json: cannot unmarshal ${jsonKind(v)} into Go value of type api.${schema.name}` };
  try {
    const [value, typeError] = checkStruct(v as Record<string, unknown>, schema, []);
    return typeError ? { ok: false, error: typeError } : { ok: true, value };
  } catch (e) {
    if (typeof e === "string") return { ok: false, error: e };
    throw e;
  }
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v; // string, number, object
}

/** Type errors are collected (Go keeps the first and goes on); custom unmarshaler errors throw. */
function checkStruct(obj: Record<string, unknown>, schema: Schema, path: string[]): [Record<string, any>, string | undefined] {
  const out: Record<string, any> = {};
  let saved: string | undefined;
  for (const [raw, val] of Object.entries(obj)) {
    const key = Object.hasOwn(schema.fields, raw) ? raw : Object.keys(schema.fields).find((f) => f === raw.toLowerCase()) ?? raw;
    out[key] = val;
    const field = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    if (field !== undefined && val !== null) saved ??= checkField(val, field, schema.name, [...path, key]);
  }
  return [out, saved];
}

function checkField(val: unknown, field: Field, struct: string, path: string[]): string | undefined {
  const typeError = (got: string, type: string) => `json: cannot unmarshal ${got} into Go struct field ${struct}.${path.join(".")} of type ${type}`;
  if (typeof field !== "string") {
    if (!Array.isArray(val)) return typeError(jsonKind(val), "[]api.Message");
    for (const el of val) {
      if (el === null) continue;
      if (jsonKind(el) !== "object") return typeError(jsonKind(el), "api.Message");
      const [, err] = checkStruct(el, field, path);
      if (err) return err;
    }
    return undefined;
  }
  switch (field) {
    case "duration": keepAliveMs(val); return undefined;
    case "think": checkThink(val); return undefined;
    case "any": return undefined;
    case "string": return typeof val === "string" ? undefined : typeError(jsonKind(val), field);
    case "bool": return typeof val === "boolean" ? undefined : typeError(jsonKind(val), field);
    case "int":
      if (typeof val !== "number") return typeError(jsonKind(val), field);
      return Number.isInteger(val) ? undefined : typeError(`number ${val}`, field);
  }
  if (field.startsWith("map[")) return jsonKind(val) === "object" ? undefined : typeError(jsonKind(val), field);
  return Array.isArray(val) ? undefined : typeError(jsonKind(val), field);
}

/** Finds the first syntax error the way encoding/json's scanner words it. */
function scanJson(s: string): { end: number } | { error: string } {
  let i = 0;
  const digit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  const bad = (what: string): never => { throw i >= s.length ? "unexpected EOF" : `invalid character ${quoteChar(s[i])} ${what}`; };
  const ws = () => { while (i < s.length && " \t\r\n".includes(s[i])) i++; };
  const literal = (lit: string) => {
    for (let k = 0; k < lit.length; k++, i++) if (s[i] !== lit[k]) bad(`in literal ${lit} (expecting ${quoteChar(lit[k])})`);
  };
  const number = () => {
    if (s[i] === "-") { i++; if (!digit(s[i])) bad("in numeric literal"); }
    if (s[i] === "0") i++; else while (digit(s[i])) i++;
    if (s[i] === ".") { i++; if (!digit(s[i])) bad("after decimal point in numeric literal"); while (digit(s[i])) i++; }
    if (s[i] === "e" || s[i] === "E") {
      i++;
      if (s[i] === "+" || s[i] === "-") i++;
      if (!digit(s[i])) bad("in exponent of numeric literal");
      while (digit(s[i])) i++;
    }
  };
  const string = () => {
    for (i++; ; i++) {
      const c = s[i];
      if (c === undefined) bad("");
      if (c === '"') { i++; return; }
      if (c < " ") bad("in string literal");
      if (c !== "\\") continue;
      i++;
      if (s[i] === "u") {
        for (let k = 0; k < 4; k++) { i++; if (!/^[0-9a-fA-F]$/.test(s[i] ?? "")) bad("in \\u hexadecimal character escape"); }
      } else if (s[i] === undefined || !'"\\/bfnrt'.includes(s[i])) bad("in string escape code");
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "-" || digit(c)) return number();
    for (const lit of ["true", "false", "null"]) if (c === lit[0]) return literal(lit);
    bad("looking for beginning of value");
  };
  const object = () => {
    i++; ws();
    if (s[i] === "}") { i++; return; }
    for (;;) {
      ws();
      if (s[i] !== '"') bad("looking for beginning of object key string");
      string(); ws();
      if (s[i] !== ":") bad("after object key");
      i++; value(); ws();
      if (s[i] === ",") { i++; continue; }
      if (s[i] === "}") { i++; return; }
      bad("after object key:value pair");
    }
  };
  const array = () => {
    i++; ws();
    if (s[i] === "]") { i++; return; }
    for (;;) {
      value(); ws();
      if (s[i] === ",") { i++; continue; }
      if (s[i] === "]") { i++; return; }
      bad("after array element");
    }
  };
  try { value(); return { end: i }; } catch (e) { return { error: String(e) }; }
}

const quoteChar = (c: string) => (c === "'" ? "'\\''" : c === '"' ? "'\"'" : `'${JSON.stringify(c).slice(1, -1)}'`);

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Go's time.ParseDuration, in milliseconds. Throws Go's error text. */
function parseGoDuration(orig: string): number {
  const q = JSON.stringify;
  let s = orig;
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") { sign = s[0] === "-" ? -1 : 1; s = s.slice(1); }
  if (s === "0") return 0;
  if (s === "") throw `time: invalid duration ${q(orig)}`;
  let total = 0;
  while (s) {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (!num[1] && !num[2]) throw `time: invalid duration ${q(orig)}`;
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (!unit) throw `time: missing unit in duration ${q(orig)}`;
    if (!(unit in DURATION_UNITS)) throw `time: unknown unit ${q(unit)} in duration ${q(orig)}`;
    s = s.slice(unit.length);
    total += Number(`${num[1] || 0}.${num[2] || 0}`) * DURATION_UNITS[unit];
  }
  return sign * total;
}

/** api.Duration: seconds as a number, a Go duration string, negative = forever. undefined = not set. */
function keepAliveMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  let ms: number;
  if (typeof v === "number") ms = v * 1000;
  else if (typeof v === "string") ms = parseGoDuration(v);
  else throw `Unsupported type: '${typeof v === "boolean" ? "bool" : Array.isArray(v) ? "[]interface {}" : MAP}'`;
  return ms < 0 ? Infinity : ms;
}

function checkThink(v: unknown) {
  if (typeof v === "boolean") return;
  if (typeof v !== "string") throw "think must be a boolean or string";
  if (!["high", "medium", "low", "max"].includes(v)) {
    throw `invalid think value: ${JSON.stringify(v)} (must be "high", "medium", "low", "max", true, or false)`;
  }
}

const INT_OPTIONS = ["num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread"];
const FLOAT_OPTIONS = ["temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty", "frequency_penalty"];

/** api.Options.FromMap: a known option of the wrong type is a 500 raised while scheduling. */
function optionError(options: Record<string, unknown> | undefined): string | undefined {
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v === null) continue;
    if (INT_OPTIONS.includes(k) && typeof v !== "number") return `option "${k}" must be of type integer`;
    if (FLOAT_OPTIONS.includes(k) && typeof v !== "number") return `option "${k}" must be of type float32`;
    if (k === "use_mmap" && typeof v !== "boolean") return `option "${k}" must be of type boolean`;
    if (k === "stop" && !Array.isArray(v)) return `option "${k}" must be of type array`;
    if (k === "stop" && (v as unknown[]).some((s) => typeof s !== "string")) return `option "${k}" must be of an array of strings`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Scheduler: resident runners, one load at a time, LRU eviction, sticky keep-alive, slots

interface RunnerOpts { numCtx: number; numBatch: number; numGpu: number }
interface Runner {
  entry: Entry; opts: RunnerOpts; sessionMs: number; refs: number; closing: boolean;
  lastUsed: number; expiresAt: number; timer?: ReturnType<typeof setTimeout>; slots: Semaphore;
  gone: Promise<void>; markGone: () => void;
}
interface Lease { runner: Runner; loadMs: number; release(): void }

const FOREVER_MS = 9_223_372_036_854.775; // math.MaxInt64 nanoseconds

const runnerOpts = (o: Record<string, any> | undefined): RunnerOpts => ({
  numCtx: Math.trunc(o?.num_ctx ?? 4096), numBatch: Math.trunc(o?.num_batch ?? 512), numGpu: Math.trunc(o?.num_gpu ?? -1),
});
const needsReload = (have: RunnerOpts, want: RunnerOpts) =>
  have.numCtx !== want.numCtx || have.numBatch !== want.numBatch || (want.numGpu !== -1 && want.numGpu !== have.numGpu);

interface SchedulerHost {
  loads: FakeOllama["loads"]; unloads: FakeOllama["unloads"];
  loadMs: number; maxLoadedChat: number; numParallel: number; defaultKeepAliveMs: number;
}

class Scheduler {
  readonly resident = new Map<string, Runner>();
  private loadLock = new Semaphore(1);
  constructor(private host: SchedulerHost) {}

  /** Attaches to a usable runner, loading (and evicting) first if needed. Rejects on abort. */
  async attach(entry: Entry, opts: RunnerOpts, keepAlive: number | undefined, signal: AbortSignal): Promise<Lease> {
    const t0 = performance.now();
    let runner = this.usable(entry, opts);
    if (!runner) {
      await this.loadLock.acquire(signal);
      try {
        runner = this.usable(entry, opts) ?? await this.load(entry, opts, keepAlive, signal);
      } finally {
        this.loadLock.release();
      }
    }
    const r = runner;
    r.refs++;
    clearTimeout(r.timer);
    if (keepAlive !== undefined) r.sessionMs = keepAlive; // sticky: only when the request set it
    r.lastUsed = Date.now();
    let released = false;
    return { runner: r, loadMs: performance.now() - t0, release: () => { if (!released) { released = true; this.release(r); } } };
  }

  /** keep_alive 0 with nothing to do: unload once in-flight requests are done. */
  expire(entry: Entry) {
    const r = this.resident.get(entry.key);
    if (!r) return;
    r.sessionMs = 0;
    r.expiresAt = Date.now();
    if (r.refs === 0) this.unload(r);
  }

  shutdown() {
    for (const r of this.resident.values()) clearTimeout(r.timer);
  }

  private usable(entry: Entry, opts: RunnerOpts): Runner | undefined {
    const r = this.resident.get(entry.key);
    return r && !r.closing && !needsReload(r.opts, opts) ? r : undefined;
  }

  private async load(entry: Entry, opts: RunnerOpts, keepAlive: number | undefined, signal: AbortSignal): Promise<Runner> {
    for (;;) {
      const victim = this.resident.get(entry.key) ?? (entry.capabilities.includes("embedding") ? undefined : this.victim());
      if (!victim) break;
      this.close(victim);
      await untilAborted(victim.gone, signal);
    }
    const ms = entry.loadMs ?? this.host.loadMs;
    const at = Date.now();
    const t0 = performance.now();
    await sleep(ms, signal); // an abort here abandons the load, as Ollama does
    this.host.loads.push({ model: entry.name, at, ms: Math.round(performance.now() - t0) });
    let markGone = () => {};
    const gone = new Promise<void>((resolve) => { markGone = resolve; });
    const sessionMs = keepAlive ?? this.host.defaultKeepAliveMs;
    const r: Runner = {
      entry, opts, sessionMs, refs: 0, closing: false, lastUsed: Date.now(), expiresAt: Date.now() + Math.min(sessionMs, FOREVER_MS),
      slots: new Semaphore(this.host.numParallel), gone, markGone,
    };
    this.resident.set(entry.key, r);
    return r;
  }

  /** The chat runner to make room with: one already closing, else the least recently used idle one. */
  private victim(): Runner | undefined {
    const chat = [...this.resident.values()].filter((r) => !r.entry.capabilities.includes("embedding"));
    if (chat.length < this.host.maxLoadedChat) return undefined;
    const rank = (r: Runner) => (r.closing ? 0 : r.refs === 0 ? 1 : 2);
    return chat.sort((a, b) => rank(a) - rank(b) || a.lastUsed - b.lastUsed)[0];
  }

  private close(r: Runner) {
    r.closing = true;
    if (r.refs === 0) this.unload(r);
  }

  private release(r: Runner) {
    r.refs--;
    r.lastUsed = Date.now();
    if (r.refs > 0) return;
    if (r.closing || r.sessionMs <= 0) return this.unload(r);
    r.expiresAt = Date.now() + Math.min(r.sessionMs, FOREVER_MS); // the idle timer starts now, not at load
    if (r.sessionMs < 2 ** 31) r.timer = setTimeout(() => this.unload(r), r.sessionMs);
  }

  private unload(r: Runner) {
    if (this.resident.get(r.entry.key) !== r) return;
    clearTimeout(r.timer);
    this.resident.delete(r.entry.key);
    this.host.unloads.push({ model: r.entry.name, at: Date.now() });
    r.markGone();
  }
}

// ---------------------------------------------------------------------------------------------
// Replies

type Kind = "generate" | "chat";
interface Piece { content: string; thinking?: string; toolCalls?: unknown[] }
type Event = { kind: "piece"; piece: Piece } | { kind: "error"; error: string } | { kind: "drop" };

const tokenize = (text: string) => text.match(/\s*\S+|\s+/g) ?? [];

function lastUserText(messages: any[] | undefined): string {
  const user = [...(messages ?? [])].reverse().find((m) => String(m?.role ?? "").toLowerCase() === "user");
  return typeof user?.content === "string" ? user.content : "";
}

function replyPlan(kind: Kind, body: Record<string, any>, entry: Entry): { pieces: Piece[]; doneReason: string } {
  const text = kind === "chat" ? lastUserText(body.messages) : String(body.prompt ?? "");
  const pieces: Piece[] = [];
  if (entry.capabilities.includes("thinking") && body.think !== false) {
    for (const t of ["Let", " me", " think"]) pieces.push({ content: "", thinking: t });
  }
  if (kind === "chat" && body.tools?.length && text.includes("[[tool]]")) {
    const name = body.tools[0]?.function?.name ?? "";
    pieces.push({ content: "", toolCalls: [{ id: "call_1", function: { index: 0, name, arguments: {} } }] });
    return { pieces, doneReason: "stop" };
  }
  const n = /\[\[tokens=(\d+)\]\]/.exec(text);
  let tokens = n ? Array.from({ length: Number(n[1]) }, (_, i) => ` tok${i + 1}`) : tokenize(`Echo: ${text}`);
  const limit = Number(body.options?.num_predict);
  let doneReason = "stop";
  if (limit > 0 && tokens.length > limit) { tokens = tokens.slice(0, limit); doneReason = "length"; }
  for (const content of tokens) pieces.push({ content });
  return { pieces, doneReason };
}

function promptTokens(kind: Kind, body: Record<string, any>): number {
  const texts = kind === "chat" ? (body.messages ?? []).map((m: any) => String(m?.content ?? "")) : [String(body.system ?? ""), String(body.prompt ?? "")];
  return texts.reduce((n: number, t: string) => n + tokenize(t.trim()).length + 4, 6);
}

function embedding(text: string, dims: number | undefined, normalized: boolean): number[] {
  const h = createHash("sha256").update(text).digest();
  let v = Array.from({ length: 16 }, (_, i) => h.readUInt16BE(i * 2) / 32767.5 - 1);
  if (!normalized) return v.map((x) => x * 2.5);
  if (dims && dims > 0 && dims < v.length) v = v.slice(0, dims);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Number((x / norm).toPrecision(8))); // float32-ish, as Ollama prints
}

// ---------------------------------------------------------------------------------------------
// The server

interface Ctx { req: Request; text: string; signal: AbortSignal; started: number }
type Handler = (c: Ctx) => Response | Promise<Response>;
type Server = ReturnType<typeof Bun.serve>;

class FakeOllamaServer implements FakeOllama {
  url = "";
  port = 0;
  loads: FakeOllama["loads"] = [];
  unloads: FakeOllama["unloads"] = [];
  requests: FakeOllama["requests"] = [];
  activeGenerations = 0;
  maxConcurrentGenerations = 0;
  faults: Faults;
  private server: Server | undefined;
  private stopped = false;
  private kill = new AbortController();
  private catalog = new Map<string, Entry>();
  private registry = new Map<string, FakeModel>();
  private sched: Scheduler;
  private routes: Record<string, Record<string, Handler>>;
  private o: { hostname: string; promptMs: number; tokenMs: number; version: string; log?: (line: string) => void };

  constructor(opts: FakeOptions) {
    this.o = { hostname: opts.hostname ?? "127.0.0.1", promptMs: opts.promptMs ?? 0, tokenMs: opts.tokenMs ?? 0, version: opts.version ?? "0.12.6", log: opts.log };
    this.sched = new Scheduler({
      loads: this.loads, unloads: this.unloads, loadMs: opts.loadMs ?? 0, maxLoadedChat: opts.maxLoadedChat ?? 1,
      numParallel: opts.numParallel ?? 1, defaultKeepAliveMs: opts.defaultKeepAliveMs ?? 5 * 60_000,
    });
    const models = opts.models ?? DEFAULT_MODELS;
    models.forEach((m, i) => this.catalog.set(nameKey(m.name), makeEntry(m, CATALOG_EPOCH - i * DAY)));
    for (const m of [...DEFAULT_MODELS, ...REGISTRY_EXTRAS, ...models]) this.registry.set(nameKey(m.name), m);
    this.faults = this.defaultFaults();
    this.routes = this.routeTable();
  }

  resident(): string[] {
    return [...this.sched.resident.values()].map((r) => r.entry.name);
  }

  reset() {
    this.loads.length = 0;
    this.unloads.length = 0;
    this.requests.length = 0;
    this.maxConcurrentGenerations = this.activeGenerations;
    Object.assign(this.faults, { refuse: false, failNext: null, midStreamError: null, dropAfterChunks: null, stallAfterChunks: null, hangBeforeHeaders: false, busy: false });
  }

  async refuse(on: boolean): Promise<void> {
    if (on && this.server) {
      const s = this.server;
      this.server = undefined;
      this.kill.abort();
      await s.stop(true);
    } else if (!on && !this.server && !this.stopped) {
      this.kill = new AbortController();
      this.listen(this.port);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.kill.abort();
    this.sched.shutdown();
    const s = this.server;
    this.server = undefined;
    await s?.stop(true);
  }

  listen(port: number) {
    this.server = Bun.serve({
      port, hostname: this.o.hostname, idleTimeout: 0, // Ollama has no timeouts
      fetch: (req) => this.handle(req),
      error: (e) => fail(500, String(e?.message ?? e)),
    });
    this.port = this.server.port ?? port;
    this.url = `http://${this.o.hostname}:${this.port}`;
  }

  /** `refuse` is an accessor so that `fake.faults.refuse = true` works too. */
  private defaultFaults(): Faults {
    const faults = { failNext: null, midStreamError: null, dropAfterChunks: null, stallAfterChunks: null, hangBeforeHeaders: false, busy: false };
    return Object.defineProperty(faults, "refuse", {
      enumerable: true, get: () => !this.server, set: (on: boolean) => void this.refuse(on),
    }) as Faults;
  }

  private routeTable(): Record<string, Record<string, Handler>> {
    const root: Handler = () => plain(200, "Ollama is running", "text/plain; charset=utf-8");
    const version: Handler = () => json(200, { version: this.o.version });
    const tags: Handler = () => this.tags();
    return {
      "/": { GET: root, HEAD: root },
      "/api/version": { GET: version, HEAD: version },
      "/api/tags": { GET: tags, HEAD: tags },
      "/api/ps": { GET: () => this.ps() },
      "/api/show": { POST: (c) => this.show(c) },
      "/api/generate": { POST: (c) => this.inference(c, "generate") },
      "/api/chat": { POST: (c) => this.inference(c, "chat") },
      "/api/embed": { POST: (c) => this.embed(c) },
      "/api/embeddings": { POST: (c) => this.embeddings(c) },
      "/api/pull": { POST: (c) => this.pull(c) },
      "/api/push": { POST: (c) => this.push(c) },
      "/api/create": { POST: (c) => this.create(c) },
      "/api/copy": { POST: (c) => this.copy(c) },
      "/api/delete": { DELETE: (c) => this.delete(c) },
    };
  }

  private async handle(req: Request): Promise<Response> {
    const started = performance.now();
    const path = new URL(req.url).pathname;
    const text = await req.text().catch(() => "");
    this.requests.push({ method: req.method, path, body: looseJson(text), at: Date.now(), headers: Object.fromEntries(req.headers.entries()) });
    const methods = this.routes[path];
    const handler = methods?.[req.method];
    const signal = AbortSignal.any([req.signal, this.kill.signal]);
    const res = !methods ? plain(404, "404 page not found")
      : !handler ? plain(405, "405 method not allowed")
      : await handler({ req, text, signal, started });
    this.o.log?.(`${new Date().toISOString()} ${req.method} ${path} ${res.status} ${Math.round(performance.now() - started)}ms`);
    return req.method === "HEAD" ? new Response(null, { status: res.status, headers: res.headers }) : res;
  }

  private lookup(name: string): Entry | undefined {
    return this.catalog.get(nameKey(name));
  }

  // --- listing and metadata ------------------------------------------------------------------

  private tags(): Response {
    const models = [...this.catalog.values()].sort((a, b) => b.modifiedAt - a.modifiedAt).map((e) => ({
      name: e.name, model: e.name, modified_at: goTime(e.modifiedAt, false), size: e.size, digest: e.digest, details: details(e),
    }));
    return json(200, { models });
  }

  private ps(): Response {
    const models = [...this.sched.resident.values()].sort((a, b) => b.expiresAt - a.expiresAt).map((r) => {
      const ctx = Math.min(r.opts.numCtx, r.entry.contextLength); // the runner clamps to the trained context
      const size = r.entry.size + ctx * 16_384;
      return {
        name: r.entry.name, model: r.entry.name, size, digest: r.entry.digest, details: details(r.entry),
        expires_at: goTime(r.expiresAt, false), size_vram: size, context_length: ctx,
      };
    });
    return json(200, { models });
  }

  private show(c: Ctx): Response {
    const d = decode(c.text, SHOW);
    if (!d.ok) return fail(400, d.error);
    const name: string = d.value.model || d.value.name || "";
    if (!name) return fail(400, "model is required");
    const e = this.lookup(name);
    if (!e) return fail(404, `model '${displayName(name)}' not found`);
    const arch = e.family;
    const template = e.capabilities.includes("embedding") ? "{{ .Prompt }}" : "{{ if .System }}<|system|>{{ .System }}<|end|>{{ end }}<|user|>{{ .Prompt }}<|end|><|assistant|>";
    return json(200, {
      license: "Fake model license for tests.",
      modelfile: `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM ${e.name}\n\nFROM /root/.ollama/models/blobs/sha256-${e.digest}\nTEMPLATE """${template}"""\nPARAMETER stop <|end|>\n`,
      parameters: 'stop                           "<|end|>"',
      template,
      details: details(e),
      model_info: {
        "general.architecture": arch, "general.basename": e.name.split(":")[0], "general.file_type": 15,
        "general.parameter_count": paramCount(e.parameterSize), "general.quantization_version": 2,
        [`${arch}.block_count`]: 28, [`${arch}.context_length`]: e.contextLength, [`${arch}.embedding_length`]: e.embeddingLength,
        "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": [],
      },
      capabilities: e.capabilities,
      modified_at: goTime(e.modifiedAt, false),
    });
  }

  // --- generate / chat -------------------------------------------------------------------------

  private async inference(c: Ctx, kind: Kind): Promise<Response> {
    const d = decode(c.text, kind === "chat" ? CHAT : GENERATE);
    if (!d.ok) return fail(400, d.error);
    const body = d.value;
    const model: string = body.model ?? "";
    if (!model) return kind === "chat" ? fail(400, "model is required") : fail(404, "model '' not found");
    const entry = this.lookup(model);
    if (!entry) return fail(404, `model '${model}' not found`);
    const keepAlive = keepAliveMs(body.keep_alive);
    const work = kind === "chat" ? (body.messages?.length ?? 0) > 0 : !!body.prompt;
    const empty = () => ({ model, created_at: createdAt(), ...(kind === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" }), done: true });
    if (!work && keepAlive === 0) {
      this.sched.expire(entry);
      return json(200, { ...empty(), done_reason: "unload" });
    }
    const refused = this.requestError(kind, body, entry);
    if (refused) return refused;
    if (work) {
      const faulted = await this.preStreamFault(c.signal);
      if (faulted) return faulted;
    }
    let lease: Lease;
    try { lease = await this.sched.attach(entry, runnerOpts(body.options), keepAlive, c.signal); } catch { return canceled(); }
    if (!work) {
      lease.release();
      return json(200, { ...empty(), done_reason: "load" });
    }
    return this.generate(c, kind, body, entry, lease);
  }

  private requestError(kind: Kind, body: Record<string, any>, entry: Entry): Response | undefined {
    const model = JSON.stringify(body.model);
    if (kind === "generate" && body.raw && (body.template || body.system || body.context?.length)) {
      return fail(400, "raw mode does not support template, system, or context");
    }
    if (!entry.capabilities.includes("completion")) return fail(400, `${model} does not support ${kind}`);
    if (kind === "chat" && body.tools?.length && !entry.capabilities.includes("tools")) return fail(400, `${fullName(entry)} does not support tools`);
    if (body.think !== undefined && body.think !== null && body.think !== false && !entry.capabilities.includes("thinking")) {
      return fail(400, `${model} does not support thinking`);
    }
    const option = optionError(body.options);
    return option ? fail(500, option) : undefined;
  }

  /** Faults that answer before any header: busy, failNext, hangBeforeHeaders. */
  private async preStreamFault(signal: AbortSignal): Promise<Response | undefined> {
    const f = this.faults;
    if (f.busy) return fail(503, BUSY);
    if (f.failNext && f.failNext.count > 0) {
      const { status, error } = f.failNext;
      if (--f.failNext.count <= 0) f.failNext = null;
      return fail(status, error);
    }
    if (f.hangBeforeHeaders) {
      await untilAborted(new Promise(() => {}), signal).catch(() => {});
      return canceled();
    }
    return undefined;
  }

  private async generate(c: Ctx, kind: Kind, body: Record<string, any>, entry: Entry, lease: Lease): Promise<Response> {
    const slots = lease.runner.slots;
    try { await slots.acquire(c.signal); } catch { lease.release(); return canceled(); }
    this.activeGenerations++;
    this.maxConcurrentGenerations = Math.max(this.maxConcurrentGenerations, this.activeGenerations);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.activeGenerations--;
      slots.release();
      lease.release();
      c.signal.removeEventListener("abort", finish);
    };
    c.signal.addEventListener("abort", finish);
    const plan = replyPlan(kind, body, entry);
    const p0 = performance.now();
    try { await sleep(this.o.promptMs, c.signal); } catch { finish(); return canceled(); }
    const timing = { started: c.started, loadMs: lease.loadMs, promptMs: performance.now() - p0, firstAt: 0 };
    const fmt = this.formatter(kind, body, plan.doneReason, timing);
    const f = this.faults;
    const events = this.pace(plan.pieces, c.signal, f.midStreamError ? { ...f.midStreamError } : null, f.dropAfterChunks, f.stallAfterChunks);
    return body.stream === false ? this.collect(events, fmt, finish) : this.streamOut(events, fmt, finish);
  }

  /** Paces the pieces by tokenMs and injects the streaming faults (they always fire, even on short replies). */
  private async *pace(pieces: Piece[], signal: AbortSignal, mid: Faults["midStreamError"], drop: number | null, stall: number | null): AsyncGenerator<Event> {
    for (let i = 0; ; i++) {
      // A stall never resumes: the abort rejects, which ends the stream like a caller going away.
      if (stall !== null && i === Math.min(stall, pieces.length)) await untilAborted(new Promise<never>(() => {}), signal);
      if (mid && i === Math.min(mid.afterChunks, pieces.length)) { yield { kind: "error", error: mid.error }; return; }
      if (drop !== null && i === Math.min(drop, pieces.length)) {
        if (i > 0) await sleep(Math.max(this.o.tokenMs, DROP_FLUSH_MS), signal); // else Bun may not have flushed the chunks yet
        yield { kind: "drop" };
        return;
      }
      if (i >= pieces.length) return;
      if (i > 0) await sleep(this.o.tokenMs, signal);
      yield { kind: "piece", piece: pieces[i] };
    }
  }

  private formatter(kind: Kind, body: Record<string, any>, doneReason: string, t: { started: number; loadMs: number; promptMs: number; firstAt: number }) {
    const model: string = body.model;
    let count = 0;
    const message = (p: Piece) => ({
      role: "assistant", content: p.content, ...(p.thinking ? { thinking: p.thinking } : {}), ...(p.toolCalls?.length ? { tool_calls: p.toolCalls } : {}),
    });
    const chunk = (p: Piece) => {
      t.firstAt ||= performance.now();
      count++;
      return kind === "chat"
        ? { model, created_at: createdAt(), message: message(p), done: false }
        : { model, created_at: createdAt(), response: p.content, ...(p.thinking ? { thinking: p.thinking } : {}), done: false };
    };
    const final = (acc: Piece) => {
      const now = performance.now();
      const metrics = {
        total_duration: toNs(now - t.started), load_duration: toNs(t.loadMs),
        prompt_eval_count: promptTokens(kind, body), prompt_eval_duration: toNs(t.promptMs),
        eval_count: Math.max(1, count), eval_duration: toNs(now - (t.firstAt || now)),
      };
      if (kind === "chat") return { model, created_at: createdAt(), message: message(acc), done: true, done_reason: doneReason, ...metrics };
      const context = body.raw ? {} : { context: contextTokens(String(body.prompt ?? "")) };
      return { model, created_at: createdAt(), response: acc.content, ...(acc.thinking ? { thinking: acc.thinking } : {}), done: true, done_reason: doneReason, ...context, ...metrics };
    };
    return { chunk, final };
  }

  private streamOut(events: AsyncGenerator<Event>, fmt: ReturnType<FakeOllamaServer["formatter"]>, finish: () => void): Response {
    async function* lines() {
      for await (const ev of events) {
        if (ev.kind === "drop") throw new Error("dropAfterChunks");
        if (ev.kind === "error") { yield goJson({ error: ev.error }) + "\n"; return; }
        yield goJson(fmt.chunk(ev.piece)) + "\n";
      }
      yield goJson(fmt.final({ content: "" })) + "\n";
    }
    return ndjson(lines(), finish);
  }

  private async collect(events: AsyncGenerator<Event>, fmt: ReturnType<FakeOllamaServer["formatter"]>, finish: () => void): Promise<Response> {
    const acc: Piece & { thinking: string; toolCalls: unknown[] } = { content: "", thinking: "", toolCalls: [] };
    try {
      for await (const ev of events) {
        if (ev.kind === "drop") { finish(); return cutConnection(); }
        if (ev.kind === "error") { finish(); return fail(500, ev.error); }
        fmt.chunk(ev.piece);
        acc.content += ev.piece.content;
        acc.thinking += ev.piece.thinking ?? "";
        acc.toolCalls.push(...(ev.piece.toolCalls ?? []));
      }
    } catch {
      finish();
      return canceled();
    }
    const body = fmt.final(acc);
    finish();
    return json(200, body);
  }

  // --- embeddings ------------------------------------------------------------------------------

  private async embed(c: Ctx): Promise<Response> {
    const d = decode(c.text, EMBED);
    if (!d.ok) return fail(400, d.error);
    const body = d.value;
    const input = body.input;
    const inputs = typeof input === "string" ? (input ? [input] : [])
      : Array.isArray(input) ? input : input === undefined || input === null ? [] : null;
    if (!inputs || inputs.some((x) => typeof x !== "string")) return fail(400, "invalid input type");
    const model: string = body.model ?? "";
    if (!model) return fail(404, "model '' not found");
    const done = await this.embedRun(c, body, inputs.length > 0);
    if (done instanceof Response) return done;
    if (!inputs.length) return json(200, { model, embeddings: [] });
    const embeddings = (inputs as string[]).map((s) => embedding(s, body.dimensions, true));
    const prompt_eval_count = (inputs as string[]).reduce((n, s) => n + tokenize(s.trim()).length + 2, 0);
    return json(200, { model, embeddings, total_duration: toNs(performance.now() - c.started), load_duration: toNs(done.loadMs), prompt_eval_count });
  }

  private async embeddings(c: Ctx): Promise<Response> {
    const d = decode(c.text, EMBEDDINGS);
    if (!d.ok) return fail(400, d.error);
    if (!d.value.model) return fail(400, "model is required");
    const prompt = String(d.value.prompt ?? "");
    const done = await this.embedRun(c, d.value, prompt !== "");
    if (done instanceof Response) return done;
    return json(200, { embedding: prompt ? embedding(prompt, undefined, false) : [] });
  }

  /** Shared scheduling for both embedding routes; no slots, and not counted as a generation. */
  private async embedRun(c: Ctx, body: Record<string, any>, work: boolean): Promise<Response | { loadMs: number }> {
    const entry = this.lookup(body.model);
    if (!entry) return fail(404, `model ${JSON.stringify(body.model)} not found, try pulling it first`);
    const option = optionError(body.options);
    if (option) return fail(500, option);
    if (work) {
      const faulted = await this.preStreamFault(c.signal);
      if (faulted) return faulted;
    }
    try {
      const lease = await this.sched.attach(entry, runnerOpts(body.options), keepAliveMs(body.keep_alive), c.signal);
      lease.release();
      return { loadMs: lease.loadMs };
    } catch {
      return canceled();
    }
  }

  // --- model management ------------------------------------------------------------------------

  private pull(c: Ctx): Response {
    const d = decode(c.text, PULL);
    if (!d.ok) return fail(400, d.error);
    const name: string = d.value.model || d.value.name || "";
    if (!name) return fail(400, "invalid model name");
    const spec = this.registry.get(nameKey(name));
    const steps: object[] = [{ status: "pulling manifest" }];
    if (!spec) return this.progress(d.value.stream, [...steps, { error: "pull model manifest: file does not exist" }]);
    [["model", 0.97], ["template", 0.00001], ["params", 0.0000002]].forEach(([layer, share], i) => {
      const hex = sha256(`${nameKey(name)}/${layer}`);
      const total = Math.max(96 + i, Math.round(makeEntry(spec, 0).size * Number(share)));
      const line = { status: `pulling ${hex.slice(0, 12)}`, digest: `sha256:${hex}`, total };
      steps.push(line, { ...line, completed: total });
    });
    steps.push({ status: "verifying sha256 digest" }, { status: "writing manifest" }, { status: "success" });
    return this.progress(d.value.stream, steps, () => this.addModel(makeEntry({ ...spec, name: displayName(name) }, Date.now())));
  }

  private push(c: Ctx): Response {
    const d = decode(c.text, PUSH);
    if (!d.ok) return fail(400, d.error);
    const name: string = d.value.model || d.value.name || "";
    if (!name) return fail(400, "model is required");
    const e = this.lookup(name);
    const steps: object[] = [{ status: "retrieving manifest" }];
    if (!e) {
      const path = nameKey(name).replace(/:([^:/]*)$/, "/$1");
      const manifest = `/root/.ollama/models/manifests/registry.ollama.ai/${path.split("/").length > 2 ? "" : "library/"}${path}`;
      steps.push({ status: "couldn't retrieve manifest" }, { error: `open ${manifest}: no such file or directory` });
    } else {
      const digest = `sha256:${e.digest}`;
      steps.push({ status: `pushing ${digest.slice(7, 19)}`, digest, total: e.size }, { status: `pushing ${digest.slice(7, 19)}`, digest, total: e.size, completed: e.size });
      steps.push({ status: "pushing manifest" }, { status: "success" });
    }
    return this.progress(d.value.stream, steps);
  }

  private create(c: Ctx): Response {
    const d = decode(c.text, CREATE);
    if (!d.ok) return fail(400, d.error);
    const b = d.value;
    const name: string = b.model || b.name || "";
    if (!name) return fail(400, "invalid model name");
    if (!b.from && !b.files) return fail(400, "neither 'from' or 'files' was specified");
    const base = b.from ? this.lookup(b.from) : undefined;
    if (b.from && !base) return this.progress(b.stream, [{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }]);
    const steps: object[] = base
      ? [{ status: `using existing layer sha256:${base.digest}` }]
      : [{ status: "parsing GGUF" }, ...Object.values(b.files ?? {}).map((digest) => ({ status: `using existing layer ${digest}` }))];
    for (const layer of ["template", "system", "parameters", "license"]) {
      if (b[layer]) steps.push({ status: `creating ${layer} layer` });
    }
    steps.push({ status: "writing manifest" }, { status: "success" });
    return this.progress(b.stream, steps, () => this.addModel(makeEntry({ name }, Date.now(), base)));
  }

  private copy(c: Ctx): Response {
    const d = decode(c.text, COPY);
    if (!d.ok) return fail(400, d.error);
    const { source = "", destination = "" } = d.value;
    if (!source) return fail(400, `source "" is invalid`);
    if (!destination) return fail(400, `destination "" is invalid`);
    const e = this.lookup(source);
    if (!e) return fail(404, `model ${JSON.stringify(source)} not found`);
    const name = displayName(destination);
    this.addModel({ ...e, name, key: name.toLowerCase(), modifiedAt: Date.now() });
    return new Response(null, { status: 200 });
  }

  private delete(c: Ctx): Response {
    const d = decode(c.text, DELETE);
    if (!d.ok) return fail(400, d.error);
    const name: string = d.value.model || d.value.name || "";
    if (!name) return fail(400, "model is required");
    const e = this.lookup(name);
    if (!e) return fail(404, `model '${name}' not found`);
    this.catalog.delete(e.key);
    this.sched.expire(e);
    return new Response(null, { status: 200 });
  }

  private addModel(e: Entry) {
    this.catalog.set(e.key, e);
  }

  /** NDJSON progress (stream default true) or, with stream:false, the last object / a 500. */
  private progress(stream: unknown, steps: object[], onSuccess?: () => void): Response {
    const last = steps[steps.length - 1] as { error?: string };
    if (stream === false) {
      if (last.error) return fail(500, last.error);
      onSuccess?.();
      return json(200, last);
    }
    async function* lines() {
      for (const step of steps) {
        if ((step as { status?: string }).status === "success") onSuccess?.();
        yield goJson(step) + "\n";
      }
    }
    return ndjson(lines(), () => {});
  }
}

function looseJson(text: string): any {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

function contextTokens(prompt: string): number[] {
  const h = createHash("sha256").update(prompt).digest();
  return Array.from({ length: 8 }, (_, i) => h.readUInt16BE(i * 2) % 128000);
}

/** A reply whose connection dies before anything is written. */
function cutConnection(): Response {
  return new Response(new ReadableStream({ pull(ctl) { ctl.error(undefined); } }), { headers: { "content-type": JSON_TYPE } });
}

export async function startFakeOllama(opts: FakeOptions = {}): Promise<FakeOllama> {
  const fake = new FakeOllamaServer(opts);
  fake.listen(opts.port ?? 0);
  return fake;
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  void startFakeOllama({
    port: arg("port", 11434), loadMs: arg("load-ms", 0), tokenMs: arg("token-ms", 0), promptMs: arg("prompt-ms", 0),
    log: (line) => console.log(line),
  }).then((fake) => console.log(`fake ollama listening on ${fake.url}`));
}

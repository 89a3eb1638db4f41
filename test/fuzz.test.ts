// Property-based fuzzing of foreman's whole HTTP surface with fast-check, against one real foreman
// process (token on, a small FOREMAN_MAX_BODY) in front of one healthy fake Ollama.
//
// Properties checked on every answer:
//  - never a 5xx (the target is healthy and the queue far from full), except the 500s Ollama itself
//    gives and foreman relays as-is: a known option of the wrong type (ollama-api.md §1, §7), and the
//    error of a non-streamed pull/push/create that fails (Ollama's waitForStream answers it with 500);
//  - never a hang: each request has a deadline, and foreman is alive and healthy at the end;
//  - every 4xx carries a JSON error: {"error":"…"} on native and /jobs routes, OpenAI's
//    {"error":{"message","type","param","code"}} on /v1 — 401s included; unknown routes and methods
//    answer gin's text/plain "404 page not found" / "405 method not allowed"; a request line +
//    headers past Bun's 16 KiB parser limit may get Bun's bare 431 (no foreman code runs for it);
//    a HEAD answer has no body, only its status and content type; the fake has no blob routes, so
//    /api/blobs/{digest} relays its gin-like text/plain 404, and never reaches another target path;
//  - the jobs table only grows by the jobs the answers report (202 from POST /jobs, or a sync job
//    with X-Foreman-Job-Id): a rejected request never leaves a row behind, checked per request and
//    for concurrent batches. A sync job the target rejects after it was queued is accepted only when
//    the reason is a model capability foreman cannot know up front ("… does not support chat");
//    body decode errors Ollama gives while binding the request must be caught before queuing;
//  - model management (pull, create, copy, delete) is relayed to the fake, whose catalog it changes:
//    the fields that name what is created, replaced or deleted only ever hold "zfuzz-…" scratch names,
//    a raw body sent there names none of the fake's models, and after each such request the fake's
//    own models are checked unchanged (so later properties still find llama3.2, all-minilm, …).
//
// FUZZ_SEED=<n> replays a run; FUZZ_SCALE=<x> multiplies every numRuns.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { startForeman, until, type ForemanProc } from "./support/foreman";

const TOKEN = "fuzz-token-7Hq2x";
const MAX_BODY = 256 * 1024;
const REQUEST_TIMEOUT_MS = 8_000;
/** Bun.serve's maxRequestBodySize as src/server.ts sets it: 2 × FOREMAN_MAX_BODY + 1 MiB. */
const BUN_BODY_LIMIT = 2 * MAX_BODY + 1024 * 1024;
/** Bun's HTTP parser answers 431 with an empty body once the request line + headers pass 16 KiB. */
const BUN_HEADER_LIMIT = 16 * 1024;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const TEST_TIMEOUT_MS = 60_000;

/** fc.assert parameters: shrinking is capped so a failing property still ends in reasonable time. */
const params = (numRuns: number) => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  seed: SEED,
  plugins: [fc.interruptAfterTimeLimit(25_000)],
});

let fake: FakeOllama;
let fm: ForemanProc;
let db: Database;
/** A finished async job (with its "completion" artifact), for the id routes. */
let realId = "";
const tally = new Map<string, number>();

beforeAll(async () => {
  fake = await startFakeOllama();
  fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: TOKEN, FOREMAN_MAX_BODY: "256KiB" } });
  db = new Database(fm.dbPath, { readonly: true });
  ownModels = await fakeCatalog();
  const res = await fm.fetch("/jobs", {
    method: "POST",
    body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "seed job" }] } }),
  });
  realId = (await res.json()).id;
  await until(async () => (await (await fm.fetch(`/jobs/${realId}`)).json()).state === "done");
});

afterAll(async () => {
  const lines = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k}: ${n}`);
  console.log(`fuzz answers by route and status:\n${lines.join("\n")}`);
  db?.close();
  await fm?.stop();
  await fake?.stop();
});

// -------------------------------------------------------------------------------------------------
// Requests, answers and the checks every answer must pass

type Body = string | Uint8Array | { chunked: Uint8Array };
interface Auth { header?: string; valid: boolean }
interface Req {
  method: string;
  /** Raw path and query, sent as is; {{REAL}} / {{real}} stand for the finished job's id. */
  path: string;
  body?: Body;
  headers: Record<string, string>;
  auth: Auth;
  /** Whether method + path name one of foreman's routes (if not, gin's text/plain 404/405). */
  known: boolean;
}
interface Answer {
  status: number;
  contentType: string;
  text: string;
  jobId: string | null;
  /** Rows the jobs table gained while the request ran. */
  created: number;
}

const VALID_AUTH: Auth = { header: `Bearer ${TOKEN}`, valid: true };

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

function describeBody(body: Body | undefined): string {
  if (body === undefined) return "(none)";
  if (typeof body === "string") return JSON.stringify(clip(body));
  const bytes = body instanceof Uint8Array ? body : body.chunked;
  const label = body instanceof Uint8Array ? "bytes" : "chunked bytes";
  const shown = new TextDecoder().decode(bytes.subarray(0, 100));
  return `${label}[${bytes.length}] ${JSON.stringify(shown)} hex:${Buffer.from(bytes.subarray(0, 32)).toString("hex")}`;
}

function describeReq(r: Req): string {
  const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${JSON.stringify(clip(v, 60))}`);
  if (r.auth.header !== undefined) headers.push(`authorization: ${JSON.stringify(clip(r.auth.header, 60))}`);
  return `${r.method} ${clip(r.path, 200)} {${headers.join(", ")}} body=${describeBody(r.body)}`;
}

/** A request whose counterexample prints short (bodies can be hundreds of KiB). */
function mkReq(r: Req): Req {
  return Object.assign(r, { [fc.toStringMethod]: () => describeReq(r) });
}

const pathname = (p: string) => p.split("?")[0];
const isV1 = (p: string) => p.startsWith("/v1/");
const SYNC_JOB_ROUTES = ["/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions"];
const headerBytes = (r: Req) =>
  r.path.length + 200 + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) + (r.auth.header?.length ?? 0);

const countStmt = () => (db.query("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n;

/** The first bytes of a body that never ends (GET /events); the stream is then cancelled. */
async function firstChunk(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return new TextDecoder().decode(value ?? new Uint8Array());
}

/** `endless`: an event-stream answer is read up to its first chunk (its status and headers are the answer). */
async function send(r: Req, opts: { endless?: boolean } = {}): Promise<Answer> {
  const path = r.path.replaceAll("{{REAL}}", realId).replaceAll("{{real}}", realId.toLowerCase());
  const headers = new Headers(r.headers);
  if (r.auth.header !== undefined) headers.set("authorization", r.auth.header);
  let body: RequestInit["body"];
  if (typeof r.body === "string" || r.body instanceof Uint8Array) body = r.body;
  else if (r.body) {
    const bytes = r.body.chunked; // a stream body goes out with Transfer-Encoding: chunked, no Content-Length
    body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) c.enqueue(bytes.subarray(i, i + 64 * 1024));
        c.close();
      },
    });
  }
  const before = countStmt();
  let res: Response;
  let text: string;
  try {
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    res = await fetch(fm.url + path, { method: r.method, headers, body, signal, redirect: "manual" });
    text = opts.endless && (res.headers.get("content-type") ?? "").startsWith("text/event-stream") ? await firstChunk(res) : await res.text();
  } catch (err) {
    throw new Error(`no complete answer within ${REQUEST_TIMEOUT_MS} ms, or the connection dropped: ${String(err)}\n  request: ${describeReq(r)}`);
  }
  const a: Answer = {
    status: res.status, contentType: res.headers.get("content-type") ?? "", text,
    jobId: res.headers.get("x-foreman-job-id"), created: countStmt() - before,
  };
  const key = `${r.method} ${routeLabel(pathname(r.path))} ${a.status}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  return a;
}

function routeLabel(p: string): string {
  if (p.includes("/zz")) return "(unknown path)";
  if (p.startsWith("/v1/models/")) return "/v1/models/{model}";
  if (p.startsWith("/api/blobs/")) return "/api/blobs/{digest}";
  const m = /^\/jobs\/[^/]*(\/.*)?$/.exec(p);
  if (!m) return p;
  const rest = m[1] ?? "";
  return `/jobs/{id}${rest.startsWith("/artifacts/") ? "/artifacts/{name}" : rest}`;
}

function errorMessage(path: string, text: string): string | null {
  try {
    const b = JSON.parse(text);
    const msg = isV1(path) ? b?.error?.message : b?.error;
    return typeof msg === "string" ? msg : null;
  } catch {
    return null;
  }
}

/** Capabilities only the target knows (foreman's inventory has no /api/show data): fine to learn after queuing. */
const CAPABILITY_ERROR = /does not support (chat|generate|tools|thinking|insert|vision|completion|embedding)\b/;
/** A 5xx Ollama gives for a request: a known option of the wrong type (ollama-api.md §1, §7). */
const OPTION_TYPE_500 = /^option "[^"]+" must be of /;
const OPTION_ROUTES = ["/api/chat", "/api/generate", "/api/embed", "/api/embeddings"];
/** The other: a non-streamed pull/push/create whose progress ends in an error (the fake's wording). */
const PROGRESS_500 = /^(pull model manifest: file does not exist|open [^]*: no such file or directory)$/;
const PROGRESS_ROUTES = ["/api/pull", "/api/push", "/api/create"];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function check(r: Req, a: Answer, opts: { queue?: boolean } = {}): void {
  const path = pathname(r.path);
  const fail = (what: string): never => {
    throw new Error(`${what}\n  request: ${describeReq(r)}\n  answer:  ${a.status} ${a.contentType || "(no content-type)"} ${JSON.stringify(clip(a.text, 300))}`);
  };
  const msg = errorMessage(path, a.text);
  const head = r.method === "HEAD";

  // Never a 5xx, but for Ollama's own 500s (option type, failed non-streamed progress), relayed from the target.
  if (a.status >= 500) {
    const relayed = (OPTION_TYPE_500.test(msg ?? "") && OPTION_ROUTES.includes(path))
      || (PROGRESS_500.test(msg ?? "") && PROGRESS_ROUTES.includes(path));
    if (!relayed) fail(`${a.status}: a 5xx is a bug here (healthy target, queue not full)`);
  }
  if (head && a.text !== "") fail("a HEAD answer with a body");
  // Bun's own header limit: nothing of foreman runs, so no JSON. Only acceptable past that limit.
  if (a.status === 431) {
    if (headerBytes(r) < BUN_HEADER_LIMIT - 1024) fail("431 for a request well under Bun's 16 KiB header limit");
    return;
  }

  // The token guards every fuzzed route.
  if (!r.auth.valid && a.status !== 401 && a.status !== 413) fail("a bad or missing bearer token was not answered 401");
  if (r.auth.valid && a.status === 401) fail("a valid bearer token was answered 401");

  // Error bodies.
  if (a.status >= 400 && a.status < 500) {
    // The fake has no blob routes: its gin-like 404 comes back as-is (real Ollama answers JSON there).
    const fakeBlob404 = path.startsWith("/api/blobs/") && a.status === 404 && r.auth.valid;
    const plain = (!r.known && r.auth.valid && a.status !== 413) || fakeBlob404;
    if (plain) {
      if (a.status !== 404 && a.status !== 405) fail("an unknown route or method must answer 404 or 405");
      const want = a.status === 404 ? "404 page not found" : "405 method not allowed";
      if (!a.contentType.startsWith("text/plain") || (!head && a.text !== want)) fail(`an unknown route/method must answer text/plain "${want}", like gin`);
    } else if (head) {
      if (!a.contentType.startsWith("application/json")) fail("a 4xx HEAD answer without a JSON content type");
    } else {
      if (!a.contentType.startsWith("application/json")) fail("a 4xx without a JSON content type");
      let b: any;
      try {
        b = JSON.parse(a.text);
      } catch {
        fail("a 4xx whose body is not JSON");
      }
      if (isV1(path)) {
        const e = b?.error;
        const ok = isObj(e) && typeof e.message === "string" && e.message.trim() !== "" && typeof e.type === "string" && e.type !== ""
          && "param" in e && "code" in e && (e.param === null || typeof e.param === "string") && (e.code === null || typeof e.code === "string");
        if (!ok) fail(`a /v1 4xx must be {"error":{"message","type","param","code"}}`);
      } else if (!isObj(b) || typeof b.error !== "string" || b.error.trim() === "") {
        fail(`a 4xx must be {"error":"<non-empty message>"}`);
      }
    }
  }

  // A sync job that was queued and then refused by the target: only for what only the target knows.
  const syncJob = r.method === "POST" && SYNC_JOB_ROUTES.includes(path) && a.jobId !== null;
  if (syncJob && a.status >= 400 && a.status < 500 && !CAPABILITY_ERROR.test(msg ?? "")) {
    fail("a request Ollama rejects while decoding/validating the body was queued as a job first (it waited in the queue and left a failed job row)");
  }
  if (r.method === "POST" && SYNC_JOB_ROUTES.includes(path) && a.status >= 200 && a.status < 300 && a.jobId === null) {
    fail("a 2xx sync answer without X-Foreman-Job-Id");
  }

  // The jobs table grows by exactly the jobs the answer reports.
  if (opts.queue !== false) {
    const expected = newJobs(r, a);
    if (a.created !== expected) {
      fail(a.status >= 400 && a.status < 500
        ? `a rejected request changed the jobs table (${a.created} new rows)`
        : `the jobs table grew by ${a.created}, expected ${expected}`);
    }
  }
}

/** How many jobs an answer says it created. */
function newJobs(r: Req, a: Answer): number {
  const path = pathname(r.path);
  if (r.method !== "POST") return 0;
  if (path === "/jobs") return a.status === 202 ? 1 : 0;
  return SYNC_JOB_ROUTES.includes(path) && a.jobId !== null ? 1 : 0;
}

const roundTrip = async (r: Req) => {
  check(r, await send(r));
  if (CATALOG_ROUTES.has(pathname(r.path))) await checkOwnModels(r);
};

// -------------------------------------------------------------------------------------------------
// The fake's catalog under model-management fuzzing

/** Routes that create, replace or delete the fake's models. */
const CATALOG_ROUTES = new Set(["/api/pull", "/api/create", "/api/copy", "/api/delete"]);
/** The only names those routes are given where a model is created, replaced or deleted. */
const SCRATCH_PREFIX = "zfuzz-";
const SCRATCH = ["zfuzz-a", "zfuzz-b:v1"];
/** Any spelling of the fake's models (and of those it can pull) that a raw body could carry. */
const FAKE_MODEL = /llama|qwen|mistral|gemma|deepseek|minilm|phi3|tinyllama/i;

const bodyText = (b: Body | undefined) =>
  b === undefined ? "" : typeof b === "string" ? b : Buffer.from(b instanceof Uint8Array ? b : b.chunked).toString("latin1");
/** A raw body (not built field by field) goes to a catalog-changing route only if it names none of the fake's models. */
const harmless = (path: string, body: Body | undefined) => !CATALOG_ROUTES.has(path) || !FAKE_MODEL.test(bodyText(body));

/** The fake's /api/tags entries by lowercased name, read from the fake itself. */
async function fakeCatalog(): Promise<Map<string, string>> {
  const res = await fetch(`${fake.url}/api/tags`, { signal: AbortSignal.timeout(5_000) });
  const { models } = (await res.json()) as { models: { name: string }[] };
  return new Map(models.map((m) => [m.name.toLowerCase(), JSON.stringify(m)]));
}
/** The fake's models as they were before any fuzzing. */
let ownModels = new Map<string, string>();

async function checkOwnModels(r?: Req): Promise<void> {
  const now = await fakeCatalog();
  for (const [name, entry] of ownModels) {
    if (now.get(name) === entry) continue;
    throw new Error(`the fake's model ${name} was ${now.has(name) ? `changed: ${now.get(name)}` : "deleted"} (the fuzzer named it in a `
      + `model-management body; later properties need it)${r ? `\n  request: ${describeReq(r)}` : ""}`);
  }
}

/** Makes the fixed scratch models exist (copies of llama3.2, made at the fake directly). */
async function makeScratch(): Promise<void> {
  for (const destination of SCRATCH) {
    const res = await fetch(`${fake.url}/api/copy`, { method: "POST", body: JSON.stringify({ source: "llama3.2", destination }) });
    if (res.status !== 200) throw new Error(`could not copy llama3.2 to ${destination} at the fake: ${res.status}`);
  }
}

// -------------------------------------------------------------------------------------------------
// Value generators

const printable = fc.string({ unit: "grapheme-ascii", maxLength: 12 });
const anyText = fc.oneof(printable, fc.string({ unit: "grapheme", maxLength: 12 }), fc.string({ unit: "binary", maxLength: 12 }));
const shortText = fc.oneof(printable, fc.string({ unit: "grapheme", maxLength: 8 }));
/** Latin-1 without controls: everything a header value can carry. */
const headerText = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), anyText,
  fc.array(fc.oneof(fc.integer(), printable), { maxLength: 3 }),
  fc.dictionary(printable, fc.oneof(fc.integer(), printable), { maxKeys: 3 }),
);
/** Mostly a well-typed value, sometimes a value of another JSON type. */
const f = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: wrongType });
/** Random extra keys (unknown fields are ignored by Ollama), merged under the structured ones. */
const withExtras = (obj: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(obj, fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }))
    .map(([o, extra]) => ({ ...extra, ...o }));

const KNOWN_MODELS = ["llama3.2", "llama3.2:latest", "LLAMA3.2", "qwen2.5:7b", "mistral", "gemma3:4b", "deepseek-r1:8b",
  "all-minilm", "registry.ollama.ai/library/llama3.2"];
/** Mostly models the target does not have, so few requests become jobs. */
const modelName = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN_MODELS) },
  { weight: 5, arbitrary: fc.oneof(
    fc.constantFrom("", " ", "nope", "llama9", "llama3.2:nope", ":", "/", "..", "llama3.2\u0000", " llama3.2", "mödel",
      "a".repeat(600), "\ud800", "%FF", "../../etc/passwd"),
    anyText,
  ) },
);

const ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".split("");
const ulid = fc.string({ unit: fc.constantFrom(...ULID_CHARS), minLength: 26, maxLength: 26 });
const badUlid = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ULID_CHARS), minLength: 1, maxLength: 40 }).filter((s) => s.length !== 26),
  fc.tuple(ulid, fc.nat({ max: 25 }), fc.constantFrom("I", "L", "O", "U", "i", "-", "_", "~")).map(([u, i, c]) => u.slice(0, i) + c + u.slice(i + 1)),
);

const keepAlive = f(fc.oneof(
  fc.constantFrom("5m", "0", "-1", "-1s", "1h30m", "10", "abc", "1x", "", "+3m", "1.5h", ".5s", "5 m", "9999999999h"),
  fc.integer({ min: -10, max: 10_000 }), fc.double({ min: -10, max: 1e6, noNaN: true }),
));
const think = f(fc.oneof(fc.boolean(), fc.constantFrom("high", "medium", "low", "max", "x", "", "HIGH")));
const OPTION_KEYS = ["temperature", "top_p", "top_k", "num_ctx", "num_predict", "seed", "stop", "num_gpu", "use_mmap",
  "repeat_penalty", "unknown_opt", ""];
const options = fc.dictionary(
  fc.constantFrom(...OPTION_KEYS),
  fc.oneof(fc.integer({ min: -5, max: 4096 }), fc.double({ min: -2, max: 2, noNaN: true }), fc.array(printable, { maxLength: 2 }),
    fc.boolean(), printable),
  { maxKeys: 3 },
);
const base64ish = fc.oneof(fc.base64String({ maxLength: 16 }), printable);
const intish = fc.oneof(fc.integer({ min: -10, max: 100 }), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e300, 1.5, -0.5));
const numish = fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.constantFrom(0, 1e308, -1e308, 1e-320));
const role = fc.constantFrom("user", "assistant", "system", "tool", "", "USER", "robot");

// --- native bodies

const nativeMessage = fc.record({
  role: f(role), content: f(shortText), images: f(fc.array(f(base64ish), { maxLength: 2 })), thinking: f(shortText),
  tool_calls: f(fc.array(fc.record({ function: fc.record({ name: printable, arguments: fc.dictionary(printable, printable, { maxKeys: 2 }) }) }), { maxLength: 1 })),
}, { requiredKeys: [] });

const chatObj = withExtras(fc.record({
  model: f(modelName), messages: f(fc.array(f(nativeMessage), { maxLength: 3 })), stream: f(fc.boolean()),
  options: f(options), tools: f(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 })), keep_alive: keepAlive, think,
  format: f(fc.oneof(fc.constantFrom("json", ""), fc.jsonValue({ maxDepth: 2 }))), logprobs: f(fc.boolean()),
  top_logprobs: f(fc.integer({ min: -2, max: 30 })), truncate: f(fc.boolean()),
}, { requiredKeys: [] }));

const generateObj = withExtras(fc.record({
  model: f(modelName), prompt: f(shortText), suffix: f(shortText), system: f(shortText), template: f(shortText),
  context: f(fc.array(fc.integer(), { maxLength: 3 })), stream: f(fc.boolean()), raw: f(fc.boolean()),
  images: f(fc.array(f(base64ish), { maxLength: 2 })), options: f(options), keep_alive: keepAlive, think,
  format: f(fc.constantFrom("json", "")),
}, { requiredKeys: [] }));

const embedObj = withExtras(fc.record({
  model: f(fc.oneof(modelName, fc.constant("all-minilm"))),
  input: f(fc.oneof(shortText, fc.array(f(shortText), { maxLength: 3 }))), truncate: f(fc.boolean()),
  dimensions: f(fc.integer({ min: -3, max: 4000 })), options: f(options), keep_alive: keepAlive,
}, { requiredKeys: [] }));

const showObj = withExtras(fc.record({
  model: f(modelName), name: f(modelName), verbose: f(fc.boolean()), system: f(shortText), template: f(shortText), options: f(options),
}, { requiredKeys: [] }));

/** The legacy embeddings route: one prompt, one embedding. */
const embeddingsObj = withExtras(fc.record({
  model: f(fc.oneof(modelName, fc.constant("all-minilm"))), prompt: f(fc.oneof(shortText, fc.constant(""))), options: f(options),
  keep_alive: keepAlive, truncate: f(fc.boolean()),
}, { requiredKeys: [] }));

// --- model management bodies: what they create, replace or delete is only ever a scratch model

/** "zfuzz-" + anything: no fake model can have that name (the fake trims, lowercases, adds ":latest"). */
const scratchName = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SCRATCH) },
  { weight: 3, arbitrary: fc.oneof(printable, fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.constantFrom("", " ", ":", ":latest", "A:B", "/x", "x/y/z:t", ":/", "%FF", "\u0000", "\ud800", "a".repeat(600), "/../llama3.2"))
    .map((s) => SCRATCH_PREFIX + s) },
);
/** In the fake's registry but not in its catalog: a pull of one succeeds and adds it. */
const pullable = fc.constantFrom("phi3", "tinyllama:latest", "registry.ollama.ai/library/phi3:latest", "PHI3");
const HEX = "0123456789abcdef".split("");
const hex64 = fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });
const blobDigest = fc.oneof(
  { weight: 3, arbitrary: hex64.map((h) => `sha256:${h}`) },
  { weight: 2, arbitrary: fc.oneof(hex64.map((h) => `sha256-${h}`), hex64.map((h) => `SHA256:${h.toUpperCase()}`), hex64,
    fc.string({ unit: fc.constantFrom(...HEX), maxLength: 80 }).map((h) => `sha256:${h}`)) },
  { weight: 2, arbitrary: fc.constantFrom("sha256:", "sha512:00", "md5:d41d8cd98f00b204e9800998ecf8427e", ":", "sha256::", "sha256:../../x",
    "sha256:\u0000", `sha256:${"0".repeat(5000)}`) },
  { weight: 1, arbitrary: anyText },
);
const transferFields = { insecure: f(fc.boolean()), stream: f(fc.boolean()), username: f(shortText), password: f(shortText) };

const pullObj = withExtras(fc.record({
  model: f(fc.oneof(scratchName, pullable)), name: f(fc.oneof(scratchName, pullable)), ...transferFields,
}, { requiredKeys: [] }));

/** A push changes nothing at the fake: any model, its own included. */
const pushObj = withExtras(fc.record({
  model: f(fc.oneof(modelName, scratchName)), name: f(fc.oneof(modelName, scratchName)), ...transferFields,
}, { requiredKeys: [] }));

const createObj = withExtras(fc.record({
  model: f(scratchName), name: f(scratchName), from: f(fc.oneof(fc.constantFrom(...KNOWN_MODELS), scratchName, modelName)),
  files: f(fc.dictionary(fc.oneof(fc.constantFrom("model.gguf", "", "../x.gguf"), printable), f(blobDigest), { maxKeys: 2 })),
  adapters: f(fc.dictionary(printable, f(blobDigest), { maxKeys: 1 })), stream: f(fc.boolean()),
  quantize: f(fc.constantFrom("q4_K_M", "Q8_0", "f16", "bogus", "")), system: f(shortText), template: f(shortText),
  parameters: f(options), license: f(fc.oneof(shortText, fc.array(shortText, { maxLength: 2 }))),
  messages: f(fc.array(f(nativeMessage), { maxLength: 2 })),
}, { requiredKeys: [] }));

/** The source may be any model (a copy leaves it alone); the destination is a scratch name. */
const copyObj = withExtras(fc.record({
  source: f(fc.oneof(fc.constantFrom(...KNOWN_MODELS), scratchName, modelName)), destination: f(scratchName),
}, { requiredKeys: [] }));

const deleteObj = withExtras(fc.record({ model: f(scratchName), name: f(scratchName) }, { requiredKeys: [] }));

// --- /v1 bodies

const dataUrl = fc.constantFrom("data:image/png;base64,iVBORw0KGgo=", "data:image/jpeg;base64,!!!", "data:;base64,AAAA",
  "http://127.0.0.1:1/x.png", "https://example.invalid/x.png", "data:text/plain;base64,AAAA", "", "data:image/png;base64,");
const contentPart = fc.oneof(
  fc.record({ type: fc.constant("text"), text: f(shortText) }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("image_url"), image_url: f(fc.oneof(dataUrl, fc.record({ url: f(dataUrl) }))) }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("input_audio"), input_audio: f(fc.record({ data: f(base64ish), format: printable }, { requiredKeys: [] })) }, { requiredKeys: ["type"] }),
  fc.record({ type: f(printable) }, { requiredKeys: [] }),
  wrongType,
);
const v1Message = fc.record({
  role: f(role), content: fc.oneof(f(shortText), fc.array(contentPart, { maxLength: 3 })), name: f(printable),
  tool_call_id: f(printable), reasoning: f(shortText),
  tool_calls: f(fc.array(fc.record({
    id: f(printable), type: f(fc.constant("function")),
    function: f(fc.record({ name: f(printable), arguments: f(fc.oneof(fc.constantFrom("{}", "{\"a\":1}", "null", "[]", "{", ""), printable)) }, { requiredKeys: [] })),
  }, { requiredKeys: [] }), { maxLength: 2 })),
}, { requiredKeys: [] });
const streamOptions = f(fc.record({ include_usage: f(fc.boolean()) }, { requiredKeys: [] }));

const v1ChatObj = withExtras(fc.record({
  model: f(modelName), messages: f(fc.array(f(v1Message), { maxLength: 3 })), stream: f(fc.boolean()), stream_options: streamOptions,
  max_tokens: f(intish), seed: f(intish), temperature: f(numish), top_p: f(numish), frequency_penalty: f(numish), presence_penalty: f(numish),
  stop: f(fc.oneof(printable, fc.array(f(printable), { maxLength: 3 }))),
  response_format: f(fc.record({
    type: f(fc.constantFrom("json_object", "json_schema", "text", "JSON_OBJECT", "bogus")),
    json_schema: f(fc.record({ schema: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })),
  }, { requiredKeys: [] })),
  tools: f(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 })),
  reasoning: f(fc.record({ effort: f(fc.constantFrom("low", "none", "high", "max", "xhigh", "bogus", "")) }, { requiredKeys: [] })),
  reasoning_effort: f(fc.constantFrom("low", "none", "minimal", "bogus", "")), logprobs: f(fc.boolean()),
  top_logprobs: f(fc.integer({ min: -2, max: 25 })),
}, { requiredKeys: [] }));

const v1CompletionObj = withExtras(fc.record({
  model: f(modelName), prompt: f(shortText), stream: f(fc.boolean()), stream_options: streamOptions, max_tokens: f(intish),
  temperature: f(numish), top_p: f(numish), seed: f(intish), frequency_penalty: f(numish), presence_penalty: f(numish),
  stop: f(fc.oneof(printable, fc.array(fc.oneof(printable, fc.integer()), { maxLength: 3 }))), suffix: f(shortText),
  logprobs: f(fc.integer({ min: -2, max: 10 })),
}, { requiredKeys: [] }));

const v1EmbeddingsObj = withExtras(fc.record({
  model: f(fc.oneof(modelName, fc.constant("all-minilm"))),
  input: f(fc.oneof(shortText, fc.constant(""), fc.array(f(shortText), { maxLength: 3 }), fc.array(fc.integer(), { maxLength: 3 }))),
  dimensions: f(intish), encoding_format: f(fc.constantFrom("float", "base64", "BASE64", "hex", "")),
}, { requiredKeys: [] }));

// --- POST /jobs bodies: the {endpoint, request} envelope and the Go foreman's bare chat form

const webhookUrl = fc.constantFrom("http://127.0.0.1:1/hook", "https://127.0.0.1:1/x", "ftp://127.0.0.1/x", "not a url", "",
  "javascript:alert(1)", "http://", "http://[::1", `http://127.0.0.1:1/${"h".repeat(3000)}`, "file:///etc/passwd");
const envelopeFields = {
  endpoint: f(fc.constantFrom("/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions", "/api/embed", "/api/chat/", "chat", "")),
  webhook_url: f(webhookUrl), state_webhook_url: f(webhookUrl),
  priority: f(fc.oneof(fc.integer({ min: -150, max: 150 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(2 ** 53, 1e300, -0))),
  metadata: f(fc.oneof(fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.constant({ blob: "m".repeat(70_000) }))),
  idempotency_key: f(fc.oneof(printable, fc.constantFrom("", "k".repeat(256)))),
};
const jobsObj = fc.oneof(
  fc.record({ ...envelopeFields, request: f(fc.oneof(chatObj, generateObj, v1ChatObj, v1CompletionObj)) }, { requiredKeys: [] }),
  fc.tuple(chatObj, fc.record(envelopeFields, { requiredKeys: [] })).map(([chat, env]) => ({ ...chat, ...env })),
);

// --- raw bodies

const malformedJson = fc.oneof(
  fc.constantFrom("{", "[", "{\"model\":", "{\"model\":\"llama3.2\"", "{'model':'x'}", "{model:\"x\"}", "nul", "tru", "\"unterminated",
    "{\"a\":1,}", "[1,]", "{\"a\" 1}", "NaN", "Infinity", "-", "1e999", "0x10", "{\"a\":01}", "\uFEFF{}", "{}{}", "{\"model\":\"nope\"} x",
    "{\"model\":\"nope\"}\n{\"model\":\"nope\"}", "/* c */ {}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\ud800\"}", "\u0000", "{\"a\":\"\u0001\"}",
    "{\"model\":\"nope\",\"model\":\"llama3.2\",\"messages\":[]}", "{\"__proto__\":{\"model\":\"llama3.2\"}}", "{\"constructor\":{\"prototype\":1}}"),
  fc.json({ maxDepth: 3 }).chain((t) => fc.nat({ max: Math.max(0, t.length - 1) }).map((n) => t.slice(0, n))),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);
const nonObjectJson = fc.oneof(
  fc.constantFrom("[]", "[{}]", "\"x\"", "0", "-1.5", "true", "false", "null", "[{\"model\":\"llama3.2\"}]"),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => !isObj(v)).map((v) => JSON.stringify(v)),
);
const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0x80], [0xbf], [0xe2, 0x82], [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf]];
const UTF8_TEMPLATES = [
  "{\"model\":\"@\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false}",
  "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"@\"}],\"stream\":false}",
  "{\"model\":\"llama3.2\",\"prompt\":\"@\",\"stream\":false}",
  "{\"model\":\"all-minilm\",\"input\":\"@\"}",
  "{\"request\":{\"model\":\"@\",\"messages\":[]}}",
  "{\"model\":\"nope\",\"@\":1}", "@{}", "{\"model\":\"nope\"@}", "@",
];
const invalidUtf8 = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.tuple(fc.constantFrom(...UTF8_TEMPLATES), fc.array(fc.constantFrom(...BAD_UTF8), { minLength: 1, maxLength: 3 })).map(([t, seqs]) => {
    const [pre, post] = t.split("@");
    return new Uint8Array([...Buffer.from(pre), ...seqs.flat(), ...Buffer.from(post)]);
  }),
);

/** A body for a JSON route: mostly structured (with typed and mistyped fields), sometimes broken. */
const bodyFor = (structured: fc.Arbitrary<unknown>, path = ""): fc.Arbitrary<Body> => {
  const raw = (a: fc.Arbitrary<Body>) => a.filter((b) => harmless(path, b));
  return fc.oneof(
    { weight: 10, arbitrary: structured.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: raw(malformedJson) },
    { weight: 1, arbitrary: raw(nonObjectJson) },
    { weight: 1, arbitrary: raw(invalidUtf8) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "\n\t") },
  );
};

// --- headers

const VALID_AUTH_HEADERS = [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer    ${TOKEN}   `, `Bearer\t${TOKEN}`];
const INVALID_AUTH_HEADERS = ["", "Bearer", "Bearer ", `Bearer ${TOKEN}x`, `Bearer x${TOKEN}`, `Bearer ${TOKEN.toUpperCase()}`,
  `Basic ${btoa(`user:${TOKEN}`)}`, `Token ${TOKEN}`, TOKEN, `Bearer ${TOKEN} ${TOKEN}`, `Bearer${TOKEN}`, `Bearer "${TOKEN}"`,
  `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${"x".repeat(8000)}`];
const looksValid = (h: string) => new RegExp(`^\\s*bearer\\s+${TOKEN}\\s*$`, "i").test(h);
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...VALID_AUTH_HEADERS).map((header) => ({ header, valid: true })) },
  { weight: 2, arbitrary: fc.oneof(
    fc.constant<Auth>({ header: undefined, valid: false }),
    fc.constantFrom(...INVALID_AUTH_HEADERS).map((header) => ({ header, valid: false })),
    headerText.filter((h) => !looksValid(h)).map((h) => ({ header: h, valid: false })),
    headerText.filter((h) => !looksValid(`Bearer ${h}`)).map((h) => ({ header: `Bearer ${h}`, valid: false })),
  ) },
);
const priorityHeader = fc.oneof(
  fc.integer({ min: -150, max: 150 }).map(String),
  fc.constantFrom("", " ", "+5", "-0", " 7 ", "1.5", "1e2", "0x10", "abc", "--1", "100", "-100", "101", "-101", "9".repeat(30), "\u00bd"),
  headerText,
);
const idempotencyHeader = fc.oneof(headerText, fc.constantFrom("", "  ", "k".repeat(300), "k".repeat(9000)));
const contentType = fc.oneof(
  fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/xml", "",
    ";;;==", "application/x-ndjson", "*/*", "application/json; charset=\"", "application/octet-stream", "text/event-stream"),
  headerText,
);
const commonHeaders = fc.record(
  { "x-foreman-priority": priorityHeader, "idempotency-key": idempotencyHeader, "content-type": contentType },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

const post = (path: string, body: fc.Arbitrary<Body>) =>
  fc.record({ body, headers: commonHeaders, auth: authArb })
    .map(({ body, headers, auth }) => mkReq({ method: "POST", path, body, headers, auth, known: true }));

const POST_ROUTES: Record<string, fc.Arbitrary<unknown>> = {
  "/api/chat": chatObj, "/api/generate": generateObj, "/api/embed": embedObj, "/api/show": showObj,
  "/v1/chat/completions": v1ChatObj, "/v1/completions": v1CompletionObj, "/v1/embeddings": v1EmbeddingsObj, "/jobs": jobsObj,
  "/api/embeddings": embeddingsObj, "/api/pull": pullObj, "/api/push": pushObj, "/api/create": createObj, "/api/copy": copyObj,
};
const routeReq = (path: string) => post(path, bodyFor(POST_ROUTES[path], path));
const anyPostReq = fc.oneof(...Object.keys(POST_ROUTES).map(routeReq));

// --- paths and queries

/** encodeURIComponent, but a lone surrogate (which it refuses) becomes its WTF-8 bytes. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
};
const RAW_JUNK = ["%", "%F", "%FF", "%zz", "%00", "%C0%80", "%E2%82", "%ED%A0%80", "%2C", "%20", "+", "%26", "%3D", "%25"];
const encoded = (a: fc.Arbitrary<string>) => fc.oneof(
  { weight: 4, arbitrary: a.map(enc) },
  { weight: 1, arbitrary: fc.tuple(a, fc.constantFrom(...RAW_JUNK)).map(([s, j]) => enc(s) + j) },
);
const STATES = ["queued", "loading", "working", "done", "failed", "cancelled"];
const queryParam = fc.oneof(
  encoded(fc.oneof(fc.subarray(STATES, { minLength: 1 }).map((s) => s.join(",")),
    fc.constantFrom("", ",", "done,", ",done", "DONE", "done,,failed", "s".repeat(5000)), anyText)).map((v) => `state=${v}`),
  encoded(fc.oneof(modelName, fc.constant("m".repeat(513)))).map((v) => `model=${v}`),
  encoded(fc.oneof(fc.constantFrom("sync", "async", "SYNC", "", "both"), anyText)).map((v) => `origin=${v}`),
  encoded(fc.oneof(fc.integer({ min: -10, max: 1000 }).map(String), fc.constantFrom("", "0", "1", "500", "501", "000001", "999999",
    "1000000", "1.5", "-1", "1e2", "0x10", " 5", "NaN", "Infinity", "9".repeat(30)))).map((v) => `limit=${v}`),
  fc.oneof(fc.constantFrom("{{REAL}}", "{{real}}"), encoded(fc.oneof(ulid, ulid.map((s) => s.toLowerCase()), badUlid,
    fc.constantFrom("", "ZZZ", "I".repeat(26)), anyText))).map((v) => `before=${v}`),
  fc.tuple(encoded(printable), encoded(printable)).map(([k, v]) => `${k}=${v}`),
  fc.constantFrom(...RAW_JUNK, "&", "=", "limit", "state=", "limit=5=5"),
);

const notDots = (s: string) => !/^\.{1,2}$/.test(s);
const idSeg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("{{REAL}}", "{{real}}") },
  { weight: 2, arbitrary: ulid },
  { weight: 2, arbitrary: badUlid },
  { weight: 2, arbitrary: fc.constantFrom("%FF", "%", "%zz", "%00", "%2F", "%C0%AF", "%E2%82", "%ED%A0%80", "%25", "%20", "%3F", "%23",
    "%5C", "{{REAL}}%00", "{{REAL}}%FF", "{{REAL}}%20", "%7B%7D") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 30 }).map(enc).filter(notDots) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 7000 }), fc.constantFrom("A", "%FF", "%C3%A9"))
    .map(([n, c]) => c.repeat(Math.floor(n / c.length))) },
);
const nameSeg = fc.oneof(fc.constant("completion"), fc.constant("a".repeat(256)), idSeg);

// -------------------------------------------------------------------------------------------------
// The properties

describe("fuzz: POST bodies and headers, per route", () => {
  const cases: [string, number][] = [
    ["/api/chat", 120], ["/api/generate", 80], ["/api/embed", 60], ["/api/show", 40],
    ["/v1/chat/completions", 120], ["/v1/completions", 80], ["/v1/embeddings", 60], ["/jobs", 150],
    ["/api/embeddings", 50], ["/api/pull", 50], ["/api/push", 40], ["/api/create", 60], ["/api/copy", 50],
  ];
  for (const [path, numRuns] of cases) {
    test(`POST ${path}`, async () => {
      await fc.assert(fc.asyncProperty(routeReq(path), roundTrip), params(numRuns));
    }, TEST_TIMEOUT_MS);
  }
});

describe("fuzz: raw bodies on every POST route", () => {
  const route = fc.constantFrom(...Object.keys(POST_ROUTES));

  test("malformed JSON, non-object JSON and empty bodies", async () => {
    const req = fc.tuple(route, fc.oneof(malformedJson, nonObjectJson, fc.constantFrom("", " ")), commonHeaders)
      .filter(([path, body]) => harmless(path, body))
      .map(([path, body, headers]) => mkReq({ method: "POST", path, body, headers, auth: VALID_AUTH, known: true }));
    await fc.assert(fc.asyncProperty(req, roundTrip), params(80));
  }, TEST_TIMEOUT_MS);

  test("invalid UTF-8 byte sequences (sent as Uint8Array)", async () => {
    const req = fc.tuple(route, invalidUtf8, fc.option(contentType, { nil: undefined }))
      .filter(([path, body]) => harmless(path, body))
      .map(([path, body, ct]) => mkReq({ method: "POST", path, body, headers: ct === undefined ? {} : { "content-type": ct }, auth: VALID_AUTH, known: true }));
    await fc.assert(fc.asyncProperty(req, roundTrip), params(60));
  }, TEST_TIMEOUT_MS);

  test("deep nesting (1k–120k levels of arrays or objects) anywhere in the body", async () => {
    const req = fc.record({
      path: route,
      depth: fc.integer({ min: 1_000, max: 120_000 }),
      kind: fc.constantFrom("array", "object"),
      where: fc.constantFrom("top", "extra", "typed", "metadata"),
      model: fc.constantFrom("llama3.2", "nope", "all-minilm"),
    }).map(({ path, depth, kind, where, model }) => {
      const deep = kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
      const msgs = "[{\"role\":\"user\",\"content\":\"deep\"}]";
      const base: Record<string, string> = {
        "/api/chat": `"model":"${model}","stream":false,"messages":${msgs}`,
        "/api/generate": `"model":"${model}","stream":false,"prompt":"deep"`,
        "/api/embed": `"model":"${model}","input":"deep"`,
        "/api/show": `"model":"${model}"`,
        "/v1/chat/completions": `"model":"${model}","messages":${msgs}`,
        "/v1/completions": `"model":"${model}","prompt":"deep"`,
        "/v1/embeddings": `"model":"${model}","input":"deep"`,
        "/jobs": `"request":{"model":"${model}","messages":${msgs}}`,
        "/api/embeddings": `"model":"${model}","prompt":"deep"`,
        "/api/pull": `"model":"zfuzz-deep","stream":false`,
        "/api/push": `"model":"${model}","stream":false`,
        "/api/create": `"model":"zfuzz-deep","from":"${model}","stream":false`,
        "/api/copy": `"source":"${model}","destination":"zfuzz-deep"`,
      };
      const typed: Record<string, string> = {
        "/api/chat": "tools", "/api/generate": "context", "/api/embed": "input", "/api/show": "options",
        "/v1/chat/completions": "stop", "/v1/completions": "stop", "/v1/embeddings": "input", "/jobs": "metadata",
        "/api/embeddings": "options", "/api/pull": "insecure", "/api/push": "username", "/api/create": "files", "/api/copy": "destination",
      };
      const field = where === "typed" ? typed[path] : where === "metadata" ? "metadata" : "x_deep";
      const body = where === "top" ? deep : `{${base[path]},"${field}":${field === "metadata" ? `{"a":${deep}}` : deep}}`;
      return mkReq({ method: "POST", path, body, headers: {}, auth: VALID_AUTH, known: true });
    });
    await fc.assert(fc.asyncProperty(req, roundTrip), params(40));
  }, TEST_TIMEOUT_MS);

  test("huge strings (10 KB – 1.2 MB of UTF-8) in model, content, unknown fields and headers", async () => {
    const req = fc.record({
      path: route,
      size: fc.constantFrom(10_000, 100_000, 131_000, 200_000, 262_000, 262_145, 300_000, 600_000),
      field: fc.constantFrom("model", "content", "extra", "header"),
      ch: fc.constantFrom("x", "é", "\u{1F600}", "\""),
      model: fc.constantFrom("llama3.2", "nope"),
    }).map(({ path, size, field, ch, model }) => {
      const huge = ch.repeat(Math.ceil(size / ch.length)); // at most ~1.2 MB once encoded, under Bun's body limit
      const m = field === "model" ? huge : model;
      const text = field === "content" ? huge : "hi";
      const body: Record<string, unknown> = {
        "/api/chat": { model: m, stream: false, messages: [{ role: "user", content: text }] },
        "/api/generate": { model: m, stream: false, prompt: text },
        "/api/embed": { model: m, input: text },
        "/api/show": { model: m, system: text },
        "/v1/chat/completions": { model: m, messages: [{ role: "user", content: text }] },
        "/v1/completions": { model: m, prompt: text },
        "/v1/embeddings": { model: m, input: text },
        "/jobs": { request: { model: m, messages: [{ role: "user", content: text }] } },
        "/api/embeddings": { model: m, prompt: text },
        // What pull, create and copy would add is a scratch model (never one with a huge name).
        "/api/pull": { model: field === "model" ? `zfuzz-${huge}` : "zfuzz-huge", stream: false, username: text },
        "/api/push": { model: m, stream: false, password: text },
        "/api/create": { model: "zfuzz-huge", from: m, system: text, stream: false },
        "/api/copy": { source: m, destination: "zfuzz-huge", note: text },
      }[path] as Record<string, unknown>;
      if (field === "extra") body.extra = huge;
      const headers: Record<string, string> = field === "header"
        ? { "idempotency-key": "k".repeat(Math.min(size, 12_000)), "x-foreman-priority": "1".repeat(Math.min(size, 2_000)) }
        : {};
      return mkReq({ method: "POST", path, body: JSON.stringify(body), headers, auth: VALID_AUTH, known: true });
    });
    await fc.assert(fc.asyncProperty(req, roundTrip), params(30));
  }, TEST_TIMEOUT_MS);

  /** Sends the body to every POST route and requires foreman's own 413 on each: JSON error, nothing queued. */
  const expect413Everywhere = async (size: number, chunked: boolean) => {
    const text = JSON.stringify({ model: "llama3.2", messages: [], request: { model: "llama3.2", messages: [] }, pad: "p".repeat(size) });
    const body: Body = chunked ? { chunked: new TextEncoder().encode(text) } : text;
    for (const path of Object.keys(POST_ROUTES)) {
      const r = mkReq({ method: "POST", path, body, headers: {}, auth: VALID_AUTH, known: true });
      const a = await send(r);
      check(r, a);
      if (a.status !== 413) throw new Error(`expected 413, got ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
    }
  };

  test("bodies over FOREMAN_MAX_BODY with a Content-Length, on every POST route: 413 with a JSON error, nothing queued", async () => {
    const size = fc.integer({ min: MAX_BODY + 1, max: BUN_BODY_LIMIT - 1024 });
    await fc.assert(fc.asyncProperty(size, (n) => expect413Everywhere(n, false)), params(4));
  }, TEST_TIMEOUT_MS);

  test("chunked bodies (no Content-Length) over FOREMAN_MAX_BODY, on every POST route: 413 with a JSON error, nothing queued", async () => {
    const size = fc.integer({ min: MAX_BODY + 1, max: BUN_BODY_LIMIT - 1024 });
    await fc.assert(fc.asyncProperty(size, (n) => expect413Everywhere(n, true)), params(4));
  }, TEST_TIMEOUT_MS);

  test("bodies past Bun's maxRequestBodySize (2 × limit + 1 MiB), sized or chunked: still foreman's JSON 413", async () => {
    const req = fc.tuple(fc.integer({ min: BUN_BODY_LIMIT + 1, max: 6 * 1024 * 1024 }), fc.boolean());
    await fc.assert(fc.asyncProperty(req, ([n, chunked]) => expect413Everywhere(n, chunked)), params(3));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: headers", () => {
  test("Authorization, X-Foreman-Priority, Idempotency-Key and Content-Type on every route", async () => {
    const minimal = fc.constantFrom(
      JSON.stringify({ model: "nope", messages: [] }),
      JSON.stringify({ model: "llama3.2", stream: false, messages: [{ role: "user", content: "hdr" }], prompt: "hdr", input: "hdr" }),
      JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "hdr" }] } }),
      JSON.stringify({ request: { model: "nope", messages: [] } }),
    );
    const getRoutes = fc.constantFrom("/", "/jobs", "/jobs/{{REAL}}", "/jobs/{{REAL}}/events", "/jobs/{{REAL}}/artifacts",
      "/jobs/{{REAL}}/artifacts/completion", "/jobs/{{REAL}}/deliveries", "/queue", "/api/tags", "/api/ps", "/api/version", "/v1/models",
      "/v1/models/llama3.2", "/metrics");
    const req = fc.oneof(
      fc.record({ path: fc.constantFrom(...Object.keys(POST_ROUTES)), body: minimal, headers: commonHeaders, auth: authArb })
        .filter(({ path, body }) => harmless(path, body))
        .map((x) => mkReq({ method: "POST", ...x, known: true })),
      fc.record({ path: getRoutes, headers: commonHeaders, auth: authArb }).map((x) => mkReq({ method: "GET", ...x, known: true })),
    );
    await fc.assert(fc.asyncProperty(req, roundTrip), params(150));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: focused", () => {
  test("POST /jobs with Idempotency-Key variants (empty, blank, reused, long) and body keys", async () => {
    const req = fc.record({
      header: fc.option(fc.oneof(fc.constantFrom("", " ", "  ", "\t", "dup-key", "k".repeat(300)), headerText), { nil: undefined }),
      bodyKey: fc.option(fc.oneof(fc.constantFrom("", "dup-key", "k".repeat(256)), printable), { nil: undefined }),
      content: fc.constantFrom("a", "b"),
    }).map(({ header, bodyKey, content }) => {
      const body: Record<string, unknown> = { request: { model: "llama3.2", messages: [{ role: "user", content }] } };
      if (bodyKey !== undefined) body.idempotency_key = bodyKey;
      return mkReq({ method: "POST", path: "/jobs", body: JSON.stringify(body), headers: header === undefined ? {} : { "idempotency-key": header },
        auth: VALID_AUTH, known: true });
    });
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (![200, 202, 400, 409].includes(a.status)) throw new Error(`expected 200/202/400/409, got ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
    }), params(30));
  }, TEST_TIMEOUT_MS);

  test("native chat/generate for a known model with one field Ollama refuses while decoding: refused before queuing", async () => {
    // Each of these is a 400 from Ollama's ShouldBindJSON / handler preamble, before any model is touched.
    const chatBad: [string, unknown][] = [
      ["messages", [{ role: "user", content: 1 }]], ["messages", [{ role: 1, content: "x" }]], ["messages", [true]],
      ["messages", [{ role: "user", content: "x", images: "abc" }]], ["messages", [{ role: "user", content: "x", tool_calls: {} }]],
      ["logprobs", "yes"], ["top_logprobs", 1.5], ["top_logprobs", "3"], ["truncate", 1], ["shift", "no"], ["tools", [1]],
    ];
    const generateBad: [string, unknown][] = [
      ["context", ["a"]], ["context", [1.5]], ["images", [1]], ["logprobs", 0], ["truncate", "x"], ["shift", []],
      ["raw", true],
    ];
    const req = fc.oneof(
      fc.tuple(fc.constant("/api/chat"), fc.constantFrom(...chatBad)),
      fc.tuple(fc.constant("/api/generate"), fc.constantFrom(...generateBad)),
    ).map(([path, [field, value]]) => {
      const body: Record<string, unknown> = path === "/api/chat"
        ? { model: "llama3.2", stream: false, messages: [{ role: "user", content: "x" }] }
        : { model: "llama3.2", stream: false, prompt: "x" };
      body[field] = value;
      if (field === "raw") body.template = "{{ .Prompt }}"; // raw mode with a template: 400 in GenerateHandler
      return mkReq({ method: "POST", path, body: JSON.stringify(body), headers: {}, auth: VALID_AUTH, known: true });
    });
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (a.status !== 400) throw new Error(`expected 400, got ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
    }), params(25));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: the job API's paths and queries", () => {
  test("GET /jobs with fuzzed state, model, origin, limit, before (and junk)", async () => {
    const req = fc.record({ q: fc.array(queryParam, { maxLength: 5 }), auth: authArb })
      .map(({ q, auth }) => mkReq({ method: "GET", path: `/jobs${q.length ? `?${q.join("&")}` : ""}`, headers: {}, auth, known: true }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (a.status === 200) {
        const b = JSON.parse(a.text);
        if (!Array.isArray(b.jobs) || !(b.next === null || typeof b.next === "string")) throw new Error(`bad list shape: ${clip(a.text)}`);
      } else if (r.auth.valid && a.status !== 400) {
        throw new Error(`GET /jobs must answer 200 or 400, got ${a.status}\n  request: ${describeReq(r)}`);
      }
    }), params(150));
  }, TEST_TIMEOUT_MS);

  test("GET/DELETE /jobs/{id}, /events, /artifacts, /artifacts/{name}, /deliveries with fuzzed ids", async () => {
    const req = fc.record({ id: idSeg, name: nameSeg, which: fc.constantFrom("get", "delete", "events", "artifacts", "artifact", "deliveries"),
      auth: authArb, query: fc.option(queryParam, { nil: undefined }) })
      .map(({ id, name, which, auth, query }) => {
        const path = which === "get" || which === "delete" ? `/jobs/${id}`
          : which === "artifact" ? `/jobs/${id}/artifacts/${name}` : `/jobs/${id}/${which}`;
        return mkReq({ method: which === "delete" ? "DELETE" : "GET", path: path + (query ? `?${query}` : ""), headers: {}, auth, known: true });
      });
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (r.auth.valid && ![200, 400, 404, 409, 431].includes(a.status)) {
        throw new Error(`unexpected ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
      }
    }), params(150));
  }, TEST_TIMEOUT_MS);

  test("GET /v1/models/{model} with fuzzed names", async () => {
    const req = fc.oneof(idSeg, encoded(modelName).filter((s) => s !== "" && notDots(s)))
      .map((m) => mkReq({ method: "GET", path: `/v1/models/${m}`, headers: {}, auth: VALID_AUTH, known: true }));
    await fc.assert(fc.asyncProperty(req, roundTrip), params(40));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: the queue view", () => {
  test("GET /queue with fuzzed next (negative, huge, non-numeric, repeated) and junk", async () => {
    const nextValue = fc.oneof(
      fc.integer({ min: -1_000, max: 1_000 }).map(String),
      fc.constantFrom("", "0", "1", "20", "200", "201", "999", "1000", "000", "0001", "-1", "-0", "+5", "1.5", "1e2", "0x10", " 5", "5 ",
        "NaN", "Infinity", "-Infinity", "9".repeat(30), "9".repeat(400), "null", "[]", "{}", "true", "\u0665", "5,6"),
      anyText,
    );
    const param = fc.oneof(
      { weight: 4, arbitrary: encoded(nextValue).map((v) => `next=${v}`) },
      { weight: 1, arbitrary: fc.constantFrom("next", "next=", "NEXT=5", "next[]=5", "next[a]=1", "next=5=5", ...RAW_JUNK) },
      { weight: 1, arbitrary: queryParam },
    );
    const req = fc.record({ q: fc.array(param, { maxLength: 4 }), auth: authArb })
      .map(({ q, auth }) => mkReq({ method: "GET", path: `/queue${q.length ? `?${q.join("&")}` : ""}`, headers: {}, auth, known: true }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (!r.auth.valid || a.status === 431) return;
      const nexts = new URLSearchParams(r.path.split("?")[1] ?? "").getAll("next");
      if (a.status === 200) {
        const b = JSON.parse(a.text);
        if (!isObj(b) || !Array.isArray(b.next) || !isObj(b.queued) || typeof b.queued.total !== "number") throw new Error(`bad /queue shape: ${clip(a.text)}`);
        const n = nexts.length === 1 && /^[0-9]{1,3}$/.test(nexts[0]) ? Number(nexts[0]) : 20;
        if (b.next.length > Math.min(n, 200)) throw new Error(`${b.next.length} upcoming jobs for next=${n}\n  request: ${describeReq(r)}`);
      } else if (a.status !== 400) {
        throw new Error(`GET /queue must answer 200 or 400, got ${a.status}\n  request: ${describeReq(r)}`);
      }
      // One well-formed next (and no other query) must be taken; any other single next refused.
      if (nexts.length === 1 && !r.path.includes("&")) {
        const ok = /^[0-9]{1,3}$/.test(nexts[0]);
        if (ok !== (a.status === 200)) throw new Error(`next=${JSON.stringify(nexts[0])} answered ${a.status}\n  request: ${describeReq(r)}`);
      }
    }), params(80));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: model management, blobs, the root and HEAD routes, /events", () => {
  test("DELETE /api/delete with fuzzed bodies (only scratch models named; some exist)", async () => {
    const body: fc.Arbitrary<Body> = fc.oneof(
      { weight: 6, arbitrary: bodyFor(deleteObj, "/api/delete") },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 120_000 }), fc.constantFrom("[", "{\"a\":"))
        .map(([depth, open]) => `{"model":"zfuzz-a","x":${open.repeat(depth)}${open === "[" ? "" : "1"}${(open === "[" ? "]" : "}").repeat(depth)}}`) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(10_000, 200_000, 262_000, 300_000, 600_000), fc.constantFrom("model", "pad"), fc.boolean())
        .map(([n, field, chunked]) => {
          const text = JSON.stringify(field === "model" ? { model: `zfuzz-${"é".repeat(n / 2)}` } : { model: "zfuzz-a", pad: "p".repeat(n) });
          return chunked ? { chunked: new TextEncoder().encode(text) } : text;
        }) },
    );
    const req = fc.record({ body, headers: commonHeaders, auth: authArb, exists: fc.boolean() })
      .map(({ body, headers, auth, exists }) => Object.assign(mkReq({ method: "DELETE", path: "/api/delete", body, headers, auth, known: true }), { exists }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      if (r.exists) await makeScratch();
      const a = await send(r);
      check(r, a);
      await checkOwnModels(r);
      if (r.auth.valid && ![200, 400, 404, 413, 431].includes(a.status)) throw new Error(`unexpected ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
    }), params(80));
  }, TEST_TIMEOUT_MS);

  test("HEAD and POST /api/blobs/{digest}: odd digests, any bytes, bodies past the JSON limit; relayed to one blob path", async () => {
    const digestSeg = fc.oneof(
      { weight: 4, arbitrary: encoded(blobDigest) },
      { weight: 1, arbitrary: fc.constantFrom("%FF", "%", "%zz", "%00", "%2F", "..%2F..%2Fapi%2Fdelete", "%2E%2E%2Fapi%2Ftags", "sha256%3A00",
        "%C0%AF", "%ED%A0%80", "%3F", "%23", "%5C", "sha256:00%0A", "%20", "sha256:00?x=1") },
      { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 30 }).map(enc) },
    ).filter((s) => s !== "" && notDots(s));
    const blobBody: fc.Arbitrary<Body | undefined> = fc.oneof(
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 256 }),
      fc.constantFrom("", "{}", "GGUF"),
      fc.tuple(fc.integer({ min: MAX_BODY + 1, max: 600_000 }), fc.boolean()).map(([n, chunked]) => {
        const bytes = new Uint8Array(n).fill(0x47);
        return chunked ? { chunked: bytes } : bytes;
      }),
    );
    const req = fc.record({ method: fc.constantFrom("HEAD", "POST"), digest: digestSeg, body: blobBody, auth: authArb,
      ct: fc.option(fc.constantFrom("application/octet-stream", "application/json", "text/plain", ""), { nil: undefined }) })
      .map(({ method, digest, body, auth, ct }) => mkReq({
        method, path: `/api/blobs/${digest}`, body: method === "HEAD" ? undefined : body, auth, known: true,
        headers: ct === undefined ? {} : { "content-type": ct },
      }));
    const INVENTORY = ["/api/tags", "/api/ps", "/api/version"];
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const seen = fake.requests.length;
      const a = await send(r);
      check(r, a);
      if (!r.auth.valid) return;
      if (a.status === 413) throw new Error(`a blob upload is not held to FOREMAN_MAX_BODY, got 413\n  request: ${describeReq(r)}`);
      const relayed = fake.requests.slice(seen).filter((q) => !(q.method === "GET" && INVENTORY.includes(q.path)));
      if (relayed.length > 1 || relayed.some((q) => q.method !== r.method || !/^\/api\/blobs\/[^/]+$/.test(q.path))) {
        const dropped = relayed.some((q) => q.path === "/api/blobs/") ? " (the digest was dropped on the way)" : "";
        throw new Error(`the blob request reached the target as ${relayed.map((q) => `${q.method} ${clip(q.path, 80)}`).join(", ")}${dropped}, `
          + `not as one /api/blobs/{digest}\n  request: ${describeReq(r)}`);
      }
      // An undecodable digest (e.g. %FF) is foreman's own 400, and nothing is relayed.
      const invalidDigest = r.method === "HEAD" ? "" : '{"error":"invalid digest"}';
      if (a.status === 400 && a.text === invalidDigest && relayed.length === 0) return;
      if (a.status !== 404) throw new Error(`expected the fake's (or foreman's own) 404, got ${a.status} ${clip(a.text)}\n  request: ${describeReq(r)}`);
    }), params(60));
  }, TEST_TIMEOUT_MS);

  test("GET and HEAD on /, /api/version and /api/tags with fuzzed queries, headers and tokens", async () => {
    const req = fc.record({
      method: fc.constantFrom("GET", "HEAD"), path: fc.constantFrom("/", "/api/version", "/api/tags"),
      q: fc.array(queryParam, { maxLength: 3 }), headers: commonHeaders, auth: authArb,
    }).map(({ method, path, q, headers, auth }) => mkReq({ method, path: `${path}${q.length ? `?${q.join("&")}` : ""}`, headers, auth, known: true }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      if (!r.auth.valid || a.status === 431) return;
      const fail = (what: string): never => {
        throw new Error(`${what}\n  request: ${describeReq(r)}\n  answer:  ${a.status} ${a.contentType} ${JSON.stringify(clip(a.text))}`);
      };
      if (a.status !== 200) fail("expected 200");
      const root = pathname(r.path) === "/";
      if (!a.contentType.startsWith(root ? "text/plain" : "application/json")) fail("wrong content type");
      if (r.method === "HEAD") return;
      if (root) {
        if (a.text !== "Ollama is running") fail("GET / must answer \"Ollama is running\"");
      } else {
        const b = JSON.parse(a.text);
        if (pathname(r.path) === "/api/version" ? typeof b.version !== "string" : !Array.isArray(b.models)) fail("bad shape");
      }
    }), params(80));
  }, TEST_TIMEOUT_MS);

  test("GET /events (an endless SSE stream): status and headers, then the stream is cancelled", async () => {
    const req = fc.record({
      q: fc.array(queryParam, { maxLength: 2 }),
      headers: fc.record({
        accept: fc.oneof(fc.constantFrom("text/event-stream", "*/*", "application/json", ""), headerText),
        "last-event-id": fc.oneof(fc.constantFrom("{{REAL}}", "0", "-1", "", "x".repeat(5000)), ulid, headerText),
        "cache-control": fc.constantFrom("no-cache", "no-store", "max-age=0", ""),
        "x-foreman-priority": priorityHeader, "content-type": contentType,
      }, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>,
      auth: authArb,
    }).map(({ q, headers, auth }) => mkReq({ method: "GET", path: `/events${q.length ? `?${q.join("&")}` : ""}`, headers, auth, known: true }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r, { endless: true });
      check(r, a);
      if (!r.auth.valid || a.status === 431) return;
      if (a.status !== 200 || !a.contentType.startsWith("text/event-stream") || !a.text.startsWith(": connected")) {
        throw new Error(`expected a 200 event stream opening with ": connected", got ${a.status} ${a.contentType} ${JSON.stringify(clip(a.text))}\n  request: ${describeReq(r)}`);
      }
    }), params(40));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: unknown routes and methods", () => {
  test("text/plain 404 / 405 like gin (401 JSON without the token)", async () => {
    const segment = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 10 }).map(enc).filter(notDots);
    const unknownPath = fc.oneof(
      fc.tuple(fc.constantFrom("/zz", "/api/zz", "/v1/zz", "/jobs/{{REAL}}/zz", "/api/chat/zz", "/v1/chat/zz"), segment)
        .map(([p, s]) => `${p}${s}`),
      fc.tuple(segment, segment).map(([a, b]) => `/zz${a}/${b}`),
    );
    const wrongMethod = fc.constantFrom<[string, string]>(
      ["GET", "/api/chat"], ["PUT", "/api/chat"], ["DELETE", "/api/generate"], ["GET", "/api/embed"], ["PATCH", "/api/show"],
      ["PATCH", "/v1/chat/completions"], ["GET", "/v1/embeddings"], ["PUT", "/jobs"], ["DELETE", "/jobs"], ["POST", "/api/tags"],
      ["POST", "/v1/models"], ["PUT", "/queue"], ["OPTIONS", "/jobs"], ["POST", "/api/ps"],
      ["GET", "/api/embeddings"], ["GET", "/api/pull"], ["PUT", "/api/push"], ["PATCH", "/api/create"], ["DELETE", "/api/copy"],
      ["POST", "/api/delete"], ["GET", "/api/delete"], ["GET", "/api/blobs/sha256:00"], ["PUT", "/api/blobs/sha256:00"],
      ["DELETE", "/api/blobs/sha256:00"], ["POST", "/events"], ["DELETE", "/"], ["POST", "/api/version"], ["DELETE", "/api/tags"],
    );
    const req = fc.oneof(
      fc.record({ method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"), path: unknownPath, auth: authArb }),
      fc.record({ mp: wrongMethod, auth: authArb }).map(({ mp, auth }) => ({ method: mp[0], path: mp[1], auth })),
    ).map(({ method, path, auth }) => mkReq({
      method, path, auth, headers: {}, known: false, body: method === "GET" || method === "HEAD" || method === "OPTIONS" ? undefined : "{}",
    }));
    await fc.assert(fc.asyncProperty(req, async (r) => {
      const a = await send(r);
      check(r, a);
      // gin answers 405 when the path exists for another method (static paths; see the report for /jobs/{id}).
      const staticKnown = !r.path.startsWith("/zz") && !r.path.includes("/zz");
      if (r.auth.valid && staticKnown && a.status !== 405) throw new Error(`expected 405 for ${r.method} ${r.path}, got ${a.status}`);
    }), params(60));
  }, TEST_TIMEOUT_MS);
});

describe("fuzz: the queue under concurrent rejected requests", () => {
  test("a concurrent batch grows the jobs table by exactly the jobs its answers report", async () => {
    await fc.assert(fc.asyncProperty(fc.array(anyPostReq, { minLength: 4, maxLength: 16 }), async (batch) => {
      const before = countStmt();
      const answers = await Promise.all(batch.map((r) => send(r)));
      batch.forEach((r, i) => check(r, answers[i], { queue: false }));
      await checkOwnModels();
      const reported = batch.reduce((n, r, i) => n + newJobs(r, answers[i]), 0);
      const grown = countStmt() - before;
      const rejected = answers.filter((a) => a.status >= 400 && a.status < 500).length;
      if (grown !== reported) {
        throw new Error(`jobs table grew by ${grown}, answers report ${reported} (${rejected} of ${batch.length} rejected): `
          + answers.map((a) => a.status).join(","));
      }
    }), params(15));
  }, TEST_TIMEOUT_MS);

  test("a batch of only rejected requests leaves the jobs table unchanged", async () => {
    // Bodies foreman itself must refuse: unknown model, broken JSON, bad types, bad priority, bad auth.
    const rejected = fc.oneof(
      post("/api/chat", fc.constantFrom("{", "[]", "{\"model\":1}", "{\"model\":\"nope\",\"messages\":[]}", "{\"model\":\"llama3.2\",\"stream\":\"no\"}")),
      post("/api/generate", fc.constantFrom("", "{\"model\":\"\"}", "{\"model\":\"llama3.2\",\"keep_alive\":\"5\"}", "{\"model\":\"llama3.2\",\"think\":\"x\"}")),
      post("/v1/chat/completions", fc.constantFrom("{\"model\":\"llama3.2\",\"messages\":[]}", "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "nul")),
      post("/v1/completions", fc.constantFrom("{\"model\":\"\"}", "{\"model\":\"llama3.2\",\"max_tokens\":1.5}")),
      post("/jobs", fc.constantFrom("{}", "{\"request\":{\"model\":\"nope\"}}", "{\"request\":{\"model\":\"llama3.2\"},\"priority\":1000}",
        "{\"request\":{\"model\":\"llama3.2\"},\"webhook_url\":\"ftp://x\"}", "{\"endpoint\":\"/api/embed\",\"request\":{\"model\":\"llama3.2\"}}")),
      post("/api/embeddings", fc.constantFrom("{", "[]", "{\"model\":\"\"}", "{\"model\":\"nope\",\"prompt\":\"x\"}", "{\"model\":\"all-minilm\",\"prompt\":1}")),
      post("/api/pull", fc.constantFrom("{}", "{\"model\":1}", "{\"model\":\"zfuzz-x\",\"stream\":\"no\"}", "nul")),
      post("/api/push", fc.constantFrom("{}", "{\"name\":[]}", "{\"model\":\"llama3.2\",\"insecure\":\"yes\"}")),
      post("/api/create", fc.constantFrom("{}", "{\"model\":\"zfuzz-x\"}", "{\"model\":\"zfuzz-x\",\"files\":[]}", "{\"model\":\"zfuzz-x\",\"from\":1}")),
      post("/api/copy", fc.constantFrom("{}", "{\"source\":\"\"}", "{\"source\":\"zfuzz-none\",\"destination\":\"zfuzz-x\"}", "{\"source\":1}")),
    ).map((r) => {
      const { "idempotency-key": _key, ...headers } = r.headers; // a reused key could answer 200 with an earlier job
      return mkReq({ ...r, headers: { ...headers, "x-foreman-priority": "0" }, auth: r.auth.valid ? r.auth : { header: "Bearer nope", valid: false } });
    });
    await fc.assert(fc.asyncProperty(fc.array(rejected, { minLength: 4, maxLength: 20 }), async (batch) => {
      const before = countStmt();
      const answers = await Promise.all(batch.map((r) => send(r)));
      batch.forEach((r, i) => check(r, answers[i], { queue: false }));
      const bad = answers.filter((a) => a.status < 400 || a.status >= 500);
      if (bad.length) throw new Error(`expected only 4xx, got ${bad.map((a) => `${a.status} ${clip(a.text, 80)}`).join("; ")}`);
      expect(countStmt()).toBe(before);
      await checkOwnModels();
    }), params(15));
  }, TEST_TIMEOUT_MS);
});

describe("after the fuzzing", () => {
  test("foreman is still running and /healthz is ok", async () => {
    expect(fm.proc.exitCode).toBeNull();
    const res = await fetch(`${fm.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe("ok");
  });

  test("the fake's own models survived the model-management fuzzing", () => checkOwnModels());

  test("no unhandled error (request or worker) was logged", () => {
    const errors = fm.logLines()
      .filter((l) => l.msg === "unhandled error" || l.msg === "job failed: internal error")
      .map((l) => `${l.msg}: ${l.path ?? l.job_id}: ${l.err}`.replace(/\/v1\/models\/\S+:/, "/v1/models/…:"));
    expect([...new Set(errors)]).toEqual([]);
  });
});

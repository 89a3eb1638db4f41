import { expect, test } from "bun:test";
import OpenAI from "openai";
import {
  ChatStreamTranslator,
  CompletionStreamTranslator,
  OpenAIRequestError,
  chatResult,
  chatToNative,
  completionResult,
  completionToNative,
  embeddingsResult,
  embeddingsToNative,
  modelEntry,
  modelsList,
  openAIError,
} from "./translate";

type Obj = Record<string, unknown>;
const user = (content: unknown) => ({ role: "user", content });
const chat = (extra: Obj = {}) => chatToNative({ model: "llama3.2", messages: [user("hi")], ...extra });
const nativeMessagesOf = (body: Obj) => chatToNative({ model: "m", ...body }).native.messages;

function errorOf(fn: () => unknown): OpenAIRequestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OpenAIRequestError) return e;
    throw e;
  }
  throw new Error("expected an OpenAIRequestError");
}

const PNG = "iVBORw0KGgo=";

// --- chat request mapping ----------------------------------------------------------------------

test("chat: defaults: temperature and top_p 1.0, stream false, no usage", () => {
  const r = chat();
  expect(r).toEqual({
    model: "llama3.2",
    native: {
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
      options: { temperature: 1, top_p: 1 },
    },
    stream: false,
    includeUsage: false,
  });
});

test("chat: sampling fields become options, keys sorted as Go marshals a map", () => {
  const r = chat({
    max_tokens: 50, seed: 7, stop: "\n", temperature: 0, top_p: 0.5, frequency_penalty: 0.1, presence_penalty: 0.2,
    stream: true, stream_options: { include_usage: true }, tool_choice: "auto", n: 3, user: "u",
  });
  expect(JSON.stringify(r.native.options)).toBe(
    '{"frequency_penalty":0.1,"num_predict":50,"presence_penalty":0.2,"seed":7,"stop":["\\n"],"temperature":0,"top_p":0.5}',
  );
  expect(r.stream).toBe(true);
  expect(r.native.stream).toBe(true);
  expect(r.includeUsage).toBe(true);
});

test("chat: a stop array keeps only its strings", () => {
  expect((chat({ stop: ["a", 1, "b"] }).native.options as Obj).stop).toEqual(["a", "b"]);
  expect((chat({ stop: 5 }).native.options as Obj).stop).toBeUndefined();
});

test("chat: response_format → format", () => {
  expect(chat({ response_format: { type: "json_object" } }).native.format).toBe("json");
  expect(chat({ response_format: { type: " JSON_Object " } }).native.format).toBe("json");
  const schema = { type: "object", properties: { a: { type: "string" } } };
  expect(chat({ response_format: { type: "json_schema", json_schema: { name: "x", schema } } }).native.format).toEqual(schema);
  expect(chat({ response_format: { type: "text" } }).native.format).toBeUndefined();
  expect(chat({ response_format: { type: "json_schema" } }).native.format).toBeUndefined();
});

test("chat: tools pass through; an empty list is omitted", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  expect(chat({ tools }).native.tools).toEqual(tools);
  expect("tools" in chat({ tools: [] }).native).toBe(false);
});

test("chat: reasoning_effort / reasoning.effort → think", () => {
  const think = (e: string) => chat({ reasoning_effort: e }).native.think;
  expect(think("none")).toBe(false);
  expect(think("minimal")).toBe("low");
  for (const e of ["low", "medium", "high", "max"]) expect(think(e)).toBe(e);
  expect(think("xhigh")).toBe("max");
  expect(think("ultra")).toBe("max");
  expect("think" in chat().native).toBe(false);
  expect(chat({ reasoning: { effort: "high" }, reasoning_effort: "low" }).native.think).toBe("high");
  // A reasoning object without an effort wins too, and means "no think".
  expect("think" in chat({ reasoning: {}, reasoning_effort: "low" }).native).toBe(false);
  const err = errorOf(() => chat({ reasoning_effort: "extreme" }));
  expect(err.status).toBe(400);
  expect(err.message).toBe(`invalid reasoning value: 'extreme' (must be "high", "medium", "low", "max", or "none")`);
});

test("chat: logprobs and top_logprobs", () => {
  const n = chat({ logprobs: true, top_logprobs: 3 }).native;
  expect([n.logprobs, n.top_logprobs]).toEqual([true, 3]);
  expect("logprobs" in chat({ logprobs: false }).native).toBe(false);
});

// --- chat messages -----------------------------------------------------------------------------

test("messages: each array text part becomes its own message with the same role", () => {
  const content = [{ type: "text", text: "a" }, { type: "text", text: "b" }];
  expect(nativeMessagesOf({ messages: [user(content)] })).toEqual([
    { role: "user", content: "a" },
    { role: "user", content: "b" },
  ]);
});

test("messages: image_url data URLs become base64 images", () => {
  const content = [
    { type: "text", text: "what is this?" },
    { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    { type: "image_url", image_url: `data:;base64,${PNG}` },
    { type: "image_url", image_url: { url: `data:image/jpeg;base64,${PNG}` } },
  ];
  expect(nativeMessagesOf({ messages: [user(content)] })).toEqual([
    { role: "user", content: "what is this?" },
    { role: "user", content: "", images: [PNG] },
    { role: "user", content: "", images: [PNG] },
    { role: "user", content: "", images: [PNG] },
  ]);
});

test("messages: image errors", () => {
  const img = (image_url: unknown) => errorOf(() => nativeMessagesOf({ messages: [user([{ type: "image_url", image_url }])] })).message;
  expect(img({ url: "https://example.com/a.png" })).toBe(
    "image URLs are not currently supported, please use base64 encoded data instead",
  );
  expect(img("http://example.com/a.png")).toBe("image URLs are not currently supported, please use base64 encoded data instead");
  expect(img({ url: `data:image/gif;base64,${PNG}` })).toBe("invalid image input");
  expect(img({ url: "data:image/png;base64,abc" })).toBe("invalid image input");
  expect(img({ url: "data:image/png;base64,ab!c" })).toBe("invalid image input");
  expect(img({ url: 5 })).toBe("invalid message format");
  expect(img(5)).toBe("invalid message format");
});

test("messages: base64 is decoded the way Go does (newlines skipped, output canonical)", () => {
  const url = `data:image/png;base64,iVBO\r\nRw0KGgo=`;
  expect(nativeMessagesOf({ messages: [user([{ type: "image_url", image_url: url }])] })).toEqual([
    { role: "user", content: "", images: [PNG] },
  ]);
});

test("messages: input_audio data rides in images; its errors", () => {
  const audio = (input_audio: unknown) => nativeMessagesOf({ messages: [user([{ type: "input_audio", input_audio }])] });
  expect(audio({ data: "UklGRg==", format: "wav" })).toEqual([{ role: "user", content: "", images: ["UklGRg=="] }]);
  expect(errorOf(() => audio("x")).message).toBe("invalid input_audio format");
  expect(errorOf(() => audio({ format: "wav" })).message).toBe("invalid input_audio format: missing data");
  expect(errorOf(() => audio({ data: "abc" })).message).toBe("invalid input_audio base64 data: illegal base64 data at input byte 0");
  expect(errorOf(() => audio({ data: "ab$c" })).message).toBe("invalid input_audio base64 data: illegal base64 data at input byte 2");
});

test("messages: bad parts are 'invalid message format'", () => {
  const bad = (part: unknown) => errorOf(() => nativeMessagesOf({ messages: [user([part])] })).message;
  expect(bad("text")).toBe("invalid message format");
  expect(bad({ type: "text", text: 1 })).toBe("invalid message format");
  expect(bad({ type: "file", file: {} })).toBe("invalid message format");
});

test("messages: assistant tool_calls arguments are parsed; tool results get their tool_name", () => {
  const messages = [
    user("weather?"),
    {
      role: "assistant", content: "", reasoning: "need a tool",
      tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' } }],
    },
    { role: "tool", tool_call_id: "call_1", content: "sunny" },
    { role: "tool", name: "explicit", tool_call_id: "call_1", content: "x" },
  ];
  expect(nativeMessagesOf({ messages })).toEqual([
    { role: "user", content: "weather?" },
    {
      role: "assistant", content: "", thinking: "need a tool",
      tool_calls: [{ id: "call_1", function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } } }],
    },
    { role: "tool", content: "sunny", tool_name: "get_weather", tool_call_id: "call_1" },
    { role: "tool", content: "x", tool_name: "explicit", tool_call_id: "call_1" },
  ]);
});

test("messages: tool_name lookup takes the last call with that id", () => {
  const call = (name: string) => ({ role: "assistant", content: "", tool_calls: [{ id: "x", function: { name, arguments: "{}" } }] });
  const msgs = nativeMessagesOf({ messages: [call("old"), call("new"), { role: "TOOL", tool_call_id: "x", content: "r" }] }) as Obj[];
  expect(msgs[2]).toEqual({ role: "TOOL", content: "r", tool_name: "new", tool_call_id: "x" });
});

test("messages: content may be absent only alongside tool_calls", () => {
  const tc = [{ id: "c", function: { name: "f", arguments: "{}" } }];
  expect(nativeMessagesOf({ messages: [{ role: "assistant", content: null, tool_calls: tc }] })).toEqual([
    { role: "assistant", content: "", tool_calls: [{ id: "c", function: { index: 0, name: "f", arguments: {} } }] },
  ]);
  const bad = (m: Obj) => errorOf(() => nativeMessagesOf({ messages: [m] })).message;
  expect(bad({ role: "user" })).toBe("invalid message content type: <nil>");
  expect(bad({ role: "user", content: 5 })).toBe("invalid message content type: float64");
  expect(bad({ role: "user", content: { a: 1 } })).toBe("invalid message content type: map[string]interface {}");
});

test("messages: tool calls on array content go on the last part's message", () => {
  const m = {
    role: "assistant", reasoning: "r",
    content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
    tool_calls: [{ id: "c", function: { name: "f", arguments: '{"k":1}' } }],
  };
  expect(nativeMessagesOf({ messages: [m] })).toEqual([
    { role: "assistant", content: "a" },
    { role: "assistant", content: "b", thinking: "r", tool_calls: [{ id: "c", function: { index: 0, name: "f", arguments: { k: 1 } } }] },
  ]);
});

test("messages: invalid tool call arguments", () => {
  for (const args of ["{oops", "", "[1]", "5", undefined]) {
    const m = { role: "assistant", content: "", tool_calls: [{ id: "c", function: { name: "f", arguments: args } }] };
    expect(errorOf(() => nativeMessagesOf({ messages: [m] })).message).toBe("invalid tool call arguments");
  }
});

// --- chat request errors -----------------------------------------------------------------------

test("chat: empty or missing messages", () => {
  for (const messages of [[], null, undefined]) {
    const err = errorOf(() => chatToNative({ model: "m", messages }));
    expect([err.status, err.message, err.param]).toEqual([400, "[] is too short - 'messages'", null]);
  }
});

test("chat: missing model is 400 'model is required', checked after the messages", () => {
  const err = errorOf(() => chatToNative({ messages: [user("hi")] }));
  expect([err.status, err.message]).toEqual([400, "model is required"]);
  expect(errorOf(() => chatToNative({ messages: [] })).message).toBe("[] is too short - 'messages'");
  expect(errorOf(() => chatToNative({ messages: [{ role: "user" }] })).message).toBe("invalid message content type: <nil>");
});

test("chat: wrongly typed fields fail as Go's JSON decoder reports them", () => {
  const msg = (body: unknown) => errorOf(() => chatToNative(body)).message;
  expect(msg({ model: "m", messages: [user("hi")], stream: "yes" })).toBe(
    "json: cannot unmarshal string into Go struct field ChatCompletionRequest.stream of type bool",
  );
  expect(msg({ model: 5, messages: [] })).toBe("json: cannot unmarshal number into Go struct field ChatCompletionRequest.model of type string");
  expect(msg({ model: "m", messages: [user("hi")], max_tokens: 1.5 })).toBe(
    "json: cannot unmarshal number 1.5 into Go struct field ChatCompletionRequest.max_tokens of type int",
  );
  expect(msg({ model: "m", messages: "hi" })).toBe(
    "json: cannot unmarshal string into Go struct field ChatCompletionRequest.messages of type []openai.Message",
  );
  expect(msg({ model: "m", messages: ["hi"] })).toBe(
    "json: cannot unmarshal string into Go struct field ChatCompletionRequest.messages of type openai.Message",
  );
  expect(msg({ model: "m", messages: [{ role: 1, content: "x" }] })).toBe(
    "json: cannot unmarshal number into Go struct field Message.messages.role of type string",
  );
  expect(msg({ model: "m", messages: [user("x")], stream_options: { include_usage: "true" } })).toBe(
    "json: cannot unmarshal string into Go struct field StreamOptions.stream_options.include_usage of type bool",
  );
  expect(msg([])).toBe("json: cannot unmarshal array into Go value of type openai.ChatCompletionRequest");
  expect(msg(undefined)).toBe("EOF");
  expect(msg(null)).toBe("[] is too short - 'messages'");
});

// --- completions and embeddings requests -------------------------------------------------------

test("completions: mapping, with the penalties always sent and top_p 0 meaning unset", () => {
  const r = completionToNative({
    model: "m", prompt: "Say", suffix: "end", max_tokens: 5, top_p: 0, stop: ["x"], stream: true,
    stream_options: { include_usage: true }, logprobs: 2,
  });
  expect(r).toEqual({
    model: "m",
    native: {
      model: "m", prompt: "Say", suffix: "end", stream: true,
      options: { frequency_penalty: 0, num_predict: 5, presence_penalty: 0, stop: ["x"], temperature: 1, top_p: 1 },
      logprobs: true, top_logprobs: 2,
    },
    stream: true,
    includeUsage: true,
  });
  expect(completionToNative({ model: "m", prompt: "p", stop: "s", temperature: 0.2, seed: 1 }).native.options).toEqual({
    frequency_penalty: 0, presence_penalty: 0, seed: 1, stop: ["s"], temperature: 0.2, top_p: 1,
  });
});

test("completions: errors", () => {
  expect(errorOf(() => completionToNative({ model: "m", prompt: "p", stop: ["a", 1] })).message).toBe(
    "invalid type for 'stop' field: float64",
  );
  expect(errorOf(() => completionToNative({ model: "m", prompt: ["a", "b"] })).message).toBe(
    "json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string",
  );
  const err = errorOf(() => completionToNative({ prompt: "p" }));
  expect([err.status, err.message]).toEqual([404, "model '' not found"]);
});

test("embeddings: mapping", () => {
  expect(embeddingsToNative({ model: "e", input: "hi" })).toEqual({
    model: "e", native: { model: "e", input: "hi" }, encodingFormat: "float",
  });
  expect(embeddingsToNative({ model: "e", input: "" }).native.input).toEqual([""]);
  const r = embeddingsToNative({ model: "e", input: ["a", "b"], dimensions: 8, encoding_format: "BASE64" });
  expect(r).toEqual({ model: "e", native: { model: "e", input: ["a", "b"], dimensions: 8 }, encodingFormat: "base64" });
});

test("embeddings: errors", () => {
  const bad = (body: Obj) => errorOf(() => embeddingsToNative(body));
  expect(bad({ model: "e" }).message).toBe("invalid input");
  expect(bad({ model: "e", input: [] }).message).toBe("invalid input");
  expect(bad({ model: "e", input: [1] }).message).toBe("invalid input type");
  expect(bad({ model: "e", input: 5 }).message).toBe("invalid input type");
  expect(bad({ model: "e", input: "x", encoding_format: "int8" }).message).toBe(
    "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64'].",
  );
  const missing = bad({ input: "x" });
  expect([missing.status, missing.message]).toEqual([404, "model '' not found"]);
});

// --- chat streaming ----------------------------------------------------------------------------

const CHUNK = '"id":"chatcmpl-457","object":"chat.completion.chunk","created":1729800000,"model":"llama3.2","system_fingerprint":"fp_ollama"';
const nchat = (message: Obj, extra: Obj = {}) => ({
  model: "llama3.2", created_at: "2024-10-24T20:00:00.1234567Z", message: { role: "assistant", ...message }, done: false, ...extra,
});
const ndone = (extra: Obj = {}) => nchat({ content: "" }, {
  done: true, done_reason: "stop", total_duration: 1, prompt_eval_count: 26, eval_count: 8, ...extra,
});

function runChat(chunks: Obj[], includeUsage: boolean): string {
  const t = new ChatStreamTranslator("llama3.2", { includeUsage, id: "chatcmpl-457", created: 1729800000 });
  return chunks.flatMap((c) => t.chunk(c)).join("") + t.done();
}

test("chat stream: role first, content deltas, an empty-delta finish chunk, [DONE]", () => {
  expect(runChat([nchat({ content: "Hello" }), nchat({ content: "!" }), ndone()], false)).toBe(
    `data: {${CHUNK},"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n` +
      "data: [DONE]\n\n",
  );
});

test("chat stream: include_usage adds a usage chunk with no choices", () => {
  const t = new ChatStreamTranslator("llama3.2", { includeUsage: true, id: "chatcmpl-457", created: 1729800000 });
  expect(t.chunk(nchat({ content: "Hello" }))).toHaveLength(1);
  expect(t.chunk(ndone())).toEqual([
    `data: {${CHUNK},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`,
    `data: {${CHUNK},"choices":[],"usage":{"prompt_tokens":26,"completion_tokens":8,"total_tokens":34}}\n\n`,
  ]);
  expect(t.done()).toBe("data: [DONE]\n\n");
});

test("chat stream: thinking arrives as reasoning; a chunk with both is split in two", () => {
  const out = runChat([nchat({ content: "", thinking: "Let me" }), nchat({ content: "Hi", thinking: " see" }), ndone({ done_reason: "length" })], false);
  expect(out).toBe(
    `data: {${CHUNK},"choices":[{"index":0,"delta":{"role":"assistant","reasoning":"Let me"},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{"reasoning":" see"},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\n` +
      "data: [DONE]\n\n",
  );
});

test("chat stream: tool calls, with string arguments and finish_reason tool_calls", () => {
  const call = { id: "call_i9r62nxq", function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } } };
  const out = runChat([nchat({ content: "", tool_calls: [call] }), ndone()], false);
  expect(out).toBe(
    `data: {${CHUNK},"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"call_i9r62nxq","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Tokyo\\"}"}}]},"finish_reason":null}]}\n\n` +
      `data: {${CHUNK},"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\n` +
      "data: [DONE]\n\n",
  );
});

test("chat stream: a done chunk that carries text emits it before the finish chunk", () => {
  const t = new ChatStreamTranslator("m", { includeUsage: false });
  const events = t.chunk({ message: { role: "assistant", content: "all" }, done: true, done_reason: "stop" });
  expect(events.map((e) => JSON.parse(e.slice(6)).choices[0])).toEqual([
    { index: 0, delta: { role: "assistant", content: "all" }, finish_reason: null },
    { index: 0, delta: {}, finish_reason: "stop" },
  ]);
});

test("chat stream: one id and created for the whole stream; Ollama-style id", () => {
  const t = new ChatStreamTranslator("m", { includeUsage: false });
  expect(t.id).toMatch(/^chatcmpl-\d{1,3}$/);
  const [a, b] = [t.chunk(nchat({ content: "a" }))[0], t.chunk(nchat({ content: "b" }))[0]].map((e) => JSON.parse(e.slice(6)));
  expect([a.id, a.created]).toEqual([b.id, b.created]);
  expect(Math.abs(a.created - Date.now() / 1000)).toBeLessThan(5);
});

test("chat stream: Go's HTML escaping; an error line yields nothing", () => {
  const t = new ChatStreamTranslator("m", { includeUsage: false, id: "chatcmpl-1", created: 1 });
  expect(t.chunk(nchat({ content: "<b>&" }))[0]).toContain('"content":"\\u003cb\\u003e\\u0026"');
  expect(t.chunk({ error: "an error was encountered while running the model" })).toEqual([]);
});

test("chat stream: logprobs ride on the first delta of a chunk", () => {
  const t = new ChatStreamTranslator("m", { includeUsage: false });
  const logprobs = [{ token: "Hi", logprob: -0.1, bytes: [72, 105] }];
  const [first, second] = t.chunk(nchat({ content: "Hi", thinking: "t" }, { logprobs })).map((e) => JSON.parse(e.slice(6)).choices[0]);
  expect(first.logprobs).toEqual({ content: logprobs });
  expect(second.logprobs).toBeUndefined();
});

// --- completions streaming ---------------------------------------------------------------------

const CMPL = '"id":"cmpl-12","object":"text_completion","created":1729800000';
const TAIL = '"model":"m","system_fingerprint":"fp_ollama"';
const ngen = (response: string, extra: Obj = {}) => ({ model: "m", created_at: "2024-10-24T20:00:00Z", response, done: false, ...extra });

function runCompletion(includeUsage: boolean): string {
  const t = new CompletionStreamTranslator("m", { includeUsage, id: "cmpl-12", created: 1729800000 });
  const chunks = [ngen("Hel"), ngen("lo"), ngen("", { done: true, done_reason: "stop", prompt_eval_count: 3, eval_count: 2 })];
  return chunks.flatMap((c) => t.chunk(c)).join("") + t.done();
}

test("completions stream: one chunk per native chunk, finish_reason on the last", () => {
  expect(runCompletion(false)).toBe(
    `data: {${CMPL},"choices":[{"text":"Hel","index":0,"finish_reason":null}],${TAIL}}\n\n` +
      `data: {${CMPL},"choices":[{"text":"lo","index":0,"finish_reason":null}],${TAIL}}\n\n` +
      `data: {${CMPL},"choices":[{"text":"","index":0,"finish_reason":"stop"}],${TAIL}}\n\n` +
      "data: [DONE]\n\n",
  );
});

test("completions stream: include_usage puts zero usage on every chunk, then a usage chunk", () => {
  const zero = '"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}';
  expect(runCompletion(true)).toBe(
    `data: {${CMPL},"choices":[{"text":"Hel","index":0,"finish_reason":null}],${TAIL},${zero}}\n\n` +
      `data: {${CMPL},"choices":[{"text":"lo","index":0,"finish_reason":null}],${TAIL},${zero}}\n\n` +
      `data: {${CMPL},"choices":[{"text":"","index":0,"finish_reason":"stop"}],${TAIL},${zero}}\n\n` +
      `data: {${CMPL},"choices":[],${TAIL},"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n` +
      "data: [DONE]\n\n",
  );
});

// --- non-stream results ------------------------------------------------------------------------

test("chatResult: content, usage, created from the native created_at", () => {
  const native = ndone({ message: { role: "assistant", content: "Hello! How can I help?" }, created_at: "2024-10-24T20:00:00.999999999Z" });
  expect(JSON.stringify(chatResult(native, "llama3.2", "chatcmpl-457"))).toBe(
    '{"id":"chatcmpl-457","object":"chat.completion","created":1729800000,"model":"llama3.2","system_fingerprint":"fp_ollama",' +
      '"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help?"},"finish_reason":"stop"}],' +
      '"usage":{"prompt_tokens":26,"completion_tokens":8,"total_tokens":34}}',
  );
  expect(chatResult(native, "m").id).toMatch(/^chatcmpl-\d{1,3}$/);
});

test("chatResult: reasoning, tool calls (ids generated when missing), finish reasons", () => {
  const native = ndone({
    message: {
      role: "assistant", content: "", thinking: "hmm",
      tool_calls: [
        { id: "call_ab12cd34", function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } } },
        { function: { name: "now", arguments: {} } },
      ],
    },
  });
  const r = chatResult(native, "m", "chatcmpl-1") as { choices: Obj[] };
  expect(r.choices[0].finish_reason).toBe("tool_calls");
  const message = r.choices[0].message as { tool_calls: Obj[] } & Obj;
  expect(Object.keys(message)).toEqual(["role", "content", "reasoning", "tool_calls"]);
  expect(message.reasoning).toBe("hmm");
  expect(message.tool_calls[0]).toEqual({
    id: "call_ab12cd34", index: 0, type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' },
  });
  expect(message.tool_calls[1].id).toMatch(/^call_[a-z0-9]{8}$/);
  expect(message.tool_calls[1].index).toBe(1);
  expect(message.tool_calls[1].function).toEqual({ name: "now", arguments: "{}" });

  const finish = (extra: Obj) => (chatResult(ndone(extra), "m") as { choices: Obj[] }).choices[0].finish_reason;
  expect(finish({ done_reason: "length" })).toBe("length");
  expect(finish({ done_reason: "" })).toBeNull();
});

test("completionResult", () => {
  const native = ngen("Hello", { done: true, done_reason: "stop", prompt_eval_count: 3, eval_count: 2, thinking: "dropped" });
  expect(JSON.stringify(completionResult(native, "m", "cmpl-12"))).toBe(
    '{"id":"cmpl-12","object":"text_completion","created":1729800000,"model":"m","system_fingerprint":"fp_ollama",' +
      '"choices":[{"text":"Hello","index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}',
  );
  expect(completionResult(native, "m").id).toMatch(/^cmpl-\d{1,3}$/);
});

// --- embeddings, models, errors ----------------------------------------------------------------

test("embeddingsResult: float", () => {
  const native = { model: "e", embeddings: [[0.010071029, -0.0017594862], [1.5e-7, 1]], prompt_eval_count: 8 };
  expect(JSON.stringify(embeddingsResult(native, "all-minilm", "float"))).toBe(
    '{"object":"list","data":[{"object":"embedding","embedding":[0.010071029,-0.0017594862],"index":0},' +
      '{"object":"embedding","embedding":[1.5e-7,1],"index":1}],"model":"all-minilm","usage":{"prompt_tokens":8,"total_tokens":8}}',
  );
});

test("embeddingsResult: base64 is little-endian float32 and round-trips", () => {
  const vec = [0.010071029, -0.0017594862, 0.05007221, 1];
  const r = embeddingsResult({ embeddings: [vec] }, "e", "base64") as { data: { embedding: string }[] };
  expect(r.data[0].embedding).toBe(Buffer.from(new Float32Array(vec).buffer).toString("base64"));
  const bytes = Buffer.from(r.data[0].embedding, "base64");
  const back = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  expect(Array.from(back)).toEqual(vec.map(Math.fround));
  expect(new DataView(bytes.buffer, bytes.byteOffset).getFloat32(12, true)).toBe(1);
});

test("embeddingsResult: Ollama's nil quirks", () => {
  expect(embeddingsResult({ embeddings: [] }, "e", "float")).toEqual({
    object: "list", data: null, model: "e", usage: { prompt_tokens: 0, total_tokens: 0 },
  });
  expect(embeddingsResult({}, "e", "float")).toEqual({ object: "", data: null, model: "", usage: { prompt_tokens: 0, total_tokens: 0 } });
});

test("modelsList: ids, created from modified_at, owned_by the namespace; empty → data null", () => {
  const tags = [
    { name: "llama3.2:latest", model: "llama3.2:latest", modified_at: "2023-06-16T10:03:22.123456789-07:00" },
    { name: "user/model:7b", model: "user/model:7b", modified_at: "2024-01-01T00:00:00Z" },
    { name: "hf.co/org/repo:Q4_K_M", model: "hf.co/org/repo:Q4_K_M", modified_at: "2024-01-01T00:00:00Z" },
  ];
  expect(modelsList(tags)).toEqual({
    object: "list",
    data: [
      { id: "llama3.2:latest", object: "model", created: 1686935002, owned_by: "library" },
      { id: "user/model:7b", object: "model", created: 1704067200, owned_by: "user" },
      { id: "hf.co/org/repo:Q4_K_M", object: "model", created: 1704067200, owned_by: "org" },
    ],
  });
  expect(JSON.stringify(modelsList([]))).toBe('{"object":"list","data":null}');
});

test("modelEntry: the id as given", () => {
  const tag = { name: "llama3.2:latest", model: "llama3.2:latest", modified_at: "2023-06-16T10:03:22-07:00" };
  expect(modelEntry(tag, "llama3.2")).toEqual({ id: "llama3.2", object: "model", created: 1686935002, owned_by: "library" });
  expect(modelEntry({ name: "x", model: "x" }, "x").created).toBe(-62135596800);
});

test("openAIError: type by status", () => {
  expect(JSON.stringify(openAIError(404, "model 'gpt-4' not found"))).toBe(
    '{"error":{"message":"model \'gpt-4\' not found","type":"not_found_error","param":null,"code":null}}',
  );
  expect(openAIError(400, "x").error.type).toBe("invalid_request_error");
  expect(openAIError(503, "x").error.type).toBe("api_error");
  expect(openAIError(500, "x", "messages").error.param).toBe("messages");
});

// --- what the openai SDK makes of it -----------------------------------------------------------

function sdkServing(body: string, contentType = "text/event-stream"): OpenAI {
  const fetch = async () => new Response(body, { headers: { "content-type": contentType } });
  return new OpenAI({ apiKey: "unused", baseURL: "http://foreman.test/v1", fetch, maxRetries: 0 });
}

test("openai SDK: assembles a streamed chat with reasoning and tool calls", async () => {
  const call = { id: "call_i9r62nxq", function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } } };
  const sse = runChat([nchat({ content: "", thinking: "Let me check" }), nchat({ content: "On it.", tool_calls: [call] }), ndone()], true);
  const client = sdkServing(sse);
  const stream = client.chat.completions.stream({ model: "llama3.2", messages: [{ role: "user", content: "weather?" }] });
  const final = await stream.finalChatCompletion();
  expect(final.choices[0].finish_reason).toBe("tool_calls");
  expect(final.choices[0].message.content).toBe("On it.");
  expect(final.choices[0].message.tool_calls).toEqual([
    { id: "call_i9r62nxq", type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' } },
  ]);
  expect(final.usage).toEqual({ prompt_tokens: 26, completion_tokens: 8, total_tokens: 34 });
});

test("openai SDK: iterates raw chat and completion chunks", async () => {
  const chatChunks = [];
  const chatStream = await sdkServing(runChat([nchat({ content: "Hello" }), ndone()], false)).chat.completions.create({
    model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: true,
  });
  for await (const c of chatStream) chatChunks.push(c.choices[0]?.delta.content ?? "");
  expect(chatChunks).toEqual(["Hello", ""]);

  const texts = [];
  const cmplStream = await sdkServing(runCompletion(true)).completions.create({ model: "m", prompt: "Say", stream: true });
  for await (const c of cmplStream) texts.push(c.choices[0]?.text ?? `usage:${c.usage?.total_tokens}`);
  expect(texts).toEqual(["Hel", "lo", "", "usage:5"]);
});

test("openai SDK: decodes base64 embeddings (its default encoding)", async () => {
  const vec = [0.010071029, -0.0017594862, 0.05007221];
  const body = JSON.stringify(embeddingsResult({ embeddings: [vec], prompt_eval_count: 8 }, "e", "base64"));
  const res = await sdkServing(body, "application/json").embeddings.create({ model: "e", input: "hi" });
  expect(res.data[0].embedding).toEqual(vec.map(Math.fround));
  expect(res.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
});

test("chat stream: an empty chunk is an empty content delta; a bare done chunk still opens the stream", () => {
  const t = new ChatStreamTranslator("m", { includeUsage: false, id: "chatcmpl-1", created: 1 });
  const deltas = (c: Obj) => t.chunk(c).map((e) => JSON.parse(e.slice(6)).choices[0].delta);
  expect(deltas(nchat({ content: "" }))).toEqual([{ role: "assistant", content: "" }]);
  expect(deltas(nchat({ content: "" }))).toEqual([{ content: "" }]);
  expect(deltas(ndone())).toEqual([{}]);
  const fresh = new ChatStreamTranslator("m", { includeUsage: false });
  expect(fresh.chunk(ndone()).map((e) => JSON.parse(e.slice(6)).choices[0])).toEqual([
    { index: 0, delta: { role: "assistant", content: "" }, finish_reason: null },
    { index: 0, delta: {}, finish_reason: "stop" },
  ]);
});

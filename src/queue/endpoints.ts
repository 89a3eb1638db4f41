// What each job endpoint means to the worker: which Ollama route runs it, the native body to send,
// and the result to store. Native endpoints pass through unchanged; /v1 ones are translated.
import { chatResult, chatToNative, completionResult, completionToNative } from "../openai/translate";

type Body = Record<string, unknown>;

export interface EndpointSpec {
  upstream: "/api/chat" | "/api/generate";
  native(request: Body): Body;
  /** The stored result, from the assembled native non-stream response. */
  result(native: Body, request: Body): Body;
  /** Whether a passthrough caller sending this request receives chunks as they come. */
  streams(request: Body): boolean;
}

const same = (b: Body) => b;
const nativeStreams = (b: Body) => b.stream !== false; // Ollama: absent means stream
const v1Streams = (b: Body) => b.stream === true; // OpenAI: absent means one JSON

const SPECS: Record<string, EndpointSpec> = {
  "/api/chat": { upstream: "/api/chat", native: same, result: same, streams: nativeStreams },
  "/api/generate": { upstream: "/api/generate", native: same, result: same, streams: nativeStreams },
  "/v1/chat/completions": {
    upstream: "/api/chat",
    native: (req) => chatToNative(req).native,
    result: (native, req) => chatResult(native, String(req.model)),
    streams: v1Streams,
  },
  "/v1/completions": {
    upstream: "/api/generate",
    native: (req) => completionToNative(req).native,
    result: (native, req) => completionResult(native, String(req.model)),
    streams: v1Streams,
  },
};

export const JOB_ENDPOINTS = ["/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions"] as const;

export function endpointSpec(endpoint: string): EndpointSpec {
  const spec = SPECS[endpoint];
  if (!spec) throw new Error(`no job endpoint ${endpoint}`);
  return spec;
}

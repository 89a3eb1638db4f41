// What each job endpoint means to the worker: which Ollama route runs it, the native body to send,
// and the result to store. Native endpoints pass through unchanged; /v1 ones are translated.

type Body = Record<string, unknown>;

export interface EndpointSpec {
  upstream: "/api/chat" | "/api/generate";
  native(request: Body): Body;
  /** The stored result, from the assembled native non-stream response. */
  result(native: Body, request: Body): Body;
}

const same = (b: Body) => b;

const SPECS: Record<string, EndpointSpec> = {
  "/api/chat": { upstream: "/api/chat", native: same, result: same },
  "/api/generate": { upstream: "/api/generate", native: same, result: same },
};

export function registerEndpoint(endpoint: string, spec: EndpointSpec): void {
  SPECS[endpoint] = spec;
}

export function endpointSpec(endpoint: string): EndpointSpec {
  const spec = SPECS[endpoint];
  if (!spec) throw new Error(`no job endpoint ${endpoint}`);
  return spec;
}

// HTTP client for the Ollama target. Failures are classified: a TargetConnectionError (refused,
// reset, DNS, dropped before or during the body) is worth retrying; a TargetHttpError carries
// Ollama's status and its {"error"} text and is final.
export class TargetConnectionError extends Error {
  override name = "TargetConnectionError";
}

export class TargetHttpError extends Error {
  override name = "TargetHttpError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface TargetRequest {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Raw body to forward as-is (proxied routes). */
  rawBody?: string | ReadableStream<Uint8Array> | null;
  /** Content type of rawBody; JSON when unset. */
  contentType?: string | null;
}

export class OllamaClient {
  constructor(readonly baseUrl: string, private readonly token = "") {}

  /**
   * Sends a request and returns the response once headers arrive, whatever the status.
   * There is deliberately no header timeout: Ollama answers only after a model load, which can
   * take minutes. Bun's own 5-minute idle timer is disabled with `timeout: false`.
   */
  async send(path: string, req: TargetRequest = {}): Promise<Response> {
    // A fresh header set: the caller's Host, Origin and Authorization never reach Ollama
    // (a loopback-bound Ollama answers 403 to a foreign Host).
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | ReadableStream<Uint8Array> | null | undefined = req.rawBody;
    if (body != null) headers["content-type"] = typeof body === "string" ? "application/json" : req.contentType || "application/octet-stream";
    if (req.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.body);
    }
    try {
      return await fetch(this.baseUrl + path, {
        method: req.method ?? (body == null ? "GET" : "POST"),
        headers,
        body,
        signal: req.signal,
        timeout: false,
      } as RequestInit);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw new TargetConnectionError(describeFetchError(err));
    }
  }

  /** GET/POST expecting a JSON answer; non-2xx becomes a TargetHttpError. */
  async json<T>(path: string, req: TargetRequest = {}): Promise<T> {
    const res = await this.send(path, req);
    const text = await readText(res, req.signal);
    if (!res.ok) throw new TargetHttpError(res.status, errorText(text, res.status));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TargetHttpError(502, `invalid JSON from target on ${path}`);
    }
  }
}

/** Reads a whole body, turning a dropped connection into a TargetConnectionError. */
export async function readText(res: Response, signal?: AbortSignal): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw new TargetConnectionError(`connection lost while reading the response: ${describeFetchError(err)}`);
  }
}

/** Ollama's error text from an error body: its {"error"} field, else the raw text. */
export function errorText(body: string, status: number): string {
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim() || `target answered HTTP ${status}`;
}

export function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    // Bun appends advice for developers ("For more information, pass `verbose: true`…"; "Is the
    // computer able to access the url?"); callers and logs get the error itself.
    const message = err.message.replace(/\s*(For more information, pass `verbose: true`|Is the computer able to access the url\?).*$/s, "");
    const code = (err as { code?: string }).code;
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(err);
}

// How client commands talk to a running foreman: FOREMAN_URL and FOREMAN_TOKEN, one-line errors.
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const baseUrl = () => (process.env.FOREMAN_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (process.env.FOREMAN_TOKEN) headers.set("authorization", `Bearer ${process.env.FOREMAN_TOKEN}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  let res: Response;
  try {
    res = await fetch(baseUrl() + path, { ...init, headers });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ConnectionRefused" || code === "ECONNREFUSED" ? "connection refused" : (err as Error).message;
    throw new CliError(`cannot reach foreman at ${baseUrl()}: ${why}`);
  }
  if (!res.ok && res.status !== 409) {
    let msg = await res.text();
    try {
      msg = JSON.parse(msg).error ?? msg;
    } catch {
      // plain text error
    }
    throw new CliError(res.status === 401 ? `foreman at ${baseUrl()} wants a token: set FOREMAN_TOKEN (${msg})` : `foreman answered ${res.status}: ${msg}`);
  }
  return res;
}

export async function callJSON<T = any>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await call(path, init)).json()) as T;
}

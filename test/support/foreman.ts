// Starts foreman as a real child process (the sources, or the compiled binary when FOREMAN_BIN is
// set) on a free port with its own database, and waits until /healthz answers.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const ROOT = resolve(import.meta.dir, "../..");

export interface ForemanProc {
  url: string;
  port: number;
  dbPath: string;
  proc: Subprocess;
  /** Everything foreman printed so far (JSON log lines). */
  logs(): string;
  /** Parsed log lines. */
  logLines(): Record<string, any>[];
  stop(signal?: NodeJS.Signals | number): Promise<number>;
  kill9(): Promise<void>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export interface StartOptions {
  ollamaUrl: string;
  env?: Record<string, string>;
  dbPath?: string;
  port?: number;
  /** Token to send on `fetch` calls (defaults to env.FOREMAN_TOKEN). */
  token?: string;
}

export function tempDir(prefix = "foreman-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export function foremanCommand(): string[] {
  const bin = process.env.FOREMAN_BIN;
  return bin ? [resolve(ROOT, bin)] : [process.execPath, join(ROOT, "src/main.ts")];
}

export async function startForeman(opts: StartOptions): Promise<ForemanProc> {
  const port = opts.port ?? await freePort();
  const dbPath = opts.dbPath ?? join(tempDir(), "foreman.db");
  let output = "";
  const proc = Bun.spawn([...foremanCommand(), "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      FOREMAN_ADDR: `127.0.0.1:${port}`,
      FOREMAN_OLLAMA_URL: opts.ollamaUrl,
      FOREMAN_DB_PATH: dbPath,
      FOREMAN_LOG_LEVEL: "debug",
      ...opts.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) output += dec.decode(chunk, { stream: true });
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);

  const url = `http://127.0.0.1:${port}`;
  const token = opts.token ?? opts.env?.FOREMAN_TOKEN;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`foreman exited with ${proc.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill(9);
      throw new Error(`foreman did not become healthy:\n${output}`);
    }
    await Bun.sleep(25);
  }
  const self: ForemanProc = {
    url, port, dbPath, proc,
    logs: () => output,
    logLines: () => output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return await proc.exited;
    },
    async kill9() {
      proc.kill(9);
      await proc.exited;
    },
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      return fetch(url + path, { ...init, headers });
    },
  };
  return self;
}

/** Reads an NDJSON response into parsed objects, with the time each line arrived. */
export async function readNdjson(res: Response): Promise<{ lines: any[]; times: number[]; raw: string }> {
  const lines: any[] = [];
  const times: number[] = [];
  const dec = new TextDecoder();
  let buf = "";
  let raw = "";
  for await (const chunk of res.body!) {
    const s = dec.decode(chunk, { stream: true });
    raw += s;
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(JSON.parse(line));
      times.push(performance.now());
    }
  }
  if (buf.trim()) {
    lines.push(JSON.parse(buf));
    times.push(performance.now());
  }
  return { lines, times, raw };
}

export function chatBody(model: string, content: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ model, messages: [{ role: "user", content }], ...extra });
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(stepMs);
  }
}

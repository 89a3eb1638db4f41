// Configuration from FOREMAN_* environment variables. A bad value is a ConfigError naming the
// variable and the accepted form; main turns it into one line on stderr and exit code 2.
import { resolve } from "node:path";
import { parseDuration, parseSize } from "./util/duration";
import { redactUrl } from "./util/url";

export interface Config {
  host: string;
  port: number;
  ollamaUrl: string;
  ollamaToken: string;
  token: string;
  embedModel: string;
  dbPath: string;
  pollIntervalMs: number;
  maxAttempts: number;
  jobTtlMs: number;
  maxBodyBytes: number;
  shutdownGraceMs: number;
  keepAlive: string | number;
  maxWaitMs: number;
  maxQueue: number;
  jobTimeoutMs: number;
  origins: string[];
  metricsPublic: boolean;
  streamHeartbeatMs: number;
  unloadOnSwap: boolean;
  publicUrl: string;
  webhookSecret: string;
  webhookTimeoutMs: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function durationVar(env: Env, name: string, fallback: string, allowNegative = false): number {
  const raw = env[name] ?? fallback;
  const ms = parseDuration(raw);
  if (ms === null || (!allowNegative && ms < 0)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid duration (use Go syntax: 500ms, 30s, 5m, 24h)`);
  }
  return ms;
}

function intVar(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid integer (use a whole number >= ${min})`);
  }
  return Number(raw);
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid boolean (use true or false)`);
}

function parseAddr(raw: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`FOREMAN_ADDR=${JSON.stringify(raw)} is not a valid listen address (use :8080 or host:port)`);
  }
  return { host: m[1] === "" ? "0.0.0.0" : m[1].replace(/^\[|\]$/g, ""), port };
}

function urlVar(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return raw.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a valid URL (use http://host:port)`);
  }
}

/** Ollama's keep_alive accepts a number of seconds or a duration string; we keep the user's form. */
function keepAliveVar(env: Env): string | number {
  const raw = env.FOREMAN_KEEP_ALIVE ?? "-1";
  if (/^-?\d+$/.test(raw.trim())) return Number(raw);
  if (parseDuration(raw) === null) {
    throw new ConfigError(`FOREMAN_KEEP_ALIVE=${JSON.stringify(raw)} is not valid (use seconds like -1 or a duration like 30m)`);
  }
  return raw.trim();
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;

/** `value` if it is one of `allowed`, else `fallback`. */
export const oneOf = <T extends string, F>(allowed: readonly T[], value: string | undefined, fallback: F): T | F =>
  (allowed as readonly string[]).includes(value ?? "") ? (value as T) : fallback;

/** The logger is built at import (before the config is read), so it falls back quietly; serve refuses. */
function checkLogVars(env: Env): void {
  const level = env.FOREMAN_LOG_LEVEL;
  if (level && oneOf(LOG_LEVELS, level, null) === null) {
    throw new ConfigError(`FOREMAN_LOG_LEVEL=${JSON.stringify(level)} is not a valid level (use ${LOG_LEVELS.join(", ")})`);
  }
  const format = env.FOREMAN_LOG_FORMAT;
  if (format && oneOf(LOG_FORMATS, format, null) === null) {
    throw new ConfigError(`FOREMAN_LOG_FORMAT=${JSON.stringify(format)} is not a valid format (use json or pretty)`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  checkLogVars(env);
  const { host, port } = parseAddr(env.FOREMAN_ADDR || ":8080");
  const maxBody = parseSize(env.FOREMAN_MAX_BODY || "64MiB");
  if (maxBody === null || maxBody < 1024) {
    throw new ConfigError(`FOREMAN_MAX_BODY=${JSON.stringify(env.FOREMAN_MAX_BODY)} is not a valid size (use bytes or 64MiB, 10MB; at least 1KiB)`);
  }
  return {
    host,
    port,
    ollamaUrl: urlVar(env, "FOREMAN_OLLAMA_URL", "http://127.0.0.1:11434"),
    ollamaToken: env.FOREMAN_OLLAMA_TOKEN ?? "",
    token: env.FOREMAN_TOKEN ?? "",
    embedModel: env.FOREMAN_EMBED_MODEL ?? "",
    dbPath: resolve(env.FOREMAN_DB_PATH || "foreman.db"),
    pollIntervalMs: durationVar(env, "FOREMAN_POLL_INTERVAL", "30s"),
    maxAttempts: intVar(env, "FOREMAN_MAX_ATTEMPTS", 3, 1),
    jobTtlMs: durationVar(env, "FOREMAN_JOB_TTL", "24h"),
    maxBodyBytes: maxBody,
    shutdownGraceMs: durationVar(env, "FOREMAN_SHUTDOWN_GRACE", "30s"),
    keepAlive: keepAliveVar(env),
    maxWaitMs: durationVar(env, "FOREMAN_MAX_WAIT", "10m"),
    maxQueue: intVar(env, "FOREMAN_MAX_QUEUE", 1000, 1),
    jobTimeoutMs: durationVar(env, "FOREMAN_JOB_TIMEOUT", "10m"),
    origins: (env.FOREMAN_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    streamHeartbeatMs: durationVar(env, "FOREMAN_STREAM_HEARTBEAT", "20s"),
    unloadOnSwap: boolVar(env, "FOREMAN_UNLOAD_ON_SWAP", true),
    metricsPublic: boolVar(env, "FOREMAN_METRICS_PUBLIC", false),
    publicUrl: urlVar(env, "FOREMAN_PUBLIC_URL", localUrl(host, port)),
    webhookSecret: env.FOREMAN_WEBHOOK_SECRET ?? "",
    webhookTimeoutMs: durationVar(env, "FOREMAN_WEBHOOK_TIMEOUT", "10s"),
    webhookMaxAttempts: intVar(env, "FOREMAN_WEBHOOK_MAX_ATTEMPTS", 8, 1),
    webhookBackoffMs: durationVar(env, "FOREMAN_WEBHOOK_BACKOFF", "5s"),
  };
}

/** The config as logged at start: secrets replaced by a marker. */
export function redactedConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    ollamaUrl: redactUrl(c.ollamaUrl),
    token: c.token ? "(set)" : "(none)",
    ollamaToken: c.ollamaToken ? "(set)" : "(none)",
    webhookSecret: c.webhookSecret ? "(set)" : "(none)",
  };
}

/** The URL this machine reaches foreman at (for links in webhooks when FOREMAN_PUBLIC_URL is unset). */
export function localUrl(host: string, port: number): string {
  const h = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

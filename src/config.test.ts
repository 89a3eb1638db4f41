import { expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./config";
import { parseDuration, parseSize } from "./util/duration";

test("defaults", () => {
  const c = loadConfig({});
  expect(c.host).toBe("0.0.0.0");
  expect(c.port).toBe(8080);
  expect(c.ollamaUrl).toBe("http://127.0.0.1:11434");
  expect(c.pollIntervalMs).toBe(30_000);
  expect(c.maxAttempts).toBe(3);
  expect(c.jobTtlMs).toBe(24 * 3_600_000);
  expect(c.maxBodyBytes).toBe(64 * 1024 * 1024);
  expect(c.dbPath.startsWith("/")).toBe(true);
  expect(c.maxWaitMs).toBe(600_000);
  expect(c.maxQueue).toBe(1000);
  expect(c.streamHeartbeatMs).toBe(20_000);
  expect(c.keepAlive).toBe(-1);
  expect(c.jobTimeoutMs).toBe(600_000);
});

test("log level and format: a bad value is refused by name", () => {
  expect(() => loadConfig({ FOREMAN_LOG_LEVEL: "debug", FOREMAN_LOG_FORMAT: "pretty" })).not.toThrow();
  expect(() => loadConfig({ FOREMAN_LOG_LEVEL: "loud" })).toThrow('FOREMAN_LOG_LEVEL="loud" is not a valid level');
  expect(() => loadConfig({ FOREMAN_LOG_FORMAT: "xml" })).toThrow('FOREMAN_LOG_FORMAT="xml" is not a valid format');
});

test("addresses", () => {
  expect(loadConfig({ FOREMAN_ADDR: "127.0.0.1:9000" })).toMatchObject({ host: "127.0.0.1", port: 9000 });
  expect(loadConfig({ FOREMAN_ADDR: "[::1]:9000" })).toMatchObject({ host: "::1", port: 9000 });
  expect(() => loadConfig({ FOREMAN_ADDR: "9000" })).toThrow(ConfigError);
});

test("Go durations and sizes", () => {
  expect(parseDuration("1h30m")).toBe(5_400_000);
  expect(parseDuration("500ms")).toBe(500);
  expect(parseDuration("-1m")).toBe(-60_000);
  expect(parseDuration("0")).toBe(0);
  expect(parseDuration("10")).toBeNull();
  expect(parseDuration("abc")).toBeNull();
  expect(parseSize("64MiB")).toBe(67_108_864);
  expect(parseSize("10mb")).toBe(10_000_000);
  expect(parseSize("lots")).toBeNull();
});

// One structured logger for the whole process (pino). JSON lines by default when stdout is not a
// TTY, readable lines on a TTY; FOREMAN_LOG_FORMAT forces either. pino-pretty runs as an in-process
// stream (not a worker-thread transport), so it works unchanged inside the compiled binary.
import pino from "pino";
import pretty from "pino-pretty";

const format = process.env.FOREMAN_LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json");

const options: pino.LoggerOptions = {
  level: process.env.FOREMAN_LOG_LEVEL || "info",
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
};

export const log = format === "pretty"
  ? pino(options, pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: "SYS:HH:MM:ss.l", singleLine: true }))
  : pino(options);

export type Logger = typeof log;

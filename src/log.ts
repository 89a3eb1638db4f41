// One structured logger for the whole process (pino). JSON lines by default when stdout is not a
// TTY, readable lines on a TTY; FOREMAN_LOG_FORMAT forces either. pino-pretty runs as an in-process
// stream (not a worker-thread transport), so it works unchanged inside the compiled binary.
import pino from "pino";
import pretty from "pino-pretty";
import { LOG_FORMATS, LOG_LEVELS, oneOf } from "./config";

// A bad value falls back here (client commands must not die of it); `serve` refuses it in loadConfig.
const format = oneOf(LOG_FORMATS, process.env.FOREMAN_LOG_FORMAT, process.stdout.isTTY ? "pretty" : "json");

const options: pino.LoggerOptions = {
  level: oneOf(LOG_LEVELS, process.env.FOREMAN_LOG_LEVEL, "info"),
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
};

export const log = format === "pretty"
  ? pino(options, pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: "SYS:HH:MM:ss.l", singleLine: true }))
  : pino(options);

export type Logger = typeof log;

// One structured logger for the whole process (pino: JSON lines to stdout, no worker-thread
// transports, so it works unchanged inside the compiled binary).
import pino from "pino";

export const log = pino({
  level: process.env.FOREMAN_LOG_LEVEL || "info",
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

export type Logger = typeof log;

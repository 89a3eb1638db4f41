#!/usr/bin/env bun
// Entry point: `foreman [serve]` runs the daemon; other subcommands are client commands.
import { CliError } from "./cli/client";
import { cancel, job, jobs, ps, submit } from "./cli/commands";
import { ConfigError, loadConfig } from "./config";
import { log } from "./log";
import { startForeman } from "./server";
import { COMMIT, VERSION } from "./version";

const USAGE = `foreman ${VERSION}: a queue in front of one Ollama server

usage:
  foreman [serve]      run the daemon (configured by FOREMAN_* environment variables)
  foreman submit       submit a job (--wait to follow it)
  foreman jobs         list jobs (--watch to refresh)
  foreman job <id>     show one job
  foreman cancel <id>  cancel a job
  foreman ps           resident models, running job, queue by model
  foreman version      print version and commit

Client commands talk to FOREMAN_URL (default http://127.0.0.1:8080) with FOREMAN_TOKEN.
Run "foreman <command> --help" for a command's options.
  foreman healthcheck  exit 0 if the local daemon answers /healthz (for Docker HEALTHCHECK)
  foreman help         this text
`;

async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`foreman: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const running = await startForeman(config);
  let signals = 0;
  const stop = async (signal: string) => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C means now
    log.info({ signal }, "signal received");
    await running.shutdown();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function healthcheck(): Promise<void> {
  const port = (process.env.FOREMAN_ADDR ?? ":8080").split(":").pop();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    process.exit(res.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

const CLIENT: Record<string, (args: string[]) => Promise<number>> = { submit, jobs, job, cancel, ps };

async function client(cmd: string, args: string[]): Promise<never> {
  try {
    process.exit(await CLIENT[cmd](args));
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`foreman ${cmd}: ${err.message}`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const [cmd = "serve", ...rest] = argv;
  if (cmd in CLIENT) return client(cmd, rest);
  switch (cmd) {
    case "serve":
      if (rest.includes("--help") || rest.includes("-h")) return void process.stdout.write(USAGE);
      return serve();
    case "version":
    case "--version":
    case "-v":
      console.log(`foreman ${VERSION} (${COMMIT})`);
      return;
    case "healthcheck":
      return healthcheck();
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`foreman: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      process.exit(2);
  }
}

// No top-level await: the compiled binary is built with --bytecode, which needs a CommonJS-shaped entry.
main(process.argv.slice(2)).catch((err) => {
  console.error(`foreman: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

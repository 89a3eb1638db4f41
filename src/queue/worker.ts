// The single worker: one job at a time against the target. It owns the scheduling state (which
// model is resident, what is running); the choice of the next job is the policy's (policy.ts).
import type { Config } from "../config";
import { log } from "../log";
import { m } from "../metrics/metrics";
import { goJSON, ResponseAssembler } from "../ollama/assemble";
import {
  describeFetchError, errorText, readText, TargetConnectionError, TargetHttpError, type OllamaClient,
} from "../ollama/client";
import type { Inventory } from "../ollama/inventory";
import { keyModel, normalizeModel } from "../ollama/names";
import { ndjsonBatches } from "../ollama/ndjson";
import { formatDuration } from "../util/duration";
import { ACTIVE, paidLoadMs, type JobPatch, type JobRow, type JobState, type JobStore } from "../store/jobs";
import { retryDelayMs } from "./backoff";
import type { Hub } from "./hub";
import { pickNext } from "./policy";
import { endpointSpec, type EndpointSpec } from "./endpoints";
import { isZeroKeepAlive, requestKind, type RequestKind } from "./requests";

export interface WorkerDeps {
  store: JobStore;
  hub: Hub;
  client: OllamaClient;
  inventory: Inventory;
  config: Config;
}

/** Why an in-flight job was aborted. */
export type AbortReason = "cancel" | "shutdown" | "stall";

interface Running {
  job: JobRow;
  ctl: AbortController;
  /** The chunk lines of the current attempt, for followers who join mid-stream. */
  lines: string[];
  finished: Promise<void>;
  kick(): void;
}

const IDLE_RECHECK_MS = 60_000;

export class Worker {
  /** The drain key of the model the worker last loaded or ran, if still resident. */
  residentKey: string | null = null;
  private running: Running | null = null;
  private wakeUp: (() => void) | null = null;
  private stopping = false;
  private storageTrouble = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly d: WorkerDeps) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Called on enqueue: the loop re-evaluates at once instead of polling. */
  wake(): void {
    this.wakeUp?.();
  }

  get current(): JobRow | null {
    return this.running?.job ?? null;
  }

  /** The chunks streamed so far by the running attempt of `jobId` (empty if it is not running). */
  chunksSoFar(jobId: string): readonly string[] {
    return this.running?.job.id === jobId ? this.running.lines : [];
  }

  /** Aborts the running job if it is `jobId`; resolves once its final state is committed. */
  async abortRunning(jobId: string, reason: AbortReason): Promise<boolean> {
    const r = this.running;
    if (!r || r.job.id !== jobId) return false;
    r.ctl.abort(reason);
    await r.finished;
    return true;
  }

  /** Stops claiming; lets the running job finish within `graceMs`, then aborts it. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    const r = this.running;
    if (r) {
      const timer = setTimeout(() => {
        log.warn({ job_id: r.job.id, grace_ms: graceMs }, "shutdown grace elapsed; aborting the running job");
        r.ctl.abort("shutdown");
      }, graceMs);
      await r.finished;
      clearTimeout(timer);
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (err) {
        // A storage failure (disk full, read-only DB) must not kill the loop: log, wait, retry.
        log.error({ err: describeFetchError(err), code: (err as { code?: string }).code }, "worker: storage error; retrying in 1s");
        this.storageTrouble = true;
        await Bun.sleep(1000);
      }
    }
  }

  /** One turn of the loop: run the next job, or wait for one (or for the target to come back). */
  private async step(): Promise<void> {
    if (this.storageTrouble) {
      const released = this.d.store.releaseOrphans(null);
      if (released) log.warn({ released }, "storage recovered: released jobs whose state could not be written");
      this.storageTrouble = false;
    }
    if (this.d.inventory.degraded) return this.sleep(this.d.inventory.waitUntilUp(IDLE_RECHECK_MS));
    const job = this.claimNext();
    if (job) return this.execute(job);
    const due = this.d.store.nextDueAt();
    const delay = due === null ? IDLE_RECHECK_MS : Math.max(0, due - Date.now());
    await this.sleep(Bun.sleep(Math.min(delay, IDLE_RECHECK_MS)));
  }

  /** Waits for `until` or a wake(), whichever comes first. */
  private async sleep(until: Promise<unknown>): Promise<void> {
    await Promise.race([until, new Promise<void>((r) => { this.wakeUp = r; })]);
    this.wakeUp = null;
  }

  private effectiveResidentKey(): string | null {
    if (this.residentKey) return this.residentKey;
    const embed = this.d.config.embedModel ? normalizeModel(this.d.config.embedModel) : null;
    const chat = this.d.inventory.ps.map((m) => normalizeModel(m.model || m.name)).find((n) => n !== embed);
    return chat ?? null;
  }

  private isResident(key: string): boolean {
    if (this.residentKey !== null) return this.residentKey === key;
    // No knowledge of our own yet (fresh start): trust /api/ps, for keys without runner options.
    return !key.includes("|") && this.d.inventory.isResident(keyModel(key));
  }

  private claimNext(): JobRow | null {
    const now = Date.now();
    const pick = pickNext({
      view: this.d.store, residentKey: this.effectiveResidentKey(), now, maxWaitMs: this.d.config.maxWaitMs,
    });
    if (!pick) return null;
    const job = this.d.store.claim(pick.id, this.isResident(pick.modelKey) ? "working" : "loading", now);
    if (!job) return null; // cancelled between the pick and the claim
    if (pick.reason === "starvation") m.starvation.inc();
    log.info({ job_id: job.id, model: job.model, reason: pick.reason, state: job.state, attempt: job.attempt,
      wait_ms: now - job.created_at }, "job claimed");
    this.d.hub.emit(job.id, { type: "state", job });
    return job;
  }

  private async execute(claimed: JobRow): Promise<void> {
    const ctl = new AbortController();
    let finish!: () => void;
    // The stall watchdog: no byte from the target for FOREMAN_JOB_TIMEOUT aborts the attempt.
    let stall: ReturnType<typeof setTimeout> | undefined;
    const kick = () => {
      clearTimeout(stall);
      stall = setTimeout(() => ctl.abort("stall"), this.d.config.jobTimeoutMs);
    };
    const running: Running = { job: claimed, ctl, lines: [], finished: new Promise((r) => { finish = r; }), kick };
    this.running = running;
    kick();
    try {
      const spec = endpointSpec(claimed.endpoint);
      const req = spec.native(JSON.parse(claimed.request) as Record<string, unknown>);
      const kind = requestKind(spec.upstream, req);
      let job: JobRow | null = claimed;
      if (job.state === "loading" && kind === "work") {
        job = await this.load(job, spec.upstream, req, ctl.signal);
        if (!job) return;
        running.job = job;
      }
      await this.work(running, spec, req, kind);
    } catch (err) {
      await this.fail(running, err);
    } finally {
      clearTimeout(stall);
      this.running = null;
      finish();
    }
  }

  /** Loads the job's model with an explicit load request, so load and work are timed apart. */
  private async load(job: JobRow, upstream: string, req: Record<string, unknown>, signal: AbortSignal): Promise<JobRow | null> {
    const started = performance.now();
    const from = this.effectiveResidentKey();
    log.info({ job_id: job.id, model: job.model, from: from && keyModel(from) }, from ? "swapping model" : "loading model");
    if (from && this.d.config.unloadOnSwap && keyModel(from) !== keyModel(job.model_key)) await this.unload(keyModel(from), job.id);
    const body: Record<string, unknown> = { model: job.model, keep_alive: req.keep_alive ?? this.d.config.keepAlive };
    if (req.options) body.options = req.options;
    await this.d.client.json(upstream, { body, signal });
    const loadMs = Math.round(performance.now() - started);
    this.residentKey = job.model_key;
    m.modelLoads.inc({ model: keyModel(job.model_key) });
    if (from) m.modelSwaps.inc({ from: keyModel(from), to: keyModel(job.model_key) });
    log.info({ job_id: job.id, model: job.model, load_ms: loadMs }, "model loaded");
    void this.d.inventory.refresh({ fresh: true }); // /api/ps changed: keep /queue and the dashboard current
    return this.move(job.id, ["loading"], "working", { load_ms: loadMs });
  }

  /** Frees the previous model first, so a one-model box never holds two while loading. */
  private async unload(model: string, jobId: string): Promise<void> {
    try {
      await this.d.client.json("/api/generate", { body: { model, keep_alive: 0 } });
      log.info({ job_id: jobId, model }, "unloaded previous model before swap");
    } catch (err) {
      log.warn({ job_id: jobId, model, err: describeFetchError(err) }, "could not unload previous model; loading anyway");
    }
  }

  private async work(running: Running, spec: EndpointSpec, req: Record<string, unknown>, kind: RequestKind): Promise<void> {
    const { job, ctl } = running;
    const body: Record<string, unknown> = { ...req, stream: true };
    if (body.keep_alive === undefined || body.keep_alive === null) body.keep_alive = this.d.config.keepAlive;
    const res = await this.d.client.send(spec.upstream, { body, signal: ctl.signal });
    running.kick();
    if (!res.ok) throw new TargetHttpError(res.status, errorText(await readText(res, ctl.signal), res.status));
    if (!res.body) throw new TargetConnectionError("target sent no body");

    const assembler = new ResponseAssembler(spec.upstream);
    try {
      for await (const lines of ndjsonBatches(res.body)) {
        running.kick();
        for (const line of lines) {
          const chunk = parseChunk(line);
          // An error line after a 200: Ollama answers a stream:false caller 500 for it (its default status).
          if (typeof chunk.error === "string") throw new TargetHttpError(res.ok ? 500 : res.status, chunk.error);
          assembler.add(chunk);
          if (chunk.done) {
            const original = JSON.parse(job.request) as Record<string, unknown>;
            const native = assembler.result();
            this.finishRun(job, req, native, spec.result(native, original), kind, line);
            return;
          }
          if (running.lines.push(line) === 1) {
            log.info({ job_id: job.id, model: job.model, ttft_ms: Date.now() - job.created_at }, "first token");
          }
          this.d.hub.emit(job.id, { type: "chunk", line });
        }
      }
    } catch (err) {
      if (err instanceof TargetHttpError || ctl.signal.aborted) throw err;
      throw new TargetConnectionError(`connection lost mid-stream: ${describeFetchError(err)}`);
    }
    throw new TargetConnectionError("the target closed the stream before the final chunk");
  }

  /** Commits the result, then tells the waiters: the final chunk goes out only once it is durable. */
  private finishRun(job: JobRow, req: Record<string, unknown>, native: Record<string, unknown>, result: Record<string, unknown>,
    kind: RequestKind, finalLine: string): void {
    const ollamaLoadMs = typeof native.load_duration === "number" ? Math.round(native.load_duration / 1e6) : null;
    const done = this.d.store.complete(job.id, goJSON(result), { ollama_load_ms: ollamaLoadMs });
    // keep_alive 0 unloads the model once the request is over, with or without a prompt.
    this.residentKey = kind === "unload" || isZeroKeepAlive(req.keep_alive) ? null : job.model_key;
    if (!done) return; // cancelled at the last moment: the cancel already told everyone
    if (done.load_ms === null && paidLoadMs(done) !== null) {
      // Foreman thought the model resident, but Ollama had to load it (evicted behind our back).
      m.modelLoads.inc({ model: keyModel(job.model_key) });
      log.info({ job_id: job.id, model: job.model, ollama_load_ms: ollamaLoadMs }, "Ollama loaded the model during the request");
    }
    log.info({ job_id: job.id, model: job.model, kind, ...timings(done), ollama_load_ms: ollamaLoadMs,
      eval_count: native.eval_count, prompt_eval_count: native.prompt_eval_count }, "job done");
    this.d.hub.emit(job.id, { type: "chunk", line: finalLine });
    this.d.hub.emit(job.id, { type: "state", job: done });
  }

  private async fail(running: Running, err: unknown): Promise<void> {
    const { job, ctl } = running;
    if (ctl.signal.reason === "stall") {
      err = new TargetConnectionError(`no answer from the target for ${formatDuration(this.d.config.jobTimeoutMs)} (FOREMAN_JOB_TIMEOUT)`);
    } else if (ctl.signal.aborted) {
      return this.aborted(job, ctl.signal.reason as AbortReason);
    }
    if (err instanceof TargetHttpError && err.status === 503) {
      // Ollama's "server busy" is retryable: its own queue was full.
      err = new TargetConnectionError(`target busy: ${err.message}`);
    }
    if (err instanceof TargetHttpError) {
      m.targetErrors.inc({ class: "http" });
      log.warn({ job_id: job.id, model: job.model, status: err.status, err: err.message, ...timings(job) }, "job failed: target error");
      this.move(job.id, ACTIVE, "failed", { error: err.message, error_status: err.status });
      return;
    }
    if (!(err instanceof TargetConnectionError)) {
      log.error({ job_id: job.id, err: describeFetchError(err), stack: (err as Error)?.stack }, "job failed: internal error");
      this.move(job.id, ACTIVE, "failed", { error: `internal error: ${describeFetchError(err)}`, error_status: 500 });
      return;
    }
    m.targetErrors.inc({ class: "connection" });
    this.residentKey = null; // we no longer know what the target holds
    const callerStreams = endpointSpec(job.endpoint).streams(JSON.parse(job.request));
    if (running.lines.length > 0 && job.origin === "sync" && callerStreams) {
      // The caller already has part of the answer; a retry would repeat it. Fail with an error line.
      this.move(job.id, ACTIVE, "failed", { error: err.message, error_status: 502 });
      return;
    }
    await this.retryOrFail(job, err.message);
  }

  private async retryOrFail(job: JobRow, reason: string): Promise<void> {
    const up = await this.d.inventory.refresh();
    if (!up) {
      // The target is down, not this job's fault: hold it without spending an attempt.
      this.move(job.id, ACTIVE, "queued", { attempt: job.attempt - 1, not_before: Date.now(), error: reason });
      this.d.inventory.markDown(reason);
      return;
    }
    if (job.attempt >= job.max_attempts) {
      log.warn({ job_id: job.id, model: job.model, attempts: job.attempt, err: reason, ...timings(job) }, "job failed: out of attempts");
      this.move(job.id, ACTIVE, "failed", { error: reason, error_status: 502 });
      return;
    }
    const delay = retryDelayMs(job.attempt);
    log.warn({ job_id: job.id, attempt: job.attempt, retry_in_ms: delay, err: reason }, "connection error; will retry");
    this.move(job.id, ACTIVE, "queued", { not_before: Date.now() + delay, error: reason });
  }

  private aborted(job: JobRow, reason: AbortReason): void {
    if (reason === "shutdown" && job.origin === "async") {
      this.move(job.id, ACTIVE, "queued", { attempt: job.attempt - 1, not_before: Date.now() });
      return;
    }
    const error = reason === "shutdown" ? "foreman shut down before this request finished" : "request cancelled";
    log.info({ job_id: job.id, reason }, "job cancelled while running");
    this.residentKey = null;
    this.move(job.id, ACTIVE, "cancelled", { error, error_status: 499 });
  }

  /** A committed transition, then the event; returns the new row or null if the job had moved on. */
  private move(id: string, from: readonly JobState[], to: JobState, patch: JobPatch): JobRow | null {
    const row = this.d.store.transition(id, from, to, patch);
    if (row) this.d.hub.emit(id, { type: "state", job: row });
    return row;
  }
}

/** A job's durations for its last log line: queued, running, and the load (if it paid one). */
function timings(job: JobRow): { wait_ms: number; run_ms: number; load_ms: number | null } {
  const started = job.started_at ?? job.created_at;
  return { wait_ms: started - job.created_at, run_ms: Date.now() - started, load_ms: job.load_ms };
}

function parseChunk(line: string): Record<string, unknown> {
  try {
    const v = JSON.parse(line);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw new TargetHttpError(502, `invalid response line from target: ${line.slice(0, 200)}`);
}

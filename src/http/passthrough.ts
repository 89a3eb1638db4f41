// A passthrough caller's request as a sync job: enqueue, then answer from the job's events.
// Headers go out with the first chunk (as Ollama does), so a failure before it keeps its real
// status; after it, a failure is a final {"error"} line. A streaming caller left waiting longer than
// the heartbeat interval gets headers and empty chunks, so its client's timeouts do not fire.
import { goJSON } from "../ollama/assemble";
import type { JobEvent, Subscription } from "../queue/hub";
import type { JobQueue } from "../queue/queue";
import { TERMINAL, type JobRow } from "../store/jobs";
import { JSON_TYPE, NDJSON_TYPE, ollamaError } from "./responses";

/** How a protocol writes a job's answer: Ollama's NDJSON, or OpenAI's SSE on /v1. */
export interface Wire {
  streamType: string;
  /** A non-stream body from the job's stored result. */
  body(result: string): string;
  error(status: number, message: string, headers: Record<string, string>): Response;
  /** Bytes to write for one upstream chunk line (the final one included). */
  chunk(line: string): string;
  /** Written after the final chunk, if anything. */
  end(): string;
  /** Written when the job fails after the stream started. */
  streamError(message: string): string;
  heartbeat(): string;
}

export function ollamaWire(job: JobRow): Wire {
  return {
    streamType: NDJSON_TYPE,
    body: (result) => result,
    error: ollamaError,
    chunk: (line) => line + "\n",
    end: () => "",
    streamError: (message) => goJSON({ error: message }) + "\n",
    // A valid Ollama chunk with no text: clients keep waiting, and the text is unchanged.
    heartbeat: () => goJSON(job.endpoint === "/api/chat"
      ? { model: job.model, created_at: new Date().toISOString(), message: { role: "assistant", content: "" }, done: false }
      : { model: job.model, created_at: new Date().toISOString(), response: "", done: false }) + "\n",
  };
}

export interface SyncJobOptions {
  queue: JobQueue;
  request: Request;
  /** The job to answer for, already submitted; `sub` was subscribed right after the submit. */
  job: JobRow;
  sub: Subscription;
  stream: boolean;
  heartbeatMs: number;
  wire: Wire;
}

const isTerminal = (job: JobRow) => TERMINAL.includes(job.state);
const enc = new TextEncoder();

/** Time the job spent waiting for the worker, so far or in all. */
const queueWait = (job: JobRow) => String((job.started_at ?? Date.now()) - job.created_at);

export async function answerSyncJob(o: SyncJobOptions): Promise<Response> {
  const { queue, request, job, sub } = o;
  const disconnect = () => void queue.cancel(job.id, "client disconnected");
  request.signal.addEventListener("abort", disconnect, { once: true });
  const waiter = new EventWaiter(sub);
  let last = job;

  for (;;) {
    const ev = await waiter.next(o.stream ? o.heartbeatMs : null);
    if (ev === "timeout") return respondStreaming(o, waiter, last, null, disconnect);
    if (!ev) break;
    if (ev.type === "chunk" && o.stream) return respondStreaming(o, waiter, last, ev.line, disconnect);
    if (ev.type === "state") {
      last = ev.job;
      if (isTerminal(last)) break;
    }
  }
  sub.close();
  request.signal.removeEventListener("abort", disconnect);
  const headers = { "x-foreman-job-id": job.id, "x-foreman-queue-wait": queueWait(last) };
  if (last.state === "done" && last.result !== null) {
    return new Response(o.wire.body(last.result), { status: 200, headers: { ...headers, "content-type": JSON_TYPE } });
  }
  return o.wire.error(last.error_status ?? 500, last.error ?? `job ${last.state}`, headers);
}

function respondStreaming(o: SyncJobOptions, waiter: EventWaiter, job: JobRow, first: string | null, onCancel: () => void): Response {
  const { sub, wire } = o;
  let started = first !== null;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(first !== null ? wire.chunk(first) : wire.heartbeat()));
    },
    // Loops until it has enqueued or closed: a pull that resolves with nothing may not be re-invoked.
    // Events already buffered are written together, so a fast stream costs one write per batch.
    async pull(controller) {
      for (;;) {
        const ev = await waiter.next(started ? null : o.heartbeatMs);
        if (ev === "timeout") return controller.enqueue(enc.encode(wire.heartbeat()));
        if (!ev) return controller.close();
        let out = "";
        let finished = false;
        for (const e of [ev, ...sub.drain()]) {
          if (e.type === "chunk") {
            started = true;
            out += wire.chunk(e.line);
          } else if (isTerminal(e.job)) {
            out += e.job.state === "done" ? wire.end() : wire.streamError(e.job.error ?? `job ${e.job.state}`);
            finished = true;
            break;
          }
        }
        if (out) controller.enqueue(enc.encode(out));
        if (finished) {
          sub.close();
          return controller.close();
        }
        if (out) return;
      }
    },
    cancel() {
      sub.close();
      onCancel();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "x-foreman-job-id": o.job.id, "x-foreman-queue-wait": queueWait(job), "content-type": wire.streamType },
  });
}

/** Reads a subscription with an optional timeout, without losing the event a timeout raced with. */
class EventWaiter {
  private pending: Promise<JobEvent | null> | null = null;

  constructor(private readonly sub: Subscription) {}

  async next(timeoutMs: number | null): Promise<JobEvent | null | "timeout"> {
    this.pending ??= this.sub.next();
    if (timeoutMs === null) return this.take();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => { timer = setTimeout(() => r("timeout"), timeoutMs); });
    const ev = await Promise.race([this.pending, timeout]);
    clearTimeout(timer);
    return ev === "timeout" ? ev : this.take();
  }

  private async take(): Promise<JobEvent | null> {
    const ev = await this.pending!;
    this.pending = null;
    return ev;
  }
}

// A passthrough caller's request as a sync job: enqueue, then answer from the job's events.
// Headers go out with the first chunk (as Ollama does), so a failure before it keeps its real
// status; after it, a failure is a final {"error"} line.
import { goJSON } from "../ollama/assemble";
import type { Subscription } from "../queue/hub";
import type { JobQueue } from "../queue/queue";
import { TERMINAL, type JobRow } from "../store/jobs";
import { JSON_TYPE, NDJSON_TYPE, ollamaError } from "./responses";

export interface SyncJobOptions {
  queue: JobQueue;
  request: Request;
  /** The job to watch (already submitted); `sub` subscribed right after submit. */
  job: JobRow;
  sub: Subscription;
  stream: boolean;
}

const isTerminal = (job: JobRow) => TERMINAL.includes(job.state);

export async function answerSyncJob({ queue, request, job, sub, stream }: SyncJobOptions): Promise<Response> {
  const headers: Record<string, string> = { "x-foreman-job-id": job.id };
  const disconnect = () => void queue.cancel(job.id, "client disconnected");
  request.signal.addEventListener("abort", disconnect, { once: true });

  // Wait for the first chunk (streaming) or the end (non-streaming / failure before output).
  let first: string | null = null;
  let last: JobRow = job;
  for (;;) {
    const ev = await sub.next();
    if (!ev) break;
    if (ev.type === "chunk" && stream) {
      first = ev.line;
      break;
    }
    if (ev.type === "state") {
      last = ev.job;
      if (isTerminal(last)) break;
    }
  }
  if (first === null) {
    sub.close();
    request.signal.removeEventListener("abort", disconnect);
    return finalResponse(last, headers);
  }
  return new Response(ndjsonStream(first, sub, disconnect), {
    status: 200,
    headers: { ...headers, "content-type": NDJSON_TYPE },
  });
}

function finalResponse(job: JobRow, headers: Record<string, string>): Response {
  if (job.state === "done" && job.result !== null) {
    return new Response(job.result, { status: 200, headers: { ...headers, "content-type": JSON_TYPE } });
  }
  return ollamaError(job.error_status ?? 500, job.error ?? `job ${job.state}`, headers);
}

function ndjsonStream(first: string, sub: Subscription, onCancel: () => void): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(first + "\n"));
    },
    // Loops until it has enqueued or closed: a pull that resolves with nothing may not be re-invoked.
    async pull(controller) {
      for (;;) {
        const ev = await sub.next();
        if (!ev) return controller.close();
        if (ev.type === "chunk") return controller.enqueue(enc.encode(ev.line + "\n"));
        if (!isTerminal(ev.job)) continue;
        if (ev.job.state !== "done") {
          controller.enqueue(enc.encode(goJSON({ error: ev.job.error ?? `job ${ev.job.state}` }) + "\n"));
        }
        sub.close();
        return controller.close();
      }
    },
    cancel() {
      sub.close();
      onCancel();
    },
  });
}

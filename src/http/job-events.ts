// GET /jobs/{id}/events: Server-Sent Events for one job. Subscribes before reading the current
// state, so no change can slip between the snapshot and the live events.
import { jobView } from "../jobs/view";
import type { Services } from "../services";
import { TERMINAL, type JobRow } from "../store/jobs";

const HEARTBEAT_MS = 15_000;
// `event: chunk` lines: the current attempt's chunks so far, then each new one as it streams.

export function jobEvents(svc: Services, id: string, request: Request): Response {
  const sub = svc.hub.subscribe(id);
  const enc = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let last: JobRow | null = svc.store.get(id);
  const stateEvent = (job: JobRow) => enc.encode(`event: state\ndata: ${JSON.stringify(jobView(job))}\n\n`);
  const stop = () => {
    clearInterval(heartbeat);
    sub.close();
  };
  request.signal.addEventListener("abort", stop, { once: true });

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(stateEvent(last!));
      if (TERMINAL.includes(last!.state)) {
        stop();
        controller.close();
        return;
      }
      // Joining mid-stream: the text so far first, so a follower always sees the whole reply.
      // (Synchronous with the subscribe above: no chunk can fall between the two.)
      for (const line of svc.worker.chunksSoFar(id)) controller.enqueue(enc.encode(`event: chunk\ndata: ${line}\n\n`));
      // A comment line now and then keeps proxies and idle timers from closing a quiet stream.
      heartbeat = setInterval(() => controller.enqueue(enc.encode(": ping\n\n")), HEARTBEAT_MS);
    },
    async pull(controller) {
      for (;;) {
        const ev = await sub.next();
        if (!ev) return controller.close();
        if (ev.type === "chunk") return controller.enqueue(enc.encode(`event: chunk\ndata: ${ev.line}\n\n`));
        // Skip a change the snapshot already showed.
        if (last && ev.job.updated_at <= last.updated_at && ev.job.state === last.state) continue;
        last = ev.job;
        controller.enqueue(stateEvent(ev.job));
        if (TERMINAL.includes(ev.job.state)) {
          stop();
          controller.close();
        }
        return;
      }
    },
    cancel: stop,
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-foreman-job-id": id },
  });
}

// The live dashboard: one self-contained page (no CDN; embedded in the binary), and the global event
// stream it follows. The page loads without the token; /events and its other API calls need it.
import { Elysia } from "elysia";
import pageBundle from "../ui/dashboard.html" with { type: "text" };
import { jobView } from "../jobs/view";
import type { Services } from "../services";
import { errorResponses } from "./job-schemas";

// Imported as text (Bun types an .html import as an HTML bundle; `type: "text"` makes it the source).
const page = pageBundle as unknown as string;
const HEARTBEAT_MS = 15_000;

export function isUiPath(path: string): boolean {
  return path === "/ui" || path === "/ui/";
}

function chunkText(line: string): string {
  try {
    const c = JSON.parse(line);
    return c.message?.content ?? c.response ?? "";
  } catch {
    return "";
  }
}

/** Every job's state changes (`event: job`) and streamed text (`event: chunk`), for dashboards. */
function allEvents(svc: Services, request: Request): Response {
  const enc = new TextEncoder();
  let off: (() => void) | null = null;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    off?.();
    clearInterval(heartbeat);
  };
  request.signal.addEventListener("abort", stop, { once: true });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string, data: unknown) => {
        try {
          controller.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          stop(); // the client went away
        }
      };
      controller.enqueue(enc.encode(": connected\n\n"));
      off = svc.hub.onAny((jobId, ev) => {
        if (ev.type === "state") send("job", jobView(ev.job, false));
        else send("chunk", { job_id: jobId, text: chunkText(ev.line) });
      });
      heartbeat = setInterval(() => send("ping", {}), HEARTBEAT_MS);
    },
    cancel: stop,
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

export function uiRoutes(svc: Services) {
  // The page learns whether to ask for a token before making any call (no 401 noise on load).
  const body = page.replace("{{AUTH}}", svc.config.token ? "required" : "none");
  const html = () => new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
  return new Elysia()
    .get("/ui", html, { detail: { hide: true } })
    .get("/ui/", html, { detail: { hide: true } })
    .get("/events", ({ request }) => allEvents(svc, request), {
      detail: { tags: ["queue"], summary: "Every job's events (Server-Sent Events)", security: [{ bearerAuth: [] }],
        description: "`event: job` with the job JSON on every state change of any job; `event: chunk` with `{job_id, text}` as text streams.",
        responses: {
          200: { description: "The event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
          ...errorResponses({}),
        } },
    });
}

// A real webhook receiver for tests: records every POST (headers, raw body) and answers with a
// programmable status; `down()` stops listening so deliveries fail with connection errors.
export interface Received { headers: Record<string, string>; raw: string; body: any; at: number }

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer (default 200); a function sees the delivery about to be answered. */
  status: number | ((r: Received) => number);
  delayMs: number;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let server: ReturnType<typeof Bun.serve> | null = null;
  let port = 0;
  const self: Receiver = {
    url: "",
    received: [],
    status: 200,
    delayMs: 0,
    async down() {
      server?.stop(true);
      server = null;
    },
    async up() {
      server = listen(port);
    },
    async stop() {
      server?.stop(true);
    },
  };
  const listen = (p: number) => Bun.serve({
    port: p,
    hostname: "127.0.0.1",
    async fetch(req) {
      const raw = await req.text();
      const r: Received = { headers: Object.fromEntries(req.headers), raw, body: JSON.parse(raw), at: Date.now() };
      self.received.push(r);
      if (self.delayMs) await Bun.sleep(self.delayMs);
      const status = typeof self.status === "function" ? self.status(r) : self.status;
      return new Response("", { status });
    },
  });
  server = listen(0);
  port = server.port!;
  self.url = `http://127.0.0.1:${port}/hook`;
  return self;
}

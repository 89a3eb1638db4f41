// Delivers outbox events: in order within a job (a job's next event waits for the one before it),
// different jobs concurrently up to a bound, each POST with a timeout, retried with exponential
// backoff. It runs beside the worker and never blocks it.
import type { Database, Statement } from "bun:sqlite";
import { log } from "../log";
import { m } from "../metrics/metrics";
import { describeFetchError } from "../ollama/client";
import { signatureHeaders, signingKey } from "./sign";

export interface DispatcherConfig {
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry delay; each further one is 4x longer (capped at 10 h), ±20% jitter. */
  backoffMs: number;
  concurrency?: number;
}

export interface EventRow {
  id: string;
  job_id: string;
  url: string;
  state: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

const MAX_DELAY_MS = 10 * 3_600_000;
const IDLE_MS = 60_000;

export function webhookRetryDelay(attempts: number, baseMs: number, random = Math.random): number {
  return Math.round(Math.min(MAX_DELAY_MS, baseMs * 4 ** (attempts - 1)) * (0.8 + 0.4 * random()));
}

export class Dispatcher {
  private readonly q: Record<string, Statement>;
  private readonly key: Buffer | null;
  private readonly inflight = new Set<string>(); // job ids with a delivery under way
  private wakeUp: (() => void) | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(db: Database, private readonly cfg: DispatcherConfig) {
    this.key = cfg.secret ? signingKey(cfg.secret) : null;
    this.q = {
      // The head (oldest pending) event of each job, when due.
      due: db.query(
        `SELECT * FROM webhook_events e WHERE status = 'pending' AND next_attempt_at <= ?
           AND id = (SELECT MIN(id) FROM webhook_events WHERE job_id = e.job_id AND status = 'pending')
         ORDER BY next_attempt_at, id LIMIT 200`),
      nextDue: db.query("SELECT MIN(next_attempt_at) AS t FROM webhook_events WHERE status = 'pending'"),
      delivered: db.query(
        "UPDATE webhook_events SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ?"),
      retry: db.query(
        "UPDATE webhook_events SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?"),
      failed: db.query(
        "UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, last_status = ?, last_error = ? WHERE id = ?"),
      gone: db.query(
        "UPDATE webhook_events SET status = 'dropped', last_error = 'receiver answered 410 Gone' WHERE job_id = ? AND status = 'pending'"),
      goneHead: db.query("UPDATE webhook_events SET attempts = attempts + 1, last_status = 410 WHERE id = ?"),
      forJob: db.query("SELECT * FROM webhook_events WHERE job_id = ? ORDER BY id"),
      pending: db.query("SELECT COUNT(*) AS n FROM webhook_events WHERE status = 'pending'"),
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  deliveries(jobId: string): EventRow[] {
    return this.q.forJob.all(jobId) as EventRow[];
  }

  pendingCount(): number {
    return (this.q.pending.get() as { n: number }).n;
  }

  private async run(): Promise<void> {
    const concurrency = this.cfg.concurrency ?? 8;
    while (!this.stopped) {
      const due = (this.q.due.all(Date.now()) as EventRow[]).filter((e) => !this.inflight.has(e.job_id));
      for (const ev of due.slice(0, Math.max(0, concurrency - this.inflight.size))) {
        this.inflight.add(ev.job_id);
        void this.deliver(ev).finally(() => {
          this.inflight.delete(ev.job_id);
          this.wake();
        });
      }
      const next = (this.q.nextDue.get() as { t: number | null }).t;
      const delay = next === null ? IDLE_MS : Math.max(5, next - Date.now());
      await Promise.race([
        Bun.sleep(Math.min(delay, IDLE_MS)),
        new Promise<void>((r) => { this.wakeUp = r; }),
      ]);
      this.wakeUp = null;
    }
  }

  private async deliver(ev: EventRow): Promise<void> {
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "foreman-webhooks",
      "webhook-id": ev.id,
      "webhook-timestamp": String(ts),
      ...(this.key ? signatureHeaders(this.key, ev.id, ts, ev.payload) : {}),
    };
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(ev.url, {
        method: "POST", headers, body: ev.payload, signal: AbortSignal.timeout(this.cfg.timeoutMs), redirect: "manual",
      });
      status = res.status;
      await res.body?.cancel().catch(() => {});
    } catch (err) {
      error = (err as Error)?.name === "TimeoutError" ? `no answer within ${this.cfg.timeoutMs} ms` : describeFetchError(err);
    }
    this.record(ev, status, error);
  }

  private record(ev: EventRow, status: number | null, error: string | null): void {
    const attempt = ev.attempts + 1;
    const ctx = { job_id: ev.job_id, webhook_id: ev.id, state: ev.state, attempt, status };
    if (status !== null && status >= 200 && status < 300) {
      this.q.delivered.run(status, Date.now(), ev.id);
      m.webhookDeliveries.inc({ outcome: "delivered" });
      log.info(ctx, "webhook delivered");
      return;
    }
    if (status === 410) {
      this.q.goneHead.run(ev.id);
      this.q.gone.run(ev.job_id);
      m.webhookDeliveries.inc({ outcome: "gone" });
      log.warn(ctx, "webhook receiver answered 410 Gone: no more deliveries for this job");
      return;
    }
    const reason = error ?? `receiver answered HTTP ${status}`;
    if (attempt >= this.cfg.maxAttempts) {
      this.q.failed.run(status, reason, ev.id);
      m.webhookDeliveries.inc({ outcome: "failed" });
      log.warn({ ...ctx, err: reason }, "webhook delivery failed for good");
      return;
    }
    const delay = webhookRetryDelay(attempt, this.cfg.backoffMs);
    this.q.retry.run(status, reason, Date.now() + delay, ev.id);
    m.webhookDeliveries.inc({ outcome: "retry" });
    log.warn({ ...ctx, err: reason, retry_in_ms: delay }, "webhook delivery failed; will retry");
  }
}

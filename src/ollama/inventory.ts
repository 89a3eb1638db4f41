// The model inventory: the target's /api/tags, /api/ps and /api/version, polled on an interval.
// When the target is unreachable the last good copy is kept and `degraded` is set; polling then
// speeds up so the worker resumes the moment the target answers again.
import { log } from "../log";
import { redactUrl } from "../util/url";
import { m, setResident } from "../metrics/metrics";
import { describeFetchError, type OllamaClient } from "./client";
import { normalizeModel } from "./names";

export interface TagModel { name: string; model: string; [k: string]: unknown }
export interface PsModel { name: string; model: string; expires_at?: string; [k: string]: unknown }

const DOWN_POLL_MS = 1000;

export class Inventory {
  tags: TagModel[] = [];
  ps: PsModel[] = [];
  version: string | null = null;
  degraded = false;
  lastError: string | null = null;
  lastOkAt: number | null = null;
  private inflight: Promise<boolean> | null = null;
  private queuedPoll: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private warming = false;
  private upWaiters: (() => void)[] = [];

  constructor(
    private readonly client: OllamaClient,
    private readonly intervalMs: number,
    private readonly embedModel = "",
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** True once the target has answered at least once. */
  get known(): boolean {
    return this.lastOkAt !== null;
  }

  find(model: string): TagModel | undefined {
    const key = normalizeModel(model);
    return this.tags.find((m) => normalizeModel(m.model || m.name) === key);
  }

  has(model: string): boolean {
    return this.find(model) !== undefined;
  }

  isResident(model: string): boolean {
    const key = normalizeModel(model);
    return this.ps.some((m) => normalizeModel(m.model || m.name) === key);
  }

  /** Known now, or after one immediate re-poll (a model pulled since the last poll). */
  async ensureKnown(model: string): Promise<boolean> {
    if (this.has(model)) return true;
    await this.refresh();
    return this.has(model);
  }

  /** Called by the worker when the target refused a connection: mark down and poll fast. */
  markDown(reason: string): void {
    this.setDegraded(reason);
    this.schedule();
  }

  /** Resolves when the target is (or becomes) reachable, or after `timeoutMs`. */
  waitUntilUp(timeoutMs: number): Promise<void> {
    if (!this.degraded) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.upWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  /** One poll of the target; concurrent callers share it. Returns whether the target answered. */
  refresh({ fresh = false } = {}): Promise<boolean> {
    if (this.inflight && fresh) {
      // The poll under way may have read /api/ps before the change our caller just made (a load):
      // one more poll after it, shared by every such caller meanwhile.
      this.queuedPoll ??= this.inflight.then(() => { this.queuedPoll = null; return this.refresh(); });
      return this.queuedPoll;
    }
    this.inflight ??= this.poll().finally(() => { this.inflight = null; });
    return this.inflight;
  }

  private async poll(): Promise<boolean> {
    try {
      const signal = AbortSignal.timeout(10_000);
      const [tags, ps, version] = await Promise.all([
        this.client.json<{ models: TagModel[] | null }>("/api/tags", { signal }),
        this.client.json<{ models: PsModel[] | null }>("/api/ps", { signal }),
        this.client.json<{ version: string }>("/api/version", { signal }),
      ]);
      this.tags = tags.models ?? [];
      this.ps = ps.models ?? [];
      this.version = version.version ?? null;
      this.lastOkAt = Date.now();
      setResident(this.ps.map((p) => normalizeModel(p.model || p.name)));
      this.setUp();
      void this.warmEmbedder();
      return true;
    } catch (err) {
      m.pollErrors.inc();
      this.setDegraded(describeFetchError(err));
      return false;
    }
  }

  private setDegraded(reason: string): void {
    if (!this.degraded) log.warn({ target: redactUrl(this.client.baseUrl), err: reason }, "target unreachable; holding queued jobs");
    this.degraded = true;
    this.lastError = reason;
    m.targetUp.set(0);
  }

  private setUp(): void {
    if (this.degraded) log.info({ target: redactUrl(this.client.baseUrl) }, "target reachable again");
    this.degraded = false;
    this.lastError = null;
    m.targetUp.set(1);
    for (const wake of this.upWaiters.splice(0)) wake();
  }

  /** Keeps the embedder resident: loaded with keep_alive -1 whenever it is missing from /api/ps. */
  private async warmEmbedder(): Promise<void> {
    if (!this.embedModel || this.warming || this.isResident(this.embedModel)) return;
    this.warming = true;
    try {
      await this.client.json("/api/embed", { body: { model: this.embedModel, input: "", keep_alive: -1 } });
      log.info({ model: this.embedModel }, "embedder loaded (keep_alive -1)");
    } catch (err) {
      log.warn({ model: this.embedModel, err: describeFetchError(err) }, "could not load the embedder");
    } finally {
      this.warming = false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = this.degraded ? Math.min(DOWN_POLL_MS, this.intervalMs) : this.intervalMs;
    this.timer = setTimeout(async () => {
      await this.refresh();
      this.schedule();
    }, delay);
  }
}

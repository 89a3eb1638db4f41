// The scheduling policy, kept pure: given a read-only view of the queue, the resident model and the
// clock, decide which job runs next and why. The worker owns the mechanism; this owns the choice.
import type { QueuedHead } from "../store/jobs";

export interface QueueView {
  /** Oldest job whose not_before has passed. */
  oldestQueued(now: number): QueuedHead | null;
  /** Some eligible job at the highest priority present. */
  topPriorityQueued(now: number): QueuedHead | null;
  oldestQueuedAt(priority: number, now: number): QueuedHead | null;
  oldestQueuedFor(modelKey: string, priority: number, now: number): QueuedHead | null;
}

export type PickReason = "drain" | "priority" | "oldest" | "starvation";

export interface Pick { id: string; modelKey: string; reason: PickReason }

export interface PolicyInput {
  view: QueueView;
  residentKey: string | null;
  now: number;
  maxWaitMs: number;
}

/**
 * 1. Only the highest priority level present is considered.
 * 2. Within it, jobs for the resident model first (drain), then the oldest (one swap).
 * 3. But a job that has waited longer than maxWait goes first, even if it forces a swap (oldest first).
 */
export function pickNext({ view, residentKey, now, maxWaitMs }: PolicyInput): Pick | null {
  const oldest = view.oldestQueued(now);
  if (!oldest) return null;
  const usual = usualPick(view, residentKey, now, oldest);
  // "starvation" only when the bound overrides the usual choice (what the metric and logs count).
  if (now - oldest.created_at > maxWaitMs && usual.id !== oldest.id) {
    return { id: oldest.id, modelKey: oldest.model_key, reason: "starvation" };
  }
  return usual;
}

function usualPick(view: QueueView, residentKey: string | null, now: number, oldest: QueuedHead): Pick {
  const top = view.topPriorityQueued(now)!;
  if (residentKey !== null) {
    const drain = view.oldestQueuedFor(residentKey, top.priority, now);
    if (drain) return { id: drain.id, modelKey: drain.model_key, reason: "drain" };
  }
  const head = view.oldestQueuedAt(top.priority, now)!;
  const reason: PickReason = head.id === oldest.id ? "oldest" : "priority";
  return { id: head.id, modelKey: head.model_key, reason };
}

/**
 * An in-memory QueueView over a snapshot, for forecasting (and tests); `remove` takes a job out.
 * Each question reads the first job not yet removed from its own sorted lane, and a lane's cursor
 * only moves forward, so replaying a whole queue costs O(n log n), not O(n²).
 */
export function memoryView(jobs: QueuedHead[]): QueueView & { remove(id: string): void } {
  const byId = (a: QueuedHead, b: QueuedHead) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const removed = new Set<string>();
  const lane = (list: QueuedHead[]) => ({ list, i: 0 });
  type Lane = ReturnType<typeof lane>;
  const first = (l: Lane | undefined) => {
    if (!l) return null;
    while (l.i < l.list.length && removed.has(l.list[l.i].id)) l.i++;
    return l.list[l.i] ?? null;
  };
  const byAge = lane([...jobs].sort(byId));
  // Highest priority first, oldest first within one: the top is the first one not removed.
  const byPriority = lane([...jobs].sort((a, b) => b.priority - a.priority || byId(a, b)));
  const atPriority = new Map<number, Lane>();
  const forModel = new Map<string, Lane>();
  for (const j of byAge.list) {
    (atPriority.get(j.priority) ?? atPriority.set(j.priority, lane([])).get(j.priority)!).list.push(j);
    const k = `${j.priority}\0${j.model_key}`;
    (forModel.get(k) ?? forModel.set(k, lane([])).get(k)!).list.push(j);
  }
  return {
    oldestQueued: () => first(byAge),
    topPriorityQueued: () => first(byPriority),
    oldestQueuedAt: (p) => first(atPriority.get(p)),
    oldestQueuedFor: (k, p) => first(forModel.get(`${p}\0${k}`)),
    remove: (id) => void removed.add(id),
  };
}

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
 * 1. A job that has waited longer than maxWait goes first, even if it forces a swap (oldest first).
 * 2. Otherwise only the highest priority level present is considered.
 * 3. Within it, jobs for the resident model first (drain), then the oldest (one swap).
 */
export function pickNext({ view, residentKey, now, maxWaitMs }: PolicyInput): Pick | null {
  const oldest = view.oldestQueued(now);
  if (!oldest) return null;
  if (now - oldest.created_at > maxWaitMs) {
    const reason = oldest.model_key === residentKey ? "drain" : "starvation";
    return { id: oldest.id, modelKey: oldest.model_key, reason };
  }
  const top = view.topPriorityQueued(now)!;
  if (residentKey !== null) {
    const drain = view.oldestQueuedFor(residentKey, top.priority, now);
    if (drain) return { id: drain.id, modelKey: drain.model_key, reason: "drain" };
  }
  const head = view.oldestQueuedAt(top.priority, now)!;
  const reason: PickReason = head.id === oldest.id ? "oldest" : "priority";
  return { id: head.id, modelKey: head.model_key, reason };
}

/** An in-memory QueueView over a snapshot, for forecasting (and tests); `remove` takes a job out. */
export function memoryView(jobs: QueuedHead[]): QueueView & { remove(id: string): void } {
  const byId = (a: QueuedHead, b: QueuedHead) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const byAge = [...jobs].sort(byId);
  // Highest priority first, oldest first within one: the top is the first one not removed.
  const byPriority = [...jobs].sort((a, b) => b.priority - a.priority || byId(a, b));
  const removed = new Set<string>();
  const first = (pred: (j: QueuedHead) => boolean, list = byAge) => list.find((j) => !removed.has(j.id) && pred(j)) ?? null;
  return {
    oldestQueued: () => first(() => true),
    topPriorityQueued: () => first(() => true, byPriority),
    oldestQueuedAt: (p) => first((j) => j.priority === p),
    oldestQueuedFor: (k, p) => first((j) => j.model_key === k && j.priority === p),
    remove: (id) => void removed.add(id),
  };
}

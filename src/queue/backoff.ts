// Retry delay after a connection failure: 1 s doubling per attempt, capped at 30 s, ±20% jitter.
export function retryDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

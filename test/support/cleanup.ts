// What a test started is stopped after it, pass or fail. Foreman goes first, killed (a test's
// leftovers need no graceful exit), then whatever it talked to. Every stop() here is idempotent, so
// a process a test already stopped, or one left from an earlier test, is harmless.
import { afterEach } from "bun:test";

interface Stoppable { stop(signal?: number): Promise<unknown> }

export function stopAfterEach(started: () => (Stoppable | undefined)[]): void {
  afterEach(async () => {
    for (const s of started()) await s?.stop(9);
  });
}

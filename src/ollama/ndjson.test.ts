import { expect, test } from "bun:test";
import { ndjsonBatches } from "./ndjson";

function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } });
}

test("never splits a line, and decodes UTF-8 split across chunks", async () => {
  const bytes = new TextEncoder().encode('{"a":"héllo 👋"}\n\n{"b":2}\r\n{"c":3}');
  // Split inside the multi-byte characters and inside lines.
  const parts = [bytes.slice(0, 8), bytes.slice(8, 15), bytes.slice(15, 16), bytes.slice(16)];
  const lines: string[] = [];
  for await (const batch of ndjsonBatches(streamOf(parts))) lines.push(...batch);
  expect(lines).toEqual(['{"a":"héllo 👋"}', '{"b":2}', '{"c":3}']);
});

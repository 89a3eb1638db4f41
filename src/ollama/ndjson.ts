// Splits a byte stream into NDJSON lines, yielded as one batch per network chunk (a fast stream
// costs one await per chunk, not per line). Decoding is streaming, so a UTF-8 character split
// across network chunks is never corrupted, and a line is only yielded once it is complete.

export async function* ndjsonBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let partial = "";
  for await (const chunk of body) {
    const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
    partial = parts.pop()!;
    const lines = parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)).filter((l) => l.trim() !== "");
    if (lines.length) yield lines;
  }
  partial += decoder.decode();
  if (partial.trim() !== "") yield [partial.replace(/\r$/, "")];
}

// Reading request bodies under foreman's own size limit (Bun's built-in 413 has an empty body,
// which no Ollama client can show), and decoding JSON with Go-like error messages.

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body too large (limit ${limit} bytes)`);
  }
}

/** Reads the whole body as text, failing as soon as it passes `limit` bytes. */
export async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw new BodyTooLarge(limit);
  if (!request.body) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > limit) throw new BodyTooLarge(limit);
    parts.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

export type Decoded = { ok: true; value: unknown } | { ok: false; error: string };

/** JSON.parse with the messages Ollama's Go decoder gives for the common cases. */
export function decodeJSON(text: string): Decoded {
  if (text.trim() === "") return { ok: false, error: "missing request body" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const first = text.trim()[0];
    if (!/[{["\-0-9tfn]/.test(first)) return { ok: false, error: `invalid character '${first}' looking for beginning of value` };
    const msg = (err as Error).message;
    if (/end of (JSON )?input|unexpected EOF|Unterminated/i.test(msg)) return { ok: false, error: "unexpected EOF" };
    return { ok: false, error: `invalid JSON: ${msg}` };
  }
}

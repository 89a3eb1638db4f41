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

/** Go's encoding/json refuses nesting deeper than this; so do we (JSON.stringify would overflow). */
const MAX_DEPTH = 10_000;

function tooDeep(text: string): boolean {
  if (text.length < 2 * MAX_DEPTH) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_DEPTH) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/** JSON.parse with the messages Ollama's Go decoder gives for the common cases. */
export function decodeJSON(text: string): Decoded {
  if (text.trim() === "") return { ok: false, error: "missing request body" };
  if (tooDeep(text)) return { ok: false, error: "exceeded max depth" };
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

export class BadJSON extends Error {}

/** The body as JSON under the size limit; throws BodyTooLarge or BadJSON (for Elysia's `parse`). */
export async function readJSON(request: Request, limit: number): Promise<unknown> {
  const decoded = decodeJSON(await readBody(request, limit));
  if (!decoded.ok) throw new BadJSON(decoded.error.startsWith("invalid") ? decoded.error : `invalid JSON in request body: ${decoded.error}`);
  return decoded.value;
}

// Folds a stream of Ollama chunks into the response Ollama would have sent with stream:false:
// the final chunk's fields, with the text (and thinking, tool calls) accumulated in place.

type Obj = Record<string, unknown>;

export class ResponseAssembler {
  private content = "";
  private thinking = "";
  private readonly toolCalls: unknown[] = [];
  private final: Obj | null = null;

  constructor(private readonly endpoint: string) {}

  add(chunk: Obj): void {
    if (chunk.done) this.final = chunk;
    if (this.endpoint === "/api/chat") {
      const msg = (chunk.message ?? {}) as Obj;
      if (typeof msg.content === "string") this.content += msg.content;
      if (typeof msg.thinking === "string") this.thinking += msg.thinking;
      if (Array.isArray(msg.tool_calls)) this.toolCalls.push(...msg.tool_calls);
    } else {
      if (typeof chunk.response === "string") this.content += chunk.response;
      if (typeof chunk.thinking === "string") this.thinking += chunk.thinking;
    }
  }

  get done(): boolean {
    return this.final !== null;
  }

  /** The non-stream response; spreading the final chunk keeps Ollama's field order. */
  result(): Obj {
    const final = this.final ?? {};
    if (this.endpoint === "/api/chat") {
      const msg: Obj = { ...((final.message ?? { role: "assistant" }) as Obj), content: this.content };
      if (this.thinking) msg.thinking = this.thinking;
      if (this.toolCalls.length) msg.tool_calls = this.toolCalls;
      return { ...final, message: msg };
    }
    const out: Obj = { ...final, response: this.content };
    if (this.thinking) out.thinking = this.thinking;
    return out;
  }
}

/** JSON as Go's encoder writes it: <, > and & escaped, so bodies match Ollama byte for byte. */
export function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

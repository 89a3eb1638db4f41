// Terminal output: colour only on a TTY (and not with NO_COLOR), plain parseable text otherwise.
export const tty = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
export const dim = paint(2);
export const bold = paint(1);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);
const ANSI = /\x1b\[[0-9;]*m/g;

/** Writes to stderr, without colour when stderr is not a terminal even if stdout is one (`2>log`). */
export function toStderr(s: string): void {
  process.stderr.write(process.stderr.isTTY && !process.env.NO_COLOR ? s : s.replace(ANSI, ""));
}

export function stateColor(state: string): string {
  if (state === "done") return green(state);
  if (state === "failed" || state === "cancelled") return red(state);
  if (state === "working" || state === "loading") return cyan(state);
  return yellow(state);
}

export function ago(iso: string | null, now = Date.now()): string {
  return iso ? span(now - Date.parse(iso)) : "-";
}

export function span(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
}

/** Left-aligned columns; ANSI codes do not count toward widths. */
export function table(rows: string[][]): string {
  const visible = (s: string) => s.replace(ANSI, "").length;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visible(r[i] ?? ""))));
  return rows.map((r) => r.map((c, i) => c + " ".repeat(widths[i] - visible(c))).join("  ").trimEnd()).join("\n");
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A one-line status on stderr, redrawn in place on a TTY, printed once per change otherwise. */
export class Status {
  private timer: ReturnType<typeof setInterval> | null = null;
  private text = "";
  private frame = 0;
  private lastPrinted = "";

  set(text: string): void {
    this.text = text;
    if (!process.stderr.isTTY) {
      if (text !== this.lastPrinted) toStderr(`${text}\n`);
      this.lastPrinted = text;
      return;
    }
    this.timer ??= setInterval(() => this.draw(), 80);
    this.draw();
  }

  clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[2K");
  }

  private draw(): void {
    process.stderr.write(`\r\x1b[2K${cyan(FRAMES[this.frame++ % FRAMES.length])} ${this.text}`);
  }
}

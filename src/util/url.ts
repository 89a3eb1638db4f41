// URLs safe to show: in logs, /queue and the dashboard.

/** A URL without its password (an Ollama URL may carry basic-auth credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "redacted";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

// CORS as Ollama does it for browser clients (ollama-api.md §1): local origins and app schemes are
// allowed by default, more with FOREMAN_ORIGINS; a request from another origin gets 403, empty body.
// Same-origin requests (foreman's own pages, however the host is named) are always allowed.

const DEFAULT_ORIGINS = [
  /^https?:\/\/(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:\d+)?$/,
  /^(app|file|tauri|vscode-webview|vscode-file|chrome-extension|moz-extension|safari-web-extension):\/\//,
];

export const ALLOWED_HEADERS = [
  "Authorization", "Content-Type", "User-Agent", "Accept", "X-Requested-With", "OpenAI-Beta",
  "X-Stainless-Arch", "X-Stainless-Async", "X-Stainless-Custom-Poll-Interval", "X-Stainless-Helper-Method",
  "X-Stainless-Lang", "X-Stainless-OS", "X-Stainless-Package-Version", "X-Stainless-Poll-Helper",
  "X-Stainless-Retry-Count", "X-Stainless-Runtime", "X-Stainless-Runtime-Version", "X-Stainless-Timeout",
  "X-Foreman-Priority", "Idempotency-Key",
].join(", ");

export function originAllowed(origin: string, host: string | null, extra: string[]): boolean {
  if (host && (origin === `http://${host}` || origin === `https://${host}`)) return true;
  if (extra.includes("*") || extra.includes(origin)) return true;
  return DEFAULT_ORIGINS.some((re) => re.test(origin));
}

/** Headers to add to a response for an allowed cross-origin request. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "X-Foreman-Job-Id, X-Foreman-Version, X-Foreman-Queue-Wait, Retry-After, Location",
    vary: "Origin",
  };
}

export function preflight(origin: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(origin),
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "43200",
    },
  });
}

// Bearer-token check for every route but the public ones. The comparison is constant-time:
// both sides are hashed first so neither length nor content leaks through timing.
import { createHash, timingSafeEqual } from "node:crypto";
import { isDocsPath } from "./docs";
import { isUiPath } from "./ui";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token from `Authorization: Bearer <t>`, or "" when absent. */
export function bearer(request: Request): string {
  const h = request.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1].trim() : "";
}

/** Paths that never need the token: health checks and the static pages (not their API calls). */
export function isPublicPath(path: string, opts: { metricsPublic: boolean }): boolean {
  return path === "/healthz" || isUiPath(path) || isDocsPath(path) || (opts.metricsPublic && path === "/metrics");
}

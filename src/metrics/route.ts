// Route labels for HTTP metrics: ids and names collapsed to placeholders, unknown paths to one
// label, so a scanner cannot blow up the metric's cardinality. Only the routes foreman serves are
// labels of their own (a pattern such as /api/[a-z]+ would let /api/<anything> mint a new series).
const ROUTES = new Set([
  "/", "/events", "/queue", "/healthz", "/metrics", "/docs", "/docs/*", "/ui", "/ui/*",
  "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show", "/api/tags", "/api/ps", "/api/version",
  "/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs/:digest",
  "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/models/:model",
  "/jobs", "/jobs/:id", "/jobs/:id/events", "/jobs/:id/artifacts", "/jobs/:id/artifacts/:name", "/jobs/:id/deliveries",
]);

export function routeLabel(path: string): string {
  const p = path
    .replace(/^\/jobs\/[^/]+/, "/jobs/:id")
    .replace(/\/artifacts\/[^/]+$/, "/artifacts/:name")
    .replace(/^\/api\/blobs\/[^/]+$/, "/api/blobs/:digest")
    .replace(/^\/v1\/models\/.+$/, "/v1/models/:model")
    .replace(/^\/ui\/$/, "/ui")
    .replace(/^\/(docs|ui)\/.+$/, "/$1/*");
  return ROUTES.has(p) ? p : "other";
}

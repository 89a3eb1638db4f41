// Route labels for HTTP metrics: ids and names collapsed to placeholders, unknown paths to one
// label, so a scanner cannot blow up the metric's cardinality.
const KNOWN = /^\/(api\/[a-z]+|v1\/[a-z/]+|jobs|queue|healthz|metrics|docs|ui)?$/;

export function routeLabel(path: string): string {
  const p = path
    .replace(/^\/jobs\/[^/]+/, "/jobs/:id")
    .replace(/\/artifacts\/[^/]+$/, "/artifacts/:name")
    .replace(/^\/api\/blobs\/[^/]+$/, "/api/blobs/:digest")
    .replace(/^\/v1\/models\/.+$/, "/v1/models/:model")
    .replace(/^\/(docs|ui)\/.+$/, "/$1/*");
  if (KNOWN.test(p) || /^\/jobs\/:id(\/(events|artifacts|artifacts\/:name|deliveries))?$/.test(p)
    || /^\/(api\/blobs\/:digest|v1\/models\/:model|docs\/\*|ui\/\*)$/.test(p)) return p;
  return "other";
}

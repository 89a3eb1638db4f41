// Model-name normalisation as Ollama does it: case-insensitive, default tag ":latest", and the
// default "registry.ollama.ai/library/" prefix dropped. Used for lookups and grouping only; the
// caller's own string is what goes upstream.

export function normalizeModel(name: string): string {
  let n = name.trim().toLowerCase();
  n = n.replace(/^registry\.ollama\.ai\//, "").replace(/^library\//, "");
  const lastSlash = n.lastIndexOf("/");
  if (!n.slice(lastSlash + 1).includes(":")) n += ":latest";
  return n;
}

/** Options that make Ollama reload a resident model when they change (see ollama-api.md §10.2). */
const RUNNER_OPTIONS = ["num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread", "draft_num_predict"];

/**
 * The drain key: the model plus any runner options, so that jobs Ollama would have to reload
 * the model for never count as "the same model" while draining.
 */
export function drainKey(model: string, options: unknown): string {
  const base = normalizeModel(model);
  if (!options || typeof options !== "object") return base;
  const opts = options as Record<string, unknown>;
  const parts = RUNNER_OPTIONS.filter((k) => opts[k] !== undefined && !(k === "num_gpu" && opts[k] === -1))
    .map((k) => `${k}=${JSON.stringify(opts[k])}`);
  return parts.length ? `${base}|${parts.join(",")}` : base;
}

/** The model part of a drain key. */
export function keyModel(key: string): string {
  return key.split("|")[0];
}

// The client commands: submit, jobs, job, cancel, ps. Exit codes: 0 done/ok, 1 failed or
// cancelled (or an error), 2 usage.
import { parseArgs } from "node:util";
import { call, callJSON, CliError } from "./client";
import { ago, bold, dim, span, stateColor, Status, table, toStderr } from "./format";

const USAGE: Record<string, string> = {
  submit: `usage: foreman submit --model M [options] [prompt]   (prompt from stdin when omitted)
  --model, -m M        model to run (required)
  --system S           system prompt
  --generate           use /api/generate instead of /api/chat
  --webhook URL        signed webhook on every state change
  --priority N         -100..100, higher runs first
  --metadata k=v       repeatable; stored with the job and echoed in webhooks
  --wait, -w           follow the job: queue position, loading, streamed text, timing summary
  --json               machine-readable output`,
  jobs: `usage: foreman jobs [--state S[,S]] [--model M] [--limit N] [--watch] [--json]`,
  job: `usage: foreman job <id> [--json]`,
  cancel: `usage: foreman cancel <id>`,
  ps: `usage: foreman ps [--json]`,
};

type Options = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

function parse(cmd: string, args: string[], options: Options): { values: Record<string, any>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true });
    if (parsed.values.help) {
      console.log(USAGE[cmd]);
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE[cmd]}`, 2);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  return (await new Response(Bun.stdin.stream()).text()).trim();
}

export async function submit(args: string[]): Promise<number> {
  const { values: v, positionals } = parse("submit", args, {
    model: { type: "string", short: "m" }, system: { type: "string" }, generate: { type: "boolean" },
    webhook: { type: "string" }, priority: { type: "string" }, metadata: { type: "string", multiple: true },
    wait: { type: "boolean", short: "w" }, json: { type: "boolean" },
  });
  if (!v.model) throw new CliError(`--model is required\n${USAGE.submit}`, 2);
  const prompt = positionals.join(" ") || await readStdin();
  if (!prompt) throw new CliError(`no prompt: pass it as an argument or on stdin\n${USAGE.submit}`, 2);
  const metadata: Record<string, string> = {};
  for (const kv of (v.metadata as string[] | undefined) ?? []) {
    const i = kv.indexOf("=");
    if (i < 1) throw new CliError(`--metadata takes key=value, not ${JSON.stringify(kv)}`, 2);
    metadata[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (v.priority !== undefined && !(/^-?\d+$/.test(String(v.priority)) && Math.abs(Number(v.priority)) <= 100)) {
    throw new CliError(`--priority takes an integer from -100 to 100, not ${JSON.stringify(v.priority)}`, 2);
  }
  const request = v.generate
    ? { model: v.model, prompt, ...(v.system ? { system: v.system } : {}) }
    : { model: v.model, messages: [...(v.system ? [{ role: "system", content: v.system }] : []), { role: "user", content: prompt }] };
  const job = await callJSON("/jobs", {
    method: "POST",
    body: JSON.stringify({
      endpoint: v.generate ? "/api/generate" : "/api/chat", request,
      ...(v.webhook ? { webhook_url: v.webhook } : {}), ...(v.priority !== undefined ? { priority: Number(v.priority) } : {}),
      ...(Object.keys(metadata).length ? { metadata } : {}),
    }),
  });
  if (!v.wait) {
    console.log(v.json ? JSON.stringify(job) : job.id);
    return 0;
  }
  return follow(job.id, Boolean(v.json));
}

/** Follows a job over SSE until it ends, showing what it waits for. */
async function follow(id: string, json: boolean): Promise<number> {
  const status = new Status();
  const res = await call(`/jobs/${id}/events`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let final: any = null;
  let printed = false;
  let poll: ReturnType<typeof setInterval> | null = null;
  const showQueued = async () => {
    const j = await callJSON(`/jobs/${id}`).catch(() => null);
    if (j?.state === "queued") status.set(`queued ${dim(id)}: position ${j.position ?? "?"}${j.eta != null ? `, about ${span(j.eta * 1000)}` : ""}`);
  };
  const onState = async (job: any) => {
    final = job;
    if (job.state === "queued" || job.state === "loading") {
      if (printed) {
        // The attempt broke off and the job runs again from the start: the partial reply keeps its own line.
        process.stdout.write("\n");
        printed = false;
        status.set(`retrying: ${job.error ?? "requeued"}`);
      }
    }
    if (job.state === "queued") {
      await showQueued();
      poll ??= setInterval(showQueued, 1000);
    } else {
      if (poll) clearInterval(poll);
      poll = null;
    }
    if (job.state === "loading") status.set(`loading ${bold(job.model)}…`);
    if (job.state === "working" && !printed) status.set(`working on ${bold(job.model)}…`);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let sep: number;
    while ((sep = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const payload = JSON.parse(data);
      if (event === "state") await onState(payload);
      // The server replays the running attempt's chunks to a follower who joins mid-stream, so the
      // reply streams live from its first token.
      const text = event === "chunk" && !json ? payload.message?.content ?? payload.response : "";
      if (!text) continue; // a thinking model's chunks carry no content: the status line stays up meanwhile
      if (!printed) status.clear();
      printed = true;
      process.stdout.write(text);
    }
  }
  if (poll) clearInterval(poll);
  status.clear();
  if (json) {
    console.log(JSON.stringify(final));
  } else {
    const text = final.result?.message?.content ?? final.result?.response;
    if (!printed && text) process.stdout.write(text);
    if (printed || text) process.stdout.write("\n");
    const total = final.finished_at ? Date.parse(final.finished_at) - Date.parse(final.created_at) : null;
    const wait = final.started_at ? Date.parse(final.started_at) - Date.parse(final.created_at) : null;
    const tokens = final.result?.eval_count;
    const evalNs = final.result?.eval_duration;
    const rate = tokens && evalNs ? `, ${(tokens / (evalNs / 1e9)).toFixed(1)} tok/s` : "";
    toStderr(dim(`${final.state} in ${span(total)} (queued ${span(wait)}, load ${span(final.load_ms)}${tokens ? `, ${tokens} tokens` : ""}${rate})`) + "\n");
    // A done job keeps the error of an attempt that was retried: not an error any more.
    if (final.error && final.state !== "done") process.stderr.write(`error: ${final.error}\n`);
  }
  return final?.state === "done" ? 0 : 1;
}

export async function jobs(args: string[]): Promise<number> {
  const { values: v } = parse("jobs", args, {
    state: { type: "string" }, model: { type: "string" }, limit: { type: "string" }, watch: { type: "boolean" }, json: { type: "boolean" },
  });
  const q = new URLSearchParams();
  if (v.state) q.set("state", String(v.state));
  if (v.model) q.set("model", String(v.model));
  q.set("limit", String(v.limit ?? 20));
  const render = async () => {
    const { jobs } = await callJSON(`/jobs?${q}`);
    if (v.json) return JSON.stringify(jobs);
    const now = Date.now();
    const rows = [["ID", "STATE", "MODEL", "AGE", "WAIT", "DURATION"].map(bold)];
    for (const j of jobs) {
      const start = j.started_at ? Date.parse(j.started_at) : null;
      rows.push([j.id, stateColor(j.state), j.model, ago(j.created_at, now),
        span((start ?? now) - Date.parse(j.created_at)),
        start ? span((j.finished_at ? Date.parse(j.finished_at) : now) - start) : "-"]);
    }
    return table(rows);
  };
  if (!v.watch) {
    console.log(await render());
    return 0;
  }
  for (;;) {
    const out = await render();
    process.stdout.write((process.stdout.isTTY ? "\x1b[H\x1b[2J" : "") + out + "\n");
    await Bun.sleep(1000);
  }
}

export async function job(args: string[]): Promise<number> {
  const { values: v, positionals } = parse("job", args, { json: { type: "boolean" } });
  if (!positionals[0]) throw new CliError(USAGE.job, 2);
  const j = await callJSON(`/jobs/${encodeURIComponent(positionals[0])}`);
  if (v.json) {
    console.log(JSON.stringify(j, null, 2));
  } else {
    const lines = [
      `${bold(j.id)}  ${stateColor(j.state)}  ${j.model}  ${j.endpoint}  (${j.origin}, priority ${j.priority}, attempt ${j.attempt}/${j.max_attempts})`,
      `created ${j.created_at}  started ${j.started_at ?? "-"}  finished ${j.finished_at ?? "-"}`,
    ];
    if (j.position) lines.push(`position ${j.position}, eta ${span((j.eta ?? 0) * 1000)}`);
    if (j.error && j.state !== "done") lines.push(`error: ${j.error}`);
    const text = j.result?.message?.content ?? j.result?.response;
    if (text) lines.push("", text);
    console.log(lines.join("\n"));
  }
  return j.state === "failed" || j.state === "cancelled" ? 1 : 0;
}

export async function cancel(args: string[]): Promise<number> {
  const { positionals } = parse("cancel", args, {});
  if (!positionals[0]) throw new CliError(USAGE.cancel, 2);
  const res = await call(`/jobs/${encodeURIComponent(positionals[0])}`, { method: "DELETE" });
  const body = await res.json() as any;
  if (res.status === 409) throw new CliError(body.error);
  console.log(`${body.id} ${body.state}`);
  return 0;
}

export async function ps(args: string[]): Promise<number> {
  const { values: v } = parse("ps", args, { json: { type: "boolean" } });
  const q = await callJSON("/queue");
  if (v.json) {
    console.log(JSON.stringify(q));
    return 0;
  }
  const out = [`${bold("resident")}  ${q.resident.join(", ") || "-"}${q.target.degraded ? `  (target unreachable: ${q.target.error})` : ""}`];
  out.push(`${bold("running")}   ${q.running ? `${q.running.id} ${q.running.model} ${stateColor(q.running.state)} for ${ago(q.running.started_at)}` : "-"}`);
  out.push(`${bold("queued")}    ${q.queued.total}`);
  const rows = [["MODEL", "PRIORITY", "QUEUED", "LOAD"].map(bold)];
  for (const [model, byPrio] of Object.entries(q.queued.by_model as Record<string, Record<string, number>>)) {
    for (const [prio, n] of Object.entries(byPrio)) rows.push([model, prio, String(n), span(q.models[model]?.load_ms ?? null)]);
  }
  if (rows.length > 1) out.push("", table(rows));
  console.log(out.join("\n"));
  return 0;
}

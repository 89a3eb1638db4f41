// The command-line client as a user runs it: a real `foreman <command>` child process against a
// running foreman, asserting stdout, stderr and the exit code. Output is piped, so it must be plain.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { foremanCommand, startForeman, tempDir, until, type ForemanProc } from "./support/foreman";

let fake: FakeOllama;
let fm: ForemanProc;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenMs: 5, loadMs: 50 });
  fm = await startForeman({ ollamaUrl: fake.url });
});
afterAll(async () => {
  await fm?.stop();
  await fake?.stop();
});

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ANSI = /\x1b\[/;

interface RunOptions { stdin?: string; url?: string; env?: Record<string, string> }
interface Run { code: number; stdout: string; stderr: string }

/** Starts `foreman <args>`; `stderr()` is what it printed there so far. */
function spawnCli(args: string[], opts: RunOptions = {}) {
  const proc: Subprocess<any, "pipe", "pipe"> = Bun.spawn([...foremanCommand(), ...args], {
    env: { PATH: process.env.PATH ?? "", FOREMAN_URL: opts.url ?? fm.url, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Response(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  const errDone = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  const result = async (): Promise<Run> => {
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, errDone]);
    // Not a TTY: no colour, no spinner, no cursor movement.
    expect(stdout).not.toMatch(ANSI);
    expect(err).not.toMatch(ANSI);
    return { code, stdout, stderr: err };
  };
  return { proc, stderr: () => err, result };
}

const cli = (args: string[], opts: RunOptions = {}) => spawnCli(args, opts).result();
const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const getJob = async (id: string) => (await fm.fetch(`/jobs/${id}`)).json();
const waitState = (id: string, states: string[]) => until(async () => {
  const j = await getJob(id);
  return states.includes(j.state) ? j : null;
});
const apiSubmit = async (content: string, model = "llama3.2") => (await (await fm.fetch("/jobs", {
  method: "POST", body: JSON.stringify({ request: { model, messages: [{ role: "user", content }] } }),
})).json()).id as string;

/** Occupies the worker with a long job so that the next ones stay queued; returns its id. */
async function blocker(tokens = 400): Promise<string> {
  const id = await apiSubmit(`[[tokens=${tokens}]]`);
  await waitState(id, ["working"]);
  return id;
}

const cancelViaApi = async (id: string) => {
  await fm.fetch(`/jobs/${id}`, { method: "DELETE" });
  await waitState(id, ["cancelled", "done", "failed"]);
};

describe("submit", () => {
  test("prints just the job id; the job exists and runs", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "hi"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^[0-9A-Z]{26}\n$/);
    const id = r.stdout.trim();
    expect(id).toMatch(ULID);
    const job = await waitState(id, ["done"]);
    expect(job).toMatchObject({ id, endpoint: "/api/chat", model: "llama3.2", origin: "async", priority: 0 });
    expect(job.result.message.content).toBe("Echo: hi");
  });

  test("the prompt from stdin, with --system", async () => {
    const r = await cli(["submit", "--model", "llama3.2", "--system", "be brief"], { stdin: "from stdin\n" });
    expect(r.code).toBe(0);
    const job = await waitState(r.stdout.trim(), ["done"]);
    expect(job.result.message.content).toBe("Echo: from stdin");
    const sent = fake.requests.find((q) => q.path === "/api/chat" && q.body?.messages?.some((m: any) => m.content === "from stdin"));
    expect(sent!.body.messages).toEqual([{ role: "system", content: "be brief" }, { role: "user", content: "from stdin" }]);
  });

  test("several arguments are one prompt", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "two", "words"]);
    expect((await waitState(r.stdout.trim(), ["done"])).result.message.content).toBe("Echo: two words");
  });

  test("--generate runs /api/generate with the system prompt", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "--generate", "--system", "sys", "gen me"]);
    expect(r.code).toBe(0);
    const job = await waitState(r.stdout.trim(), ["done"]);
    expect(job.endpoint).toBe("/api/generate");
    expect(job.result.response).toBe("Echo: gen me");
    const sent = fake.requests.find((q) => q.path === "/api/generate" && q.body?.prompt === "gen me");
    expect(sent!.body.system).toBe("sys");
  });

  test("--priority, --metadata and --webhook are stored with the job", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "--priority", "5", "--metadata", "a=1", "--metadata", "b=2=3",
      "--webhook", "http://127.0.0.1:9/x", "meta"]);
    expect(r.code).toBe(0);
    const job = await getJob(r.stdout.trim());
    expect(job.priority).toBe(5);
    expect(job.metadata).toEqual({ a: "1", b: "2=3" });
    expect(job.webhook_url).toBe("http://127.0.0.1:9/x");
  });

  test("--priority -3 (a negative number is a value, not a flag)", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "--priority=-3", "low"]);
    expect(r.code).toBe(0);
    expect((await getJob(r.stdout.trim())).priority).toBe(-3);
  });

  test("--json prints the job JSON", async () => {
    const r = await cli(["submit", "-m", "llama3.2", "--json", "--metadata", "k=v", "as json"]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ state: "queued", model: "llama3.2", endpoint: "/api/chat", metadata: { k: "v" } });
    expect(job.id).toMatch(ULID);
    expect((await getJob(job.id)).id).toBe(job.id);
  });
});

describe("submit --wait", () => {
  test("streams the reply to stdout; loading and a summary on stderr", async () => {
    // A model not resident yet, so the job goes through loading.
    const r = await cli(["submit", "--wait", "-m", "qwen2.5:7b", "[[tokens=5]]"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(" tok1 tok2 tok3 tok4 tok5\n");
    const err = lines(r.stderr);
    expect(err.some((l) => l.startsWith("loading qwen2.5:7b"))).toBe(true);
    expect(err[err.length - 1]).toMatch(/^done in \S+ \(queued \S+, load \S+, 5 tokens, [\d.]+ tok\/s\)$/);
    expect(r.stderr).not.toContain("error");
  });

  test("the whole reply even when the job is quick (resident model)", async () => {
    for (const text of ["quick one", "quick two", "quick three"]) {
      const r = await cli(["submit", "-w", "-m", "llama3.2", text]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`Echo: ${text}\n`);
      expect(lines(r.stderr).pop()).toStartWith("done in ");
    }
  });

  test("a job done before the CLI follows it: the whole reply all the same", async () => {
    const instant = await startFakeOllama({ tokenMs: 0 });
    const f2 = await startForeman({ ollamaUrl: instant.url });
    try {
      await f2.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "warm up" }] } }) });
      for (let i = 0; i < 3; i++) {
        const r = await cli(["submit", "--wait", "-m", "llama3.2", `[[tokens=${3 + i}]]`], { url: f2.url });
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(`${[" tok1", " tok2", " tok3", " tok4", " tok5"].slice(0, 3 + i).join("")}\n`);
        expect(lines(r.stderr).pop()).toStartWith("done in ");
      }
    } finally {
      await f2.stop();
      await instant.stop();
    }
  });

  test("stdout on a terminal, stderr to a file: the file gets plain text", async () => {
    const errFile = join(tempDir(), "stderr.txt");
    let out = "";
    const dec = new TextDecoder();
    const proc = Bun.spawn(["sh", "-c", 'exec "$@" 2>"$ERR_FILE"', "sh", ...foremanCommand(), "submit", "--wait", "-m", "gemma3:4b", "[[tokens=3]]"], {
      env: { PATH: process.env.PATH ?? "", FOREMAN_URL: fm.url, ERR_FILE: errFile },
      terminal: { data: (_t, d) => { out += dec.decode(d, { stream: true }); } },
    });
    try {
      expect(await proc.exited).toBe(0);
      await until(() => out.includes(" tok1 tok2 tok3"), 2000);
    } finally {
      proc.terminal?.close();
    }
    const err = await Bun.file(errFile).text();
    expect(err).not.toMatch(ANSI);
    expect(err).toContain("loading gemma3:4b");
    expect(lines(err).pop()).toStartWith("done in ");
  });

  test("--generate --wait streams the response text", async () => {
    const r = await cli(["submit", "--wait", "--generate", "-m", "llama3.2", "gen wait"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Echo: gen wait\n");
  });

  test("behind a long job: the queue position on stderr, then the reply", async () => {
    const long = await blocker(120);
    const r = await cli(["submit", "--wait", "-m", "llama3.2", "after the long one"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Echo: after the long one\n");
    const queued = lines(r.stderr).find((l) => l.startsWith("queued "));
    expect(queued).toMatch(/^queued [0-9A-Z]{26}: position 1\b/);
    expect(lines(r.stderr).pop()).toStartWith("done in ");
    expect((await getJob(long)).state).toBe("done");
  });

  test("--wait --json prints the final job JSON only", async () => {
    const r = await cli(["submit", "--wait", "--json", "-m", "llama3.2", "json wait"]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const job = JSON.parse(r.stdout);
    expect(job.state).toBe("done");
    expect(job.result.message.content).toBe("Echo: json wait");
  });

  test("a failed job: exit 1, the summary and the error on stderr", async () => {
    fake.faults.failNext = { status: 500, error: "boom", count: 1 };
    try {
      const r = await cli(["submit", "--wait", "-m", "llama3.2", "will fail"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      const err = lines(r.stderr);
      expect(err).toContain("error: boom");
      expect(err.some((l) => l.startsWith("failed in "))).toBe(true);
    } finally {
      fake.faults.failNext = null;
    }
  });

  test("a connection lost mid-reply: the partial reply on its own line, then the retried one whole", async () => {
    fake.faults.dropAfterChunks = 3;
    try {
      // A model not resident, so the CLI follows the attempt from its start and streams it live.
      const run = spawnCli(["submit", "--wait", "-m", "qwen2.5:7b", "[[tokens=6]]"]);
      await until(() => run.stderr().includes("retrying: "));
      fake.faults.dropAfterChunks = null; // the retry waits about a second: plenty of time
      const r = await run.result();
      expect(r.code).toBe(0);
      const [partial, whole, ...rest] = r.stdout.split("\n");
      expect(rest).toEqual([""]);
      expect(whole).toBe(" tok1 tok2 tok3 tok4 tok5 tok6");
      expect(partial.length).toBeGreaterThan(0);
      expect(whole.startsWith(partial)).toBe(true);
      expect(r.stderr).toMatch(/^retrying: connection lost mid-stream/m);
      expect(lines(r.stderr).pop()).toStartWith("done in ");
      expect(r.stderr).not.toContain("error:");
      // A done job carries no error, even when an earlier attempt failed.
      const id = /^queued ([0-9A-Z]{26})/m.exec(r.stderr)![1];
      expect((await getJob(id)).error).toBeNull();
      const shown = await cli(["job", id]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toContain("error:");
      expect(lines(shown.stdout).pop()).toBe(" tok1 tok2 tok3 tok4 tok5 tok6");
    } finally {
      fake.faults.dropAfterChunks = null;
    }
  });

  test("a job cancelled through the API while the CLI waits: exit 1", async () => {
    const long = await blocker();
    try {
      const run = spawnCli(["submit", "--wait", "-m", "llama3.2", "cancel me"]);
      const id = await until(() => /^queued ([0-9A-Z]{26})/m.exec(run.stderr())?.[1]);
      expect((await (await fm.fetch(`/jobs/${id}`, { method: "DELETE" })).json()).state).toBe("cancelled");
      const r = await run.result();
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^cancelled in /m);
      expect(r.stderr).toContain("error: cancelled by request");
    } finally {
      await cancelViaApi(long);
    }
  });
});

describe("jobs", () => {
  let f2: ForemanProc;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    // Its own foreman, so the listing holds exactly these jobs.
    f2 = await startForeman({ ollamaUrl: fake.url });
    for (const [name, model] of [["a", "llama3.2"], ["b", "mistral"], ["c", "llama3.2"]]) {
      const r = await cli(["submit", "-m", model, `job ${name}`], { url: f2.url });
      ids[name] = r.stdout.trim();
    }
    await until(async () => (await (await f2.fetch("/jobs?state=done")).json()).jobs.length === 3);
    const long = await (await f2.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "[[tokens=400]]" }] } }) })).json();
    ids.cancelled = long.id;
    await until(async () => (await (await f2.fetch(`/jobs/${long.id}`)).json()).state === "working");
    await f2.fetch(`/jobs/${long.id}`, { method: "DELETE" });
  });
  afterAll(async () => {
    await f2?.stop();
  });

  test("a table: header, then one row per job, newest first", async () => {
    const r = await cli(["jobs"], { url: f2.url });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const [header, ...rows] = lines(r.stdout);
    expect(header.split(/\s+/)).toEqual(["ID", "STATE", "MODEL", "AGE", "WAIT", "DURATION"]);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual([ids.cancelled, ids.c, ids.b, ids.a]);
    const cols = rows.map((l) => l.split(/\s+/));
    expect(cols[1].slice(0, 3)).toEqual([ids.c, "done", "llama3.2"]);
    expect(cols[2].slice(0, 3)).toEqual([ids.b, "done", "mistral"]);
    expect(cols[1][3]).toMatch(/^\d+(ms|\.\ds)$/);
    // The columns line up: every cell starts where its header does.
    const at = ["STATE", "MODEL", "AGE"].map((h) => header.indexOf(h));
    for (const row of rows) for (const col of at) expect(row[col - 1]).toBe(" ");
  });

  test("--state done, --state with a list, --model, --limit", async () => {
    const ids1 = async (args: string[]) => lines((await cli(["jobs", ...args], { url: f2.url })).stdout).slice(1).map((l) => l.split(/\s+/)[0]);
    expect(await ids1(["--state", "done"])).toEqual([ids.c, ids.b, ids.a]);
    expect(await ids1(["--state", "cancelled,failed"])).toEqual([ids.cancelled]);
    expect(await ids1(["--model", "mistral"])).toEqual([ids.b]);
    expect(await ids1(["--limit", "2"])).toEqual([ids.cancelled, ids.c]);
  });

  test("no jobs: just the header", async () => {
    const r = await cli(["jobs", "--state", "working"], { url: f2.url });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(["ID  STATE  MODEL  AGE  WAIT  DURATION"]);
  });

  test("--watch reprints the table every second, without clearing the screen off a terminal", async () => {
    const run = spawnCli(["jobs", "--watch", "--limit", "1"], { url: f2.url });
    let out = "";
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of run.proc.stdout) out += dec.decode(chunk, { stream: true });
    })();
    try {
      await until(() => out.split("ID  ").length > 2, 3000);
    } finally {
      run.proc.kill();
      await reader;
    }
    expect(out).not.toMatch(ANSI);
    const [first, second] = out.split("\n").filter((l) => l.startsWith(ids.cancelled));
    expect(first.split(/\s+/)[1]).toBe("cancelled");
    expect(second.split(/\s+/)[1]).toBe("cancelled");
  });

  test("--json prints the jobs array", async () => {
    const r = await cli(["jobs", "--json", "--model", "llama3.2", "--state", "done"], { url: f2.url });
    expect(r.code).toBe(0);
    const jobs = JSON.parse(r.stdout);
    expect(jobs.map((j: any) => j.id)).toEqual([ids.c, ids.a]);
    expect(jobs[0]).toMatchObject({ state: "done", model: "llama3.2" });
  });

  test("a bad --state is the server's one-line error, exit 1", async () => {
    const r = await cli(["jobs", "--state", "bogus"], { url: f2.url });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toStartWith("foreman jobs: foreman answered 400: ");
  });
});

describe("job", () => {
  test("a done job: its state and result text", async () => {
    const id = (await cli(["submit", "-m", "llama3.2", "show me"])).stdout.trim();
    await waitState(id, ["done"]);
    const r = await cli(["job", id]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toStartWith(`${id}  done  llama3.2  /api/chat  (async, priority 0, attempt 1/`);
    expect(out[1]).toMatch(/^created \S+  started \S+  finished \S+$/);
    expect(out[out.length - 1]).toBe("Echo: show me");
  });

  test("--json; a lower-case id works too", async () => {
    const id = (await cli(["submit", "-m", "llama3.2", "json me"])).stdout.trim();
    await waitState(id, ["done"]);
    const r = await cli(["job", "--json", id.toLowerCase()]);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ id, state: "done" });
    expect(job.result.message.content).toBe("Echo: json me");
  });

  test("a failed job: exit 1 with its error", async () => {
    fake.faults.failNext = { status: 500, error: "boom", count: 1 };
    try {
      const id = (await cli(["submit", "-m", "llama3.2", "fail me"])).stdout.trim();
      await waitState(id, ["failed"]);
      const r = await cli(["job", id]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`${id}  failed  llama3.2`);
      expect(lines(r.stdout)).toContain("error: boom");
    } finally {
      fake.faults.failNext = null;
    }
  });

  test("a queued job shows its position", async () => {
    const long = await blocker();
    try {
      const id = (await cli(["submit", "-m", "llama3.2", "wait here"])).stdout.trim();
      const r = await cli(["job", id]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${id}  queued  llama3.2`);
      expect(lines(r.stdout)).toContainEqual(expect.stringMatching(/^position 1, eta /));
      await cancelViaApi(id);
    } finally {
      await cancelViaApi(long);
    }
  });

  test("submit of an unknown model: exit 1, the server's one-line error", async () => {
    const r = await cli(["submit", "-m", "nope", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toStartWith("foreman submit: foreman answered 404: model 'nope' not found");
  });

  test("an unknown id: exit 1, one line", async () => {
    const r = await cli(["job", "01ARZ3NDEKTSV4RRFFQ69G5FAV"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("foreman job: foreman answered 404: job 01ARZ3NDEKTSV4RRFFQ69G5FAV not found\n");
  });
});

describe("cancel and ps", () => {
  test("ps shows the running job and the queue; cancel a queued job, the running one, then a finished one", async () => {
    const long = await blocker();
    const queued = (await cli(["submit", "-m", "mistral", "--priority", "3", "queued"])).stdout.trim();
    try {
      const ps = await cli(["ps"]);
      expect(ps.code).toBe(0);
      const out = lines(ps.stdout);
      expect(out[0]).toMatch(/^resident  \S/);
      expect(out[0]).toContain("llama3.2");
      expect(out[1]).toMatch(new RegExp(`^running   ${long} llama3.2 working for \\S+$`));
      expect(out[2]).toBe("queued    1");
      expect(out[3].split(/\s+/)).toEqual(["MODEL", "PRIORITY", "QUEUED", "LOAD"]);
      expect(out[4].split(/\s+/).slice(0, 3)).toEqual(["mistral:latest", "3", "1"]);

      const psJson = await cli(["ps", "--json"]);
      expect(psJson.code).toBe(0);
      const q = JSON.parse(psJson.stdout);
      expect(q.running.id).toBe(long);
      expect(q.queued).toEqual({ total: 1, by_model: { "mistral:latest": { "3": 1 } } });

      const c1 = await cli(["cancel", queued]);
      expect(c1).toMatchObject({ code: 0, stdout: `${queued} cancelled\n`, stderr: "" });
      expect((await getJob(queued)).state).toBe("cancelled");

      const c2 = await cli(["cancel", long]);
      expect(c2).toMatchObject({ code: 0, stdout: `${long} cancelled\n`, stderr: "" });
    } finally {
      await cancelViaApi(long);
      await cancelViaApi(queued);
    }
    const c3 = await cli(["cancel", long]);
    expect(c3.code).toBe(1);
    expect(c3.stdout).toBe("");
    expect(c3.stderr).toBe(`foreman cancel: job ${long} already cancelled\n`);

    const idle = await cli(["ps"]);
    expect(lines(idle.stdout).slice(1)).toEqual(["running   -", "queued    0"]);
  });

  test("cancel of a done job: exit 1, one line", async () => {
    const id = (await cli(["submit", "-m", "llama3.2", "finish first"])).stdout.trim();
    await waitState(id, ["done"]);
    const r = await cli(["cancel", id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`foreman cancel: job ${id} already done\n`);
  });

  test("cancel of an unknown job: exit 1, one line", async () => {
    const r = await cli(["cancel", "01ARZ3NDEKTSV4RRFFQ69G5FAV"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(["foreman cancel: foreman answered 404: job 01ARZ3NDEKTSV4RRFFQ69G5FAV not found"]);
  });
});

describe("usage", () => {
  const usageErrors: [string, string[], RegExp, string?][] = [
    ["missing --model", ["submit", "hi"], /^foreman submit: --model is required\nusage: foreman submit/],
    ["no prompt, empty stdin", ["submit", "-m", "llama3.2"], /^foreman submit: no prompt: pass it as an argument or on stdin\n/, ""],
    ["no prompt, stdin is /dev/null", ["submit", "-m", "llama3.2"], /^foreman submit: no prompt/],
    ["blank prompt on stdin", ["submit", "-m", "llama3.2"], /^foreman submit: no prompt/, "  \n\n"],
    ["bad --metadata", ["submit", "-m", "llama3.2", "--metadata", "novalue", "hi"], /^foreman submit: --metadata takes key=value, not "novalue"\n$/],
    ["--metadata without a key", ["submit", "-m", "llama3.2", "--metadata", "=v", "hi"], /^foreman submit: --metadata takes key=value/],
    ["bad --priority", ["submit", "-m", "llama3.2", "--priority", "high", "hi"], /^foreman submit: --priority takes an integer/],
    ["--priority out of range", ["submit", "-m", "llama3.2", "--priority", "500", "hi"], /^foreman submit: --priority takes an integer from -100 to 100, not "500"\n$/],
    ["unknown flag", ["submit", "-m", "llama3.2", "--bogus", "hi"], /^foreman submit: Unknown option '--bogus'/],
    ["--model without a value", ["submit", "--model"], /^foreman submit: .*--model/],
    ["unknown flag on jobs", ["jobs", "--nope"], /^foreman jobs: Unknown option '--nope'.*\nusage: foreman jobs/s],
    ["job without an id", ["job"], /^foreman job: usage: foreman job <id>/],
    ["cancel without an id", ["cancel"], /^foreman cancel: usage: foreman cancel <id>/],
    ["unknown flag on ps", ["ps", "-x"], /^foreman ps: Unknown option '-x'/],
  ];
  for (const [name, args, stderr, stdin] of usageErrors) {
    test(`${name}: exit 2`, async () => {
      // Usage errors come before any request: no foreman needed.
      const r = await cli(args, { url: "http://127.0.0.1:9", stdin });
      expect(r.stderr).toMatch(stderr);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
    });
  }

  test("--help on each command: exit 0 with its usage", async () => {
    const runs = await Promise.all(["submit", "jobs", "job", "cancel", "ps"].map(async (cmd) => [cmd, await cli([cmd, "--help"])] as const));
    for (const [cmd, r] of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(`usage: foreman ${cmd}`);
      expect(r.stderr).toBe("");
    }
    expect(runs[0][1].stdout).toContain("--wait, -w");
    const short = await cli(["submit", "-h"]);
    expect(short.stdout).toStartWith("usage: foreman submit");
  });

  test("foreman help, --help, --version, version", async () => {
    const [help, dashHelp, version, dashVersion] = await Promise.all([
      cli(["help"]), cli(["--help"]), cli(["version"]), cli(["--version"])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith("foreman ");
    for (const cmd of ["submit", "jobs", "job <id>", "cancel <id>", "ps"]) expect(help.stdout).toContain(`foreman ${cmd}`);
    expect(dashHelp).toEqual(help);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^foreman \d+\.\d+\.\d+\S* \(\S+\)\n$/);
    expect(dashVersion).toEqual(version);
  });

  test("foreman with no command runs the daemon", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = Bun.spawn(foremanCommand(), {
      env: { PATH: process.env.PATH ?? "", FOREMAN_ADDR: `127.0.0.1:${port}`, FOREMAN_OLLAMA_URL: "http://127.0.0.1:9",
        FOREMAN_DB_PATH: join(tempDir(), "noarg.db") },
      stdout: "pipe", stderr: "pipe",
    });
    try {
      await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200, 10_000);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0); // a clean shutdown on SIGTERM
  });

  test("an unknown command: exit 2 with the usage on stderr", async () => {
    const r = await cli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith('foreman: unknown command "frobnicate"\n');
    expect(r.stderr).toContain("foreman submit");
  });
});

describe("connection and auth errors", () => {
  test("foreman not running: exit 1 and exactly one line", async () => {
    const runs = await Promise.all([["submit", "-m", "llama3.2", "hi"], ["jobs"], ["ps"], ["job", "01ARZ3NDEKTSV4RRFFQ69G5FAV"]]
      .map((args) => cli(args, { url: "http://127.0.0.1:9" })));
    const [submit, ...rest] = runs;
    expect(submit.code).toBe(1);
    expect(submit.stdout).toBe("");
    expect(submit.stderr).toBe("foreman submit: cannot reach foreman at http://127.0.0.1:9: connection refused\n");
    for (const r of rest) {
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain("cannot reach foreman at http://127.0.0.1:9: connection refused");
    }
  });

  test("a trailing slash on FOREMAN_URL is fine", async () => {
    const r = await cli(["ps", "--json"], { url: `${fm.url}/` });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).queued).toBeDefined();
  });

  describe("with FOREMAN_TOKEN on the server", () => {
    let secured: ForemanProc;
    beforeAll(async () => {
      secured = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: "s3cret" } });
    });
    afterAll(async () => {
      await secured?.stop();
    });

    test("missing in the CLI: exit 1, one line naming FOREMAN_TOKEN", async () => {
      for (const args of [["submit", "-m", "llama3.2", "hi"], ["jobs"]]) {
        const r = await cli(args, { url: secured.url });
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(lines(r.stderr)).toHaveLength(1);
        expect(r.stderr).toStartWith(`foreman ${args[0]}: foreman at ${secured.url} wants a token: set FOREMAN_TOKEN`);
      }
    });

    test("a wrong token: exit 1, one line", async () => {
      const r = await cli(["jobs"], { url: secured.url, env: { FOREMAN_TOKEN: "wrong" } });
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain("FOREMAN_TOKEN");
    });

    test("the right token: submit --wait works end to end", async () => {
      const r = await cli(["submit", "--wait", "-m", "llama3.2", "secured"], { url: secured.url, env: { FOREMAN_TOKEN: "s3cret" } });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("Echo: secured\n");
      const list = await cli(["jobs"], { url: secured.url, env: { FOREMAN_TOKEN: "s3cret" } });
      expect(list.code).toBe(0);
      expect(lines(list.stdout)).toHaveLength(2);
    });
  });
});

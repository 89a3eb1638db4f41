// The database under stress: a full disk answers callers with a clear 503 and recovers when space
// returns; an older schema migrates forward. The disk-full case needs root to mount a tiny tmpfs
// and is skipped, with a message, where that is not allowed.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../src/store/migrations";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, foremanCommand, startForeman, tempDir, type ForemanProc } from "./support/foreman";
import { startReceiver } from "./support/receiver";

let fake: FakeOllama | undefined;
let fm: ForemanProc | undefined;
let mountPoint: string | undefined;
afterEach(async () => {
  await fm?.stop(9);
  await fake?.stop();
  if (mountPoint) spawnSync("umount", [mountPoint]);
  fm = fake = mountPoint = undefined;
});

function tinyDisk(): string | null {
  const dir = join(tempDir("foreman-disk-"), "mnt");
  mkdirSync(dir);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]);
  return r.status === 0 ? dir : null;
}

const canMount = (() => {
  const d = tinyDisk();
  if (!d) return false;
  spawnSync("umount", [d]);
  return true;
})();
if (!canMount) console.warn("disk-full test skipped: cannot mount a tmpfs here (needs root)");

describe("storage", () => {
  test.skipIf(!canMount)("disk full: clear 503s, nothing corrupted, and recovery when space returns", async () => {
    mountPoint = tinyDisk()!;
    fake = await startFakeOllama();
    fm = await startForeman({ ollamaUrl: fake.url, dbPath: join(mountPoint, "foreman.db") });
    const chat = () => fm!.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "x".repeat(2000), { stream: false }) });
    expect((await chat()).status).toBe(200);
    // Fill the disk.
    const filler = join(mountPoint, "filler");
    spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k", "count=100"]);
    let full: Response | null = null;
    for (let i = 0; i < 200 && !full; i++) {
      const r = await chat();
      if (r.status !== 200) full = r;
    }
    expect(full?.status).toBe(503);
    expect((await full!.json()).error).toMatch(/storage unavailable/);
    expect((await fm.fetch("/healthz")).status).toBe(200); // still alive
    const submit = await fm.fetch("/jobs", { method: "POST", body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", "y".repeat(4000))) }) });
    expect([202, 503]).toContain(submit.status);
    // Space returns: the same requests work again.
    rmSync(filler);
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = (await chat()).status === 200;
      if (!ok) await Bun.sleep(100);
    }
    expect(ok).toBe(true);
    await fm.stop("SIGTERM");
    const db = new Database(join(mountPoint, "foreman.db"), { readonly: true });
    expect((db.query("PRAGMA integrity_check").get() as any).integrity_check).toBe("ok");
    db.close();
  }, 60_000);

  const canDropRoot = process.getuid?.() === 0 && spawnSync("runuser", ["-u", "nobody", "--", "true"]).status === 0;
  test.skipIf(!canDropRoot)("a read-only database file: one clear line naming the file, exit 1", async () => {
    const dir = tempDir("foreman-ro-");
    const dbPath = join(dir, "ro.db");
    new Database(dbPath).close();
    spawnSync("chmod", ["444", dbPath]);
    spawnSync("chmod", ["777", dir]);
    const proc = Bun.spawn(["runuser", "-u", "nobody", "--", "env", `FOREMAN_DB_PATH=${dbPath}`, "FOREMAN_ADDR=127.0.0.1:9", ...foremanCommand(), "serve"],
      { stdout: "pipe", stderr: "pipe" });
    expect(await proc.exited).toBe(1);
    const err = await new Response(proc.stderr).text();
    expect(err.trim().split("\n")).toEqual([`foreman: cannot open the database ${dbPath}: attempt to write a readonly database (check FOREMAN_DB_PATH and its permissions)`]);
  });

  test("a database from schema version 1 migrates forward and keeps its jobs", async () => {
    const dbPath = join(tempDir(), "old.db");
    const db = new Database(dbPath);
    db.exec(MIGRATIONS[0]);
    db.exec("PRAGMA user_version = 1");
    db.query(`INSERT INTO jobs (id, origin, endpoint, model, model_key, request, state, max_attempts, not_before, created_at, updated_at, result, finished_at)
      VALUES ('01ARZ3NDEKTSV4RRFFQ69G5FAV', 'async', '/api/chat', 'llama3.2', 'llama3.2:latest', '{}', 'done', 3, 0, 1, 1, '{"ok":true}', 1)`).run();
    db.close();
    fake = await startFakeOllama();
    fm = await startForeman({ ollamaUrl: fake.url, dbPath, env: { FOREMAN_JOB_TTL: "1000000h" } });
    const job = await (await fm.fetch("/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV")).json();
    expect(job.result).toEqual({ ok: true });
    const check = new Database(dbPath, { readonly: true });
    expect((check.query("PRAGMA user_version").get() as any).user_version).toBe(MIGRATIONS.length);
    check.close();
  });

  test("a database from a newer foreman is refused with a clear message", async () => {
    const dbPath = join(tempDir(), "new.db");
    const db = new Database(dbPath);
    db.exec("PRAGMA user_version = 99");
    db.close();
    await expect(startForeman({ ollamaUrl: "http://127.0.0.1:9", dbPath })).rejects.toThrow(/newer than this foreman/);
  });

  test("finished jobs past FOREMAN_JOB_TTL are pruned with their artifacts", async () => {
    fake = await startFakeOllama();
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_JOB_TTL: "1s" } });
    const res = await fm.fetch("/api/chat", { method: "POST", body: chatBody("llama3.2", "old", { stream: false }) });
    const id = res.headers.get("x-foreman-job-id")!;
    expect((await fm.fetch(`/jobs/${id}`)).status).toBe(200);
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      await Bun.sleep(100);
      gone = (await fm.fetch(`/jobs/${id}`)).status === 404;
    }
    expect(gone).toBe(true);
    const db = new Database(fm.dbPath, { readonly: true });
    expect((db.query("SELECT COUNT(*) AS n FROM artifacts WHERE job_id = ?").get(id) as any).n).toBe(0);
    db.close();
  });

  test("pruning drops delivered webhook events with their job, keeps undelivered ones until their retries are exhausted", async () => {
    fake = await startFakeOllama();
    const rx = await startReceiver();
    fm = await startForeman({ ollamaUrl: fake.url,
      env: { FOREMAN_JOB_TTL: "1s", FOREMAN_WEBHOOK_BACKOFF: "1500ms", FOREMAN_WEBHOOK_MAX_ATTEMPTS: "2" } });
    try {
      const submit = async (url: string) => (await (await fm!.fetch("/jobs", { method: "POST",
        body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", url)), webhook_url: url }) })).json()).id as string;
      const delivered = await submit(rx.url);
      const stuck = await submit("http://127.0.0.1:9/nobody-listens");
      const events = (id: string) => {
        const db = new Database(fm!.dbPath, { readonly: true });
        try {
          return db.query("SELECT status FROM webhook_events WHERE job_id = ?").all(id) as { status: string }[];
        } finally {
          db.close();
        }
      };
      for (let i = 0; i < 80 && (await fm.fetch(`/jobs/${stuck}`)).status !== 404; i++) await Bun.sleep(100);
      expect((await fm.fetch(`/jobs/${delivered}`)).status).toBe(404);
      expect(events(delivered)).toEqual([]);
      const left = events(stuck);
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((e) => e.status === "pending")).toBe(true);
      // Each event fails twice and is given up; the next prune drops what its job left behind.
      for (let i = 0; i < 150 && events(stuck).length > 0; i++) await Bun.sleep(100);
      expect(events(stuck)).toEqual([]);
      const givenUp = fm.logLines().filter((l) => l.msg === "webhook delivery failed for good" && l.job_id === stuck);
      expect(givenUp.length).toBeGreaterThanOrEqual(left.length); // tried and given up, not dropped unsent
      expect(givenUp.every((l) => l.attempt === 2)).toBe(true);
    } finally {
      await rx.stop();
    }
  });
});

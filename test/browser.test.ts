// The pages a person opens, in a real headless Chromium (Debian's, driven by playwright-core):
// Swagger UI at /docs renders the job API and "Try it out" creates a job; the dashboard at /ui
// loads without console errors, shows a job go from queued to done, and its cancel button works.
// Skipped, with a message, where /usr/bin/chromium is absent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startFakeOllama, type FakeOllama } from "./support/fake-ollama";
import { chatBody, startForeman, until, type ForemanProc } from "./support/foreman";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

let fake: FakeOllama;
let fm: ForemanProc;
let browser: Browser;
const TOKEN = "browser-token";

describe.skipIf(!available)("in a real browser", () => {
  beforeAll(async () => {
    fake = await startFakeOllama({ tokenMs: 60 });
    fm = await startForeman({ ollamaUrl: fake.url, env: { FOREMAN_TOKEN: TOKEN } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await fm?.stop();
    await fake?.stop();
  });

  async function open(path: string): Promise<{ page: Page; errors: string[]; external: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const external: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => { if (!r.url().startsWith(fm.url)) external.push(r.url()); });
    await page.goto(fm.url + path);
    return { page, errors, external };
  }

  test("Swagger UI renders the job API offline, and Try it out creates a job", async () => {
    const { page, external } = await open("/docs");
    await page.waitForSelector("text=/jobs", { timeout: 20_000 });
    expect(await page.locator(".opblock-tag").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining("jobs")]));
    // Authorize with the bearer token.
    await page.click("button.authorize");
    await page.fill(".modal-ux input[type=text], .modal-ux input", TOKEN);
    await page.click(".modal-ux button.authorize");
    await page.click(".modal-ux button.close-modal");
    // POST /jobs → Try it out → Execute.
    const op = page.locator(".opblock-post", { has: page.locator('.opblock-summary-path[data-path="/jobs"]') }).first();
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("textarea.body-param__text").fill(JSON.stringify({
      endpoint: "/api/chat", request: { model: "llama3.2", messages: [{ role: "user", content: "from swagger" }] } }));
    await op.locator("button.execute").click();
    await op.locator(".responses-table .response-col_status").first().waitFor();
    await until(async () => {
      const { jobs } = await (await fm.fetch("/jobs")).json();
      return jobs.some((j: any) => j.model === "llama3.2" && j.origin === "async");
    });
    expect(external).toEqual([]);
    await page.close();
  }, 60_000);

  test("the dashboard shows a job move from queued to done, and cancels one", async () => {
    const { page, errors, external } = await open("/ui");
    await page.fill("#token", TOKEN);
    await page.click("#save-token");
    await page.waitForSelector("#health .dot");
    // A running job and one queued behind it.
    const submit = async (content: string) => (await (await fm.fetch("/jobs", { method: "POST",
      body: JSON.stringify({ request: JSON.parse(chatBody("llama3.2", content)) }) })).json()).id as string;
    const first = await submit("[[tokens=30]]");
    const second = await submit("second");
    const row = (id: string) => ({
      textContent: () => page.locator(`tr[data-job="${id}"] td.state`).textContent({ timeout: 200 }).catch(() => null),
    });
    await until(async () => (await row(second).textContent()) === "queued", 10_000);
    await page.locator(`tr[data-job="${first}"]`).waitFor();
    await until(async () => (await row(second).textContent()) === "done", 20_000);
    // Cancel a long job from its button.
    const long = await submit("[[tokens=200]]");
    await page.locator(`#jobs button[data-cancel="${long}"]`).click();
    await until(async () => (await (await fm.fetch(`/jobs/${long}`)).json()).state === "cancelled");
    await until(async () => (await row(long).textContent()) === "cancelled", 10_000);
    // The README's screenshot: refreshed on demand, not by every test run.
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: resolve(import.meta.dir, "../docs/dashboard.png") });
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  }, 60_000);
});

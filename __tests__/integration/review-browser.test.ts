/**
 * The review page in a real headless browser: Debian's chromium (/usr/bin/chromium, installed by
 * scripts/setup.mjs; CHROMIUM_PATH overrides it) driven by playwright-core, offline (no background
 * networking, a fresh profile). The page of a crafted bundle (a stateful database replaced, a bucket
 * destroyed, secrets in several disguises) renders, shows the plan hash, puts the destructive changes
 * before the others, shows no secret, loads nothing but itself, and makes a screenshot.
 *
 * REVIEW_SCREENSHOT_OUT=<file.png> keeps a copy of the screenshot for a human to look at.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { renderReviewHtml } from "../../scripts/lib/review/html";
import { craftedManifest, craftedPageData, PLAN_SHA256, SECRETS } from "../unit/review-html.fixtures";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** The machine has no network: nothing in the browser may try to reach one. */
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

jest.setTimeout(90_000);

/** The one browser global used (the tests compile without the DOM library). */
interface BrowserWindow {
  getComputedStyle(element: unknown): { borderLeftWidth: string };
}

describe("the review page in headless chromium", () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let html: string;
  let url: string;
  const requests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no chromium at ${CHROMIUM}: run \`npm run setup\` (installs Debian's chromium as root) or set CHROMIUM_PATH to a Chromium binary`);
    }
    dir = mkdtempSync(join(tmpdir(), "review-browser-"));
    html = renderReviewHtml(craftedPageData());
    const file = join(dir, "review.html");
    writeFileSync(file, html);
    url = pathToFileURL(file).href;
    // A fresh profile (--user-data-dir): playwright passes it for a persistent context.
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: "load" });
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("renders: the title names the env and the bundle, the plan SHA-256 and the approve command are visible", async () => {
    expect(await page.title()).toBe(`Plan review: dev ${craftedManifest().id}`);
    const hash = page.locator("#plan-sha256");
    expect(await hash.isVisible()).toBe(true);
    expect(await hash.innerText()).toBe(PLAN_SHA256);
    const command = page.locator("#approve-command");
    expect(await command.isVisible()).toBe(true);
    expect(await command.innerText()).toBe(`npx promote approve dev ${craftedManifest().id} --sha256 ${PLAN_SHA256} --by <you>`);
  });

  it("puts the destructive section before the other changes, in the DOM and on screen, stateful changes highlighted", async () => {
    const order = await page.locator("main > section").evaluateAll((sections) => sections.map((s) => s.id));
    expect(order).toEqual(["approve", "counts", "destructive", "policy", "cost", "changes"]);
    const destructive = await page.locator("#destructive").boundingBox();
    const others = await page.locator("#changes").boundingBox();
    expect(destructive!.y).toBeLessThan(others!.y);
    const inDestructive = await page.locator("#destructive article").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
    expect(inDestructive).toEqual(["aws_db_instance.main", "aws_s3_bucket.old_logs"]);
    // The stylesheet applied (inline CSS is allowed by the page's CSP): stateful changes have the thick red border.
    const border = await page.locator(`#destructive article[data-address="aws_db_instance.main"]`).evaluate((e) => (globalThis as unknown as BrowserWindow).getComputedStyle(e).borderLeftWidth);
    expect(border).toBe("8px");
    expect(await page.locator("#destructive .stateful-badge").first().innerText()).toBe("STATEFUL: data is lost");
  });

  it("shows no secret value in the page's text or its HTML", async () => {
    const text = await page.locator("body").innerText();
    const dom = await page.content();
    for (const secret of Object.values(SECRETS)) {
      expect(text).not.toContain(secret);
      expect(dom).not.toContain(secret);
    }
    expect(text).toContain("(sensitive)");
  });

  it("runs no script and loads nothing but the page itself", async () => {
    expect(await page.locator("script").count()).toBe(0);
    expect(requests).toEqual([url]);
  });

  it("takes a full-page screenshot", async () => {
    const png = join(dir, "review.png");
    await page.screenshot({ path: png, fullPage: true });
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a"); // PNG signature
    expect(statSync(png).size).toBeGreaterThan(30_000);
    const height = bytes.readUInt32BE(20);
    expect(height).toBeGreaterThan(900); // the whole page, not one viewport
    if (process.env.REVIEW_SCREENSHOT_OUT) copyFileSync(png, process.env.REVIEW_SCREENSHOT_OUT);
  });
});

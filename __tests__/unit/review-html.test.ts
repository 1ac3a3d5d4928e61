/**
 * The review page renderer (scripts/lib/review/html.ts) as a pure function: escaping, order
 * (destructive first), redaction, the approve command, policy and cost sections, the summary.txt
 * fallback. The same page in a real browser: __tests__/integration/review-browser.test.ts.
 */
import type { CostDelta } from "../../scripts/lib/cost/estimate";
import { escapeHtml, renderReviewHtml } from "../../scripts/lib/review/html";
import { parsePolicyFile } from "../../scripts/lib/review/source";
import { craftedManifest, craftedPageData, HOSTILE, PLAN_SHA256, SECRETS } from "./review-html.fixtures";

const page = (overrides = {}) => renderReviewHtml(craftedPageData(overrides));

describe("escapeHtml", () => {
  it("escapes the five characters that matter in content and attributes", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("renderReviewHtml", () => {
  it("is one self-contained document: inline CSS, no script, no external reference, a CSP that forbids loads", () => {
    const html = page();
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*"/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
  });

  it("escapes every value: hostile text from the plan and the manifest is shown, never interpreted", () => {
    const html = page();
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(escapeHtml(HOSTILE)); // createdBy
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"); // inside the JSON of a diff line
    expect(html.match(/<script/gi)).toBeNull();
  });

  it("puts the destructive changes before the other changes, stateful ones first and highlighted", () => {
    const html = page();
    const destructive = html.indexOf(`<section id="destructive"`);
    const policy = html.indexOf(`<section id="policy"`);
    const cost = html.indexOf(`<section id="cost"`);
    const others = html.indexOf(`<section id="changes"`);
    expect(destructive).toBeGreaterThan(0);
    expect(destructive).toBeLessThan(policy);
    expect(policy).toBeLessThan(cost);
    expect(cost).toBeLessThan(others);
    const db = html.indexOf(`data-address="aws_db_instance.main"`);
    const bucket = html.indexOf(`data-address="aws_s3_bucket.old_logs"`);
    const lt = html.indexOf(`data-address="aws_launch_template.app"`);
    expect(db).toBeGreaterThan(destructive);
    expect(bucket).toBeGreaterThan(destructive);
    expect(db).toBeLessThan(others);
    expect(bucket).toBeLessThan(others);
    expect(lt).toBeGreaterThan(others);
    expect(html).toMatch(/<article class="change a-replace destructive stateful" data-address="aws_db_instance.main">/);
    expect(html).toContain("STATEFUL: data is lost");
    expect(html).toContain("# forces replacement: identifier");
    expect(html).toContain("Destructive changes (2)");
  });

  it("never contains a sensitive value, a generated secret, a secret-named attribute's value or a sensitive output", () => {
    const html = page();
    for (const secret of Object.values(SECRETS)) expect(html).not.toContain(secret);
    expect(html).toContain("(sensitive)");
    // A change of secret values only still shows up, without them.
    expect(html).toMatch(/data-address="aws_secretsmanager_secret_version.db">.*Only values that are not shown change/);
  });

  it("shows the plan SHA-256 and the exact approve command", () => {
    const html = page();
    expect(html).toContain(`<code id="plan-sha256" class="hash">${PLAN_SHA256}</code>`);
    expect(html).toContain(`npx promote approve dev 20301122T101500Z-abcdef0123-9f1e --sha256 ${PLAN_SHA256} --by &lt;you&gt;`);
  });

  it.each([
    ["expired", { status: { expired: true, approval: null, applied: null, requireApproval: true } }, "EXPIRED"],
    ["approved", { status: { expired: false, approval: "by bob at 2030-11-22T11:00:00Z", applied: null, requireApproval: true } }, "Approved by bob"],
    ["applied", { status: { expired: false, approval: "by bob", applied: "succeeded by carol at 2030", requireApproval: true } }, "Applied: succeeded by carol"],
    ["speculative", { manifest: craftedManifest({ speculative: true }) }, "speculative plan"],
  ])("offers no approve command for a bundle that is %s", (_name, overrides, notice) => {
    const html = page(overrides);
    expect(html).not.toContain(`id="approve-command"`);
    expect(html).toContain(notice);
  });

  it("shows the policy findings, the cost change and the budget", () => {
    const html = page();
    expect(html).toContain("POLICY-STATEFUL-DESTROY");
    expect(html).toContain("Policy passed"); // a warning blocks nothing
    // t3.small -> t3.medium for 2 instances, db.t3.small -> db.t3.medium, one bucket gone.
    expect(html).toMatch(/<p class="big">\$\d+\.\d\d &rarr; \$\d+\.\d\d per month <span class="up">\(\+\$\d+\.\d\d\)<\/span><\/p>/);
    expect(html).toContain("Within budget");
    expect(html).toContain("<code>aws_autoscaling_group.app</code>");
  });

  it("says when the bundle has no policy.json, or an unreadable one", () => {
    expect(page({ policy: { state: "absent" } })).toContain("No policy results in this bundle (no policy.json).");
    expect(page({ policy: parsePolicyFile("{not json") })).toContain("policy.json is unreadable: not JSON");
  });

  it("marks an error finding as blocking, and an over-budget estimate", () => {
    const data = craftedPageData();
    const findings = [{ id: "POLICY-OPEN-INGRESS", level: "error" as const, address: "aws_security_group.x", attribute: "ingress", expected: "no 0.0.0.0/0", found: "0.0.0.0/0" }];
    const html = renderReviewHtml({ ...data, policy: { state: "present", findings }, cost: { ...(data.cost as { delta: CostDelta }), budgetUsd: 10 } });
    expect(html).toContain("1 error(s) block approval");
    expect(html).toContain("OVER BUDGET");
    // `promote approve` would refuse (POLICY-BLOCKED): the page offers no command, it says why.
    expect(html).not.toContain(`id="approve-command"`);
    expect(html).toContain("1 error finding(s) block approval and apply (POLICY-BLOCKED)");
    const waived = renderReviewHtml({ ...data, policy: { state: "present", findings: [{ ...findings[0], waived: { reason: "accepted in #12 until the next release" } }] } });
    expect(waived).toContain(`id="approve-command"`);
    expect(waived).toContain("accepted in #12 until the next release");
  });

  it("falls back to the manifest's destructive list and summary.txt (escaped) when the plan JSON is unavailable", () => {
    const html = page({ summary: null, planUnavailable: "stack not initialized", summaryText: `Plan: 1 to add\n${HOSTILE}`, cost: { unavailable: "stack not initialized" } });
    expect(html).toContain(`data-address="aws_db_instance.main"`);
    expect(html).toContain("Attribute changes unavailable (stack not initialized)");
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain("Cost change not estimated: stack not initialized");
    expect(html.indexOf(`<section id="destructive"`)).toBeLessThan(html.indexOf(`<section id="changes"`));
  });

  it("is deterministic: the same data gives the same bytes", () => {
    expect(page()).toBe(page());
  });
});

describe("parsePolicyFile", () => {
  const finding = { id: "POLICY-X", level: "warning", address: "a.b", attribute: "c", expected: "e", found: "f", info: "i", fix: "x" };
  it("reads the engine's { findings } file and a bare list", () => {
    expect(parsePolicyFile(JSON.stringify({ schemaVersion: 1, env: "dev", exceptionsFile: null, findings: [finding] }))).toEqual({ state: "present", findings: [finding] });
    expect(parsePolicyFile(JSON.stringify([finding]))).toEqual({ state: "present", findings: [finding] });
  });
  it("reports absent and malformed files", () => {
    expect(parsePolicyFile(null)).toEqual({ state: "absent" });
    expect(parsePolicyFile(JSON.stringify({ findings: [{ id: "X" }] }))).toMatchObject({ state: "unreadable" });
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APPLY_CHECKS, APPROVE_CHECKS, PLAN_CHECKS, REVIEW_CHECKS } from "../../scripts/lib/engine/core/decisions";
import { RULE_IDS, RULES } from "../../scripts/lib/engine/core/rules";
import { STORE_RULES } from "../../scripts/lib/store/errors";

describe("refusal ids", () => {
  it("are exactly this list (renaming or dropping an id is a breaking change)", () => {
    expect(RULE_IDS).toEqual([
      "BUNDLE-NOT-FOUND",
      "BUNDLE-MANIFEST-INVALID",
      "SUMMARY-HASH-MISMATCH",
      "POLICY-HASH-MISMATCH",
      "BUNDLE-ENV-MISMATCH",
      "PLAN-FILE-MISSING",
      "PLAN-HASH-MISMATCH",
      "BUNDLE-ALREADY-APPLIED",
      "BUNDLE-EXPIRED",
      "BUNDLE-SPECULATIVE",
      "BUNDLE-BACKEND-MISMATCH",
      "BUNDLE-ACCOUNT-MISMATCH",
      "CHECKOUT-COMMIT-MISMATCH",
      "SYNTH-DIGEST-MISMATCH",
      "LOCK-FILE-MISMATCH",
      "APPROVAL-MISSING",
      "APPROVAL-INVALID",
      "APPROVAL-EXISTS",
      "APPROVAL-HASH-MISMATCH",
      "MANIFEST-HASH-MISMATCH",
      "FOUR-EYES",
      "POLICY-BLOCKED",
      "AUTO-APPLY-NOT-ALLOWED",
      "PROMOTION-GATE",
      "WORKTREE-DIRTY",
      "ROLLBACK-TARGET-UNKNOWN",
      "PLAN-STALE",
      "STATE-LOCKED",
      "ENV-LOCKED",
      "AUDIT-LOG-BROKEN",
      "EPHEMERAL-EXISTS",
      "TERRAFORM-VERSION-MISMATCH",
      "IDENTITY-INVALID",
      "INPUT-INVALID",
      "APPLY-UNFINISHED",
      "APPLY-INCIDENT",
      "APPLY-NOT-RECORDED",
      "BUNDLE-DIRTY",
      "TERRAFORM-TIMEOUT",
      "TERRAFORM-INTERRUPTED",
      "ENDPOINT-UNREACHABLE",
      "GIT-TIMEOUT",
      "SYNTH-TIMEOUT",
      "BUNDLE-INCOMPLETE",
      "BUNDLE-EXISTS",
      "STORE-ACCOUNT-MISMATCH",
      "STORE-KEY-MISMATCH",
      "EPHEMERAL-CIDR-TAKEN",
      "LEASE-NOT-HELD",
      "LEASE-CHANGED",
      "APPROVAL-UNSIGNED",
      "APPROVAL-SIGNATURE-INVALID",
      "APPROVER-NOT-ALLOWED",
      "APPROVALS-TOO-FEW",
      "APPROVAL-EXPIRED",
      "APPROVAL-STATEMENT-MISMATCH",
      "APPROVERS-CHANGED",
      "APPROVAL-IDENTITY-INVALID",
    ]);
  });

  it("include every refusal of the shared store (scripts/lib/store STORE_RULES), so RULES.md lists them", () => {
    expect(STORE_RULES.map((r) => r.id).filter((id) => !(RULE_IDS as readonly string[]).includes(id))).toEqual([]);
  });

  it("are unique, UPPER-KEBAB, and each has a cause, a reason and a fix", () => {
    expect(new Set(RULE_IDS).size).toBe(RULE_IDS.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[A-Z]+(-[A-Z]+)*$/);
      expect(r.info.length).toBeGreaterThan(10);
      expect(r.explanation.length).toBeGreaterThan(10);
      expect(r.fix.length).toBeGreaterThan(5);
    }
  });

  it("RULES.md has one row per id, in the same order", () => {
    const md = readFileSync(join(__dirname, "../../scripts/lib/engine/RULES.md"), "utf8");
    const rows = [...md.matchAll(/^\| `([A-Z-]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(RULE_IDS);
  });

  it("every check of every decision is a documented rule carrying the rule's text", () => {
    for (const check of [...APPLY_CHECKS, ...APPROVE_CHECKS, ...REVIEW_CHECKS, ...PLAN_CHECKS]) {
      const rule = RULES.find((r) => r.id === check.id);
      expect(rule).toBeDefined();
      expect(check.info).toBe(rule?.info);
      expect(check.explanation).toBe(rule?.explanation);
    }
  });
});

/**
 * Policies wired into the engine (policy.json bound by the manifest, POLICY-BLOCKED at approve and apply),
 * speculative bundles (BUNDLE-SPECULATIVE) and the two explicit rollback rules (CHECKOUT-COMMIT-MISMATCH
 * against the synth stamp, PROMOTION-GATE open for a commit in the env's own ledger). Pure decisions over
 * crafted facts and crafted `terraform show -json` documents; no terraform.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getEnvironment } from "../../envs";
import { policyOf } from "../../scripts/lib/engine/commands";
import { decideApply, decideApprove, decidePlan, decideReview } from "../../scripts/lib/engine/core/decisions";
import { sha256 } from "../../scripts/lib/engine/core/hash";
import { blocksApproval } from "../../scripts/lib/policy";
import {
  applyFacts,
  approval,
  approveFacts,
  COMMIT,
  envFacts,
  LOCK_SHA,
  manifest,
  manifestText,
  OTHER_COMMIT,
  planFacts,
  policyText,
  SYNTH_SHA,
  tempDir,
  refusedWith,
} from "../helpers/engine-fixtures";


const ERROR_FINDING = {
  id: "POLICY-STATEFUL-DESTROY",
  level: "error",
  address: "aws_db_instance.main",
  attribute: "engine",
  expected: "no destroy",
  found: "replace",
  info: "i",
  fix: "f",
};

/** A bundle (manifest, policy.json, approval) whose recorded findings are `findings`. */
function withFindings(findings: unknown[], overrides: Parameters<typeof manifest>[0] = {}) {
  const pText = policyText("prod", findings);
  const errors = findings.filter((f) => (f as { level: string; waived?: unknown }).level === "error" && !(f as { waived?: unknown }).waived).length;
  const mText = manifestText(manifest({ policy: { file: "policy.json", sha256: sha256(pText), errors, warnings: 0, waived: 0 }, ...overrides }));
  return { pText, mText, approvalText: JSON.stringify(approval(mText)) };
}

/** A `terraform show -json` document replacing a prod database (a stateful destroy). */
const replaceDbPlan = {
  format_version: "1.2",
  resource_changes: [
    {
      address: "aws_db_instance.main",
      mode: "managed",
      type: "aws_db_instance",
      name: "main",
      change: {
        actions: ["delete", "create"],
        before: { identifier: "app", storage_encrypted: true, deletion_protection: true, tags_all: { environment: "prod" } },
        after: { identifier: "app2", storage_encrypted: true, deletion_protection: true, tags_all: { environment: "prod" } },
        after_unknown: {},
        replace_paths: [["identifier"]],
      },
    },
  ],
};

describe("policy in the engine", () => {
  describe("policyOf: evaluates the plan JSON with the checkout's exceptions", () => {
    it("records an error finding for a replaced prod database, which blocks approval", () => {
      const { dir, cleanup } = tempDir();
      try {
        const p = policyOf(replaceDbPlan, getEnvironment("prod"), dir);
        expect(p).toMatchObject({ schemaVersion: 1, env: "prod", exceptionsFile: null });
        expect(p.findings.map((f) => f.id)).toContain("POLICY-STATEFUL-DESTROY");
        expect(blocksApproval(p.findings)).toBe(true);
      } finally {
        cleanup();
      }
    });
    it("applies an exception from policy-exceptions.json (waived: it blocks nothing)", () => {
      const { dir, cleanup } = tempDir();
      try {
        writeFileSync(
          join(dir, "policy-exceptions.json"),
          JSON.stringify({ exceptions: [{ rule: "POLICY-STATEFUL-DESTROY", address: "aws_db_instance.main", reason: "the database is rebuilt from a snapshot in #42", env: "prod" }] }),
        );
        const p = policyOf(replaceDbPlan, getEnvironment("prod"), dir);
        expect(p.exceptionsFile).toBe("policy-exceptions.json");
        const f = p.findings.find((x) => x.id === "POLICY-STATEFUL-DESTROY");
        expect(f?.waived?.reason).toContain("snapshot");
        expect(blocksApproval(p.findings)).toBe(false);
      } finally {
        cleanup();
      }
    });
    it("is a warning only where the env does not protect stateful resources (dev)", () => {
      const { dir, cleanup } = tempDir();
      try {
        const plan = JSON.parse(JSON.stringify(replaceDbPlan).replace(/"prod"/g, '"dev"'));
        const p = policyOf(plan, getEnvironment("dev"), dir);
        expect(p.findings.find((x) => x.id === "POLICY-STATEFUL-DESTROY")?.level).toBe("warning");
      } finally {
        cleanup();
      }
    });
    it("fails closed on a document that is not a plan", () => {
      const { dir, cleanup } = tempDir();
      try {
        const p = policyOf({ nope: true }, getEnvironment("dev"), dir);
        expect(p.findings.map((f) => f.id)).toEqual(["POLICY-PLAN-UNREADABLE"]);
        expect(blocksApproval(p.findings)).toBe(true);
      } finally {
        cleanup();
      }
    });
  });

  describe("POLICY-BLOCKED: an unwaived error finding refuses approve and apply", () => {
    it("refuses approve", () => {
      const b = withFindings([ERROR_FINDING]);
      const d = decideApprove(approveFacts({ manifestText: b.mText, policyText: b.pText }));
      refusedWith(d, "POLICY-BLOCKED");
      expect(d.ok === false && d.found).toContain("POLICY-STATEFUL-DESTROY on aws_db_instance.main");
    });
    it("refuses apply of an approved bundle (the recorded findings are re-checked)", () =>
      refusedWith(decideApply(applyFacts({ manifestText: withFindings([ERROR_FINDING]).mText, policyText: withFindings([ERROR_FINDING]).pText })), "POLICY-BLOCKED"));
    it("refuses an apply --auto bundle in an env without approvals", () => {
      const b = withFindings([ERROR_FINDING]);
      const env = envFacts({ delivery: { promotesFrom: null, requireApproval: false, fourEyes: false, autoApply: true } });
      refusedWith(decideApply(applyFacts({ env, manifestText: b.mText, policyText: b.pText, approvalText: null })), "POLICY-BLOCKED");
    });
    it("refuses an unreadable policy.json whose hash the manifest records (fail closed)", () => {
      const bad = "not json";
      const mText = manifestText(manifest({ policy: { file: "policy.json", sha256: sha256(bad), errors: 0, warnings: 0, waived: 0 } }));
      refusedWith(decideApply(applyFacts({ manifestText: mText, policyText: bad })), "POLICY-BLOCKED");
    });
    it("accepts warnings and waived errors", () => {
      const b = withFindings([{ ...ERROR_FINDING, waived: { reason: "reviewed in #42, rebuilt from snapshot" } }, { ...ERROR_FINDING, id: "POLICY-EXCEPTION-UNUSED", level: "warning" }]);
      expect(decideApprove(approveFacts({ manifestText: b.mText, policyText: b.pText }))).toEqual({ ok: true });
      expect(decideApply(applyFacts({ manifestText: b.mText, policyText: b.pText, approvalText: b.approvalText }))).toEqual({ ok: true });
    });
    it("refuses findings recorded for another env", () => {
      const pText = policyText("staging", []);
      const mText = manifestText(manifest({ policy: { file: "policy.json", sha256: sha256(pText), errors: 0, warnings: 0, waived: 0 } }));
      refusedWith(decideApply(applyFacts({ manifestText: mText, policyText: pText })), "POLICY-BLOCKED");
    });
  });

  describe("POLICY-HASH-MISMATCH: policy.json is the file the manifest records", () => {
    it("refuses an edited policy.json at apply, approve and review", () => {
      const edited = policyText("prod", []).replace("[]", "[ ]");
      refusedWith(decideApply(applyFacts({ policyText: edited })), "POLICY-HASH-MISMATCH");
      refusedWith(decideApprove(approveFacts({ policyText: edited })), "POLICY-HASH-MISMATCH");
      refusedWith(decideReview({ ...approveFacts(), policyText: edited }), "POLICY-HASH-MISMATCH");
    });
    it("refuses a removed policy.json (an error finding cannot be hidden by deleting the file)", () =>
      refusedWith(decideApply(applyFacts({ policyText: null })), "POLICY-HASH-MISMATCH"));
  });
});

describe("BUNDLE-SPECULATIVE: a speculative plan is never approved or applied", () => {
  const spec = manifestText(manifest({ speculative: true }));
  it("refuses approve", () => refusedWith(decideApprove(approveFacts({ manifestText: spec })), "BUNDLE-SPECULATIVE"));
  it("refuses apply, even with an approval written by hand", () =>
    refusedWith(decideApply(applyFacts({ manifestText: spec, approvalText: JSON.stringify(approval(spec)) })), "BUNDLE-SPECULATIVE"));
  it("can be reviewed (read)", () => expect(decideReview({ ...approveFacts(), manifestText: spec })).toEqual({ ok: true }));
  it("plans skip the promotion gate and the clean-tree check", () => {
    const facts = planFacts({ checkout: { commit: OTHER_COMMIT, dirtyPaths: ["envs/prod.ts"] }, previousEnvApplies: [] });
    refusedWith(decidePlan(facts), "PROMOTION-GATE");
    expect(decidePlan({ ...facts, kind: "speculative" })).toEqual({ ok: true });
  });
});

describe("rollback rules", () => {
  const staging = (commit: string) => [{ env: "staging", tag: "deployed/staging/20300101T100000Z", commit, at: "2030-01-01T10:00:00Z" }];
  const own = (commit: string) => [{ env: "prod", tag: "deployed/prod/20291201T100000Z", commit, at: "2029-12-01T10:00:00Z" }];
  const rb = (toCommit = OTHER_COMMIT, commit = OTHER_COMMIT) =>
    manifestText(manifest({ git: { commit, dirty: false }, rollback: { toTag: "deployed/prod/20291201T100000Z", toCommit, fromCommit: COMMIT } }));
  const rbFacts = (mText: string, synthCommit: string | null, ownApplies = own(OTHER_COMMIT), previous = staging(COMMIT)) =>
    applyFacts({
      manifestText: mText,
      approvalText: JSON.stringify(approval(mText)),
      checkout: { commit: COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit },
      ownApplies,
      previousEnvApplies: previous,
    });

  describe("CHECKOUT-COMMIT-MISMATCH: a rollback bundle is checked against the commit its working directory was synthesized from", () => {
    it("accepts a rollback bundle while the checkout is at another commit, when the synth stamp is the rollback commit", () =>
      expect(decideApply(rbFacts(rb(), OTHER_COMMIT))).toEqual({ ok: true }));
    it("refuses when the working directory was re-synthesized from another commit since", () => {
      const d = decideApply(rbFacts(rb(), COMMIT));
      refusedWith(d, "CHECKOUT-COMMIT-MISMATCH");
      expect(d.ok === false && d.fix).toContain("promote rollback prod --to deployed/prod/20291201T100000Z");
    });
    it("refuses an unknown synth stamp", () => refusedWith(decideApply(rbFacts(rb(), null)), "CHECKOUT-COMMIT-MISMATCH"));
    it("refuses a rollback whose recorded commit is not the bundle's commit", () =>
      refusedWith(decideApply(rbFacts(rb(OTHER_COMMIT, COMMIT), OTHER_COMMIT)), "CHECKOUT-COMMIT-MISMATCH"));
    it("still compares the checkout for a normal bundle (the synth stamp does not replace it)", () =>
      refusedWith(decideApply(applyFacts({ checkout: { commit: OTHER_COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit: COMMIT } })), "CHECKOUT-COMMIT-MISMATCH"));
  });

  describe("PROMOTION-GATE: a rollback to a commit this env applied before does not need the previous env", () => {
    it("plan: accepts a commit in the env's own ledger that staging does not have", () =>
      expect(decidePlan(planFacts({ checkout: { commit: OTHER_COMMIT, dirtyPaths: [] }, previousEnvApplies: staging(COMMIT), ownApplies: own(OTHER_COMMIT), kind: "rollback" }))).toEqual({ ok: true }));
    it("plan: refuses a rollback to a commit neither this env nor the previous one applied", () =>
      refusedWith(decidePlan(planFacts({ checkout: { commit: OTHER_COMMIT, dirtyPaths: [] }, previousEnvApplies: staging(COMMIT), ownApplies: own(COMMIT), kind: "rollback" })), "PROMOTION-GATE"));
    it("plan: own ledger entries do not open the gate of a normal plan", () =>
      refusedWith(decidePlan(planFacts({ checkout: { commit: OTHER_COMMIT, dirtyPaths: [] }, previousEnvApplies: staging(COMMIT), ownApplies: own(OTHER_COMMIT) })), "PROMOTION-GATE"));
    it("apply: accepts the rollback bundle", () => expect(decideApply(rbFacts(rb(), OTHER_COMMIT, own(OTHER_COMMIT), staging(COMMIT)))).toEqual({ ok: true }));
    it("apply: refuses it when the commit is in no ledger", () =>
      refusedWith(decideApply(rbFacts(rb(), OTHER_COMMIT, own(COMMIT), staging(COMMIT))), "PROMOTION-GATE"));
    it("apply: a normal bundle of a commit only in the env's own ledger is still gated", () => {
      const mText = manifestText(manifest({ git: { commit: OTHER_COMMIT, dirty: false } }));
      refusedWith(
        decideApply(applyFacts({ manifestText: mText, approvalText: JSON.stringify(approval(mText)), checkout: { commit: OTHER_COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit: OTHER_COMMIT }, ownApplies: own(OTHER_COMMIT), previousEnvApplies: staging(COMMIT) })),
        "PROMOTION-GATE",
      );
    });
    it("apply: approval and four eyes still apply to a rollback", () => {
      refusedWith(decideApply({ ...rbFacts(rb(), OTHER_COMMIT), approvalText: null }), "APPROVAL-MISSING");
      const mText = rb();
      refusedWith(decideApply({ ...rbFacts(mText, OTHER_COMMIT), approvalText: JSON.stringify(approval(mText, { approvedBy: "alice" })) }), "FOUR-EYES");
    });
  });
});

describe("promote policy (CLI)", () => {
  it("prints the findings and exits 1 when they block, 0 when not; refuses an edited policy.json", async () => {
    const { main } = await import("../../scripts/promote");
    const { defaultContext } = await import("../../scripts/lib/engine/commands");
    const { dir: root, cleanup } = tempDir();
    try {
      const out: string[] = [];
      const err: string[] = [];
      const ctx = defaultContext({ ...process.env, PROMOTE_USER: "alice" }, { out: (t) => out.push(t), err: (t) => err.push(t) }, {
        checkoutDir: root,
        outDir: join(root, "out"),
        plansDir: join(root, "plans"),
        auditDir: join(root, "audit"),
        locksDir: join(root, "locks"),
        ledgerDir: root,
      });
      const write = (id: string, findings: unknown[]) => {
        const cfg = getEnvironment("prod");
        const pText = policyText("prod", findings);
        const summary = "summary\n";
        const m = manifest({
          id,
          backend: { type: "s3", bucket: cfg.stateBackend.bucket, key: cfg.stateBackend.key, lockTable: cfg.stateBackend.lockTable, region: cfg.region },
          account: cfg.account.id,
          plan: { file: "plan.tfplan", sha256: sha256("plan"), bytes: 4 },
          summarySha256: sha256(summary),
          policy: { file: "policy.json", sha256: sha256(pText), errors: findings.length, warnings: 0, waived: 0 },
        });
        const dir = join(root, "plans", "prod", id);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "plan.tfplan"), "plan");
        writeFileSync(join(dir, "summary.txt"), summary);
        writeFileSync(join(dir, "policy.json"), pText);
        writeFileSync(join(dir, "manifest.json"), manifestText(m));
        return dir;
      };
      write("20300101T000000Z-a-0001", []);
      expect(await main(["policy", "prod", "20300101T000000Z-a-0001"], ctx)).toBe(0);
      expect(out.join("")).toContain("policy: passed");
      const dir = write("20300101T000000Z-b-0002", [ERROR_FINDING]);
      expect(await main(["policy", "prod"], ctx)).toBe(1);
      expect(out.join("")).toContain("ERROR   POLICY-STATEFUL-DESTROY  aws_db_instance.main");
      expect(await main(["policy", "prod", "--markdown"], ctx)).toBe(1);
      expect(out.join("")).toContain("| ERROR | `POLICY-STATEFUL-DESTROY` |");
      writeFileSync(join(dir, "policy.json"), policyText("prod", []));
      expect(await main(["policy", "prod"], ctx)).toBe(1);
      expect(err.join("")).toContain("REFUSED POLICY-HASH-MISMATCH");
    } finally {
      cleanup();
    }
  });
});

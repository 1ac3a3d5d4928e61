import { APPLY_CHECKS, decideApply, decideApprove, decideAuto, decidePlan, decideReview } from "../../scripts/lib/engine/core/decisions";
import { sha256 } from "../../scripts/lib/engine/core/hash";
import { runChecks } from "../../scripts/lib/engine/core/checks";
import {
  approval,
  applyFacts,
  approveFacts,
  COMMIT,
  envFacts,
  LOCK_SHA,
  manifest,
  manifestText,
  NOW,
  OTHER_COMMIT,
  PLAN_SHA,
  planFacts,
  POLICY_TEXT,
  SUMMARY_SHA,
  SYNTH_SHA,
  refusedWith,
} from "../helpers/engine-fixtures";


describe("decideApply", () => {
  it("accepts a bundle that passes every check", () => {
    expect(decideApply(applyFacts())).toEqual({ ok: true });
  });

  it("runs its checks in a fixed order", () => {
    expect(APPLY_CHECKS.map((c) => c.id)).toEqual([
      "BUNDLE-ENV-MISMATCH",
      "BUNDLE-SPECULATIVE",
      "PLAN-FILE-MISSING",
      "PLAN-HASH-MISMATCH",
      "POLICY-HASH-MISMATCH",
      "BUNDLE-ALREADY-APPLIED",
      "BUNDLE-BACKEND-MISMATCH",
      "BUNDLE-ACCOUNT-MISMATCH",
      "BUNDLE-DIRTY",
      "CHECKOUT-COMMIT-MISMATCH",
      "SYNTH-DIGEST-MISMATCH",
      "LOCK-FILE-MISMATCH",
      "TERRAFORM-VERSION-MISMATCH",
      "APPROVAL-INVALID",
      "APPROVAL-MISSING",
      "APPROVAL-HASH-MISMATCH",
      "MANIFEST-HASH-MISMATCH",
      "FOUR-EYES",
      "POLICY-BLOCKED",
      "BUNDLE-EXPIRED",
      "PROMOTION-GATE",
      "APPROVAL-UNSIGNED",
      "PLAN-STALE",
    ]);
  });

  it("reports the first failing check when several fail", () => {
    const d = decideApply(applyFacts({ planFileSha256: sha256("other"), checkout: { commit: OTHER_COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit: OTHER_COMMIT } }));
    refusedWith(d, "PLAN-HASH-MISMATCH");
  });

  describe("BUNDLE-MANIFEST-INVALID: the manifest is missing, not JSON or not the schema", () => {
    it("refuses a missing manifest", () => refusedWith(decideApply(applyFacts({ manifestText: null })), "BUNDLE-MANIFEST-INVALID"));
    it("refuses text that is not JSON", () => refusedWith(decideApply(applyFacts({ manifestText: "{ not json" })), "BUNDLE-MANIFEST-INVALID"));
    it("refuses a manifest missing a field", () => {
      const { plan: _plan, ...rest } = manifest();
      refusedWith(decideApply(applyFacts({ manifestText: JSON.stringify(rest) })), "BUNDLE-MANIFEST-INVALID");
    });
    it("refuses a manifest with an unknown field", () =>
      refusedWith(decideApply(applyFacts({ manifestText: JSON.stringify({ ...manifest(), extra: 1 }) })), "BUNDLE-MANIFEST-INVALID"));
    it("refuses a malformed plan hash", () =>
      refusedWith(decideApply(applyFacts({ manifestText: manifestText(manifest({ plan: { file: "plan.tfplan", sha256: "XYZ", bytes: 1 } })) })), "BUNDLE-MANIFEST-INVALID"));
    it("names the offending field in what was found", () => {
      const d = decideApply(applyFacts({ manifestText: JSON.stringify({ ...manifest(), expiresAt: "tomorrow" }) }));
      expect(d.ok === false && d.found).toMatch(/expiresAt/);
    });
  });

  describe("BUNDLE-ENV-MISMATCH: the bundle is another env's", () => {
    it("refuses a staging bundle applied as prod", () => {
      const m = manifestText(manifest({ env: "staging", stack: "staging" }));
      const d = decideApply(applyFacts({ manifestText: m, approvalText: JSON.stringify(approval(m)) }));
      refusedWith(d, "BUNDLE-ENV-MISMATCH");
      expect(d.ok === false && d.expected).toContain('"prod"');
      expect(d.ok === false && d.found).toContain('"staging"');
    });
    it("accepts the env's own bundle", () => expect(decideApply(applyFacts()).ok).toBe(true));
  });

  describe("PLAN-FILE-MISSING: the bundle has no plan file", () => {
    it("refuses", () => refusedWith(decideApply(applyFacts({ planFileSha256: null })), "PLAN-FILE-MISSING"));
  });

  describe("PLAN-HASH-MISMATCH: the plan file's bytes are not the manifest's", () => {
    it("refuses a changed plan file and reports both hashes", () => {
      const d = decideApply(applyFacts({ planFileSha256: sha256("flipped") }));
      refusedWith(d, "PLAN-HASH-MISMATCH");
      expect(d.ok === false && d.expected).toContain(PLAN_SHA);
      expect(d.ok === false && d.found).toContain(sha256("flipped"));
    });
  });

  describe("BUNDLE-ALREADY-APPLIED: the bundle was applied (or an apply started)", () => {
    it("refuses a bundle with applied.json", () => {
      const applied = { schemaVersion: 1, status: "succeeded", planSha256: PLAN_SHA, appliedBy: "carol", startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), stateAfter: null, ledgerTag: null };
      refusedWith(decideApply(applyFacts({ appliedText: JSON.stringify(applied) })), "BUNDLE-ALREADY-APPLIED");
    });
    it("refuses an unreadable applied.json too (fail closed)", () => refusedWith(decideApply(applyFacts({ appliedText: "garbage" })), "BUNDLE-ALREADY-APPLIED"));
  });

  describe("BUNDLE-BACKEND-MISMATCH: the bundle's state backend is not the env's", () => {
    it("refuses another bucket", () => {
      const m = manifestText(manifest({ backend: { ...manifest().backend, bucket: "tfstate-staging-222222222222" } }));
      refusedWith(decideApply(applyFacts({ manifestText: m, approvalText: JSON.stringify(approval(m)) })), "BUNDLE-BACKEND-MISMATCH");
    });
    it("refuses a local backend", () => {
      const m = manifestText(manifest({ backend: { type: "local", bucket: null, key: null, lockTable: null, region: null } }));
      refusedWith(decideApply(applyFacts({ manifestText: m, approvalText: JSON.stringify(approval(m)) })), "BUNDLE-BACKEND-MISMATCH");
    });
  });

  describe("BUNDLE-ACCOUNT-MISMATCH: the bundle's account is not the env's", () => {
    it("refuses", () => refusedWith(decideApply(applyFacts({ env: envFacts({ accountId: "999999999999" }) })), "BUNDLE-ACCOUNT-MISMATCH"));
  });

  describe("CHECKOUT-COMMIT-MISMATCH: the checkout is not the bundle's commit", () => {
    it("refuses", () =>
      refusedWith(decideApply(applyFacts({ checkout: { commit: OTHER_COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit: COMMIT } })), "CHECKOUT-COMMIT-MISMATCH"));
  });

  describe("SYNTH-DIGEST-MISMATCH: cdk.tf.json is not the one planned", () => {
    it("refuses a changed cdk.tf.json", () =>
      refusedWith(decideApply(applyFacts({ checkout: { commit: COMMIT, synthSha256: sha256("edited"), lockFileSha256: LOCK_SHA, synthCommit: COMMIT } })), "SYNTH-DIGEST-MISMATCH"));
    it("refuses a missing cdk.tf.json", () =>
      refusedWith(decideApply(applyFacts({ checkout: { commit: COMMIT, synthSha256: null, lockFileSha256: LOCK_SHA, synthCommit: COMMIT } })), "SYNTH-DIGEST-MISMATCH"));
  });

  describe("LOCK-FILE-MISMATCH: the provider lock file changed", () => {
    it("refuses", () =>
      refusedWith(decideApply(applyFacts({ checkout: { commit: COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: sha256("other"), synthCommit: COMMIT } })), "LOCK-FILE-MISMATCH"));
  });

  describe("APPROVAL-INVALID: approval.json cannot be read", () => {
    it("refuses a malformed approval even where none is required (fail closed)", () =>
      refusedWith(decideApply(applyFacts({ env: envFacts({ delivery: { requireApproval: false, fourEyes: false } }), approvalText: "{" })), "APPROVAL-INVALID"));
  });

  describe("APPROVAL-MISSING: the env requires an approval", () => {
    it("refuses an unapproved prod bundle", () => refusedWith(decideApply(applyFacts({ approvalText: null })), "APPROVAL-MISSING"));
    it("accepts an unapproved bundle where the env requires none", () =>
      expect(decideApply(applyFacts({ env: envFacts({ delivery: { requireApproval: false, fourEyes: false } }), approvalText: null }))).toEqual({ ok: true }));
  });

  describe("APPROVAL-HASH-MISMATCH: the approval is for other bytes", () => {
    it("refuses an approval of another plan hash", () =>
      refusedWith(decideApply(applyFacts({ approvalText: JSON.stringify(approval(undefined, { planSha256: sha256("other plan") })) })), "APPROVAL-HASH-MISMATCH"));
    it("refuses an approval of another bundle", () =>
      refusedWith(decideApply(applyFacts({ approvalText: JSON.stringify(approval(undefined, { bundleId: "other" })) })), "APPROVAL-HASH-MISMATCH"));
    it("checks an approval even where none is required", () =>
      refusedWith(
        decideApply(applyFacts({ env: envFacts({ delivery: { requireApproval: false, fourEyes: false } }), approvalText: JSON.stringify(approval(undefined, { planSha256: sha256("x") })) })),
        "APPROVAL-HASH-MISMATCH",
      ));
  });

  describe("MANIFEST-HASH-MISMATCH: the manifest changed after approval", () => {
    it("refuses a manifest edited after approval (expiry pushed out)", () => {
      const approved = manifestText();
      const edited = manifestText(manifest({ expiresAt: "2031-01-01T00:00:00.000Z" }));
      refusedWith(decideApply(applyFacts({ manifestText: edited, approvalText: JSON.stringify(approval(approved)) })), "MANIFEST-HASH-MISMATCH");
    });
  });

  describe("FOUR-EYES: the approver is the author", () => {
    it("refuses a self-approved bundle", () =>
      refusedWith(decideApply(applyFacts({ approvalText: JSON.stringify(approval(undefined, { approvedBy: "alice" })) })), "FOUR-EYES"));
    it("compares names without case or surrounding spaces", () =>
      refusedWith(decideApply(applyFacts({ approvalText: JSON.stringify(approval(undefined, { approvedBy: " Alice " })) })), "FOUR-EYES"));
    it("refuses four-eyes without any approval where approval is not otherwise required", () =>
      refusedWith(decideApply(applyFacts({ env: envFacts({ delivery: { requireApproval: false, fourEyes: true } }), approvalText: null })), "FOUR-EYES"));
    it("accepts a self-approval where four eyes are not required", () =>
      expect(decideApply(applyFacts({ env: envFacts({ delivery: { fourEyes: false } }), approvalText: JSON.stringify(approval(undefined, { approvedBy: "alice" })) }))).toEqual({ ok: true }));
  });

  describe("BUNDLE-EXPIRED: the bundle outlived its time-to-live", () => {
    it("refuses at the expiry instant", () => refusedWith(decideApply(applyFacts({ now: new Date("2030-01-02T11:00:00.000Z") })), "BUNDLE-EXPIRED"));
    it("accepts a second before", () => expect(decideApply(applyFacts({ now: new Date("2030-01-02T10:59:59.000Z") })).ok).toBe(true));
  });

  describe("PROMOTION-GATE (apply): the previous env never applied the bundle's commit", () => {
    it("refuses", () => {
      const d = decideApply(applyFacts({ previousEnvApplies: [{ env: "staging", tag: "deployed/staging/x", commit: OTHER_COMMIT, at: "2030-01-01T00:00:00Z" }] }));
      refusedWith(d, "PROMOTION-GATE");
      expect(d.ok === false && d.found).toContain(OTHER_COMMIT);
    });
    it("is not applicable to the first env of the chain", () =>
      expect(decideApply(applyFacts({ env: envFacts({ delivery: { promotesFrom: null } }), previousEnvApplies: [] })).ok).toBe(true));
  });

  describe("PLAN-STALE: the state changed since the plan", () => {
    it("refuses a higher serial", () => refusedWith(decideApply(applyFacts({ stateNow: { serial: 8, lineage: "lineage-1" } })), "PLAN-STALE"));
    it("refuses another lineage", () => refusedWith(decideApply(applyFacts({ stateNow: { serial: 7, lineage: "other" } })), "PLAN-STALE"));
    it("refuses a state created since a plan made without state", () => {
      const m = manifestText(manifest({ priorState: null }));
      refusedWith(decideApply(applyFacts({ manifestText: m, approvalText: JSON.stringify(approval(m)), stateNow: { serial: 1, lineage: "l" } })), "PLAN-STALE");
    });
    it("accepts no state when the plan was made without state", () => {
      const m = manifestText(manifest({ priorState: null }));
      expect(decideApply(applyFacts({ manifestText: m, approvalText: JSON.stringify(approval(m)), stateNow: null }))).toEqual({ ok: true });
    });
    it("is skipped before the state was read (stateNow undefined)", () => expect(decideApply(applyFacts({ stateNow: undefined }))).toEqual({ ok: true }));
  });
});

describe("decideApprove", () => {
  it("accepts the bundle's own hash by someone other than the author", () => expect(decideApprove(approveFacts())).toEqual({ ok: true }));
  it("accepts an upper-case hash", () => expect(decideApprove(approveFacts({ givenSha256: PLAN_SHA.toUpperCase() }))).toEqual({ ok: true }));

  describe("APPROVAL-HASH-MISMATCH: the hash given is not the bundle's", () => {
    it("refuses and names both hashes", () => {
      const d = decideApprove(approveFacts({ givenSha256: sha256("something else") }));
      refusedWith(d, "APPROVAL-HASH-MISMATCH");
      expect(d.ok === false && d.expected).toContain(PLAN_SHA);
    });
  });
  describe("PLAN-HASH-MISMATCH: the plan file changed before approval", () => {
    it("refuses even when the given hash is the manifest's", () => refusedWith(decideApprove(approveFacts({ planFileSha256: sha256("x") })), "PLAN-HASH-MISMATCH"));
  });
  describe("SUMMARY-HASH-MISMATCH: the summary was edited", () => {
    it("refuses", () => refusedWith(decideApprove(approveFacts({ summaryFileSha256: sha256("edited summary") })), "SUMMARY-HASH-MISMATCH"));
  });
  describe("FOUR-EYES: the author approves their own plan", () => {
    it("refuses", () => refusedWith(decideApprove(approveFacts({ approver: "alice" })), "FOUR-EYES"));
    it("accepts where the env does not require four eyes", () =>
      expect(decideApprove(approveFacts({ approver: "alice", env: envFacts({ delivery: { fourEyes: false } }) }))).toEqual({ ok: true }));
  });
  describe("APPROVAL-EXISTS: a second approval", () => {
    it("refuses", () => refusedWith(decideApprove(approveFacts({ approvalText: JSON.stringify(approval()) })), "APPROVAL-EXISTS"));
  });
  describe("BUNDLE-EXPIRED and BUNDLE-ALREADY-APPLIED at approve", () => {
    it("refuses an expired bundle", () => refusedWith(decideApprove(approveFacts({ now: new Date("2031-01-01T00:00:00Z") })), "BUNDLE-EXPIRED"));
    it("refuses an applied bundle", () => refusedWith(decideApprove(approveFacts({ appliedText: "{}" })), "BUNDLE-ALREADY-APPLIED"));
  });
  describe("BUNDLE-ENV-MISMATCH at approve", () => {
    it("refuses approving a staging bundle as prod", () =>
      refusedWith(decideApprove(approveFacts({ manifestText: manifestText(manifest({ env: "staging", stack: "staging" })) })), "BUNDLE-ENV-MISMATCH"));
  });
});

describe("decideReview", () => {
  const facts = { env: envFacts(), manifestText: manifestText(), planFileSha256: PLAN_SHA, summaryFileSha256: SUMMARY_SHA, approvalText: null, appliedText: null, policyText: POLICY_TEXT, now: NOW };
  it("accepts an intact bundle", () => expect(decideReview(facts)).toEqual({ ok: true }));
  it("refuses a flipped plan file (PLAN-HASH-MISMATCH)", () => refusedWith(decideReview({ ...facts, planFileSha256: sha256("x") }), "PLAN-HASH-MISMATCH"));
  it("refuses an edited summary (SUMMARY-HASH-MISMATCH)", () => refusedWith(decideReview({ ...facts, summaryFileSha256: null }), "SUMMARY-HASH-MISMATCH"));
});

describe("decidePlan", () => {
  describe("PROMOTION-GATE: a plan only from a commit the previous env applied", () => {
    it("accepts a commit staging applied", () => expect(decidePlan(planFacts())).toEqual({ ok: true }));
    it("refuses a commit staging never applied", () => {
      const d = decidePlan(planFacts({ checkout: { commit: OTHER_COMMIT, dirtyPaths: [] } }));
      refusedWith(d, "PROMOTION-GATE");
      expect(d.ok === false && d.fix).toContain("promote apply staging");
    });
    it("refuses when staging never applied anything", () => {
      const d = decidePlan(planFacts({ previousEnvApplies: [] }));
      refusedWith(d, "PROMOTION-GATE");
      expect(d.ok === false && d.found).toContain("no successful apply");
    });
    it("ignores applies recorded for other envs", () =>
      refusedWith(decidePlan(planFacts({ previousEnvApplies: [{ env: "dev", tag: "deployed/dev/x", commit: COMMIT, at: "2030-01-01T00:00:00Z" }] })), "PROMOTION-GATE"));
    it("is not applicable to an env that promotes from none (dev)", () =>
      expect(decidePlan(planFacts({ env: envFacts({ name: "dev", delivery: { promotesFrom: null } }), previousEnvApplies: [] }))).toEqual({ ok: true }));
  });
  describe("WORKTREE-DIRTY: uncommitted synth inputs in a gated env", () => {
    it("refuses", () => refusedWith(decidePlan(planFacts({ checkout: { commit: COMMIT, dirtyPaths: ["envs/prod.ts"] } })), "WORKTREE-DIRTY"));
    it("accepts a dirty tree in an ungated env", () =>
      expect(decidePlan(planFacts({ env: envFacts({ delivery: { promotesFrom: null } }), checkout: { commit: COMMIT, dirtyPaths: ["envs/dev.ts"] } }))).toEqual({ ok: true }));
  });
});

describe("decideAuto", () => {
  describe("AUTO-APPLY-NOT-ALLOWED: apply --auto where the env does not allow it", () => {
    it("refuses prod", () => refusedWith(decideAuto(envFacts()), "AUTO-APPLY-NOT-ALLOWED"));
    it("accepts an env with autoApply", () => expect(decideAuto(envFacts({ name: "dev", delivery: { autoApply: true } }))).toEqual({ ok: true }));
  });
});

describe("fail closed", () => {
  it("a check that throws is a refusal under its own id", () => {
    const throwing = { id: "PLAN-HASH-MISMATCH" as const, info: "", explanation: "", check: () => { throw new Error("boom"); } };
    const d = runChecks([throwing], {}, "prod");
    refusedWith(d, "PLAN-HASH-MISMATCH");
    expect(d.ok === false && d.found).toContain("boom");
  });
  it("an approval that cannot be parsed never passes the approval checks", () => {
    const d = decideApply(applyFacts({ approvalText: JSON.stringify({ ...approval(), approvedBy: 42 }) }));
    refusedWith(d, "APPROVAL-INVALID");
  });
});

describe("decideApply where signed approvals are required (the wiring of core/approval-checks.ts)", () => {
  const { generateKeyPairSync } = require("node:crypto") as typeof import("node:crypto");
  const { publicKeyLineOf, signSshSignature } = require("../../envs/ssh-keys") as typeof import("../../envs/ssh-keys");
  const { approversDigest } = require("../../scripts/lib/engine/core/approval-checks") as typeof import("../../scripts/lib/engine/core/approval-checks");
  const S = require("../../scripts/lib/engine/core/approval-statement") as typeof import("../../scripts/lib/engine/core/approval-statement");
  const bob = generateKeyPairSync("ed25519").privateKey;
  const approvals = { requireSigned: true, minApprovers: 1, approvers: [{ principal: "bob@example.com", publicKey: publicKeyLineOf(bob) }] };
  const m = manifest({ approversSha256: approversDigest(approvals), createdByEmail: "alice@example.com" });
  const mText = manifestText(m);
  const signedRecord = (overrides: Record<string, string> = {}) => {
    const text = S.renderStatement({
      env: "prod", account: m.account, bundleId: m.id, planSha256: m.plan.sha256, manifestSha256: sha256(mText), commit: m.git.commit,
      approver: "bob@example.com", signedAt: "2030-01-01T11:30:00.000Z", notAfter: m.expiresAt, ...overrides,
    });
    return { source: "bob@example.com.approval.json", text: S.formatSignedApproval(text, signSshSignature(bob, S.APPROVAL_NAMESPACE, text)) };
  };
  const signedFacts = (records = [signedRecord()]) =>
    applyFacts({ env: envFacts({ requireSigned: true }), manifestText: mText, approvalText: null, signed: { approvals, records, commitAuthor: { name: "Carol", email: "carol@example.com" } } });

  it("accepts a listed approver's signature over this bundle, with no approval.json", () => {
    expect(decideApply(signedFacts())).toEqual({ ok: true });
  });
  it("refuses no signature as too few (not APPROVAL-MISSING: approval.json does not count)", () => {
    refusedWith(decideApply(signedFacts([])), "APPROVALS-TOO-FEW");
  });
  it("refuses a legacy approval.json beside a valid signature (APPROVAL-UNSIGNED)", () => {
    const legacy = { source: "approval.json", text: JSON.stringify(approval(mText)) };
    refusedWith(decideApply(signedFacts([legacy, signedRecord()])), "APPROVAL-UNSIGNED");
  });
  it("refuses a signature over another plan (APPROVAL-STATEMENT-MISMATCH), naming the ids the checks return", () => {
    refusedWith(decideApply(signedFacts([signedRecord({ planSha256: "9".repeat(64) })])), "APPROVAL-STATEMENT-MISMATCH");
  });
  it("fails closed when the command gathered no signed facts for such an env", () => {
    refusedWith(decideApply(applyFacts({ env: envFacts({ requireSigned: true }), manifestText: mText, approvalText: null })), "APPROVAL-UNSIGNED");
  });
  it("refuses a dirty bundle even where the env is not gated (an approver list must be committed code)", () => {
    const dirty = manifest({ approversSha256: approversDigest(approvals), git: { commit: COMMIT, dirty: true } });
    refusedWith(decideApply(applyFacts({ env: envFacts({ requireSigned: true, delivery: { promotesFrom: null } }), manifestText: manifestText(dirty), approvalText: null })), "BUNDLE-DIRTY");
  });
  it("keeps envs without signed approvals on approval.json (the signed facts only check the approver list is unchanged)", () => {
    const none = { requireSigned: false, minApprovers: 0, approvers: [] };
    const dev = manifestText(manifest({ approversSha256: approversDigest(none) }));
    expect(decideApply(applyFacts({ manifestText: dev, signed: { approvals: none, records: [], commitAuthor: null } }))).toEqual({ ok: true });
    const flipped = manifestText(manifest({ approversSha256: approversDigest(approvals) }));
    refusedWith(decideApply(applyFacts({ manifestText: flipped, signed: { approvals: none, records: [], commitAuthor: null } })), "APPROVERS-CHANGED");
  });
});

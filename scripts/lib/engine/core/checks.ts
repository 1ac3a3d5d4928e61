/**
 * The checks, as a registry of data: `{ id, info, explanation, check }`. A check is a pure function
 * of a context and returns pass, not-applicable or fail (expected / found). The decisions in
 * decisions.ts run fixed lists of them in order; a check that throws is a refusal (fail closed).
 */
import { sameIdentity } from "./identity";
import { sha256 } from "./hash";
import type { ApplyFacts, ApproveFacts, BundleFacts, EnvFacts, LedgerEntry, PlanFacts, RecordedBundle, ReviewFacts } from "./facts";
import { fixFor, ruleFor, type RuleId } from "./rules";
import { blocksApproval, countFindings } from "../../policy/evaluate";
import { appliedSchema, approvalSchema, manifestSchema, parseWith, policyFileSchema, type Approval, type Manifest } from "./schemas";
import { decideSignedApprovals, type ApprovalBundle } from "./approval-checks";

export type CheckResult =
  | { readonly status: "pass" }
  | { readonly status: "not-applicable" }
  | { readonly status: "fail"; readonly expected: string; readonly found: string; readonly fix?: string; /** A check that decides several rules names the one that failed. */ readonly id?: RuleId };

export interface Check<C> {
  readonly id: RuleId;
  readonly info: string;
  readonly explanation: string;
  readonly check: (ctx: C) => CheckResult;
}

/** A bundle whose manifest parsed: the facts plus the manifest and the hash of its bytes. */
export interface BundleContext<F extends BundleFacts = BundleFacts> {
  readonly facts: F;
  readonly manifest: Manifest;
  readonly manifestSha256: string;
}

export const PASS: CheckResult = { status: "pass" };
export const NOT_APPLICABLE: CheckResult = { status: "not-applicable" };
export const fail = (expected: string, found: string, fix?: string): CheckResult => ({ status: "fail", expected, found, fix });

function defineCheck<C>(id: RuleId, check: (ctx: C) => CheckResult): Check<C> {
  const rule = ruleFor(id);
  return { id, info: rule.info, explanation: rule.explanation, check };
}

/** Names are compared as a reader sees them (core/identity.ts: case, width, spacing, e-mail form, look-alikes). */
const sameName = (a: string, b: string): boolean => sameIdentity(a, b);
/** A hash as found, or "(none)" when there is none. */
const orNone = (hash: string | null): string => (hash === null ? "(none)" : hash);

/** The approval, parsed; null when the bundle has none; throws when it is malformed. */
function approvalOf(facts: BundleFacts): Approval | null {
  if (facts.approvalText === null) return null;
  const parsed = parseWith(approvalSchema, facts.approvalText);
  if (!parsed.ok) throw new Error(`approval.json is invalid: ${parsed.reason}`);
  return parsed.value;
}

/** Whether a commit is among the previous env's successful applies (or the env is not gated). */
export function gateOpen(env: EnvFacts, commit: string, applies: readonly LedgerEntry[]): boolean {
  return env.delivery.promotesFrom === null || applies.some((a) => a.env === env.delivery.promotesFrom && a.commit === commit);
}

/**
 * The rollback rule of the promotion gate: a rollback may return to a commit this env itself applied
 * successfully (it is in the env's own ledger) without the previous env having it; any other commit
 * goes through the gate like a normal plan.
 */
export function rollbackGateOpen(env: EnvFacts, commit: string, previousEnvApplies: readonly LedgerEntry[], ownApplies: readonly LedgerEntry[]): boolean {
  return ownApplies.some((a) => a.env === env.name && a.commit === commit) || gateOpen(env, commit, previousEnvApplies);
}

// ---------------------------------------------------------------------------------------------
// Bundle integrity and identity
// ---------------------------------------------------------------------------------------------

export const bundleEnvMatches = defineCheck<BundleContext>("BUNDLE-ENV-MISMATCH", ({ facts, manifest }) =>
  manifest.env === facts.env.name && manifest.stack === facts.env.name
    ? PASS
    : fail(`a bundle for env "${facts.env.name}"`, `a bundle for env "${manifest.env}" (stack "${manifest.stack}")`),
);

export const planFilePresent = defineCheck<BundleContext>("PLAN-FILE-MISSING", ({ facts }) =>
  facts.planFileSha256 !== null ? PASS : fail("plan.tfplan in the bundle", "no plan file"),
);

export const planHashMatchesManifest = defineCheck<BundleContext>("PLAN-HASH-MISMATCH", ({ facts, manifest }) =>
  facts.planFileSha256 === manifest.plan.sha256
    ? PASS
    : fail(`plan file SHA-256 ${manifest.plan.sha256} (manifest)`, `${orNone(facts.planFileSha256)} (file on disk)`),
);

export const summaryIntact = defineCheck<BundleContext<ReviewFacts>>("SUMMARY-HASH-MISMATCH", ({ facts, manifest }) =>
  facts.summaryFileSha256 === manifest.summarySha256
    ? PASS
    : fail(`summary.txt SHA-256 ${manifest.summarySha256} (manifest)`, `${orNone(facts.summaryFileSha256)} (file on disk)`),
);

/** policy.json is the findings file the manifest records (and so the approval binds). */
export const policyIntact = defineCheck<BundleContext>("POLICY-HASH-MISMATCH", ({ facts, manifest }) => {
  if (facts.policyText === null) return fail(`policy.json with SHA-256 ${manifest.policy.sha256} (manifest)`, "no policy.json");
  const got = sha256(facts.policyText);
  return got === manifest.policy.sha256 ? PASS : fail(`policy.json SHA-256 ${manifest.policy.sha256} (manifest)`, `${got} (file on disk)`);
});

/** The recorded findings block nothing: no error-level finding without a recorded exception. */
export const policyAllows = defineCheck<BundleContext>("POLICY-BLOCKED", ({ facts, manifest }) => {
  const parsed = parseWith(policyFileSchema, facts.policyText ?? "");
  if (!parsed.ok) return fail("a policy.json matching the policy file schema", parsed.reason);
  if (parsed.value.env !== manifest.env) return fail(`findings for env "${manifest.env}"`, `findings for env "${parsed.value.env}"`);
  const findings = parsed.value.findings;
  if (!blocksApproval(findings)) return PASS;
  const errors = findings.filter((f) => f.level === "error" && !f.waived);
  const c = countFindings(findings);
  return fail(
    "no unwaived error-level policy finding",
    `${c.errors} error(s): ${errors.slice(0, 3).map((f) => `${f.id} on ${f.address}`).join(", ")}${errors.length > 3 ? ", ..." : ""}`,
  );
});

/** A speculative plan (a pull request's preview) is never approved or applied. */
export const notSpeculative = defineCheck<BundleContext>("BUNDLE-SPECULATIVE", ({ manifest }) =>
  manifest.speculative ? fail("a bundle made by `promote plan` or `promote rollback`", "a speculative bundle (promote plan --speculative)") : PASS,
);

export const notAlreadyApplied = defineCheck<BundleContext>("BUNDLE-ALREADY-APPLIED", ({ facts }) => {
  if (facts.appliedText === null) return PASS;
  const parsed = parseWith(appliedSchema, facts.appliedText);
  const found = parsed.ok
    ? `applied.json: ${parsed.value.status} by ${parsed.value.appliedBy} at ${parsed.value.startedAt}`
    : `an unreadable applied.json (${parsed.reason})`;
  return fail("a bundle never applied", found);
});

export const notExpired = defineCheck<BundleContext>("BUNDLE-EXPIRED", ({ facts, manifest }) =>
  facts.now.getTime() < Date.parse(manifest.expiresAt)
    ? PASS
    : fail(`now (${facts.now.toISOString()}) before ${manifest.expiresAt}`, `expired at ${manifest.expiresAt}`),
);

export const backendMatches = defineCheck<BundleContext>("BUNDLE-BACKEND-MISMATCH", ({ facts, manifest }) => {
  const want = facts.env.stateBackend;
  const got = manifest.backend;
  const ok = got.type === "s3" && got.bucket === want.bucket && got.key === want.key && got.lockTable === want.lockTable;
  return ok
    ? PASS
    : fail(
        `s3 backend ${want.bucket}/${want.key} (lock table ${want.lockTable})`,
        `${got.type} backend ${got.bucket ?? "-"}/${got.key ?? "-"} (lock table ${got.lockTable ?? "-"})`,
      );
});

export const accountMatches = defineCheck<BundleContext>("BUNDLE-ACCOUNT-MISMATCH", ({ facts, manifest }) =>
  manifest.account === facts.env.accountId ? PASS : fail(`account ${facts.env.accountId}`, `account ${manifest.account}`),
);

// ---------------------------------------------------------------------------------------------
// Checkout: the code and working directory the plan came from
// ---------------------------------------------------------------------------------------------

/**
 * The code applied is the code planned. A normal bundle: the checkout is at the bundle's commit. A
 * rollback bundle was planned from a temporary worktree of an older release, so the checkout's commit
 * says nothing about it; instead the rollback commit must be the bundle's commit and the working
 * directory must have been synthesized from it (its synth stamp; SYNTH-DIGEST-MISMATCH then checks the
 * bytes).
 */
export const checkoutCommitMatches = defineCheck<BundleContext<ApplyFacts>>("CHECKOUT-COMMIT-MISMATCH", ({ facts, manifest }) => {
  const rb = manifest.rollback;
  if (rb !== null) {
    if (rb.toCommit !== manifest.git.commit) return fail(`rollback commit ${rb.toCommit} = the bundle's commit`, `bundle commit ${manifest.git.commit}`);
    return facts.checkout.synthCommit === rb.toCommit
      ? PASS
      : fail(`the working directory synthesized from rollback commit ${rb.toCommit}`, `synthesized from ${facts.checkout.synthCommit ?? "(unknown)"}`,
          `run \`promote rollback ${facts.env.name} --to ${rb.toTag}\` again (the working directory was re-synthesized since)`);
  }
  return facts.checkout.commit === manifest.git.commit
    ? PASS
    : fail(`checkout at ${manifest.git.commit} (the bundle's commit)`, `checkout at ${facts.checkout.commit}`);
});

export const synthDigestMatches = defineCheck<BundleContext<ApplyFacts>>("SYNTH-DIGEST-MISMATCH", ({ facts, manifest }) =>
  facts.checkout.synthSha256 === manifest.synth.sha256
    ? PASS
    : fail(`${manifest.synth.file} SHA-256 ${manifest.synth.sha256}`, orNone(facts.checkout.synthSha256)),
);

export const lockFileMatches = defineCheck<BundleContext<ApplyFacts>>("LOCK-FILE-MISMATCH", ({ facts, manifest }) =>
  facts.checkout.lockFileSha256 === manifest.lockFile.sha256
    ? PASS
    : fail(`.terraform.lock.hcl SHA-256 ${orNone(manifest.lockFile.sha256)}`, orNone(facts.checkout.lockFileSha256)),
);

/**
 * The terraform that applies is the one that planned: the same version, and the same provider versions
 * in the working directory. terraform itself refuses only some mismatches (terraform#36775).
 */
export const terraformVersionMatches = defineCheck<BundleContext<ApplyFacts>>("TERRAFORM-VERSION-MISMATCH", ({ facts, manifest }) => {
  const now = facts.terraformNow;
  if (now === undefined) return NOT_APPLICABLE;
  const want = manifest.terraform;
  if (now.version !== want.version) {
    return fail(`terraform ${want.version} (the plan's, ${want.binary})`, `terraform ${now.version} (the binary that would apply)`,
      `run with terraform ${want.version} (TERRAFORM_BINARY_NAME), or run \`promote plan ${facts.env.name}\` again with terraform ${now.version}`);
  }
  const names = [...new Set([...Object.keys(want.providers), ...Object.keys(now.providers)])].sort();
  const differ = names.filter((n) => want.providers[n] !== now.providers[n]);
  return differ.length === 0
    ? PASS
    : fail(`providers ${differ.map((n) => `${n} ${want.providers[n] ?? "(none)"}`).join(", ")} (the plan's)`, `${differ.map((n) => `${n} ${now.providers[n] ?? "(none)"}`).join(", ")} (the working directory's)`);
});

/** A gated env applies only bundles of committed code (a dirty bundle never enters the ledger). */
export const bundleClean = defineCheck<BundleContext<ApplyFacts>>("BUNDLE-DIRTY", ({ facts, manifest }) => {
  // Signed approvals count only against an approver list that is committed code: never a dirty bundle.
  if (facts.env.delivery.promotesFrom === null && facts.env.requireSigned !== true) return NOT_APPLICABLE;
  return manifest.git.dirty ? fail(`a bundle of committed code (commit ${manifest.git.commit}, clean)`, "a bundle planned from uncommitted changes (git.dirty: true)") : PASS;
});

// ---------------------------------------------------------------------------------------------
// Approval
// ---------------------------------------------------------------------------------------------

/** Where signed approvals are required, approval.json (a typed name) does not count: the signed checks read it as a record. */
const signedEnv = (facts: BundleFacts): boolean => facts.env.requireSigned === true;

export const approvalReadable = defineCheck<BundleContext>("APPROVAL-INVALID", ({ facts }) => {
  if (facts.approvalText === null || signedEnv(facts)) return NOT_APPLICABLE;
  const parsed = parseWith(approvalSchema, facts.approvalText);
  return parsed.ok ? PASS : fail("an approval.json matching the approval schema", parsed.reason);
});

export const approvalPresent = defineCheck<BundleContext>("APPROVAL-MISSING", ({ facts }) => {
  if (!facts.env.delivery.requireApproval || signedEnv(facts)) return NOT_APPLICABLE;
  return facts.approvalText !== null ? PASS : fail(`an approval (env "${facts.env.name}" requires one)`, "no approval.json");
});

/** An approval on disk must be for this bundle's plan hash: checked whenever one exists, required or not. */
export const approvalMatchesPlan = defineCheck<BundleContext>("APPROVAL-HASH-MISMATCH", ({ facts, manifest }) => {
  if (signedEnv(facts)) return NOT_APPLICABLE;
  const approval = approvalOf(facts);
  if (approval === null) return NOT_APPLICABLE;
  if (approval.env !== manifest.env || approval.bundleId !== manifest.id) {
    return fail(`an approval of bundle ${manifest.env}/${manifest.id}`, `an approval of bundle ${approval.env}/${approval.bundleId}`);
  }
  return approval.planSha256 === manifest.plan.sha256
    ? PASS
    : fail(`approved plan SHA-256 ${manifest.plan.sha256}`, `approval for ${approval.planSha256}`);
});

export const approvalMatchesManifest = defineCheck<BundleContext>("MANIFEST-HASH-MISMATCH", ({ facts, manifestSha256 }) => {
  if (signedEnv(facts)) return NOT_APPLICABLE;
  const approval = approvalOf(facts);
  if (approval === null) return NOT_APPLICABLE;
  return approval.manifestSha256 === manifestSha256
    ? PASS
    : fail(`manifest.json SHA-256 ${approval.manifestSha256} (as approved)`, `${manifestSha256} (on disk)`);
});

/** At apply: the approval on disk was given by someone other than the plan's author. */
export const fourEyesOnApply = defineCheck<BundleContext>("FOUR-EYES", ({ facts, manifest }) => {
  if (!facts.env.delivery.fourEyes || signedEnv(facts)) return NOT_APPLICABLE;
  const approval = approvalOf(facts);
  if (approval === null) return fail(`an approval by someone other than ${manifest.createdBy}`, "no approval");
  return sameName(approval.approvedBy, manifest.createdBy)
    ? fail(`an approver other than the plan's author ${manifest.createdBy}`, `approved by ${approval.approvedBy}`)
    : PASS;
});

/** At approve: the given hash is the bundle's. */
export const givenHashMatches = defineCheck<BundleContext<ApproveFacts>>("APPROVAL-HASH-MISMATCH", ({ facts, manifest }) =>
  facts.givenSha256.trim().toLowerCase() === manifest.plan.sha256
    ? PASS
    : fail(`--sha256 ${manifest.plan.sha256} (the bundle's plan)`, `--sha256 ${facts.givenSha256}`,
        `run \`promote review ${facts.env.name} ${manifest.id}\` and approve the SHA-256 it prints`),
);

export const notYetApproved = defineCheck<BundleContext<ApproveFacts>>("APPROVAL-EXISTS", ({ facts }) => {
  // Signed approvals are one record per approver (several may be required); approve refuses a second one by the same principal.
  if (facts.approvalText === null || signedEnv(facts)) return PASS;
  const parsed = parseWith(approvalSchema, facts.approvalText);
  return fail("a bundle without approval", parsed.ok ? `approved by ${parsed.value.approvedBy} at ${parsed.value.approvedAt}` : "an unreadable approval.json");
});

export const fourEyesOnApprove = defineCheck<BundleContext<ApproveFacts>>("FOUR-EYES", ({ facts, manifest }) => {
  // Signed: four eyes compares the signer's listed principal (decideSigning), not a typed name.
  if (!facts.env.delivery.fourEyes || signedEnv(facts)) return NOT_APPLICABLE;
  return sameName(facts.approver, manifest.createdBy)
    ? fail(`an approver other than the plan's author ${manifest.createdBy}`, `approver ${facts.approver}`)
    : PASS;
});

/** The bundle as a signed approval must name it (core/approval-checks.ts). */
export function approvalBundleOf(manifest: Manifest, manifestSha256: string): ApprovalBundle {
  return {
    env: manifest.env,
    account: manifest.account,
    id: manifest.id,
    planSha256: manifest.plan.sha256,
    manifestSha256,
    commit: manifest.git.commit,
    createdAt: manifest.createdAt,
    expiresAt: manifest.expiresAt,
    plannedBy: [manifest.createdBy, ...(manifest.createdByEmail ? [manifest.createdByEmail] : [])],
    approversSha256: manifest.approversSha256 ?? null,
  };
}

/**
 * At apply: the signed approvals (core/approval-checks.ts, each failure its own id: APPROVERS-CHANGED,
 * APPROVAL-UNSIGNED, APPROVAL-SIGNATURE-INVALID, APPROVER-NOT-ALLOWED, APPROVAL-STATEMENT-MISMATCH,
 * APPROVAL-EXPIRED, FOUR-EYES, APPROVALS-TOO-FEW, ...). The approver config is checked unchanged for
 * every env whose facts carry it; signatures only where the env requires them.
 */
export const signedApprovalsValid = defineCheck<BundleContext<ApplyFacts>>("APPROVAL-UNSIGNED", ({ facts, manifest, manifestSha256 }) => {
  const signed = facts.signed;
  if (signed === undefined) {
    return signedEnv(facts) ? fail(`the signed approvals of env "${facts.env.name}" gathered and checked`, "none were gathered (the command did not read them)") : NOT_APPLICABLE;
  }
  // A bundle planned before signed approvals records no approver digest: where the env does not require
  // signatures it is judged by approval.json as before (it expires within planTtlHours); where it does, refused.
  if (manifest.approversSha256 === undefined && !signedEnv(facts) && !signed.approvals.requireSigned) return NOT_APPLICABLE;
  const d = decideSignedApprovals({
    env: { name: facts.env.name, accountId: facts.env.accountId, fourEyes: facts.env.delivery.fourEyes, approvals: signed.approvals },
    bundle: approvalBundleOf(manifest, manifestSha256),
    commitAuthor: signed.commitAuthor,
    approvals: signed.records,
    now: facts.now,
  });
  if (d.ok) {
    // The config said "not required" (and is the one planned with): the env's own requirement must agree.
    if (!d.required && signedEnv(facts)) return fail(`signed approvals (env "${facts.env.name}" requires them)`, "an approvals config that does not require them");
    return PASS;
  }
  return { status: "fail", id: d.id, expected: d.expected, found: d.found, fix: d.fix };
});

// ---------------------------------------------------------------------------------------------
// Promotion and state
// ---------------------------------------------------------------------------------------------

/** At apply: the bundle's commit was applied by the previous env (the gate held at plan time too). */
export const bundleCommitPromoted = defineCheck<BundleContext<ApplyFacts>>("PROMOTION-GATE", ({ facts, manifest }) => {
  const from = facts.env.delivery.promotesFrom;
  if (from === null) return NOT_APPLICABLE;
  const open = manifest.rollback !== null
    ? rollbackGateOpen(facts.env, manifest.git.commit, facts.previousEnvApplies, facts.ownApplies)
    : gateOpen(facts.env, manifest.git.commit, facts.previousEnvApplies);
  return open
    ? PASS
    : fail(`commit ${manifest.git.commit} applied successfully in "${from}"`, describeApplies(from, facts.previousEnvApplies));
});

export const stateUnchanged = defineCheck<BundleContext<ApplyFacts>>("PLAN-STALE", ({ facts, manifest }) => {
  if (facts.stateNow === undefined) return NOT_APPLICABLE;
  const was = manifest.priorState;
  const now = facts.stateNow;
  const show = (s: { serial: number; lineage: string } | null) => (s === null ? "no state" : `serial ${s.serial}, lineage ${s.lineage}`);
  const same = was === null ? now === null : now !== null && now.serial === was.serial && now.lineage === was.lineage;
  return same ? PASS : fail(`state as planned (${show(was)})`, `state now (${show(now)})`);
});

export const checkoutPromoted = defineCheck<PlanFacts>("PROMOTION-GATE", ({ env, checkout, previousEnvApplies, ownApplies, kind }) => {
  const from = env.delivery.promotesFrom;
  if (from === null || kind === "speculative") return NOT_APPLICABLE;
  const open = kind === "rollback" ? rollbackGateOpen(env, checkout.commit, previousEnvApplies, ownApplies ?? []) : gateOpen(env, checkout.commit, previousEnvApplies);
  return open
    ? PASS
    : fail(`commit ${checkout.commit} applied successfully in "${from}"`, describeApplies(from, previousEnvApplies),
        `run \`promote plan ${from}\` and \`promote apply ${from}\` on this commit first, or check out a commit "${from}" applied (\`promote ledger ${from}\`)`);
});

export const checkoutClean = defineCheck<PlanFacts>("WORKTREE-DIRTY", ({ env, checkout, kind }) => {
  if (env.delivery.promotesFrom === null || kind === "speculative") return NOT_APPLICABLE;
  return checkout.dirtyPaths.length === 0
    ? PASS
    : fail("no uncommitted changes to synth inputs", `uncommitted: ${checkout.dirtyPaths.slice(0, 5).join(", ")}${checkout.dirtyPaths.length > 5 ? ", ..." : ""}`);
});

export const autoApplyAllowed = defineCheck<{ env: EnvFacts }>("AUTO-APPLY-NOT-ALLOWED", ({ env }) =>
  env.delivery.autoApply ? PASS : fail(`an env whose delivery.autoApply is true`, `env "${env.name}" has delivery.autoApply false`),
);

/**
 * No earlier apply of the env is unfinished: every claimed bundle recorded an outcome. "started" is an
 * apply whose engine died (or still runs on another machine); "succeeded" without a ledger tag (of a
 * clean bundle) is one whose bookkeeping failed after terraform changed the env.
 */
export const noUnfinishedApply = defineCheck<{ env: EnvFacts; bundles: readonly RecordedBundle[] }>("APPLY-UNFINISHED", ({ env, bundles }) => {
  const open: string[] = [];
  for (const b of bundles) {
    if (b.appliedText === null) continue;
    const applied = parseWith(appliedSchema, b.appliedText);
    if (!applied.ok) {
      open.push(`${b.id}: an unreadable applied.json (${applied.reason})`);
      continue;
    }
    const a = applied.value;
    const m = b.manifestText === null ? null : parseWith(manifestSchema, b.manifestText);
    const dirty = m !== null && m.ok && m.value.git.dirty;
    if (a.status === "started") open.push(`${b.id}: apply started by ${a.appliedBy} at ${a.startedAt} (plan SHA-256 ${a.planSha256}), no outcome recorded`);
    else if (a.status === "succeeded" && a.ledgerTag === null && !dirty) open.push(`${b.id}: applied by ${a.appliedBy} at ${a.startedAt}, not recorded in the ledger`);
  }
  if (open.length === 0) return PASS;
  const first = open[0].split(":")[0];
  return fail(
    "every earlier apply of this env with a recorded outcome",
    open.slice(0, 3).join("; ") + (open.length > 3 ? `; and ${open.length - 3} more` : ""),
    `check that no terraform runs for ${env.name} (a state lock held: \`promote unlock ${env.name} <lock id>\`), then \`promote complete ${env.name} ${first}\``,
  );
});

function describeApplies(env: string, applies: readonly LedgerEntry[]): string {
  const last = applies.filter((a) => a.env === env).slice(-1)[0];
  return last ? `"${env}" last applied ${last.commit} (${last.tag}), never this commit` : `no successful apply in "${env}" at all`;
}

/** Runs checks in order: the first failure (or throw) is the refusal. */
export function runChecks<C>(checks: readonly Check<C>[], ctx: C, envName: string): { ok: true } | { ok: false; id: RuleId; expected: string; found: string; fix: string } {
  for (const c of checks) {
    let result: CheckResult;
    try {
      result = c.check(ctx);
    } catch (e) {
      return { ok: false, id: c.id, expected: "the check to complete", found: `it failed: ${(e as Error).message}`, fix: fixFor(c.id, envName) };
    }
    if (result.status === "fail") {
      const id = result.id ?? c.id;
      return { ok: false, id, expected: result.expected, found: result.found, fix: result.fix ?? fixFor(id, envName) };
    }
  }
  return { ok: true };
}

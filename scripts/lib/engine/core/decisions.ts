/**
 * The engine's decisions, pure functions over facts: may this env be planned from this commit, may
 * this bundle be approved, may it be applied. Each runs a fixed list of checks (checks.ts) in order and
 * returns `{ ok: true }` or the first refusal `{ ok: false, id, expected, found, fix }`.
 */
import * as C from "./checks";
import { refusal, type Decision } from "./errors";
import type { ApplyFacts, ApproveFacts, EnvFacts, PlanFacts, RecordedBundle, ReviewFacts } from "./facts";
import { sha256 } from "./hash";
import { fixFor } from "./rules";
import { manifestSchema, parseWith } from "./schemas";

/** The checks `promote apply` runs after the manifest parsed, in this order. */
export const APPLY_CHECKS: readonly C.Check<C.BundleContext<ApplyFacts>>[] = [
  C.bundleEnvMatches,
  C.notSpeculative,
  C.planFilePresent,
  C.planHashMatchesManifest,
  C.policyIntact,
  C.notAlreadyApplied,
  C.backendMatches,
  C.accountMatches,
  C.bundleClean,
  C.checkoutCommitMatches,
  C.synthDigestMatches,
  C.lockFileMatches,
  C.terraformVersionMatches,
  C.approvalReadable,
  C.approvalPresent,
  C.approvalMatchesPlan,
  C.approvalMatchesManifest,
  C.fourEyesOnApply,
  C.policyAllows,
  C.notExpired,
  C.bundleCommitPromoted,
  C.signedApprovalsValid,
  C.stateUnchanged,
];

/** The checks `promote approve` runs after the manifest parsed, in this order. */
export const APPROVE_CHECKS: readonly C.Check<C.BundleContext<ApproveFacts>>[] = [
  C.bundleEnvMatches,
  C.notSpeculative,
  C.planFilePresent,
  C.planHashMatchesManifest,
  C.summaryIntact,
  C.policyIntact,
  C.givenHashMatches,
  C.notAlreadyApplied,
  C.notExpired,
  C.notYetApproved,
  C.fourEyesOnApprove,
  C.policyAllows,
];

/** The checks `promote review` runs: the bundle is this env's and its plan file is intact. */
export const REVIEW_CHECKS: readonly C.Check<C.BundleContext<ReviewFacts>>[] = [
  C.bundleEnvMatches,
  C.planFilePresent,
  C.planHashMatchesManifest,
  C.summaryIntact,
  C.policyIntact,
];

/** The checks `promote plan` runs before anything is synthesized or planned. */
export const PLAN_CHECKS: readonly C.Check<PlanFacts>[] = [C.checkoutPromoted, C.checkoutClean];

/** Parses the manifest (BUNDLE-MANIFEST-INVALID when it cannot be) and runs checks over the bundle. */
function decideBundle<F extends ApplyFacts | ReviewFacts>(facts: F, checks: readonly C.Check<C.BundleContext<F>>[]): Decision {
  const env = facts.env.name;
  if (facts.manifestText === null) {
    return refusal("BUNDLE-MANIFEST-INVALID", "manifest.json in the bundle", "no manifest.json", fixFor("BUNDLE-MANIFEST-INVALID", env));
  }
  const parsed = parseWith(manifestSchema, facts.manifestText);
  if (!parsed.ok) {
    return refusal("BUNDLE-MANIFEST-INVALID", "a manifest.json matching the manifest schema", parsed.reason, fixFor("BUNDLE-MANIFEST-INVALID", env));
  }
  return C.runChecks(checks, { facts, manifest: parsed.value, manifestSha256: sha256(facts.manifestText) }, env);
}

/** May this bundle be applied to this env, from this checkout, now? */
export function decideApply(facts: ApplyFacts): Decision {
  return decideBundle(facts, APPLY_CHECKS);
}

/** May this approver approve this bundle with this hash? */
export function decideApprove(facts: ApproveFacts): Decision {
  return decideBundle(facts, APPROVE_CHECKS);
}

/** Is this bundle this env's, with its plan file intact (what review shows is what gets approved)? */
export function decideReview(facts: ReviewFacts): Decision {
  return decideBundle(facts, REVIEW_CHECKS);
}

/** May this env be planned from this checkout (the promotion gate)? */
export function decidePlan(facts: PlanFacts): Decision {
  return C.runChecks(PLAN_CHECKS, facts, facts.env.name);
}

/** Did every earlier apply of the env record its outcome (checked before any plan or apply)? */
export function decideNoUnfinished(env: EnvFacts, bundles: readonly RecordedBundle[]): Decision {
  return C.runChecks([C.noUnfinishedApply], { env, bundles }, env.name);
}

/** May this env plan and apply in one step? */
export function decideAuto(env: EnvFacts): Decision {
  return C.runChecks([C.autoApplyAllowed], { env }, env.name);
}

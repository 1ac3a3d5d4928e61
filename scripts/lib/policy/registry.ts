/**
 * The policy rules, as data, in the order they run and are reported. Ids are stable: tests, the
 * exceptions file and CI logs refer to them. A new rule is one file in rules/, one line here, one
 * row in RULES.md, and its id in the pinned list of __tests__/unit/policy-registry.test.ts.
 */
import { dbDeletionProtection } from "./rules/db-deletion-protection";
import { encryptionAtRest } from "./rules/encryption-at-rest";
import { envTag } from "./rules/env-tag";
import { instanceType } from "./rules/instance-type";
import { openIngress } from "./rules/open-ingress";
import { plaintextSecret } from "./rules/plaintext-secret";
import { statefulDestroy } from "./rules/stateful-destroy";
import type { PolicyLevel } from "./types";
import type { PolicyRule } from "./types";

export const RULES: readonly PolicyRule[] = [
  statefulDestroy,
  dbDeletionProtection,
  envTag,
  openIngress,
  encryptionAtRest,
  instanceType,
  plaintextSecret,
];

/** Findings the evaluator itself reports (not rules of the plan, but refusals all the same). */
export interface MetaRule {
  readonly id: string;
  readonly level: PolicyLevel;
  readonly info: string;
  readonly fix: string;
}

/** A rule threw: the plan is not proven compliant, so it is refused (fail closed). */
export const RULE_ERROR: MetaRule = {
  id: "POLICY-RULE-ERROR",
  level: "error",
  info: "A policy rule failed to run; the plan is not proven compliant.",
  fix: "Read the error in `found`: a plan shape the rule does not understand is a bug in the rule (fix it in scripts/lib/policy/rules/); never skip the rule.",
};

/** The document is not a `terraform show -json` plan. */
export const PLAN_UNREADABLE: MetaRule = {
  id: "POLICY-PLAN-UNREADABLE",
  level: "error",
  info: "The plan JSON is not a usable `terraform show -json` document (lib/plan: not an object, no format_version, a malformed list or action, errored, or incomplete).",
  fix: "Pass the output of `terraform show -json <planfile>` of the bundle; run `promote plan <env>` again if it is missing or truncated.",
};

/** An exception names an unknown rule, has no reason, or is malformed. */
export const EXCEPTION_INVALID: MetaRule = {
  id: "POLICY-EXCEPTION-INVALID",
  level: "error",
  info: "A policy exception is malformed: it needs a known rule id, an address and a non-empty reason.",
  fix: "Fix the entry in policy-exceptions.json: { \"rule\": \"POLICY-...\", \"address\": \"aws_x.y\", \"reason\": \"why this is acceptable\" }.",
};

/** An exception matched no finding: stale, or mistyped (and then the finding it meant still blocks). */
export const EXCEPTION_UNUSED: MetaRule = {
  id: "POLICY-EXCEPTION-UNUSED",
  level: "warning",
  info: "A policy exception matched no finding of this plan.",
  fix: "Remove the exception once the change it allowed is applied, or correct its rule id or address.",
};

export const META_RULES: readonly MetaRule[] = [RULE_ERROR, PLAN_UNREADABLE, EXCEPTION_INVALID, EXCEPTION_UNUSED];

/** Every id this module can report: the rules, then the evaluator's own. */
export const ALL_IDS: readonly string[] = [...RULES.map((r) => r.id), ...META_RULES.map((m) => m.id)];

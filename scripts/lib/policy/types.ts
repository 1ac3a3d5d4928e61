/**
 * The shapes the policy checks read and return. The plan is the output of
 * `terraform show -json <planfile>`, parsed by lib/plan (its one model); values stay `unknown` and are
 * read defensively (a check that meets a shape it cannot read throws, and the evaluator turns that into
 * a POLICY-RULE-ERROR refusal: fail closed).
 */
import type { EnvConfig } from "../../../envs/schema";

// ---------------------------------------------------------------------------------------------
// The plan JSON: lib/plan's one model of terraform show -json
// ---------------------------------------------------------------------------------------------

export type { ConfigExpression, ConfigModule, ConfigResource, Plan as PlanJson, PlanAction, ResourceChange } from "../plan";
import type { Plan } from "../plan";

// ---------------------------------------------------------------------------------------------
// Inputs besides the plan
// ---------------------------------------------------------------------------------------------

/** A recorded decision to accept one finding of one rule on one resource. */
export interface PolicyException {
  /** The rule waived, e.g. POLICY-STATEFUL-DESTROY. */
  readonly rule: string;
  /** The exact resource address from the plan, e.g. aws_s3_bucket.logs. */
  readonly address: string;
  /** Why it is acceptable; required, and copied into the finding. */
  readonly reason: string;
  /** Only for this environment. @default - every environment */
  readonly env?: string;
}

export interface PolicyOptions {
  /** Recorded exceptions (see exceptions.ts for the file format). @default [] */
  readonly exceptions?: readonly PolicyException[];
  /** Problems met while reading the exceptions file (exceptions.ts); each is an error finding. @default [] */
  readonly exceptionProblems?: readonly string[];
  /**
   * Whether destroying or replacing a stateful resource is an error in this env.
   * @default - the env config's `delivery.protectStateful`
   */
  readonly protectStateful?: boolean;
  /** The rules to run (tests run a broken rule this way). @default - the registry's RULES */
  readonly rules?: readonly PolicyRule[];
}

/** What a check sees: the plan, the env's config and the resolved options. */
export interface PolicyContext {
  /** Parsed by lib/plan (the evaluator refuses a document it cannot parse). */
  readonly plan: Plan;
  readonly env: EnvConfig;
  readonly protectStateful: boolean;
}

// ---------------------------------------------------------------------------------------------
// Rules and their results
// ---------------------------------------------------------------------------------------------

export type PolicyLevel = "error" | "warning";

/** One thing a check found wrong. Never carries a secret value. */
export interface Violation {
  /** The resource address from the plan. */
  readonly address: string;
  /** The attribute path, e.g. tags_all.environment or ingress[0].cidr_blocks. */
  readonly attribute: string;
  readonly expected: string;
  readonly found: string;
  /** Lowers this one violation below the rule's level (e.g. a destroy in an unprotected env). */
  readonly level?: "warning";
}

/** What a check returns, after cdk-nag: pass, fail (with what failed) or not applicable. */
export type CheckResult =
  | { readonly status: "pass" }
  | { readonly status: "not-applicable" }
  | { readonly status: "fail"; readonly violations: readonly Violation[] };

/** One rule: data plus one pure check. The id is stable; tests match ids, not wording. */
export interface PolicyRule {
  readonly id: string;
  readonly level: PolicyLevel;
  /** One line: what the rule requires. */
  readonly info: string;
  /** Why it exists. */
  readonly explanation: string;
  /** What to do about a finding. */
  readonly fix: string;
  readonly check: (ctx: PolicyContext) => CheckResult;
}

/** One result line of an evaluation. */
export interface Finding {
  readonly id: string;
  readonly level: PolicyLevel;
  readonly address: string;
  readonly attribute: string;
  readonly expected: string;
  readonly found: string;
  readonly info: string;
  readonly fix: string;
  /** Present when a recorded exception accepts this finding; it then blocks nothing. */
  readonly waived?: { readonly reason: string };
}

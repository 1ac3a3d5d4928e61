/**
 * The evaluator: runs every rule over a `terraform show -json` plan, applies recorded exceptions,
 * and fails closed (a rule that throws is a POLICY-RULE-ERROR refusal, an unreadable plan a
 * POLICY-PLAN-UNREADABLE one). Pure: reads nothing from disk, decides nothing but findings.
 */
import type { EnvConfig } from "../../../envs/schema";
import { parsePlan, PlanJsonError, type Plan } from "../plan";
import { EXCEPTION_INVALID, EXCEPTION_UNUSED, MetaRule, PLAN_UNREADABLE, RULE_ERROR, RULES } from "./registry";
import type { Finding, PolicyContext, PolicyException, PolicyOptions, PolicyRule } from "./types";

/** Whether destroying or replacing a stateful resource is an error in this env (`delivery.protectStateful`). */
export function protectsStateful(env: EnvConfig): boolean {
  return env.delivery.protectStateful;
}

function meta(rule: MetaRule, address: string, attribute: string, expected: string, found: string): Finding {
  return { id: rule.id, level: rule.level, address, attribute, expected, found, info: rule.info, fix: rule.fix };
}

function runRule(rule: PolicyRule, ctx: PolicyContext): Finding[] {
  try {
    const result = rule.check(ctx);
    if (!result || !["pass", "fail", "not-applicable"].includes(result.status)) {
      throw new Error(`returned ${JSON.stringify(result)}, expected a pass / fail / not-applicable result`);
    }
    if (result.status !== "fail") return [];
    if (!Array.isArray(result.violations) || result.violations.length === 0) throw new Error("failed without naming a violation");
    return result.violations.map((v) => ({
      id: rule.id,
      level: v.level ?? rule.level,
      address: v.address,
      attribute: v.attribute,
      expected: v.expected,
      found: v.found,
      info: rule.info,
      fix: rule.fix,
    }));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return [meta(RULE_ERROR, "(plan)", rule.id, `rule ${rule.id} runs to a result`, `it threw: ${message}`)];
  }
}

/** Every finding of every rule on this plan, for this env, with exceptions applied. */
export function evaluatePolicies(planJson: unknown, env: EnvConfig, options: PolicyOptions = {}): Finding[] {
  const rules = options.rules ?? RULES;
  const findings: Finding[] = (options.exceptionProblems ?? []).map((p) =>
    meta(EXCEPTION_INVALID, "(exceptions)", "exceptions", "a valid exception entry", p),
  );

  // Exceptions: known rule, address, reason; for this env (or every env).
  const ruleIds = new Set(rules.map((r) => r.id));
  const usable: PolicyException[] = [];
  for (const x of options.exceptions ?? []) {
    if (!ruleIds.has(x.rule) || !x.address || typeof x.reason !== "string" || x.reason.trim() === "") {
      findings.push(
        meta(EXCEPTION_INVALID, x.address || "(exceptions)", "exceptions", "a known rule id, an address and a reason", JSON.stringify(x)),
      );
    } else if (x.env === undefined || x.env === env.name) {
      usable.push(x);
    }
  }

  let plan: Plan;
  try {
    plan = parsePlan(planJson);
  } catch (e) {
    if (!(e instanceof PlanJsonError)) throw e;
    return [...findings, meta(PLAN_UNREADABLE, "(plan)", "format_version", "a terraform show -json plan document", e.found)];
  }

  const ctx: PolicyContext = {
    plan,
    env,
    protectStateful: options.protectStateful ?? protectsStateful(env),
  };
  const used = new Set<PolicyException>();
  for (const rule of rules) {
    for (const f of runRule(rule, ctx)) {
      const x = usable.find((e) => e.rule === f.id && e.address === f.address);
      if (x) used.add(x);
      findings.push(x ? { ...f, waived: { reason: x.reason.trim() } } : f);
    }
  }
  for (const x of usable.filter((e) => !used.has(e))) {
    findings.push(meta(EXCEPTION_UNUSED, x.address, x.rule, "a finding of this rule on this address", "none in this plan"));
  }
  return findings;
}

/** True when any error-level finding is not waived: approval (and apply) must be refused. */
export function blocksApproval(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.level === "error" && !f.waived);
}

/** Counts for summaries and manifests. */
export function countFindings(findings: readonly Finding[]): { errors: number; warnings: number; waived: number } {
  return {
    errors: findings.filter((f) => f.level === "error" && !f.waived).length,
    warnings: findings.filter((f) => f.level === "warning" && !f.waived).length,
    waived: findings.filter((f) => f.waived).length,
  };
}

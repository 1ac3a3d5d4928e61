/**
 * Policies on a `terraform show -json` plan. The engine calls:
 *
 *   const { exceptions, problems } = readExceptions(join(root, POLICY_EXCEPTIONS_FILE));
 *   const findings = evaluatePolicies(planJson, env, { exceptions, exceptionProblems: problems });
 *   process.stdout.write(formatFindings(findings));
 *   if (blocksApproval(findings)) refuse("POLICY-...", ...);
 */
export { evaluatePolicies, blocksApproval, countFindings, protectsStateful } from "./evaluate";
export { formatFindings, formatFindingsMarkdown } from "./format";
export { parseExceptions, readExceptions, POLICY_EXCEPTIONS_FILE } from "./exceptions";
export type { ParsedExceptions } from "./exceptions";
export { RULES, META_RULES, ALL_IDS, RULE_ERROR, PLAN_UNREADABLE, EXCEPTION_INVALID, EXCEPTION_UNUSED } from "./registry";
export type { Finding, PlanJson, PolicyException, PolicyLevel, PolicyOptions, PolicyRule, CheckResult, Violation } from "./types";

/**
 * POLICY-STATEFUL-DESTROY: no destroy or replace of a resource that holds data, in an env that
 * protects its stateful resources. In other envs the same change is reported as a warning, so a
 * reviewer still sees it.
 */
import { isStateful } from "../../plan/catalogue";
import { isDestroy, isReplace, managedChanges } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, Violation } from "../types";

/** Resource types whose destruction loses data: the resource catalogue's (lib/plan/catalogue.ts). */
export { STATEFUL_TYPES } from "../../plan/catalogue";

function check(ctx: PolicyContext): CheckResult {
  const violations: Violation[] = [];
  let stateful = 0;
  for (const rc of managedChanges(ctx.plan)) {
    if (!isStateful(rc.type)) continue;
    stateful++;
    const { actions } = rc.change;
    const replace = isReplace(actions);
    if (!replace && !isDestroy(actions)) continue;
    const why = (rc.change.replace_paths ?? []).map((p) => p.join(".")).join(", ");
    violations.push({
      address: rc.address,
      attribute: replace ? why || "(replace)" : "(resource)",
      expected: "kept (no-op, update or create)",
      found: replace
        ? `replace [${actions.join(", ")}]${why ? ` forced by ${why}` : ""}${rc.action_reason ? ` (${rc.action_reason})` : ""}`
        : `destroy${rc.action_reason ? ` (${rc.action_reason})` : ""}`,
      ...(ctx.protectStateful ? {} : { level: "warning" as const }),
    });
  }
  if (stateful === 0) return { status: "not-applicable" };
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const statefulDestroy: PolicyRule = {
  id: "POLICY-STATEFUL-DESTROY",
  level: "error",
  info: "No destroy or replace of a stateful resource (database, cache, bucket, table, secret, file system, key ...) in an env that protects stateful resources.",
  explanation:
    "A destroy or a replace of a resource that holds data loses that data (a replace is a destroy followed by an empty create). " +
    "In envs that protect stateful resources it is an error; elsewhere a warning, so the reviewer still sees it.",
  fix:
    "Change the code so terraform updates in place (look at the attribute that forces replacement), move the resource with a " +
    "`moved` block or `terraform state mv`, or record an exception { rule, address, reason } in policy-exceptions.json when losing the data is intended.",
  check,
};

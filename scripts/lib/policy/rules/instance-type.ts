/**
 * POLICY-INSTANCE-TYPE: every EC2 instance type in the plan (launch templates, launch
 * configurations, instances, autoscaling overrides) is one of the env's app.allowedInstanceTypes.
 */
import { afterOf, asList, firstBlock, isObject, isUnknown, resultingResources, show, UNKNOWN } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, ResourceChange, Violation } from "../types";

const DIRECT = ["aws_launch_template", "aws_launch_configuration", "aws_instance", "aws_spot_instance_request"];

/** Every (attribute path, value) of an instance type a resource sets; null/absent ones are skipped. */
function instanceTypes(rc: ResourceChange): { attribute: string; value: unknown }[] {
  const after = afterOf(rc);
  if (DIRECT.includes(rc.type)) {
    if (isUnknown(rc, ["instance_type"])) return [{ attribute: "instance_type", value: UNKNOWN }];
    return after.instance_type === null || after.instance_type === undefined ? [] : [{ attribute: "instance_type", value: after.instance_type }];
  }
  if (rc.type === "aws_autoscaling_group") {
    if (isUnknown(rc, ["mixed_instances_policy"])) return [];
    const overrides = asList(firstBlock(firstBlock(after.mixed_instances_policy).launch_template).override);
    return overrides
      .map((o, i) => ({ attribute: `mixed_instances_policy[0].launch_template[0].override[${i}].instance_type`, value: isObject(o) ? o.instance_type : undefined }))
      .filter((o) => o.value !== null && o.value !== undefined && o.value !== "");
  }
  return [];
}

function check(ctx: PolicyContext): CheckResult {
  const allowed = ctx.env.app.allowedInstanceTypes;
  const violations: Violation[] = [];
  let applicable = false;
  for (const rc of resultingResources(ctx.plan, [...DIRECT, "aws_autoscaling_group"])) {
    for (const { attribute, value } of instanceTypes(rc)) {
      applicable = true;
      if (typeof value === "string" && value !== UNKNOWN && allowed.includes(value)) continue;
      violations.push({
        address: rc.address,
        attribute,
        expected: `one of ${allowed.join(", ")} (envs/${ctx.env.name}: app.allowedInstanceTypes)`,
        found: value === UNKNOWN ? UNKNOWN : show(value),
      });
    }
  }
  if (!applicable) return { status: "not-applicable" };
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const instanceType: PolicyRule = {
  id: "POLICY-INSTANCE-TYPE",
  level: "error",
  info: "EC2 instance types are among the env's app.allowedInstanceTypes.",
  explanation:
    "The allowed list bounds cost and capacity per env (and keeps dev from running prod-sized machines, or prod from running burstable ones); " +
    "a type outside it is a typo, a copy from another env, or a change that needs a config review.",
  fix: "Use a type from app.allowedInstanceTypes, or add the type to that list in envs/<env>.ts in a reviewed commit.",
  check,
};

/**
 * POLICY-ENV-TAG: every taggable resource carries `environment = <env name>` in `tags_all` (its own
 * tags merged with the provider's default_tags), so cost, access and incident tooling can tell
 * environments apart.
 */
import { afterOf, isObject, isUnknown, resultingResources, show, UNKNOWN } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, Violation } from "../types";

export const ENV_TAG_KEY = "environment";

function check(ctx: PolicyContext): CheckResult {
  const violations: Violation[] = [];
  let taggable = 0;
  for (const rc of resultingResources(ctx.plan)) {
    const after = afterOf(rc);
    const unknownTags = isUnknown(rc, ["tags_all"]);
    // A resource is taggable when its schema has tags_all: present in the planned values or unknown.
    if (!("tags_all" in after) && !unknownTags) continue;
    taggable++;
    const attribute = `tags_all.${ENV_TAG_KEY}`;
    const expected = JSON.stringify(ctx.env.name);
    if (unknownTags || isUnknown(rc, ["tags_all", ENV_TAG_KEY])) {
      const own = isObject(after.tags) ? after.tags[ENV_TAG_KEY] : undefined;
      if (own === ctx.env.name) continue; // set on the resource itself: known even if tags_all is not
      violations.push({ address: rc.address, attribute, expected, found: UNKNOWN });
      continue;
    }
    const value = isObject(after.tags_all) ? after.tags_all[ENV_TAG_KEY] : undefined;
    if (value !== ctx.env.name) violations.push({ address: rc.address, attribute, expected, found: show(value) });
  }
  if (taggable === 0) return { status: "not-applicable" };
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const envTag: PolicyRule = {
  id: "POLICY-ENV-TAG",
  level: "error",
  info: "Every taggable resource carries the `environment` tag equal to the env name (in tags_all, default_tags included).",
  explanation:
    "Cost reports, IAM conditions, alarms and incident tooling tell environments apart by this tag; a resource without it, " +
    "or with another env's name, is invisible to them or attributed to the wrong environment.",
  fix: "Set the tag through the provider's default_tags in the env stack (never per resource), and do not override `environment` in a resource's own tags.",
  check,
};

/**
 * The resource catalogue (scripts/lib/plan/catalogue.ts) against the real stacks: every committed env's
 * EnvironmentStack and BootstrapStack is synthesized; every resource type in them must be in the
 * catalogue, and for every one the manifest's stateful flag (summarizePlan's destructive list, copied into
 * manifest.json) and POLICY-STATEFUL-DESTROY agree, on a destroy and on a replace of every resource.
 * The catalogue's `priced` agrees with what the cost estimate prices.
 */
import { evaluatePolicies } from "../../scripts/lib/policy";
import { estimateMonthlyCost } from "../../scripts/lib/cost/estimate";
import { summarizePlan } from "../../scripts/lib/engine/core/summary";
import { CATALOGUE, catalogueEntry, isStateful, STATEFUL_TYPES } from "../../scripts/lib/plan/catalogue";
import type { Plan, ResourceChange } from "../../scripts/lib/plan";
import { committedEnvironments, parse, synthBootstrap, synthEnvironment, type TfJson } from "../helpers/stacks";

const environments = committedEnvironments();

/** Every managed resource of a synthesized stack, as (type, name). */
const resourcesIn = (tf: TfJson) => Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => ({ type, name })));

/** A plan that applies `actions` to every resource of the stack. */
function planDoing(tf: TfJson, actions: string[]): Plan {
  const resource_changes: ResourceChange[] = resourcesIn(tf).map(({ type, name }) => ({
    address: `${type}.${name}`,
    mode: "managed",
    type,
    name,
    change: { actions, before: { id: "x" }, after: actions.includes("create") ? { id: "y" } : null },
  }));
  return { format_version: "1.2", terraform_version: "1.11.4", resource_changes };
}

const stacks = environments.flatMap((env) => [
  { label: `${env.name} EnvironmentStack`, env, tf: parse(synthEnvironment(env)) },
  { label: `${env.name} BootstrapStack`, env, tf: parse(synthBootstrap(env)) },
]);

describe.each(stacks.map((s) => [s.label, s] as const))("the %s", (_label, { env, tf }) => {
  it("uses only resource types the catalogue lists", () => {
    const types = [...new Set(resourcesIn(tf).map((r) => r.type))].sort();
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((t) => catalogueEntry(t) === undefined)).toEqual([]);
  });

  it.each([
    ["a destroy", ["delete"]],
    ["a replace", ["delete", "create"]],
    ["a create-before-destroy replace", ["create", "delete"]],
  ])("gets the same stateful verdict from the manifest and POLICY-STATEFUL-DESTROY on %s of every resource", (_what, actions) => {
    const plan = planDoing(tf, actions);
    const manifest = new Map(summarizePlan(plan).destructive.map((d) => [d.address, d.stateful]));
    const gated = new Set(
      evaluatePolicies(plan, env, { protectStateful: true })
        .filter((f) => f.id === "POLICY-STATEFUL-DESTROY")
        .map((f) => f.address),
    );
    const disagree: string[] = [];
    for (const rc of plan.resource_changes ?? []) {
      expect(manifest.has(rc.address)).toBe(true);
      if (manifest.get(rc.address) !== gated.has(rc.address)) disagree.push(`${rc.type}: manifest ${manifest.get(rc.address)}, gate ${gated.has(rc.address)}`);
      expect(manifest.get(rc.address)).toBe(isStateful(rc.type));
    }
    expect(disagree).toEqual([]);
  });
});

describe("the catalogue's decisions", () => {
  it("holds the stateful types of the stacks", () => {
    const inStacks = new Set(stacks.flatMap((s) => resourcesIn(s.tf).map((r) => r.type)));
    const statefulInStacks = [...inStacks].filter(isStateful).sort();
    expect(statefulInStacks).toEqual(
      expect.arrayContaining(["aws_cloudwatch_log_group", "aws_db_instance", "aws_dynamodb_table", "aws_elasticache_replication_group", "aws_s3_bucket", "aws_secretsmanager_secret"]),
    );
  });

  it("settles the two old lists' disagreement: a queue holds messages; a generated password and an SSM parameter from code do not hold data", () => {
    expect(isStateful("aws_sqs_queue")).toBe(true);
    expect(isStateful("random_password")).toBe(false);
    expect(isStateful("aws_ssm_parameter")).toBe(false);
    expect(catalogueEntry("random_password")?.secret).toBe("all");
    expect(catalogueEntry("random_password")?.newIdentity).toBe(true);
    expect(STATEFUL_TYPES.every((t) => catalogueEntry(t)?.data)).toBe(true);
  });

  it("says priced exactly for the types the cost estimate prices", () => {
    const wrong: string[] = [];
    for (const [type, entry] of Object.entries(CATALOGUE)) {
      const est = estimateMonthlyCost([{ address: `${type}.x`, type, values: {} }]);
      const priced = est.items.length > 0 || est.notPriced.some((u) => !/is not in prices\.json/.test(u.reason));
      if (priced !== entry.priced) wrong.push(`${type}: catalogue ${entry.priced}, cost estimate ${priced}`);
    }
    expect(wrong).toEqual([]);
  });
});

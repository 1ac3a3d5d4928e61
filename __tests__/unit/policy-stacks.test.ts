/**
 * The policies against what the real stacks produce: each committed env's EnvironmentStack is
 * synthesized and turned into a plan-like document (fixtures/plans/from-synth.ts: every resource a
 * create, interpolations unknown, tags_all from default_tags). The real `terraform show -json` of a
 * plan is checked by the engine's integration tests; this one catches a construct change that a
 * policy would refuse, before anything is planned.
 *
 */
import { Testing } from "cdktf";
import { ENVIRONMENTS, loadEnvironments } from "../../envs";
import { evaluatePolicies } from "../../scripts/lib/policy";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { targetFromEnv } from "../../stacks/target";
import { planFromSynth } from "../fixtures/plans/from-synth";


/** cdktf's address suffix (_0A1B2C3D) is a hash of the construct path: dropped for readability. */
const withoutHash = (address: string) => address.replace(/_[0-9A-F]{8}$/, "");

const environments = loadEnvironments(ENVIRONMENTS, {});

describe.each(environments.map((e) => [e.name, e] as const))("the %s EnvironmentStack under the plan policies", (name, env) => {
  const plan = planFromSynth(JSON.parse(Testing.synth(new EnvironmentStack(Testing.app(), env, targetFromEnv({})))));

  it("is synthesized into a plan-like document with every resource tagged by the provider", () => {
    expect(plan.resource_changes.length).toBeGreaterThan(30);
    const vpc = plan.resource_changes.find((c: { type: string }) => c.type === "aws_vpc");
    expect(vpc.change.after.tags_all.environment).toBe(name);
  });

  it("raises no finding", () => {
    const found = evaluatePolicies(plan, env).map((f) => `${f.id} ${withoutHash(f.address)}`);
    expect(found).toEqual([]);
  });
});

/** Synthesizes environment and bootstrap stacks for unit tests and reads the result as plain JSON. */
import { Testing } from "cdktf";
import { ENVIRONMENTS, loadEnvironments } from "../../envs";
import type { EnvConfig } from "../../envs/schema";
import { BootstrapStack } from "../../stacks/bootstrap-stack";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { DeployTarget, REPO_ROOT, targetFromEnv } from "../../stacks/target";

/** A synthesized stack (cdk.tf.json without cdktf's metadata). */
export interface TfJson {
  terraform: { backend?: Record<string, Record<string, unknown>>; required_providers: Record<string, { source: string; version: string }> };
  provider: Record<string, Array<Record<string, any>>>;
  resource: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  output?: Record<string, { value: unknown }>;
}

/** The real AWS target, whatever TARGET the test process was started with. */
export const AWS_TARGET: DeployTarget = targetFromEnv({});

/** The committed environments, validated, without ACCOUNT_ID_* overrides from the test process. */
export function committedEnvironments(): EnvConfig[] {
  return loadEnvironments(ENVIRONMENTS, {});
}

/** The synthesized JSON text of an env's EnvironmentStack. */
export function synthEnvironment(config: EnvConfig, target: DeployTarget = AWS_TARGET): string {
  const stack = new EnvironmentStack(Testing.app(), config, target);
  return Testing.synth(stack);
}

/** The synthesized JSON text of an env's BootstrapStack. */
export function synthBootstrap(config: EnvConfig, target: DeployTarget = AWS_TARGET): string {
  const stack = new BootstrapStack(Testing.app(), config, target);
  return Testing.synth(stack);
}

export function parse(json: string): TfJson {
  return JSON.parse(json) as TfJson;
}

/** All resources of one type, as a list (empty when there are none). */
export function resourcesOf(stack: TfJson, type: string): Array<Record<string, any>> {
  return Object.values(stack.resource[type] ?? {});
}

/** The one resource of a type; fails when there are none or several. */
export function onlyResource(stack: TfJson, type: string): Record<string, any> {
  const all = resourcesOf(stack, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** The stack with machine-dependent values (absolute checkout paths) replaced, for snapshots. */
export function masked(json: string): unknown {
  return JSON.parse(json.split(REPO_ROOT).join("<repo>"));
}

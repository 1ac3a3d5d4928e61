/**
 * `terraform init` + `terraform validate` on the synthesized stacks, offline: providers come from the
 * project's filesystem mirrors (TF_CLI_CONFIG_FILE, set by helpers/jest-env.ts) and init skips the
 * backend (TF_CLI_ARGS_init=-backend=false), since validation must not reach any state bucket.
 */
import "cdktf/lib/testing/adapters/jest";
import { rmSync } from "node:fs";
import { Testing, TerraformStack } from "cdktf";
import type { EnvConfig } from "../../envs/schema";
import { BootstrapStack } from "../../stacks/bootstrap-stack";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { DeployTarget, targetFromEnv } from "../../stacks/target";
import { AWS_TARGET, committedEnvironments } from "../helpers/stacks";

Testing.setupJest();
jest.setTimeout(180_000);

const envs = committedEnvironments();
const LOCAL_TARGET = targetFromEnv({ TARGET: "local", LOCAL_ENDPOINT: "http://127.0.0.1:4599", LOCAL_STATE_DIR: "/tmp/validity-state" });
const outdirs: string[] = [];
const previousInitArgs = process.env.TF_CLI_ARGS_init;

beforeAll(() => {
  process.env.TF_CLI_ARGS_init = "-backend=false -input=false";
});
afterAll(() => {
  if (previousInitArgs === undefined) delete process.env.TF_CLI_ARGS_init;
  else process.env.TF_CLI_ARGS_init = previousInitArgs;
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function fullSynth(make: (app: ReturnType<typeof Testing.app>) => TerraformStack): string {
  const dir = Testing.fullSynth(make(Testing.app()));
  outdirs.push(dir);
  return dir;
}

it("the project's CLI config is in effect (offline provider mirrors)", () => {
  expect(process.env.TF_CLI_CONFIG_FILE).toMatch(/\.local\/terraformrc$/);
});

it.each(envs.map((e) => [e.name, e] as const))("environment stack %s is valid terraform", (_name, config: EnvConfig) => {
  expect(fullSynth((app) => new EnvironmentStack(app, config, AWS_TARGET))).toBeValidTerraform();
});

it("environment stack dev for the local emulator is valid terraform (endpoint names checked by the provider schema)", () => {
  expect(fullSynth((app) => new EnvironmentStack(app, envs[0], LOCAL_TARGET as DeployTarget))).toBeValidTerraform();
});

it("bootstrap stack dev is valid terraform", () => {
  expect(fullSynth((app) => new BootstrapStack(app, envs[0], AWS_TARGET))).toBeValidTerraform();
});

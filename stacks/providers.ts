/**
 * Provider and backend settings shared by every stack: the env's account reached through its deploy
 * role, allowed_account_ids, default tags, the target's endpoints and credentials, and provider versions
 * pinned from scripts/toolchain.json (the one place they are written).
 */
import { S3Backend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { EnvConfig } from "../envs/schema";
import { REPOSITORY } from "../envs/release";
import toolchain from "../scripts/toolchain.json";
import type { DeployTarget } from "./target";

/** The ARN of a role named `roleName` in `config`'s account. */
export function roleArn(config: EnvConfig, roleName: string): string {
  return `arn:aws:iam::${config.account.id}:role/${roleName}`;
}

/** The IAM role every terraform call of an env assumes. */
export function deployRoleArn(config: EnvConfig): string {
  return roleArn(config, config.account.deployRoleName);
}

/** The role the bootstrap stack assumes (one that exists in a fresh account: the deploy role is bootstrap's to create). */
export function bootstrapRoleArn(config: EnvConfig): string {
  return roleArn(config, config.account.bootstrapRoleName);
}

/** The tags every resource of an env carries (through the provider's default_tags). */
export function defaultTags(config: EnvConfig): Record<string, string> {
  return { ...config.tags, environment: config.name, "managed-by": "cdktf", repository: REPOSITORY };
}

/** An AWS provider for `config`'s account: assume_role into its deploy role, only its account allowed. */
export function awsProvider(
  stack: TerraformStack,
  config: EnvConfig,
  target: DeployTarget,
  options: { readonly id?: string; readonly alias?: string; readonly region?: string; readonly roleArn?: string } = {},
): AwsProvider {
  return new AwsProvider(stack, options.id ?? "aws", {
    alias: options.alias,
    region: options.region ?? config.region,
    allowedAccountIds: [config.account.id],
    assumeRole: [{ roleArn: options.roleArn ?? deployRoleArn(config), sessionName: `terraform-${config.name}` }],
    defaultTags: [{ tags: defaultTags(config) }],
    ...target.providerSettings,
  });
}

/** The random provider (generated secrets). */
export function randomProvider(stack: TerraformStack): RandomProvider {
  return new RandomProvider(stack, "random");
}

/** The env's own S3 state backend, reached through the env's deploy role (or `options.roleArn`, at `options.key`). */
export function s3Backend(
  stack: TerraformStack,
  config: EnvConfig,
  target: DeployTarget,
  options: { readonly key?: string; readonly roleArn?: string } = {},
): S3Backend {
  return new S3Backend(stack, {
    bucket: config.stateBackend.bucket,
    key: options.key ?? config.stateBackend.key,
    region: config.region,
    dynamodbTable: config.stateBackend.lockTable,
    encrypt: true,
    allowedAccountIds: [config.account.id],
    assumeRole: { roleArn: options.roleArn ?? deployRoleArn(config), sessionName: `terraform-${config.name}` },
    ...target.backendSettings,
  });
}

/**
 * Pins the providers a stack uses to the versions in scripts/toolchain.json (the bindings carry their own
 * constraints, e.g. random 3.7.2, which the project's mirrors do not hold).
 */
export function pinProviderVersions(stack: TerraformStack, providers: ReadonlyArray<keyof typeof toolchain.providers>): void {
  for (const name of providers) {
    stack.addOverride(`terraform.required_providers.${name}.version`, toolchain.providers[name].version);
  }
}

/**
 * The one place that knows where stacks are deployed: real AWS, or the local emulator (moto's server).
 * Only endpoints and credentials differ between targets; accounts, roles, allowed_account_ids, regions
 * and names are the same, so a plan against the emulator exercises the same configuration as AWS.
 *
 *   TARGET unset or "aws"  real AWS: no endpoints, credentials from the caller's usual chain
 *   TARGET=local           every service at LOCAL_ENDPOINT (e.g. http://127.0.0.1:4599), keys test/test
 */
import { join, resolve } from "node:path";
import type { AwsProviderConfig, AwsProviderEndpoints } from "@cdktf/provider-aws/lib/provider";
import type { S3BackendConfig } from "cdktf";

/** The repository root (this file is stacks/target.ts or dist/stacks/target.js). */
export const REPO_ROOT = resolve(__dirname, __dirname.includes(join("dist", "stacks")) ? "../.." : "..");

/**
 * Every AWS service the stacks use (provider `endpoints` keys), plus sts and iam which the provider
 * itself calls to assume the deploy role and check the account.
 */
export const AWS_SERVICES = [
  "autoscaling",
  "budgets",
  "cloudfront",
  "cloudwatch",
  "dynamodb",
  "ec2",
  "elasticache",
  "elbv2",
  "iam",
  "kms",
  "logs",
  "rds",
  "route53",
  "s3",
  "secretsmanager",
  "sns",
  "ssm",
  "sts",
  "wafv2",
] as const satisfies readonly (keyof AwsProviderEndpoints)[];

/** Services the S3 backend calls (state objects, lock table, role assumption). */
export const BACKEND_SERVICES = ["s3", "dynamodb", "sts", "iam"] as const;

/** Provider arguments a target adds (never region, roles or allowed accounts: those come from config). */
export type TargetProviderSettings = Pick<
  AwsProviderConfig,
  "accessKey" | "secretKey" | "endpoints" | "s3UsePathStyle" | "skipRegionValidation" | "skipMetadataApiCheck"
>;

/** S3 backend arguments a target adds. */
export type TargetBackendSettings = Pick<
  S3BackendConfig,
  "accessKey" | "secretKey" | "endpoints" | "usePathStyle" | "skipRegionValidation" | "skipMetadataApiCheck"
>;

export interface DeployTarget {
  /** "aws" or "local". */
  readonly kind: "aws" | "local";
  /** The emulator's URL; null for real AWS. */
  readonly endpoint: string | null;
  /** Added to every AWS provider of every stack. */
  readonly providerSettings: TargetProviderSettings;
  /** Added to every S3 backend. */
  readonly backendSettings: TargetBackendSettings;
  /** Absolute path of an environment's bootstrap-stack state (outside cdktf.out, never wiped by a synth). */
  bootstrapStatePath(envName: string): string;
}

/** Thrown when TARGET / LOCAL_ENDPOINT / LOCAL_STATE_DIR cannot be used. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/** The emulator's fixed credentials (moto accepts any; these are its documented ones). */
const LOCAL_CREDENTIALS = { accessKey: "test", secretKey: "test" } as const;

function parseEndpoint(raw: string | undefined): string {
  const example = "e.g. LOCAL_ENDPOINT=http://127.0.0.1:4599";
  if (raw === undefined || raw.trim() === "") {
    throw new TargetError(`TARGET=local needs LOCAL_ENDPOINT (the emulator's URL, ${example}), but it is not set`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetError(`LOCAL_ENDPOINT must be an http(s) URL (${example}), but "${raw}" was provided`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new TargetError(`LOCAL_ENDPOINT must be an http(s) URL with a host and no path (${example}), but "${raw}" was provided`);
  }
  return `${url.protocol}//${url.host}`;
}

/** Reads the target from the environment: TARGET, LOCAL_ENDPOINT and LOCAL_STATE_DIR. */
export function targetFromEnv(vars: NodeJS.ProcessEnv = process.env): DeployTarget {
  const kind = vars.TARGET === undefined || vars.TARGET === "" ? "aws" : vars.TARGET;
  if (kind === "aws") {
    return {
      kind: "aws",
      endpoint: null,
      providerSettings: {},
      backendSettings: {},
      bootstrapStatePath: (env) => join(REPO_ROOT, "bootstrap-state", `${env}.tfstate`),
    };
  }
  if (kind !== "local") {
    throw new TargetError(`TARGET must be "aws" (or unset) or "local", but "${kind}" was provided`);
  }
  const endpoint = parseEndpoint(vars.LOCAL_ENDPOINT);
  const stateDirRaw = vars.LOCAL_STATE_DIR;
  const stateDir =
    stateDirRaw === undefined || stateDirRaw === ""
      ? join(REPO_ROOT, ".local", "emulator-state")
      : resolve(stateDirRaw); // a relative LOCAL_STATE_DIR is relative to the caller's directory
  const endpoints = Object.fromEntries(AWS_SERVICES.map((s) => [s, endpoint])) as AwsProviderEndpoints;
  return {
    kind: "local",
    endpoint,
    providerSettings: {
      ...LOCAL_CREDENTIALS,
      endpoints: [endpoints],
      s3UsePathStyle: true,
      skipRegionValidation: true,
      skipMetadataApiCheck: "true",
    },
    backendSettings: {
      ...LOCAL_CREDENTIALS,
      endpoints: Object.fromEntries(BACKEND_SERVICES.map((s) => [s, endpoint])),
      usePathStyle: true,
      skipRegionValidation: true,
      skipMetadataApiCheck: true,
    },
    bootstrapStatePath: (env) => join(stateDir, `bootstrap-${env}.tfstate`),
  };
}

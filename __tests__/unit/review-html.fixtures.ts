/**
 * A crafted plan (the shape of `terraform show -json`) and review data for the review page's tests:
 * a stateful database replaced, a bucket destroyed, secrets in several disguises, an instance type
 * change that moves the cost, and text that must be escaped.
 */
import { estimatePlanDelta, type CostPlanJson } from "../../scripts/lib/cost/estimate";
import { summarizePlan, type PlanJson } from "../../scripts/lib/engine/core/summary";
import type { ReviewManifest, ReviewPageData } from "../../scripts/lib/review/html";
import type { PolicyView } from "../../scripts/lib/review/source";

/** Values that must never reach the page. */
export const SECRETS = {
  dbPassword: "HUNTER2-db-password-7f3a",
  randomResult: "S3cr3t-R4nd0m-Result-91c2",
  secretString: "sekrit-json-payload-44e1",
  namedOnly: "plain-but-named-token-a9d0",
  sensitiveOutput: "output-secret-value-5b77",
} as const;

export const HOSTILE = `<script>alert("x")</script> & 'quotes'`;
export const PLAN_SHA256 = "3f5c0e0d1b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

export function craftedPlan(): PlanJson & CostPlanJson {
  return {
    format_version: "1.2",
    terraform_version: "1.11.4",
    resource_changes: [
      {
        address: "aws_db_instance.main",
        mode: "managed",
        type: "aws_db_instance",
        change: {
          actions: ["delete", "create"],
          before: { identifier: "dev-db", engine: "postgres", instance_class: "db.t3.small", allocated_storage: 20, multi_az: false, password: SECRETS.dbPassword, storage_type: "gp3" },
          after: { identifier: "dev-db-2", engine: "postgres", instance_class: "db.t3.medium", allocated_storage: 20, multi_az: false, password: SECRETS.dbPassword, storage_type: "gp3" },
          after_unknown: { id: true, arn: true },
          before_sensitive: { password: true },
          after_sensitive: { password: true },
          replace_paths: [["identifier"]],
        },
        action_reason: "replace_because_cannot_update",
      },
      {
        address: "aws_s3_bucket.old_logs",
        mode: "managed",
        type: "aws_s3_bucket",
        change: { actions: ["delete"], before: { bucket: "dev-old-logs-111111111111", force_destroy: false }, after: null, before_sensitive: {}, after_sensitive: false },
      },
      {
        address: "random_password.db",
        mode: "managed",
        type: "random_password",
        change: { actions: ["create"], before: null, after: { length: 32, special: true, result: SECRETS.randomResult }, after_unknown: { id: true }, after_sensitive: { result: true } },
      },
      {
        address: "aws_secretsmanager_secret_version.db",
        mode: "managed",
        type: "aws_secretsmanager_secret_version",
        change: {
          actions: ["update"],
          before: { secret_id: "dev/POSTGRES_PASSWORD", secret_string: "old-value" },
          after: { secret_id: "dev/POSTGRES_PASSWORD", secret_string: SECRETS.secretString },
          before_sensitive: { secret_string: true },
          after_sensitive: { secret_string: true },
        },
      },
      {
        address: "aws_launch_template.app",
        mode: "managed",
        type: "aws_launch_template",
        change: {
          actions: ["update"],
          before: { id: "lt-0123456789abcdef0", name: "dev-app", instance_type: "t3.small", latest_version: 3 },
          after: { id: "lt-0123456789abcdef0", name: "dev-app", instance_type: "t3.medium" },
          after_unknown: { latest_version: true },
          before_sensitive: {},
          after_sensitive: {},
        },
      },
      {
        address: "aws_autoscaling_group.app",
        mode: "managed",
        type: "aws_autoscaling_group",
        change: {
          actions: ["no-op"],
          before: { name: "dev-app", desired_capacity: 2, launch_template: [{ id: "lt-0123456789abcdef0", version: "3" }] },
          after: { name: "dev-app", desired_capacity: 2, launch_template: [{ id: "lt-0123456789abcdef0", version: "3" }] },
        },
      },
      {
        address: "aws_ssm_parameter.note",
        mode: "managed",
        type: "aws_ssm_parameter",
        change: {
          actions: ["create"],
          before: null,
          after: { name: "/dev/app/NOTE", type: "String", description: HOSTILE, tags: { note: HOSTILE }, api_token: SECRETS.namedOnly },
          after_unknown: { arn: true, version: true },
          after_sensitive: {},
        },
      },
    ],
    output_changes: {
      db_password: { actions: ["create"], before: null, after: SECRETS.sensitiveOutput, after_unknown: false, before_sensitive: false, after_sensitive: true },
      alb_dns: { actions: ["create"], before: null, after: "dev-alb.example.com", after_unknown: false, before_sensitive: false, after_sensitive: false },
    },
  } as PlanJson & CostPlanJson;
}

export function craftedManifest(overrides: Partial<ReviewManifest> = {}): ReviewManifest {
  return {
    id: "20301122T101500Z-abcdef0123-9f1e",
    env: "dev",
    git: { commit: "abcdef0123456789abcdef0123456789abcdef01", dirty: false },
    plan: { file: "plan.tfplan", sha256: PLAN_SHA256, bytes: 12345 },
    counts: { add: 2, change: 2, destroy: 2, replace: 1 },
    destructive: [
      { address: "aws_db_instance.main", type: "aws_db_instance", action: "replace", stateful: true },
      { address: "aws_s3_bucket.old_logs", type: "aws_s3_bucket", action: "delete", stateful: true },
    ],
    createdAt: "2030-11-22T10:15:00.000Z",
    expiresAt: "2030-11-23T10:15:00.000Z",
    createdBy: HOSTILE,
    terraform: { binary: "terraform", version: "1.11.4", providers: { "registry.terraform.io/hashicorp/aws": "5.100.0" } },
    backend: { type: "s3", bucket: "tfstate-dev-111111111111", key: "env/dev/terraform.tfstate", lockTable: "tfstate-lock-dev", region: "us-east-1" },
    account: "111111111111",
    priorState: { serial: 12, lineage: "5e2b0c8e-lineage" },
    ...overrides,
  };
}

export const CRAFTED_POLICY: PolicyView = {
  state: "present",
  findings: [
    {
      id: "POLICY-STATEFUL-DESTROY",
      level: "warning",
      address: "aws_db_instance.main",
      attribute: "(actions)",
      expected: "no destroy or replace of a stateful resource",
      found: "replace",
      info: "stateful resources are not destroyed",
      fix: "keep the identifier, or record an exception",
    },
  ],
};

/** The page data of the crafted bundle, as `promote review --html` assembles it. */
export function craftedPageData(overrides: Partial<ReviewPageData> = {}): ReviewPageData {
  const plan = craftedPlan();
  return {
    manifest: craftedManifest(),
    summary: summarizePlan(plan),
    status: { expired: false, approval: null, applied: null, requireApproval: true },
    policy: CRAFTED_POLICY,
    cost: { delta: estimatePlanDelta(plan), budgetUsd: 300 },
    generatedAt: "2030-11-22T10:20:00.000Z",
    ...overrides,
  };
}

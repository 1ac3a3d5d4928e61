/**
 * The bootstrap baseline (issue 12): per env, in its own account, the state backend, the env's KMS key,
 * the promotion store (versioning, Object Lock COMPLIANCE with the env's retention, SSE-KMS with that
 * key, public access blocked, TLS only, a policy admitting only the delivery, bootstrap and break-glass
 * roles, bundles expiring after TTL + grace) and the CI roles (GitHub OIDC, deploy, plan, gate reader).
 */
import { Testing } from "cdktf";
import { loadEnvironments } from "../../envs";
import type { EnvConfig } from "../../envs/schema";
import { BootstrapStack, bundleExpiryDays } from "../../stacks/bootstrap-stack";
import { AWS_TARGET, parse, resourcesOf, TfJson } from "../helpers/stacks";

const envs = loadEnvironments(undefined, {});
const byName = (n: string) => envs.find((e) => e.name === n)!;

function synth(config: EnvConfig, promotedTo: readonly EnvConfig[] = envs.filter((e) => e.delivery.promotesFrom === config.name)): TfJson {
  return parse(Testing.synth(new BootstrapStack(Testing.app(), config, AWS_TARGET, promotedTo)));
}

const one = (stack: TfJson, type: string, pick: (r: any) => boolean = () => true) => {
  const found = resourcesOf(stack, type).filter(pick);
  expect({ type, count: found.length }).toEqual({ type, count: 1 });
  return found[0] as any;
};

describe.each(envs.map((e) => [e.name, e] as const))("bootstrap-%s", (_, config) => {
  const stack = synth(config);
  const storeBucket = () => one(stack, "aws_s3_bucket", (b) => b.bucket === config.store.bucket);

  it("creates the store bucket with Object Lock and versioning, protected from destroy", () => {
    expect(storeBucket()).toMatchObject({ object_lock_enabled: true, force_destroy: false, lifecycle: { prevent_destroy: true } });
    expect(resourcesOf(stack, "aws_s3_bucket_versioning").map((v: any) => v.versioning_configuration.status)).toEqual(["Enabled", "Enabled"]);
  });

  it(`keeps every object under COMPLIANCE retention for ${config.store.retentionDays} days (the env's config)`, () => {
    expect(one(stack, "aws_s3_bucket_object_lock_configuration").rule).toEqual({ default_retention: { mode: "COMPLIANCE", days: config.store.retentionDays } });
  });

  it("encrypts the store with the env's own KMS key (rotated, protected from destroy), under the configured alias", () => {
    const key = one(stack, "aws_kms_key");
    expect(key).toMatchObject({ enable_key_rotation: true, lifecycle: { prevent_destroy: true } });
    expect(one(stack, "aws_kms_alias").name).toBe(config.store.kmsKeyAlias);
    const sse = resourcesOf(stack, "aws_s3_bucket_server_side_encryption_configuration").map((e: any) => e.rule[0].apply_server_side_encryption_by_default);
    expect(sse).toContainEqual({ sse_algorithm: "aws:kms", kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.[\w-]+\.arn\}$/) });
  });

  it("expires bundle objects after the plan TTL plus the grace period, nothing else", () => {
    const rule = one(stack, "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rule).toEqual([expect.objectContaining({ status: "Enabled", filter: [{ prefix: "bundles/" }], expiration: [{ days: bundleExpiryDays(config) }] })]);
    expect(bundleExpiryDays(config)).toBe(Math.ceil(config.delivery.planTtlHours / 24) + config.store.bundleGraceDays);
  });

  it("blocks public access, denies plain HTTP and admits only the delivery, bootstrap and break-glass roles", () => {
    const policies = resourcesOf(stack, "aws_s3_bucket_policy").map((p: any) => JSON.parse(p.policy));
    const store = policies.find((p) => p.Statement.some((s: any) => s.Sid === "DenyAllButDeliveryAndAdminRoles"));
    const sid = (id: string) => store.Statement.find((s: any) => s.Sid === id);
    expect(sid("DenyInsecureTransport").Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    const role = (n: string) => `arn:aws:iam::${config.account.id}:role/${n}`;
    const admitted = sid("DenyAllButDeliveryAndAdminRoles").Condition.ArnNotLike["aws:PrincipalArn"];
    const a = config.account;
    const expected = [a.deployRoleName, a.planRoleName, a.breakGlassRoleName, a.bootstrapRoleName, ...(envs.some((e) => e.delivery.promotesFrom === config.name) ? [a.gateReaderRoleName] : [])].map(role);
    expect([...admitted].sort()).toEqual(expected.sort());
    expect(sid("DenyHistoryChangesButBreakGlass")).toMatchObject({ Effect: "Deny", Condition: { ArnNotLike: { "aws:PrincipalArn": [role(a.breakGlassRoleName)] } } });
    expect(sid("DenyHistoryChangesButBreakGlass").Action).toEqual(expect.arrayContaining(["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention"]));
    expect(sid("DenyObjectDataButDeliveryRoles").Condition.ArnNotLike["aws:PrincipalArn"]).not.toContain(role(a.bootstrapRoleName));
    expect(resourcesOf(stack, "aws_s3_bucket_public_access_block").every((b: any) => b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets)).toBe(true);
  });

  it("trusts the deploy role only for the repository's environment:<env>, and the plan role for the configured subjects", () => {
    const roles = resourcesOf(stack, "aws_iam_role") as any[];
    const trust = (name: string) => JSON.parse(roles.find((r) => r.name === name).assume_role_policy).Statement;
    const repo = config.github!.repository;
    expect(trust(config.account.deployRoleName)).toEqual([
      expect.objectContaining({
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": [`repo:${repo}:environment:${config.name}`] } },
      }),
    ]);
    expect(trust(config.account.planRoleName)[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toEqual(config.github!.planSubjects.map((s) => `repo:${repo}:${s}`));
    expect(one(stack, "aws_iam_openid_connect_provider").url).toBe("https://token.actions.githubusercontent.com");
  });
});

describe("the gate reader", () => {
  it("exists where another env promotes from this one, trusted only by that env's plan and deploy roles, reading applied records only", () => {
    const staging = byName("staging");
    const prod = byName("prod");
    const stack = synth(staging);
    const reader = one(stack, "aws_iam_role", (r) => r.name === staging.account.gateReaderRoleName);
    expect(JSON.parse(reader.assume_role_policy).Statement[0].Principal.AWS.sort()).toEqual(
      [`arn:aws:iam::${prod.account.id}:role/${prod.account.planRoleName}`, `arn:aws:iam::${prod.account.id}:role/${prod.account.deployRoleName}`].sort(),
    );
    const policy = JSON.parse(one(stack, "aws_iam_role_policy", (p) => p.name === "promote-gate-reader").policy).Statement as any[];
    const reads = policy.find((s) => s.Sid === "ReadAppliedRecords");
    expect(reads.Resource).toEqual([expect.stringMatching(/\/applied\/\*$/)]);
  });

  it("does not exist at the end of the chain", () => {
    expect(resourcesOf(synth(byName("prod")), "aws_iam_role").map((r: any) => r.name)).not.toContain(byName("prod").account.gateReaderRoleName);
  });
});

it("creates no CI roles for an env whose config names no GitHub repository", () => {
  const dev = { ...byName("dev"), github: null };
  const stack = synth(dev);
  expect(resourcesOf(stack, "aws_iam_role")).toEqual([]);
  expect(resourcesOf(stack, "aws_iam_openid_connect_provider")).toEqual([]);
  expect(resourcesOf(stack, "aws_s3_bucket").map((b: any) => b.bucket)).toContain(dev.store.bucket);
});

/**
 * Environments are isolated: disjoint networks with no path between them, each provider and backend
 * locked to its own account, distinct state, and no secret value in any synthesized file.
 */
import { overlaps, parseCidr, Cidr } from "../../envs/cidr";
import type { EnvConfig } from "../../envs/schema";
import { BootstrapStack } from "../../stacks/bootstrap-stack";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { Testing } from "cdktf";
import { AWS_TARGET, committedEnvironments, parse, synthBootstrap, synthEnvironment, TfJson } from "../helpers/stacks";

const envs = committedEnvironments();
const stacks = new Map<string, { config: EnvConfig; json: string; stack: TfJson; bootstrap: TfJson; bootstrapJson: string }>();
beforeAll(() => {
  for (const config of envs) {
    const json = synthEnvironment(config);
    const bootstrapJson = synthBootstrap(config);
    stacks.set(config.name, { config, json, stack: parse(json), bootstrap: parse(bootstrapJson), bootstrapJson });
  }
});

const cidr = (text: string): Cidr => {
  const c = parseCidr(text);
  if (typeof c === "string") throw new Error(c);
  return c;
};

/** Every string anywhere in a value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

describe("networks", () => {
  it("have pairwise disjoint VPC CIDRs", () => {
    const vpcs = envs.map((e) => [e.name, (Object.values(stacks.get(e.name)!.stack.resource.aws_vpc)[0] as any).cidr_block as string] as const);
    for (let i = 0; i < vpcs.length; i++) {
      for (let j = i + 1; j < vpcs.length; j++) {
        expect({ pair: `${vpcs[i][0]}/${vpcs[j][0]}`, overlap: overlaps(cidr(vpcs[i][1]), cidr(vpcs[j][1])) }).toEqual({
          pair: `${vpcs[i][0]}/${vpcs[j][0]}`,
          overlap: false,
        });
      }
    }
  });

  it("have no peering, transit gateway or RAM share", () => {
    for (const { stack } of stacks.values()) {
      const forbidden = Object.keys(stack.resource).filter(
        (t) => t === "aws_vpc_peering_connection" || t.startsWith("aws_vpc_peering_connection") || t.startsWith("aws_ec2_transit_gateway") || t.startsWith("aws_ram_"),
      );
      expect(forbidden).toEqual([]);
    }
  });

  it("have no security group rule (or route) naming another environment's range", () => {
    for (const { config, stack } of stacks.values()) {
      const others = envs.filter((e) => e.name !== config.name).map((e) => cidr(e.network.cidr));
      const ruleTypes = ["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_route", "aws_network_acl_rule"];
      const found = ruleTypes
        .flatMap((t) => Object.values(stack.resource[t] ?? {}))
        .flatMap((r) => strings(r))
        .filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s))
        .filter((s) => !s.endsWith("/0")) // the internet, not an environment
        .filter((s) => others.some((o) => overlaps(o, cidr(s))));
      expect({ env: config.name, found }).toEqual({ env: config.name, found: [] });
    }
  });
});

describe("accounts", () => {
  it("lock every provider and backend to the env's own account, through a role in that account", () => {
    for (const { config, stack, bootstrap } of stacks.values()) {
      const roleArn = `arn:aws:iam::${config.account.id}:role/${config.account.deployRoleName}`;
      // Bootstrap creates the deploy role, so it comes in through the role a fresh account already has.
      const bootstrapRoleArn = `arn:aws:iam::${config.account.id}:role/${config.account.bootstrapRoleName}`;
      for (const [provider, role] of [...stack.provider.aws.map((p) => [p, roleArn] as const), ...bootstrap.provider.aws.map((p) => [p, bootstrapRoleArn] as const)]) {
        expect(provider.allowed_account_ids).toEqual([config.account.id]);
        expect(provider.assume_role).toEqual([expect.objectContaining({ role_arn: role })]);
        expect(provider.region).toBe(config.region);
      }
      for (const [b, role] of [[stack.terraform.backend!.s3, roleArn], [bootstrap.terraform.backend!.s3, bootstrapRoleArn]] as const) {
        const backend = b as Record<string, any>;
        expect(backend.assume_role.role_arn).toBe(role);
        expect(backend.allowed_account_ids).toEqual([config.account.id]);
      }
    }
  });

  it("are all different", () => {
    const ids = [...stacks.values()].map((s) => s.stack.provider.aws[0].allowed_account_ids[0]);
    expect(new Set(ids).size).toBe(envs.length);
  });
});

describe("state", () => {
  it("uses distinct buckets, keys and lock tables, each the env's own, encrypted", () => {
    const backends = [...stacks.values()].map(({ config, stack }) => {
      const b = stack.terraform.backend!.s3 as Record<string, any>;
      expect(b).toMatchObject({
        bucket: config.stateBackend.bucket,
        key: config.stateBackend.key,
        dynamodb_table: config.stateBackend.lockTable,
        region: config.region,
        encrypt: true,
      });
      return b;
    });
    for (const field of ["bucket", "key", "dynamodb_table"]) {
      expect(new Set(backends.map((b) => b[field])).size).toBe(envs.length);
    }
  });

  it("is created by each env's bootstrap stack in its own account, whose own state lives in the bucket it creates", () => {
    for (const { config, bootstrap } of stacks.values()) {
      expect(Object.values(bootstrap.resource.aws_s3_bucket).map((b: any) => b.bucket).sort()).toEqual([config.stateBackend.bucket, config.store.bucket].sort());
      expect(Object.values(bootstrap.resource.aws_dynamodb_table).map((t: any) => t.name)).toEqual([config.stateBackend.lockTable]);
      expect(bootstrap.terraform.backend!.local).toBeUndefined();
      expect(bootstrap.terraform.backend!.s3).toMatchObject({
        bucket: config.stateBackend.bucket,
        key: `bootstrap/${config.name}/terraform.tfstate`,
        dynamodb_table: config.stateBackend.lockTable,
        encrypt: true,
      });
    }
  });

  it("gives each bootstrap stack a first-run local state path outside cdktf.out", () => {
    for (const config of envs) {
      const stack = new BootstrapStack(Testing.app(), config, AWS_TARGET);
      expect(stack.statePath).toMatch(new RegExp(`/bootstrap-state/${config.name}\\.tfstate$`));
      expect(stack.statePath).not.toContain("cdktf.out");
    }
  });
});

describe("secrets", () => {
  it("appear in no synthesized file: values are ephemeral and written only through write-only arguments; the database's is AWS-managed", () => {
    for (const { config, stack, json, bootstrapJson } of stacks.values()) {
      const ephemeral = (stack as unknown as { ephemeral?: { random_password?: Record<string, unknown> } }).ephemeral?.random_password ?? {};
      for (const v of Object.values(stack.resource.aws_secretsmanager_secret_version)) {
        expect(v.secret_string).toBeUndefined();
        expect(v.secret_string_wo).toMatch(/^\$\{ephemeral\.random_password\.[\w-]+\.result\}$/);
      }
      const db = Object.values(stack.resource.aws_db_instance)[0];
      expect([db.password, db.password_wo, db.manage_master_user_password]).toEqual([undefined, undefined, true]);
      // No literal "result" attribute (a generated value written into config) anywhere.
      for (const text of [json, bootstrapJson]) {
        expect(text).not.toMatch(/"result"\s*:/);
        expect(text).not.toMatch(/"(password|secret_string|master_password|password_wo|secret_string_wo)"\s*:\s*"(?!\$\{)/);
        expect(text).not.toMatch(/"(password|secret_string|master_password)"\s*:/);
      }
      expect(stack.resource.random_password).toBeUndefined();
      expect(config.secrets.length).toBe(Object.keys(ephemeral).length);
    }
  });

  it("outputs carry no secret", () => {
    for (const { stack } of stacks.values()) {
      for (const [name, output] of Object.entries(stack.output ?? {})) {
        expect({ name, value: output.value }).toEqual({ name, value: expect.not.stringMatching(/random_password|secretsmanager_secret_version/) });
      }
    }
  });
});

it("main.ts's App holds one environment stack and one bootstrap stack per env, with distinct ids", () => {
  const app = Testing.app();
  for (const config of envs) {
    new EnvironmentStack(app, config, AWS_TARGET);
    new BootstrapStack(app, config, AWS_TARGET);
  }
  const ids = app.node.children.map((c) => c.node.id).sort();
  expect(ids).toEqual(envs.flatMap((e) => [e.name, `bootstrap-${e.name}`]).sort());
});

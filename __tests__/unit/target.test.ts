import { Testing } from "cdktf";
import { BootstrapStack } from "../../stacks/bootstrap-stack";
/** The deploy target: the only place that knows about the emulator; only endpoints and credentials change. */
import { join } from "node:path";
import { AWS_SERVICES, REPO_ROOT, TargetError, targetFromEnv } from "../../stacks/target";
import { committedEnvironments, parse, synthBootstrap, synthEnvironment } from "../helpers/stacks";

const LOCAL = { TARGET: "local", LOCAL_ENDPOINT: "http://127.0.0.1:4599" };
const [dev] = committedEnvironments();

describe("TARGET unset or aws: real AWS", () => {
  it.each([[{}], [{ TARGET: "aws" }], [{ TARGET: "" }]])("%j sets no endpoints and no credentials", (vars) => {
    const target = targetFromEnv(vars);
    expect(target.kind).toBe("aws");
    expect(target.providerSettings).toEqual({});
    expect(target.backendSettings).toEqual({});
  });

  it("leaves the synthesized provider and backend without endpoints or keys", () => {
    const stack = parse(synthEnvironment(dev, targetFromEnv({})));
    const provider = stack.provider.aws[0];
    for (const key of ["endpoints", "access_key", "secret_key", "s3_use_path_style", "skip_requesting_account_id"]) {
      expect(provider[key]).toBeUndefined();
    }
    const backend = stack.terraform.backend!.s3;
    for (const key of ["endpoints", "access_key", "secret_key", "use_path_style"]) expect(backend[key]).toBeUndefined();
  });

  it("keeps bootstrap state under <repo>/bootstrap-state/<env>.tfstate", () => {
    expect(targetFromEnv({}).bootstrapStatePath("dev")).toBe(join(REPO_ROOT, "bootstrap-state", "dev.tfstate"));
  });
});

describe("TARGET=local: the emulator", () => {
  const stack = parse(synthEnvironment(dev, targetFromEnv(LOCAL)));
  const provider = stack.provider.aws[0];

  it("points every service the stack uses, plus sts and iam, at LOCAL_ENDPOINT", () => {
    const endpoints = provider.endpoints[0];
    for (const service of [...AWS_SERVICES, "sts", "iam"]) expect(endpoints[service]).toBe("http://127.0.0.1:4599");
  });

  it("covers the service of every resource type in the stack", () => {
    // Resource type prefix → provider endpoint key.
    const serviceOf: Record<string, string> = {
      aws_autoscaling: "autoscaling", aws_budgets: "budgets", aws_cloudfront: "cloudfront", aws_cloudwatch_metric: "cloudwatch",
      aws_cloudwatch_log: "logs", aws_db: "rds", aws_dynamodb: "dynamodb", aws_eip: "ec2", aws_elasticache: "elasticache",
      aws_flow_log: "ec2", aws_iam: "iam", aws_internet_gateway: "ec2", aws_launch_template: "ec2", aws_lb: "elbv2",
      aws_nat_gateway: "ec2", aws_route53: "route53", aws_route: "ec2", aws_s3: "s3", aws_secretsmanager: "secretsmanager",
      aws_security_group: "ec2", aws_sns: "sns", aws_ssm: "ssm", aws_subnet: "ec2", aws_vpc: "ec2", aws_wafv2: "wafv2",
    };
    const prod = committedEnvironments().find((e) => e.edge !== null && e.alarms !== null)!;
    const full = parse(synthEnvironment(prod, targetFromEnv(LOCAL)));
    const types = [...Object.keys(full.resource), ...Object.keys(full.data ?? {}).map((t) => t.replace(/^aws_availability_zones$/, "aws_vpc"))];
    for (const type of types.filter((t) => t.startsWith("aws_"))) {
      const prefix = Object.keys(serviceOf)
        .filter((p) => type.startsWith(p))
        .sort((a, b) => b.length - a.length)[0];
      expect({ type, service: prefix && serviceOf[prefix] }).toEqual({ type, service: expect.any(String) });
      expect(full.provider.aws[0].endpoints[0][serviceOf[prefix]]).toBe("http://127.0.0.1:4599");
    }
  });

  it("uses the emulator's test/test keys and path-style S3, and keeps account checks on", () => {
    expect(provider).toMatchObject({ access_key: "test", secret_key: "test", s3_use_path_style: true, skip_region_validation: true });
    expect(provider.skip_requesting_account_id).toBeUndefined();
    expect(provider.skip_credentials_validation).toBeUndefined();
    expect(provider.allowed_account_ids).toEqual([dev.account.id]);
    expect(provider.assume_role[0].role_arn).toBe(`arn:aws:iam::${dev.account.id}:role/${dev.account.deployRoleName}`);
  });

  it("points the S3 backend's s3, dynamodb, sts and iam at LOCAL_ENDPOINT, through the same role", () => {
    const backend = stack.terraform.backend!.s3 as Record<string, any>;
    expect(backend.endpoints).toEqual({
      s3: "http://127.0.0.1:4599",
      dynamodb: "http://127.0.0.1:4599",
      sts: "http://127.0.0.1:4599",
      iam: "http://127.0.0.1:4599",
    });
    expect(backend).toMatchObject({ access_key: "test", secret_key: "test", use_path_style: true, bucket: dev.stateBackend.bucket });
    expect(backend.assume_role.role_arn).toContain(`:${dev.account.id}:`);
    expect(backend.skip_requesting_account_id).toBeUndefined();
  });

  it("changes nothing but endpoints and credentials", () => {
    const strip = (json: string) => {
      const s = parse(json) as any;
      const p = s.provider.aws[0];
      for (const k of ["endpoints", "access_key", "secret_key", "s3_use_path_style", "skip_region_validation", "skip_metadata_api_check"]) delete p[k];
      const b = s.terraform.backend.s3;
      for (const k of ["endpoints", "access_key", "secret_key", "use_path_style", "skip_region_validation", "skip_metadata_api_check"]) delete b[k];
      return s;
    };
    expect(strip(synthEnvironment(dev, targetFromEnv(LOCAL)))).toEqual(strip(synthEnvironment(dev, targetFromEnv({}))));
  });

  it("keeps bootstrap state in LOCAL_STATE_DIR, by default <repo>/.local/emulator-state", () => {
    expect(targetFromEnv(LOCAL).bootstrapStatePath("dev")).toBe(join(REPO_ROOT, ".local", "emulator-state", "bootstrap-dev.tfstate"));
    const target = targetFromEnv({ ...LOCAL, LOCAL_STATE_DIR: "/tmp/emu-7" });
    expect(target.bootstrapStatePath("dev")).toBe("/tmp/emu-7/bootstrap-dev.tfstate");
    // The first run's local state (bootstrap then moves it into the state bucket, its backend).
    expect(new BootstrapStack(Testing.app(), dev, target).statePath).toBe("/tmp/emu-7/bootstrap-dev.tfstate");
    expect(parse(synthBootstrap(dev, target)).terraform.backend!.s3).toMatchObject({ bucket: dev.stateBackend.bucket, key: "bootstrap/dev/terraform.tfstate" });
  });

  it("normalizes the endpoint (a trailing slash is dropped)", () => {
    expect(targetFromEnv({ TARGET: "local", LOCAL_ENDPOINT: "http://localhost:5000/" }).endpoint).toBe("http://localhost:5000");
  });
});

describe("refusals", () => {
  it("names LOCAL_ENDPOINT when it is missing", () => {
    expect(() => targetFromEnv({ TARGET: "local" })).toThrow(TargetError);
    expect(() => targetFromEnv({ TARGET: "local" })).toThrow(/needs LOCAL_ENDPOINT .* but it is not set/);
  });

  it.each(["127.0.0.1:4599", "ftp://127.0.0.1:4599", "not a url", "http://127.0.0.1:4599/some/path"])(
    "names LOCAL_ENDPOINT when it is malformed: %s",
    (value) => {
      expect(() => targetFromEnv({ TARGET: "local", LOCAL_ENDPOINT: value })).toThrow(`LOCAL_ENDPOINT must be an http(s) URL`);
    },
  );

  it("names TARGET when it is unknown", () => {
    expect(() => targetFromEnv({ TARGET: "localstack" })).toThrow('TARGET must be "aws" (or unset) or "local", but "localstack" was provided');
  });
});

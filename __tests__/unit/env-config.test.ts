/**
 * Environment config validation: every rejection names the env, the field, what was expected and
 * what was found; the shipped configs are valid; overrides are validated like any other value.
 */
import {
  ConfigError,
  ENVIRONMENTS,
  accountOverrideVariable,
  checkEnvConfig,
  getEnvironment,
  loadEnvironments,
  validateEnvironments,
} from "../../envs";
import type { EnvConfig } from "../../envs";
import { subnetLayout } from "../../envs/cidr";

type Mutable<T> = T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

/** A deep copy of an env config that a test may break on purpose. */
function copy(name: string): Mutable<EnvConfig> & Record<string, unknown> {
  return JSON.parse(JSON.stringify(ENVIRONMENTS.find((e) => e.name === name)));
}

/** The problems reported for one config. */
function problemsOf(config: unknown, source = "envs/test"): string[] {
  return checkEnvConfig(config, source).problems;
}

/** The ConfigError message of a whole set, or "" when it validates. */
function setError(configs: unknown[]): string {
  try {
    validateEnvironments(configs.map((c, i) => ({ source: `envs/${(c as EnvConfig).name ?? i}`, config: c })));
    return "";
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe("the shipped environments", () => {
  it("validate, in promotion order dev → staging → prod", () => {
    const envs = loadEnvironments(ENVIRONMENTS, {});
    expect(envs.map((e) => e.name)).toEqual(["dev", "staging", "prod"]);
    expect(envs.map((e) => e.delivery.promotesFrom)).toEqual([null, "dev", "staging"]);
  });

  it("match the environment table: accounts, regions, CIDRs, sizing", () => {
    const [dev, staging, prod] = loadEnvironments(ENVIRONMENTS, {});
    expect([dev.account.id, staging.account.id, prod.account.id]).toEqual(["111111111111", "222222222222", "333333333333"]);
    expect(new Set([dev.region, staging.region, prod.region])).toEqual(new Set(["us-east-1"]));
    expect([dev.network.cidr, staging.network.cidr, prod.network.cidr]).toEqual(["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"]);
    expect([dev, staging, prod].map((e) => [e.network.azCount, e.network.natGateways])).toEqual([[2, 1], [2, 1], [3, 3]]);
    expect([dev, staging, prod].map((e) => [e.app.minSize, e.app.desiredCapacity, e.app.maxSize])).toEqual([
      [1, 1, 2],
      [2, 2, 3],
      [2, 4, 20],
    ]);
    expect(dev.app.scaling).toBeNull();
    // Cost controls: dev scales to zero outside working hours, staging down on weekends, prod never.
    expect(dev.app.offHours).toMatchObject({ scaleDownAt: "0 19 * * MON-FRI", scaleUpAt: "0 7 * * MON-FRI", desiredCapacity: 0, maxSize: 0 });
    expect(staging.app.offHours).toMatchObject({ scaleDownAt: "0 20 * * FRI", scaleUpAt: "0 6 * * MON", desiredCapacity: 1 });
    expect(prod.app.offHours).toBeNull();
    expect([dev, staging, prod].map((e) => e.app.instanceType)).toEqual(["t3.small", "t3.medium", "m6i.large"]);
    expect([dev, staging, prod].map((e) => e.budget.monthlyUsd)).toEqual([300, 500, 2000]);
    expect([dev, staging, prod].map((e) => e.logs.retentionDays)).toEqual([7, 30, 730]);
    expect(prod.logs.coldStorageAfterDays).toBe(90);
    expect(prod.database).toMatchObject({ multiAz: true, allocatedStorageGb: 500, backupRetentionDays: 30, deletionProtection: true });
    expect(prod.database.memoryGib).toBeGreaterThanOrEqual(16);
    expect(prod.cache).toMatchObject({ automaticFailover: true });
    expect(prod.cache.replicas).toBeGreaterThanOrEqual(2);
    expect(prod.edge).not.toBeNull();
    expect([dev.alarms, staging.alarms?.severity, prod.alarms?.severity]).toEqual([null, "notify", "page"]);
    expect(prod.secrets.map((s) => [s.name, s.rotationDays])).toEqual([
      ["POSTGRES_PASSWORD", 30],
      ["API_KEY", 90],
      ["JWT_SECRET", 180],
    ]);
    expect(prod.appConfig).toEqual({
      LOG_LEVEL: "warn",
      API_TIMEOUT: "5s",
      DB_POOL_SIZE: "50",
      CACHE_ENABLED: "true",
      ENABLE_METRICS: "true",
      ALERT_ON_ERRORS: "true",
    });
  });

  it("look up by name, and an unknown name lists the known ones", () => {
    expect(getEnvironment("staging", loadEnvironments(ENVIRONMENTS, {})).name).toBe("staging");
    expect(() => getEnvironment("qa", loadEnvironments(ENVIRONMENTS, {}))).toThrow(
      'unknown environment "qa": expected one of dev, staging, prod',
    );
  });
});

describe("account id overrides", () => {
  it("replace the placeholder from ACCOUNT_ID_<ENV>", () => {
    expect(accountOverrideVariable("prod")).toBe("ACCOUNT_ID_PROD");
    expect(accountOverrideVariable("pr-12")).toBe("ACCOUNT_ID_PR_12");
    const envs = loadEnvironments(ENVIRONMENTS, { ACCOUNT_ID_PROD: "444444444444" });
    expect(envs.find((e) => e.name === "prod")?.account.id).toBe("444444444444");
  });

  it("are validated: a malformed id and an id shared with another env are rejected", () => {
    expect(() => loadEnvironments(ENVIRONMENTS, { ACCOUNT_ID_PROD: "12345" })).toThrow(
      'envs/prod: account.id must be a 12-digit AWS account id, but "12345" was provided',
    );
    expect(() => loadEnvironments(ENVIRONMENTS, { ACCOUNT_ID_PROD: "111111111111" })).toThrow(
      'envs/prod: account.id must be unique across environments, but "111111111111" is also used by envs/dev',
    );
  });
});

describe("structural rejections name env, field, expected and found", () => {
  it("rejects an unknown field", () => {
    const c = copy("dev");
    (c.database as Record<string, unknown>).backupDays = 3;
    expect(problemsOf(c, "envs/dev")).toEqual(['envs/dev: database: unknown field "backupDays" (not in the schema)']);
  });

  it("rejects a missing field", () => {
    const c = copy("dev");
    delete (c.app as Record<string, unknown>).maxSize;
    expect(problemsOf(c, "envs/dev")).toEqual(["envs/dev: app.maxSize is required (number), but nothing was provided"]);
  });

  it("rejects a value of the wrong type", () => {
    const c = copy("staging");
    (c.app as Record<string, unknown>).minSize = "two";
    expect(problemsOf(c, "envs/staging")).toEqual(['envs/staging: app.minSize must be number, but "two" (string) was provided']);
  });

  it("rejects an out-of-range number with the limit and the value", () => {
    const c = copy("prod");
    c.network.azCount = 9;
    expect(problemsOf(c, "envs/prod")).toEqual(["envs/prod: network.azCount must be <= 6, but 9 was provided"]);
  });

  it("rejects a malformed CIDR", () => {
    const c = copy("dev");
    c.network.cidr = "10.10.0/16";
    expect(problemsOf(c, "envs/dev")).toEqual([
      'envs/dev: network.cidr must be an IPv4 CIDR such as 10.10.0.0/16, but "10.10.0/16" was provided',
    ]);
  });

  it("rejects a CIDR with out-of-range octets or unaligned bits", () => {
    const c = copy("dev");
    c.network.cidr = "10.300.0.0/16";
    expect(problemsOf(c, "envs/dev")).toEqual(['envs/dev: network.cidr must be octets of 0..255, but "10.300.0.0/16" was provided']);
    c.network.cidr = "10.10.5.0/16";
    expect(problemsOf(c, "envs/dev")).toEqual([
      'envs/dev: network.cidr must be a network address aligned to /16 (10.10.0.0/16), but "10.10.5.0/16" was provided',
    ]);
  });

  it("rejects an unknown enum value and lists the allowed ones", () => {
    const c = copy("prod");
    (c.alarms as Record<string, unknown>).severity = "shout";
    expect(problemsOf(c, "envs/prod")).toEqual([
      'envs/prod: alarms.severity must be one of "notify", "page", but "shout" was provided',
    ]);
  });

  it("rejects a name that does not match its file", () => {
    const c = copy("dev");
    c.name = "devel";
    expect(problemsOf(c, "envs/dev")).toEqual(['envs/dev: name must match its file ("dev"), but "devel" was provided']);
  });

  it("reports every problem at once, not just the first", () => {
    const c = copy("dev");
    c.app.minSize = -1;
    c.database.allocatedStorageGb = 5;
    expect(problemsOf(c, "envs/dev")).toEqual([
      "envs/dev: app.minSize must be >= 0, but -1 was provided",
      "envs/dev: database.allocatedStorageGb must be >= 20, but 5 was provided",
    ]);
  });
});

describe("rules relating values", () => {
  it("rejects min > desired > max", () => {
    const c = copy("prod");
    c.app.minSize = 5;
    c.app.desiredCapacity = 4;
    expect(problemsOf(c, "envs/prod")).toEqual([
      "envs/prod: app: minSize <= desiredCapacity <= maxSize is required, but 5 / 4 / 20 was provided",
    ]);
    c.app.minSize = 2;
    c.app.desiredCapacity = 21;
    expect(problemsOf(c, "envs/prod")).toEqual([
      "envs/prod: app: minSize <= desiredCapacity <= maxSize is required, but 2 / 21 / 20 was provided",
    ]);
  });

  it("rejects an AZ count the CIDR cannot hold", () => {
    const c = copy("dev");
    c.network.cidr = "10.10.0.0/22";
    c.network.subnetPrefixLength = 24;
    c.network.azCount = 3;
    expect(problemsOf(c, "envs/dev")).toEqual([
      "envs/dev: network.azCount must fit 10.10.0.0/22 (2 subnets of /24 per AZ: at most 2 AZs), but 3 was provided",
    ]);
  });

  it("rejects more NAT gateways than AZs", () => {
    const c = copy("dev");
    c.network.natGateways = 3;
    expect(problemsOf(c, "envs/dev")).toEqual(["envs/dev: network.natGateways must be 0..azCount (2), but 3 was provided"]);
  });

  it("rejects an instance type outside the env's allowed list", () => {
    const c = copy("dev");
    c.app.instanceType = "m6i.large";
    expect(problemsOf(c, "envs/dev")).toEqual([
      'envs/dev: app.instanceType must be one of allowedInstanceTypes [t3.micro, t3.small], but "m6i.large" was provided',
    ]);
  });

  it("rejects blue/green weights that do not add up to 100", () => {
    const c = copy("prod");
    c.app.targetGroups = [
      { name: "blue", weight: 90 },
      { name: "green", weight: 20 },
    ];
    expect(problemsOf(c, "envs/prod")).toEqual([
      "envs/prod: app.targetGroups weights must add up to 100, but blue=90 + green=20 = 110 was provided",
    ]);
  });

  it("rejects backup retention outside 1..35 days", () => {
    const c = copy("prod");
    c.database.backupRetentionDays = 40;
    expect(problemsOf(c, "envs/prod")).toEqual(["envs/prod: database.backupRetentionDays must be 1..35, but 40 was provided"]);
  });

  it("rejects a database class smaller than the env's minimum", () => {
    const c = copy("prod");
    c.database.instanceClass = "db.t3.medium";
    c.database.memoryGib = 4;
    expect(problemsOf(c, "envs/prod")).toEqual([
      "envs/prod: database.memoryGib of db.t3.medium must be >= minMemoryGib (16), but 4 was provided",
    ]);
  });

  it("rejects automatic failover without a replica", () => {
    const c = copy("staging");
    c.cache.replicas = 0;
    expect(problemsOf(c, "envs/staging")).toEqual([
      "envs/staging: cache.automaticFailover needs cache.replicas >= 1, but 0 was provided",
    ]);
  });

  it("rejects a flow-log retention CloudWatch does not accept", () => {
    const c = copy("prod");
    c.network.flowLogRetentionDays = 730;
    expect(problemsOf(c, "envs/prod")[0]).toMatch(
      /^envs\/prod: network\.flowLogRetentionDays must be one of CloudWatch's values \(1, 3, .*731.*\), but 730 was provided$/,
    );
  });

  it("rejects an admin CIDR open to the world", () => {
    const c = copy("dev");
    c.network.adminCidrs = ["0.0.0.0/0"];
    expect(problemsOf(c, "envs/dev")).toEqual(["envs/dev: network.adminCidrs must not contain a /0 range, but [0.0.0.0/0] was provided"]);
  });

  it("rejects a config without the database's password secret", () => {
    const c = copy("dev");
    c.secrets = c.secrets.filter((s) => s.name !== "POSTGRES_PASSWORD");
    expect(problemsOf(c, "envs/dev")).toEqual([
      "envs/dev: secrets must include POSTGRES_PASSWORD (the database's master password), but [JWT_SECRET, API_KEY] was provided",
    ]);
  });

  it("rejects a single AZ: a load balancer and a database subnet group need two", () => {
    const c = copy("dev");
    c.network.azCount = 1;
    expect(problemsOf(c, "envs/dev")).toEqual(["envs/dev: network.azCount must be >= 2, but 1 was provided"]);
  });

  it("rejects an off-hours schedule in an unknown time zone", () => {
    const c = copy("dev");
    c.app.offHours!.timeZone = "Mars/Olympus";
    expect(problemsOf(c, "envs/dev")).toEqual([
      'envs/dev: app.offHours.timeZone must be an IANA time zone such as Europe/Berlin, but "Mars/Olympus" was provided',
    ]);
  });

  it("rejects an off-hours size larger than the working-hours one, and a malformed cron", () => {
    const c = copy("staging");
    c.app.offHours!.desiredCapacity = 3;
    c.app.offHours!.maxSize = 3;
    expect(problemsOf(c, "envs/staging")).toEqual([
      "envs/staging: app.offHours: minSize <= desiredCapacity <= maxSize, and no larger than the working-hours size (2 desired, 3 max), is required, but 1 / 3 / 3 was provided",
    ]);
    const d = copy("dev");
    d.app.offHours!.scaleDownAt = "at 7pm";
    expect(problemsOf(d, "envs/dev")).toEqual([
      'envs/dev: app.offHours.scaleDownAt must be a 5-field cron expression such as 0 19 * * MON-FRI, but "at 7pm" was provided',
    ]);
  });

  it("rejects a secret recovery window Secrets Manager does not accept", () => {
    const c = copy("dev");
    c.secretRecoveryDays = 3;
    expect(problemsOf(c, "envs/dev")).toEqual(["envs/dev: secretRecoveryDays must be 0 or 7..30 (Secrets Manager's limits), but 3 was provided"]);
  });

  it("rejects four-eyes without approvals", () => {
    const c = copy("prod");
    c.delivery.requireApproval = false;
    expect(problemsOf(c, "envs/prod")).toEqual([
      "envs/prod: delivery.fourEyes needs delivery.requireApproval to be true, but false was provided",
    ]);
  });
});

describe("rules across environments", () => {
  const all = () => ["dev", "staging", "prod"].map(copy);

  it("rejects overlapping CIDRs across environments", () => {
    const [dev, staging, prod] = all();
    staging.network.cidr = "10.10.128.0/17";
    expect(setError([dev, staging, prod])).toContain(
      "envs/staging: network.cidr must not overlap any other environment's, but 10.10.128.0/17 overlaps envs/dev (10.10.0.0/16)",
    );
  });

  it("rejects a shared account id", () => {
    const [dev, staging, prod] = all();
    prod.account.id = staging.account.id;
    expect(setError([dev, staging, prod])).toContain(
      'envs/prod: account.id must be unique across environments, but "222222222222" is also used by envs/staging',
    );
  });

  it("rejects a shared state bucket, even with distinct keys", () => {
    const [dev, staging, prod] = all();
    staging.stateBackend.bucket = dev.stateBackend.bucket;
    expect(setError([dev, staging, prod])).toContain(
      'envs/staging: stateBackend.bucket must be unique across environments, but "tfstate-dev-111111111111" is also used by envs/dev',
    );
  });

  it("rejects a promotion source that does not exist, and a loop", () => {
    const [dev, staging, prod] = all();
    prod.delivery.promotesFrom = "qa";
    expect(setError([dev, staging, prod])).toContain(
      'envs/prod: delivery.promotesFrom must name a defined environment (dev, staging, prod), but "qa" was provided',
    );
    const [d2, s2, p2] = all();
    d2.delivery.promotesFrom = "prod";
    expect(setError([d2, s2, p2])).toContain('envs/dev: delivery.promotesFrom must form a chain that ends, but it loops through "dev"');
  });

  it("accepts a fourth environment defined only as config", () => {
    const [dev, staging, prod] = all();
    const qa = {
      ...copy("staging"),
      name: "qa",
      account: { id: "444444444444", deployRoleName: "terraform-deploy" },
      stateBackend: { bucket: "tfstate-qa-444444444444", key: "env/qa/terraform.tfstate", lockTable: "tfstate-lock-qa" },
      network: { ...staging.network, cidr: "10.40.0.0/16" },
      dnsZone: "qa.internal.example.com",
    };
    expect(setError([dev, staging, prod, qa])).toBe("");
  });
});

describe("subnet layout", () => {
  it("carves one public and one private subnet per AZ inside the VPC", () => {
    expect(subnetLayout("10.30.0.0/16", 20, 3)).toEqual({
      public: ["10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20"],
      private: ["10.30.128.0/20", "10.30.144.0/20", "10.30.160.0/20"],
    });
  });
});

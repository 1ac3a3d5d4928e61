/**
 * What synth produces for each committed environment, written out as a table: a config change that
 * alters any of these shows up here (and in the snapshots) for review.
 */
import { getEnvironment } from "../../envs";
import { committedEnvironments, onlyResource, parse, resourcesOf, synthEnvironment, TfJson } from "../helpers/stacks";

interface Expected {
  cidr: string;
  subnets: { public: string[]; private: string[] };
  natGateways: number;
  flowLogRetention: number;
  asg: { min: number; desired: number; max: number };
  instanceType: string;
  targetGroups: Record<string, number>;
  cpuTarget: number | null;
  db: {
    instanceClass: string;
    storage: number;
    multiAz: boolean;
    backup: number;
    deletionProtection: boolean;
    skipFinalSnapshot: boolean;
    logConnections: "0" | "1";
    logStatement: "none" | "ddl";
    exports: string[] | undefined;
  };
  cache: { nodes: number; failover: boolean };
  logs: { expireDays: number; glacierAfterDays: number | null };
  edge: { priceClass: string; rateLimit: number } | null;
  alarmTopic: string | null;
  budget: { amount: string; thresholds: number[] };
  ssm: Record<string, string>;
  secrets: Record<string, string | undefined>;
  dnsZone: string;
  certificateArn: string;
  /** recurrence → [min, desired, max] of the off-hours scheduled actions. */
  offHours: Record<string, number[]>;
}

const EXPECTED: Record<string, Expected> = {
  dev: {
    cidr: "10.10.0.0/16",
    subnets: { public: ["10.10.0.0/20", "10.10.16.0/20"], private: ["10.10.128.0/20", "10.10.144.0/20"] },
    natGateways: 1,
    flowLogRetention: 7,
    asg: { min: 1, desired: 1, max: 2 },
    instanceType: "t3.small",
    targetGroups: { "dev-blue": 100 },
    cpuTarget: null,
    db: {
      instanceClass: "db.t3.small",
      storage: 20,
      multiAz: false,
      backup: 1,
      deletionProtection: false,
      skipFinalSnapshot: true,
      logConnections: "0",
      logStatement: "none",
      exports: undefined,
    },
    cache: { nodes: 1, failover: false },
    logs: { expireDays: 7, glacierAfterDays: null },
    edge: null,
    alarmTopic: null,
    budget: { amount: "300.00", thresholds: [80, 100] },
    ssm: {
      "/dev/app/LOG_LEVEL": "debug",
      "/dev/app/API_TIMEOUT": "30s",
      "/dev/app/DB_POOL_SIZE": "5",
      "/dev/app/CACHE_ENABLED": "true",
      "/dev/flags/new-checkout": "true",
      "/dev/flags/beta-search": "true",
    },
    secrets: { "dev/JWT_SECRET": undefined, "dev/API_KEY": undefined },
    dnsZone: "dev.internal.example.com",
    certificateArn: "arn:aws:iam::111111111111:server-certificate/app-dev",
    offHours: { "0 19 * * MON-FRI": [0, 0, 0], "0 7 * * MON-FRI": [1, 1, 2] },
  },
  staging: {
    cidr: "10.20.0.0/16",
    subnets: { public: ["10.20.0.0/20", "10.20.16.0/20"], private: ["10.20.128.0/20", "10.20.144.0/20"] },
    natGateways: 1,
    flowLogRetention: 30,
    asg: { min: 2, desired: 2, max: 3 },
    instanceType: "t3.medium",
    targetGroups: { "staging-blue": 100, "staging-green": 0 },
    cpuTarget: 60,
    db: {
      instanceClass: "db.t3.medium",
      storage: 100,
      multiAz: true,
      backup: 7,
      deletionProtection: false,
      skipFinalSnapshot: false,
      logConnections: "1",
      logStatement: "none",
      exports: undefined,
    },
    cache: { nodes: 2, failover: true },
    logs: { expireDays: 30, glacierAfterDays: null },
    edge: null,
    alarmTopic: "staging-notify",
    budget: { amount: "500.00", thresholds: [80, 100] },
    ssm: {
      "/staging/app/LOG_LEVEL": "info",
      "/staging/app/API_TIMEOUT": "10s",
      "/staging/app/DB_POOL_SIZE": "20",
      "/staging/app/CACHE_ENABLED": "true",
      "/staging/flags/new-checkout": "true",
      "/staging/flags/beta-search": "false",
    },
    secrets: { "staging/JWT_SECRET": undefined, "staging/API_KEY": undefined },
    dnsZone: "staging.internal.example.com",
    certificateArn: "arn:aws:iam::222222222222:server-certificate/app-staging",
    offHours: { "0 20 * * FRI": [1, 1, 1], "0 6 * * MON": [2, 2, 3] },
  },
  prod: {
    cidr: "10.30.0.0/16",
    subnets: {
      public: ["10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20"],
      private: ["10.30.128.0/20", "10.30.144.0/20", "10.30.160.0/20"],
    },
    natGateways: 3,
    flowLogRetention: 365,
    asg: { min: 2, desired: 4, max: 20 },
    instanceType: "m6i.large",
    targetGroups: { "prod-blue": 100, "prod-green": 0 },
    cpuTarget: 50,
    db: {
      instanceClass: "db.r6g.large",
      storage: 500,
      multiAz: true,
      backup: 30,
      deletionProtection: true,
      skipFinalSnapshot: false,
      logConnections: "1",
      logStatement: "ddl",
      exports: ["postgresql"],
    },
    cache: { nodes: 3, failover: true },
    logs: { expireDays: 730, glacierAfterDays: 90 },
    edge: { priceClass: "PriceClass_100", rateLimit: 2000 },
    alarmTopic: "prod-oncall-page",
    budget: { amount: "2000.00", thresholds: [50, 80, 100] },
    ssm: {
      "/prod/app/LOG_LEVEL": "warn",
      "/prod/app/API_TIMEOUT": "5s",
      "/prod/app/DB_POOL_SIZE": "50",
      "/prod/app/CACHE_ENABLED": "true",
      "/prod/app/ENABLE_METRICS": "true",
      "/prod/app/ALERT_ON_ERRORS": "true",
      "/prod/flags/new-checkout": "false",
      "/prod/flags/beta-search": "false",
    },
    secrets: { "prod/API_KEY": "90", "prod/JWT_SECRET": "180" },
    dnsZone: "prod.internal.example.com",
    certificateArn: "arn:aws:iam::333333333333:server-certificate/app-prod",
    offHours: {},
  },
};

const envs = committedEnvironments();

it("covers every committed environment", () => {
  expect(envs.map((e) => e.name).sort()).toEqual(Object.keys(EXPECTED).sort());
});

describe.each(Object.keys(EXPECTED))("%s", (name) => {
  const want = EXPECTED[name];
  let stack: TfJson;
  beforeAll(() => {
    stack = parse(synthEnvironment(getEnvironment(name, envs)));
  });

  it("network: CIDR, one public and one private subnet per AZ, NAT gateways, flow log retention", () => {
    expect(onlyResource(stack, "aws_vpc").cidr_block).toBe(want.cidr);
    const subnets = resourcesOf(stack, "aws_subnet");
    expect(subnets.filter((s) => s.tags.tier === "public").map((s) => s.cidr_block)).toEqual(want.subnets.public);
    expect(subnets.filter((s) => s.tags.tier === "private").map((s) => s.cidr_block)).toEqual(want.subnets.private);
    expect(resourcesOf(stack, "aws_nat_gateway")).toHaveLength(want.natGateways);
    expect(resourcesOf(stack, "aws_eip")).toHaveLength(want.natGateways);
    const natRoutes = resourcesOf(stack, "aws_route").filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(want.subnets.private.length);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(want.natGateways);
    expect(onlyResource(stack, "aws_cloudwatch_log_group").retention_in_days).toBe(want.flowLogRetention);
  });

  it("app tier: ASG sizes, instance type, target groups and weights, scaling policy", () => {
    const asg = onlyResource(stack, "aws_autoscaling_group");
    expect({ min: asg.min_size, desired: asg.desired_capacity, max: asg.max_size }).toEqual(want.asg);
    expect(asg.target_group_arns).toHaveLength(Object.keys(want.targetGroups).length);
    expect(onlyResource(stack, "aws_launch_template").instance_type).toBe(want.instanceType);

    const groups = stack.resource.aws_lb_target_group;
    const listeners = resourcesOf(stack, "aws_lb_listener");
    expect(listeners.map((l) => [l.port, l.protocol]).sort()).toEqual([[443, "HTTPS"], [80, "HTTP"]]);
    const http = listeners.find((l) => l.port === 80)!;
    expect(http.default_action).toEqual([expect.objectContaining({ type: "redirect" })]);
    const https = listeners.find((l) => l.port === 443)!;
    expect(https.certificate_arn).toBe(want.certificateArn);
    const weights = https.default_action[0].forward.target_group.map((t: any) => {
      const id = /^\$\{aws_lb_target_group\.([^.]+)\.arn\}$/.exec(t.arn)![1];
      return [groups[id].name, t.weight];
    });
    expect(Object.fromEntries(weights)).toEqual(want.targetGroups);

    const schedules = Object.fromEntries(
      resourcesOf(stack, "aws_autoscaling_schedule").map((a) => [a.recurrence, [a.min_size, a.desired_capacity, a.max_size]]),
    );
    expect(schedules).toEqual(want.offHours);

    const policies = resourcesOf(stack, "aws_autoscaling_policy");
    if (want.cpuTarget === null) {
      expect(policies).toHaveLength(0);
    } else {
      expect(policies).toHaveLength(1);
      expect(policies[0].target_tracking_configuration.target_value).toBe(want.cpuTarget);
    }
  });

  it("database: class, storage, multi-AZ, backups, deletion protection, final snapshot, logging", () => {
    const db = onlyResource(stack, "aws_db_instance");
    expect(db).toMatchObject({
      instance_class: want.db.instanceClass,
      allocated_storage: want.db.storage,
      multi_az: want.db.multiAz,
      backup_retention_period: want.db.backup,
      deletion_protection: want.db.deletionProtection,
      skip_final_snapshot: want.db.skipFinalSnapshot,
      storage_encrypted: true,
    });
    expect(db.enabled_cloudwatch_logs_exports).toEqual(want.db.exports);
    const params = Object.fromEntries(onlyResource(stack, "aws_db_parameter_group").parameter.map((p: any) => [p.name, p.value]));
    expect(params).toMatchObject({
      log_connections: want.db.logConnections,
      log_disconnections: want.db.logConnections,
      log_statement: want.db.logStatement,
    });
  });

  it("cache: a replication group of 1 + replicas nodes, encrypted, with failover per config", () => {
    expect(resourcesOf(stack, "aws_elasticache_cluster")).toHaveLength(0);
    expect(onlyResource(stack, "aws_elasticache_replication_group")).toMatchObject({
      num_cache_clusters: want.cache.nodes,
      automatic_failover_enabled: want.cache.failover,
      multi_az_enabled: want.cache.failover,
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
    });
  });

  it("log bucket lifecycle: expiry and cold storage", () => {
    const rule = onlyResource(stack, "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.expiration).toEqual([{ days: want.logs.expireDays }]);
    expect(rule.transition).toEqual(
      want.logs.glacierAfterDays === null ? undefined : [{ days: want.logs.glacierAfterDays, storage_class: "GLACIER" }],
    );
  });

  it("edge: CloudFront and WAF only where configured", () => {
    const distributions = resourcesOf(stack, "aws_cloudfront_distribution");
    const acls = resourcesOf(stack, "aws_wafv2_web_acl");
    if (want.edge === null) {
      expect(distributions).toHaveLength(0);
      expect(acls).toHaveLength(0);
    } else {
      expect(distributions).toHaveLength(1);
      expect(distributions[0].price_class).toBe(want.edge.priceClass);
      expect(acls).toHaveLength(1);
      expect(acls[0].rule[0].statement.rate_based_statement.limit).toBe(want.edge.rateLimit);
    }
  });

  it("alarms: a topic named by severity and the SLO alarms, or none", () => {
    const topics = resourcesOf(stack, "aws_sns_topic");
    const alarms = resourcesOf(stack, "aws_cloudwatch_metric_alarm");
    if (want.alarmTopic === null) {
      expect(topics).toHaveLength(0);
      expect(alarms).toHaveLength(0);
    } else {
      expect(topics.map((t) => t.name)).toEqual([want.alarmTopic]);
      // 5xx rate + p99 latency + one unhealthy-host alarm per target group
      expect(alarms).toHaveLength(2 + Object.keys(want.targetGroups).length);
    }
  });

  it("budget: monthly amount and thresholds", () => {
    const budget = onlyResource(stack, "aws_budgets_budget");
    expect(budget.limit_amount).toBe(want.budget.amount);
    expect(budget.notification.map((n: any) => n.threshold)).toEqual(want.budget.thresholds);
  });

  it("SSM parameters: app config and feature flags with their values", () => {
    const params = Object.fromEntries(resourcesOf(stack, "aws_ssm_parameter").map((p) => [p.name, p.value]));
    expect(params).toEqual(want.ssm);
  });

  it("secrets: names and rotation tags", () => {
    const secrets = Object.fromEntries(resourcesOf(stack, "aws_secretsmanager_secret").map((s) => [s.name, s.tags?.["rotation-days"]]));
    expect(secrets).toEqual(want.secrets);
  });

  it("DNS: the env's private zone on its own VPC", () => {
    const zone = onlyResource(stack, "aws_route53_zone");
    expect(zone.name).toBe(want.dnsZone);
    expect(zone.vpc).toEqual([{ vpc_id: expect.stringMatching(/^\$\{aws_vpc\.network_vpc_[A-Z0-9]+\.id\}$/) }]);
  });
});

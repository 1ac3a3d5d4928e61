/** Each construct synthesized alone; every property its props control is asserted. */
import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import { CloudfrontDistribution } from "@cdktf/provider-aws/lib/cloudfront-distribution";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { ElasticacheCluster } from "@cdktf/provider-aws/lib/elasticache-cluster";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Route53Zone } from "@cdktf/provider-aws/lib/route53-zone";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { AppConfig } from "../../constructs/app-config";
import { AppService, AppServiceProps } from "../../constructs/app-service";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { Budget } from "../../constructs/budget";
import { Cache, CacheProps } from "../../constructs/cache";
import { Database, DatabaseProps } from "../../constructs/database";
import { Edge } from "../../constructs/edge";
import { LogStorage } from "../../constructs/log-storage";
import { Monitoring, MonitoringProps } from "../../constructs/monitoring";
import { boundedName } from "../../constructs/naming";
import { Network, NetworkProps } from "../../constructs/network";
import { PrivateDns } from "../../constructs/private-dns";
import { Secrets } from "../../constructs/secrets";
import { StateBackend } from "../../constructs/state-backend";
import { TfJson } from "../helpers/stacks";

Testing.setupJest();

const parse = (json: string) => JSON.parse(json) as TfJson;
const all = (json: string, type: string): Array<Record<string, any>> => Object.values(parse(json).resource[type] ?? {});

describe("Network", () => {
  const base: NetworkProps = {
    namePrefix: "t1",
    cidr: "10.50.0.0/16",
    publicSubnetCidrs: ["10.50.0.0/20", "10.50.16.0/20", "10.50.32.0/20"],
    privateSubnetCidrs: ["10.50.128.0/20", "10.50.144.0/20", "10.50.160.0/20"],
    natGateways: 1,
    flowLogRetentionDays: 14,
  };
  const synth = (props: Partial<NetworkProps> = {}) => Testing.synthScope((s) => new Network(s, "net", { ...base, ...props }));

  it("creates the VPC and one public and one private subnet per AZ from the given CIDRs", () => {
    const out = synth();
    expect(out).toHaveResourceWithProperties(Vpc, { cidr_block: "10.50.0.0/16", enable_dns_hostnames: true });
    const cidrs = all(out, Subnet.tfResourceType).map((s) => s.cidr_block).sort();
    expect(cidrs).toEqual([...base.publicSubnetCidrs, ...base.privateSubnetCidrs].sort());
  });

  it("routes every private subnet through the one shared NAT gateway when natGateways is 1", () => {
    const out = synth({ natGateways: 1 });
    expect(all(out, NatGateway.tfResourceType)).toHaveLength(1);
    const natRoutes = all(out, "aws_route").filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(3);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(1);
  });

  it("gives each AZ its own NAT gateway when natGateways equals the AZ count", () => {
    const out = synth({ natGateways: 3 });
    expect(all(out, NatGateway.tfResourceType)).toHaveLength(3);
    const natRoutes = all(out, "aws_route").filter((r) => r.nat_gateway_id);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(3);
  });

  it("has no NAT gateway and no private default route when natGateways is 0", () => {
    const out = synth({ natGateways: 0 });
    expect(all(out, NatGateway.tfResourceType)).toHaveLength(0);
    expect(all(out, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(0);
  });

  it("refuses more NAT gateways than AZs", () => {
    expect(() => synth({ natGateways: 4 })).toThrow("natGateways must be 0..3, but 4 was provided");
  });

  it("sends all VPC flow logs to a log group kept flowLogRetentionDays", () => {
    const out = synth({ flowLogRetentionDays: 365 });
    expect(out).toHaveResourceWithProperties(CloudwatchLogGroup, { retention_in_days: 365, name: "/t1/vpc/flow-logs" });
    expect(out).toHaveResourceWithProperties(FlowLog, { traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    expect(out).toHaveResourceWithProperties(FlowLog, { iam_role_arn: expect.stringContaining("aws_iam_role.") });
  });
});

describe("LogStorage", () => {
  it("hardens the bucket and expires objects after retentionDays, with no transition when cold storage is off", () => {
    const out = Testing.synthScope((s) => new LogStorage(s, "logs", { bucketName: "t1-logs", retentionDays: 30 }));
    expect(out).toHaveResourceWithProperties(S3Bucket, { bucket: "t1-logs" });
    expect(out).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(out).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } })],
    });
    expect(out).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const policy = JSON.parse(all(out, S3BucketPolicy.tfResourceType)[0].policy);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    const rule = all(out, S3BucketLifecycleConfiguration.tfResourceType)[0].rule[0];
    expect(rule.expiration).toEqual([{ days: 30 }]);
    expect(rule.transition).toBeUndefined();
  });

  it("moves objects to GLACIER after coldStorageAfterDays", () => {
    const out = Testing.synthScope(
      (s) => new LogStorage(s, "logs", { bucketName: "t1-logs", retentionDays: 730, coldStorageAfterDays: 90 }),
    );
    const rule = all(out, S3BucketLifecycleConfiguration.tfResourceType)[0].rule[0];
    expect(rule.expiration).toEqual([{ days: 730 }]);
    expect(rule.transition).toEqual([{ days: 90, storage_class: "GLACIER" }]);
  });
});

describe("Database", () => {
  const base: DatabaseProps = {
    namePrefix: "t1",
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    clientSecurityGroupId: "sg-app",
    engineVersion: "16",
    instanceClass: "db.t3.small",
    allocatedStorageGb: 20,
  };
  const synth = (props: Partial<DatabaseProps> = {}) => Testing.synthScope((s) => new Database(s, "db", { ...base, ...props }));
  const parameters = (out: string) =>
    Object.fromEntries(all(out, DbParameterGroup.tfResourceType)[0].parameter.map((p: any) => [p.name, p.value]));

  it("maps every config field onto the instance", () => {
    const out = synth({
      instanceClass: "db.r6g.large",
      allocatedStorageGb: 500,
      multiAz: true,
      backupRetentionDays: 30,
      deletionProtection: true,
      finalSnapshot: true,
    });
    expect(out).toHaveResourceWithProperties(DbInstance, {
      engine: "postgres",
      engine_version: "16",
      instance_class: "db.r6g.large",
      allocated_storage: 500,
      multi_az: true,
      backup_retention_period: 30,
      deletion_protection: true,
      storage_encrypted: true,
      publicly_accessible: false,
      skip_final_snapshot: false,
      final_snapshot_identifier: "t1-db-final",
      manage_master_user_password: true,
    });
  });

  it("lets RDS manage the master password: no password argument at all, only the managed secret's KMS key when given", () => {
    const db = all(synth(), DbInstance.tfResourceType)[0];
    expect([db.password, db.password_wo, db.password_wo_version, db.manage_master_user_password]).toEqual([undefined, undefined, undefined, true]);
    expect(db.master_user_secret_kms_key_id).toBeUndefined();
    expect(all(synth({ masterPasswordKmsKeyId: "alias/db" }), DbInstance.tfResourceType)[0].master_user_secret_kms_key_id).toBe("alias/db");
  });

  it("skips the final snapshot (and names none) when finalSnapshot is false", () => {
    const db = all(synth({ finalSnapshot: false }), DbInstance.tfResourceType)[0];
    expect(db.skip_final_snapshot).toBe(true);
    expect(db.final_snapshot_identifier).toBeUndefined();
  });

  it("turns connection and audit logging on and off through the parameter group and log exports", () => {
    const off = synth({ connectionLogging: false, auditLogging: false });
    expect(parameters(off)).toMatchObject({ log_connections: "0", log_disconnections: "0", log_statement: "none" });
    expect(all(off, DbInstance.tfResourceType)[0].enabled_cloudwatch_logs_exports).toBeUndefined();
    expect(off).toHaveResourceWithProperties(DbParameterGroup, { family: "postgres16" });

    const on = synth({ connectionLogging: true, auditLogging: true });
    expect(parameters(on)).toMatchObject({ log_connections: "1", log_disconnections: "1", log_statement: "ddl" });
    expect(on).toHaveResourceWithProperties(DbInstance, { enabled_cloudwatch_logs_exports: ["postgresql"] });
  });

  it("admits only the client security group, on 5432", () => {
    const rules = all(synth(), VpcSecurityGroupIngressRule.tfResourceType);
    expect(rules).toEqual([
      expect.objectContaining({ referenced_security_group_id: "sg-app", from_port: 5432, to_port: 5432, ip_protocol: "tcp" }),
    ]);
    expect(rules[0].cidr_ipv4).toBeUndefined();
  });
});

describe("Cache", () => {
  const base: CacheProps = {
    namePrefix: "t1",
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    clientSecurityGroupId: "sg-app",
    nodeType: "cache.t3.micro",
    engineVersion: "7.1",
  };
  const synth = (props: Partial<CacheProps> = {}) => Testing.synthScope((s) => new Cache(s, "cache", { ...base, ...props }));

  it("is a replication group of one node, still encrypted at rest, when replicas is 0", () => {
    const out = synth({ replicas: 0 });
    expect(out).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      engine: "redis",
      node_type: "cache.t3.micro",
      num_cache_clusters: 1,
      automatic_failover_enabled: false,
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
    });
    expect(all(out, ElasticacheCluster.tfResourceType)).toHaveLength(0);
  });

  it("is a replication group of 1 + replicas nodes, encrypted, with failover per props", () => {
    const out = synth({ replicas: 2, automaticFailover: true, multiAz: true, nodeType: "cache.r6g.large" });
    expect(out).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      node_type: "cache.r6g.large",
      num_cache_clusters: 3,
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
    });
    expect(all(out, ElasticacheCluster.tfResourceType)).toHaveLength(0);
    const noFailover = synth({ replicas: 1, automaticFailover: false });
    expect(noFailover).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      num_cache_clusters: 2,
      automatic_failover_enabled: false,
      multi_az_enabled: false,
    });
  });

  it("refuses automatic failover without a replica", () => {
    expect(() => synth({ replicas: 0, automaticFailover: true })).toThrow("need replicas >= 1, but 0 was provided");
  });

  it("admits only the client security group, on 6379", () => {
    expect(all(synth(), VpcSecurityGroupIngressRule.tfResourceType)).toEqual([
      expect.objectContaining({ referenced_security_group_id: "sg-app", from_port: 6379, to_port: 6379 }),
    ]);
  });
});

describe("AppService", () => {
  const base: AppServiceProps = {
    namePrefix: "t1",
    vpcId: "vpc-1",
    vpcCidr: "10.50.0.0/16",
    vpcEgressPorts: [5432],
    publicSubnetIds: ["subnet-p1", "subnet-p2"],
    privateSubnetIds: ["subnet-q1", "subnet-q2"],
    imageId: "ami-0a1b2c3d4e5f60718",
    instanceType: "t3.small",
    certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/x",
    port: 8080,
    healthCheckPath: "/healthz",
    minSize: 2,
    desiredCapacity: 3,
    maxSize: 6,
    targetGroups: [
      { name: "blue", weight: 90 },
      { name: "green", weight: 10 },
    ],
  };
  const synth = (props: Partial<AppServiceProps> = {}) => Testing.synthScope((s) => new AppService(s, "app", { ...base, ...props }));

  it("runs min/desired/max instances of the image in private subnets, attached to every target group", () => {
    const out = synth();
    const asg = all(out, AutoscalingGroup.tfResourceType)[0];
    expect(asg).toMatchObject({ min_size: 2, desired_capacity: 3, max_size: 6, vpc_zone_identifier: ["subnet-q1", "subnet-q2"] });
    expect(asg.target_group_arns).toHaveLength(2);
    expect(out).toHaveResourceWithProperties(LaunchTemplate, {
      image_id: "ami-0a1b2c3d4e5f60718",
      instance_type: "t3.small",
      metadata_options: expect.objectContaining({ http_tokens: "required" }),
      block_device_mappings: [expect.objectContaining({ ebs: expect.objectContaining({ encrypted: "true" }) })],
    });
  });

  it("creates one target group per entry and forwards with the configured weights", () => {
    const out = synth();
    expect(out).toHaveResourceWithProperties(LbTargetGroup, {
      name: "t1-blue",
      port: 8080,
      health_check: expect.objectContaining({ path: "/healthz" }),
    });
    expect(out).toHaveResourceWithProperties(LbTargetGroup, { name: "t1-green" });
    const listener = all(out, LbListener.tfResourceType).find((l) => l.default_action[0].type === "forward")!;
    expect(listener.default_action[0].forward.target_group.map((t: any) => t.weight)).toEqual([90, 10]);
  });

  it("adds a target-tracking CPU policy only when targetCpuPercent is set", () => {
    expect(all(synth(), AutoscalingPolicy.tfResourceType)).toHaveLength(0);
    expect(synth({ targetCpuPercent: 55 })).toHaveResourceWithProperties(AutoscalingPolicy, {
      policy_type: "TargetTrackingScaling",
      target_tracking_configuration: expect.objectContaining({ target_value: 55 }),
    });
  });

  it("opens the ALB to the internet on 443 and 80, and the app port only to the ALB's security group", () => {
    const rules = all(synth(), VpcSecurityGroupIngressRule.tfResourceType);
    const open = rules.filter((r) => r.cidr_ipv4 === "0.0.0.0/0").map((r) => r.from_port).sort();
    expect(open).toEqual([443, 80].sort());
    const appRule = rules.find((r) => r.from_port === 8080)!;
    expect(appRule.cidr_ipv4).toBeUndefined();
    expect(appRule.referenced_security_group_id).toMatch(/aws_security_group\.app_alb-sg/);
  });

  it("serves HTTPS with the certificate and only redirects 80 to 443", () => {
    const listeners = all(synth(), LbListener.tfResourceType);
    expect(listeners).toHaveLength(2);
    expect(listeners.find((l) => l.port === 443)).toMatchObject({
      protocol: "HTTPS",
      certificate_arn: "arn:aws:acm:us-east-1:111111111111:certificate/x",
      default_action: [expect.objectContaining({ type: "forward" })],
    });
    expect(listeners.find((l) => l.port === 80)!.default_action[0]).toMatchObject({ type: "redirect", redirect: { port: "443", protocol: "HTTPS" } });
  });

  it("scales down and back up on the off-hours schedule only when one is given", () => {
    expect(all(synth(), AutoscalingSchedule.tfResourceType)).toHaveLength(0);
    const offHours = { timeZone: "Europe/Berlin", scaleDownAt: "0 19 * * MON-FRI", scaleUpAt: "0 7 * * MON-FRI", minSize: 0, desiredCapacity: 0, maxSize: 0 };
    const schedules = all(synth({ offHours }), AutoscalingSchedule.tfResourceType);
    expect(schedules).toEqual([
      expect.objectContaining({ scheduled_action_name: "t1-off-hours-down", recurrence: "0 19 * * MON-FRI", time_zone: "Europe/Berlin", min_size: 0, desired_capacity: 0, max_size: 0 }),
      expect.objectContaining({ scheduled_action_name: "t1-off-hours-up", recurrence: "0 7 * * MON-FRI", time_zone: "Europe/Berlin", min_size: 2, desired_capacity: 3, max_size: 6 }),
    ]);
  });

  it("refuses sizes out of order", () => {
    expect(() => synth({ minSize: 3, desiredCapacity: 2 })).toThrow("minSize <= desiredCapacity <= maxSize is required, but 3 / 2 / 6");
  });
});

describe("Edge", () => {
  it("puts CloudFront with the price class in front of the origin, behind a rate-limited CLOUDFRONT web ACL", () => {
    const out = Testing.synthScope(
      (s) => new Edge(s, "edge", { namePrefix: "t1", originDomainName: "alb.example.com", priceClass: "PriceClass_200", rateLimitPer5Min: 2500 }),
    );
    expect(out).toHaveResourceWithProperties(CloudfrontDistribution, {
      price_class: "PriceClass_200",
      origin: [expect.objectContaining({ domain_name: "alb.example.com" })],
      web_acl_id: expect.stringContaining("aws_wafv2_web_acl."),
    });
    const acl = all(out, Wafv2WebAcl.tfResourceType)[0];
    expect(acl.scope).toBe("CLOUDFRONT");
    expect(acl.rule[0].statement).toEqual({ rate_based_statement: { limit: 2500, aggregate_key_type: "IP" } });
    expect(acl.rule[0].action).toEqual({ block: {} });
  });
});

describe("Monitoring", () => {
  const base: MonitoringProps = {
    namePrefix: "t1",
    severity: "notify",
    loadBalancerArnSuffix: "app/t1-alb/123",
    targetGroupArnSuffixes: { blue: "targetgroup/t1-blue/1", green: "targetgroup/t1-green/2" },
    errorRatePercent: 0.5,
    latencyP99Ms: 250,
  };
  const synth = (props: Partial<MonitoringProps> = {}) => Testing.synthScope((s) => new Monitoring(s, "mon", { ...base, ...props }));

  it("names the topic by severity", () => {
    expect(synth({ severity: "notify" })).toHaveResourceWithProperties(SnsTopic, { name: "t1-notify" });
    expect(synth({ severity: "page" })).toHaveResourceWithProperties(SnsTopic, { name: "t1-oncall-page" });
  });

  it("alarms on the 5xx rate (metric math), p99 latency and unhealthy hosts, all to the topic", () => {
    const alarms = all(synth(), CloudwatchMetricAlarm.tfResourceType);
    expect(alarms).toHaveLength(2 + 2);
    const rate = alarms.find((a) => a.alarm_name === "t1-alb-5xx-rate")!;
    expect(rate.threshold).toBe(0.5);
    expect(rate.metric_query.find((q: any) => q.return_data).expression).toContain("100 *");
    const latency = alarms.find((a) => a.alarm_name === "t1-alb-p99-latency")!;
    expect(latency).toMatchObject({ extended_statistic: "p99", threshold: 0.25, metric_name: "TargetResponseTime" });
    const unhealthy = alarms.filter((a) => a.metric_name === "UnHealthyHostCount");
    expect(unhealthy.map((a) => a.dimensions.TargetGroup).sort()).toEqual(["targetgroup/t1-blue/1", "targetgroup/t1-green/2"]);
    expect(unhealthy.every((a) => a.threshold === 0 && a.comparison_operator === "GreaterThanThreshold")).toBe(true);
    for (const a of alarms) expect(a.alarm_actions).toEqual([expect.stringContaining("aws_sns_topic.")]);
  });
});

describe("Budget", () => {
  it("is a monthly COST budget with one notification per threshold to every address", () => {
    const out = Testing.synthScope(
      (s) => new Budget(s, "b", { namePrefix: "t1", monthlyUsd: 750, alertThresholdsPercent: [50, 90], notifyEmails: ["a@example.com"] }),
    );
    const budget = all(out, BudgetsBudget.tfResourceType)[0];
    expect(budget).toMatchObject({ budget_type: "COST", time_unit: "MONTHLY", limit_amount: "750.00", limit_unit: "USD" });
    expect(budget.notification.map((n: any) => n.threshold)).toEqual([50, 90]);
    expect(budget.notification[0]).toMatchObject({ threshold_type: "PERCENTAGE", subscriber_email_addresses: ["a@example.com"] });
  });
});

describe("AppConfig", () => {
  it("writes settings under <prefix>/app/ and flags under <prefix>/flags/", () => {
    const out = Testing.synthScope(
      (s) => new AppConfig(s, "cfg", { parameterPrefix: "/t1", settings: { LOG_LEVEL: "warn" }, featureFlags: { "new-ui": true, old: false } }),
    );
    expect(out).toHaveResourceWithProperties(SsmParameter, { name: "/t1/app/LOG_LEVEL", value: "warn", type: "String" });
    expect(out).toHaveResourceWithProperties(SsmParameter, { name: "/t1/flags/new-ui", value: "true" });
    expect(out).toHaveResourceWithProperties(SsmParameter, { name: "/t1/flags/old", value: "false" });
    expect(all(out, SsmParameter.tfResourceType)).toHaveLength(3);
  });

  it("refuses a prefix with a trailing slash", () => {
    expect(() => Testing.synthScope((s) => new AppConfig(s, "cfg", { parameterPrefix: "/t1/" }))).toThrow('but "/t1/" was provided');
  });
});

describe("Secrets", () => {
  const synth = () =>
    Testing.synthScope(
      (s) =>
        new Secrets(s, "secrets", {
          namePrefix: "t1",
          secrets: [
            { name: "API_KEY", length: 40, rotationDays: 90, version: 3 },
            { name: "JWT_SECRET", length: 48, version: 1 },
          ],
        }),
    );
  const out = synth();
  const doc = JSON.parse(out) as { ephemeral?: { random_password?: Record<string, any> }; resource: Record<string, unknown> };

  it("generates each value with its length in an ephemeral random_password, and stores it at <prefix>/<NAME>", () => {
    const generated = Object.values(doc.ephemeral?.random_password ?? {});
    expect(generated.map((p) => p.length).sort()).toEqual([40, 48]);
    expect(generated.every((p) => p.special === true && p.min_upper === 1 && !/[/@" ]/.test(p.override_special))).toBe(true);
    expect(out).toHaveResourceWithProperties(SecretsmanagerSecret, { name: "t1/API_KEY", tags: { "rotation-days": "90" } });
    const jwt = all(out, SecretsmanagerSecret.tfResourceType).find((s) => s.name === "t1/JWT_SECRET")!;
    expect(jwt.tags).toBeUndefined();
  });

  it("writes values only through the write-only secret_string_wo, versioned by the spec's version; no random_password resource", () => {
    const versions = all(out, SecretsmanagerSecretVersion.tfResourceType);
    expect(versions.map((v) => v.secret_string_wo_version).sort()).toEqual([1, 3]);
    for (const v of versions) {
      expect(v.secret_string).toBeUndefined();
      expect(v.secret_string_wo).toMatch(/^\$\{ephemeral\.random_password\.[A-Za-z0-9_-]+\.result\}$/);
      expect(Object.keys(doc.ephemeral!.random_password!)).toContain(/ephemeral\.random_password\.([A-Za-z0-9_-]+)\.result/.exec(v.secret_string_wo)![1]);
    }
    expect(doc.resource.random_password).toBeUndefined();
  });

  it("refuses a duplicate name and a version that is not a positive integer", () => {
    expect(() =>
      Testing.synthScope(
        (s) => new Secrets(s, "x", { namePrefix: "t1", secrets: [{ name: "A", length: 16, version: 1 }, { name: "A", length: 16, version: 1 }] }),
      ),
    ).toThrow("secret names must be unique");
    for (const version of [0, 1.5, -1]) {
      expect(() => Testing.synthScope((s) => new Secrets(s, "x", { namePrefix: "t1", secrets: [{ name: "A", length: 16, version }] }))).toThrow(
        `t1/A: version must be a positive integer, but ${version} was provided`,
      );
    }
  });
});

describe("PrivateDns", () => {
  it("attaches the private zone to the one VPC and writes the CNAMEs", () => {
    const out = Testing.synthScope(
      (s) => new PrivateDns(s, "dns", { zoneName: "t1.internal.example.com", vpcId: "vpc-1", cnames: { db: "db.host" } }),
    );
    expect(out).toHaveResourceWithProperties(Route53Zone, { name: "t1.internal.example.com", vpc: [{ vpc_id: "vpc-1" }] });
    expect(out).toHaveResourceWithProperties(Route53Record, { name: "db.t1.internal.example.com", type: "CNAME", records: ["db.host"], allow_overwrite: true });
  });
});

describe("StateBackend", () => {
  it("creates a protected, hardened state bucket and a LockID lock table", () => {
    const out = Testing.synthScope((s) => new StateBackend(s, "sb", { bucketName: "tfstate-t1", lockTableName: "lock-t1" }));
    expect(out).toHaveResourceWithProperties(S3Bucket, { bucket: "tfstate-t1", lifecycle: { prevent_destroy: true } });
    expect(out).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(out).toHaveResource(S3BucketPublicAccessBlock);
    expect(out).toHaveResource(S3BucketPolicy);
    expect(out).toHaveResourceWithProperties(DynamodbTable, {
      name: "lock-t1",
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
      lifecycle: { prevent_destroy: true },
    });
  });
});

describe("boundedName", () => {
  it("keeps short names and shortens long ones to the limit, distinctly", () => {
    expect(boundedName("dev-blue", 32)).toBe("dev-blue");
    const a = boundedName("a-very-long-environment-name-blue", 32);
    const b = boundedName("a-very-long-environment-name-bluf", 32);
    expect(a.length).toBeLessThanOrEqual(32);
    expect(b.length).toBeLessThanOrEqual(32);
    expect(a).not.toBe(b);
  });
});

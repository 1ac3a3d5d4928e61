import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import { subnetLayout } from "../envs/cidr";
import type { EnvConfig } from "../envs/schema";
import { AppConfig } from "../constructs/app-config";
import { AppService } from "../constructs/app-service";
import { Budget } from "../constructs/budget";
import { Cache, REDIS_PORT } from "../constructs/cache";
import { Database, POSTGRES_PORT } from "../constructs/database";
import { Edge } from "../constructs/edge";
import { LogStorage } from "../constructs/log-storage";
import { Monitoring } from "../constructs/monitoring";
import { Network } from "../constructs/network";
import { PrivateDns } from "../constructs/private-dns";
import { Secrets } from "../constructs/secrets";
import { awsProvider, pinProviderVersions, randomProvider, s3Backend } from "./providers";
import type { DeployTarget } from "./target";

/** CloudFront-scoped WAF ACLs live in this region. */
const GLOBAL_REGION = "us-east-1";

/** A value or undefined (config uses null for "none"; construct props use an absent field). */
const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/**
 * One environment: every construct wired from its config, in its own account (assume_role +
 * allowed_account_ids), with its state in its own S3 backend. The stack id is the env's name, so synth
 * writes cdktf.out/stacks/<env>/cdk.tf.json.
 */
export class EnvironmentStack extends TerraformStack {
  constructor(scope: Construct, config: EnvConfig, target: DeployTarget) {
    super(scope, config.name);
    const prefix = config.name;

    // --- Providers and state ------------------------------------------------------------------------
    awsProvider(this, config, target);
    randomProvider(this);
    pinProviderVersions(this, ["aws", "random"]);
    s3Backend(this, config, target);

    // --- Network --------------------------------------------------------------------------------------
    const layout = subnetLayout(config.network.cidr, config.network.subnetPrefixLength, config.network.azCount);
    const network = new Network(this, "network", {
      namePrefix: prefix,
      cidr: config.network.cidr,
      publicSubnetCidrs: layout.public,
      privateSubnetCidrs: layout.private,
      natGateways: config.network.natGateways,
      flowLogRetentionDays: config.network.flowLogRetentionDays,
    });

    // --- Logs and secrets -----------------------------------------------------------------------------
    new LogStorage(this, "logs", {
      bucketName: `${prefix}-logs-${config.account.id}`,
      retentionDays: config.logs.retentionDays,
      coldStorageAfterDays: orUndefined(config.logs.coldStorageAfterDays),
    });
    new Secrets(this, "secrets", {
      namePrefix: prefix,
      secrets: config.secrets.map((s) => ({ name: s.name, length: s.length, rotationDays: orUndefined(s.rotationDays), version: s.version })),
      recoveryWindowDays: config.secretRecoveryDays,
    });

    // --- App tier -------------------------------------------------------------------------------------
    const app = new AppService(this, "app", {
      namePrefix: prefix,
      vpcId: network.vpcId,
      vpcCidr: config.network.cidr,
      vpcEgressPorts: [POSTGRES_PORT, REDIS_PORT],
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      imageId: config.app.imageId,
      instanceType: config.app.instanceType,
      certificateArn: certificateArn(config),
      port: config.app.port,
      healthCheckPath: config.app.healthCheckPath,
      minSize: config.app.minSize,
      desiredCapacity: config.app.desiredCapacity,
      maxSize: config.app.maxSize,
      targetCpuPercent: config.app.scaling?.targetCpuPercent,
      offHours: orUndefined(config.app.offHours),
      targetGroups: config.app.targetGroups,
    });

    // --- Data tier ------------------------------------------------------------------------------------
    const db = new Database(this, "database", {
      namePrefix: prefix,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      clientSecurityGroupId: app.securityGroupId,
      engineVersion: config.database.engineVersion,
      instanceClass: config.database.instanceClass,
      allocatedStorageGb: config.database.allocatedStorageGb,
      multiAz: config.database.multiAz,
      backupRetentionDays: config.database.backupRetentionDays,
      deletionProtection: config.database.deletionProtection,
      finalSnapshot: config.database.finalSnapshot,
      connectionLogging: config.database.connectionLogging,
      auditLogging: config.database.auditLogging,
    });
    const cache = new Cache(this, "cache", {
      namePrefix: prefix,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      clientSecurityGroupId: app.securityGroupId,
      nodeType: config.cache.nodeType,
      engineVersion: config.cache.engineVersion,
      replicas: config.cache.replicas,
      automaticFailover: config.cache.automaticFailover,
      multiAz: config.cache.automaticFailover,
    });
    new PrivateDns(this, "dns", {
      zoneName: config.dnsZone,
      vpcId: network.vpcId,
      cnames: { db: db.address, cache: cache.address, app: app.albDnsName },
    });

    // --- Edge, alarms, budget, app config (each only where its config is set) ---------------------
    if (config.edge !== null) {
      const globalProvider =
        config.region === GLOBAL_REGION
          ? undefined
          : awsProvider(this, config, target, { id: "aws-global", alias: "global", region: GLOBAL_REGION });
      const edge = new Edge(this, "edge", {
        namePrefix: prefix,
        originDomainName: app.albDnsName,
        priceClass: config.edge.priceClass,
        rateLimitPer5Min: config.edge.rateLimitPer5Min,
        globalProvider,
      });
      new TerraformOutput(this, "cloudfront_domain", { value: edge.domainName });
    }
    if (config.alarms !== null) {
      const monitoring = new Monitoring(this, "monitoring", {
        namePrefix: prefix,
        severity: config.alarms.severity,
        loadBalancerArnSuffix: app.albArnSuffix,
        targetGroupArnSuffixes: app.targetGroupArnSuffixes,
        errorRatePercent: config.alarms.errorRatePercent,
        latencyP99Ms: config.alarms.latencyP99Ms,
      });
      new TerraformOutput(this, "alarm_topic_arn", { value: monitoring.topicArn });
    }
    new Budget(this, "budget", {
      namePrefix: prefix,
      monthlyUsd: config.budget.monthlyUsd,
      alertThresholdsPercent: config.budget.alertThresholdsPercent,
      notifyEmails: config.budget.notifyEmails,
    });
    new AppConfig(this, "app-config", {
      parameterPrefix: `/${prefix}`,
      settings: config.appConfig,
      featureFlags: config.featureFlags,
    });

    // --- Outputs (never secrets) ----------------------------------------------------------------------
    new TerraformOutput(this, "vpc_id", { value: network.vpcId });
    new TerraformOutput(this, "alb_dns_name", { value: app.albDnsName });
    new TerraformOutput(this, "db_endpoint", { value: db.address });
    // The ARN of the RDS-managed secret holding the master password (the app reads the value from there).
    new TerraformOutput(this, "db_secret_arn", { value: db.masterPasswordSecretArn });
    new TerraformOutput(this, "cache_endpoint", { value: cache.address });
  }
}

/** The load balancer certificate's ARN: always in the env's own account (and region, for ACM). */
export function certificateArn(config: EnvConfig): string {
  const { kind, id } = config.app.tlsCertificate;
  return kind === "acm"
    ? `arn:aws:acm:${config.region}:${config.account.id}:certificate/${id}`
    : `arn:aws:iam::${config.account.id}:server-certificate/${id}`;
}

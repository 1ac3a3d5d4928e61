/**
 * The one schema every environment config is read through.
 *
 * Every value that differs between environments is a field here; code in `constructs/` and `stacks/`
 * reads fields and never compares an environment's name. Types are derived from the schema
 * (`EnvConfig = z.infer<typeof envConfigSchema>`), so a field cannot exist in the type and be
 * missing from validation.
 *
 * Structure (types, required and unknown fields) is checked by zod; rules that relate two values
 * (min <= desired <= max, CIDR capacity, ...) are a table in `validate.ts`.
 */
import { z } from "zod";

/** An environment name: data, never a closed union (a fourth or an ephemeral env needs no code). */
export const ENV_NAME_PATTERN = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;
const IPV4_CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const envName = z.string().regex(ENV_NAME_PATTERN, "a lower-case name of 2..24 characters (a-z, 0-9, -)");
const cidr = z.string().regex(IPV4_CIDR_PATTERN, "an IPv4 CIDR such as 10.10.0.0/16");
const CRON_PATTERN = /^\S+ \S+ \S+ \S+ \S+$/;
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const percent = z.number().min(0).max(100);

// ---------------------------------------------------------------------------------------------
// Account and state
// ---------------------------------------------------------------------------------------------

const accountSchema = z
  .object({
    /** The AWS account this environment lives in; no two environments share one. */
    id: z.string().regex(/^\d{12}$/, "a 12-digit AWS account id"),
    /** The role in that account that every terraform call of this env assumes. */
    deployRoleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, "an IAM role name"),
  })
  .strict();

const stateBackendSchema = z
  .object({
    /** The env's own state bucket, created by its bootstrap stack in its own account. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
    /** The object key of the env's main stack state. */
    key: z.string().min(1),
    /** The DynamoDB table holding the env's state lock. */
    lockTable: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name"),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

const networkSchema = z
  .object({
    /** The VPC range; disjoint from every other environment's. */
    cidr,
    /** Prefix length of each public and private subnet (two per AZ are carved from `cidr`). */
    subnetPrefixLength: z.number().int().min(16).max(28),
    /** Availability zones used, 2..6 (a load balancer and a database subnet group need two). */
    azCount: z.number().int().min(2).max(6),
    /** NAT gateways, 0..azCount: 1 is shared by all AZs, azCount is one per AZ. */
    natGateways: nonNegativeInt,
    /** Days VPC flow logs are kept in CloudWatch Logs (one of the values CloudWatch accepts). */
    flowLogRetentionDays: positiveInt,
    /** CIDRs allowed to reach admin endpoints (never 0.0.0.0/0). */
    adminCidrs: z.array(cidr),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Application tier
// ---------------------------------------------------------------------------------------------

const targetGroupSchema = z
  .object({
    /** Target group name suffix, e.g. blue or green. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, "a short lower-case name"),
    /** Share of listener traffic, 0..100; all weights of an env add up to 100. */
    weight: z.number().int().min(0).max(100),
  })
  .strict();

const appSchema = z
  .object({
    /** EC2 instance type of the app tier. */
    instanceType: z.string().min(1),
    /** Instance types this env may run at all (policy, and a guard on `instanceType`). */
    allowedInstanceTypes: z.array(z.string().min(1)).min(1),
    /** The machine image every environment runs (the release artifact: same id everywhere). */
    imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, "an AMI id such as ami-0abcdef1234567890"),
    minSize: nonNegativeInt,
    desiredCapacity: nonNegativeInt,
    maxSize: positiveInt,
    /** Target-tracking autoscaling on average CPU; null turns scaling off (fixed size). */
    scaling: z.object({ targetCpuPercent: z.number().min(10).max(90) }).strict().nullable(),
    /**
     * The TLS certificate of the load balancer's HTTPS listener, in this env's own account and region
     * (the ARN is derived from account and region, so it cannot point elsewhere): an ACM certificate id
     * or an IAM server-certificate name.
     */
    tlsCertificate: z
      .object({
        kind: z.enum(["acm", "iam"]),
        id: z.string().regex(/^[\w+=,.@-]{1,128}$/, "an ACM certificate id or IAM server-certificate name"),
      })
      .strict(),
    /**
     * Cost control: scale the app tier down outside working hours (autoscaling scheduled actions);
     * null: always on. Cron expressions are evaluated in `timeZone`.
     */
    offHours: z
      .object({
        /** IANA time zone of the two schedules, e.g. Europe/Berlin. */
        timeZone: z.string().min(1),
        /** When to scale down (5-field cron), e.g. "0 19 * * MON-FRI". */
        scaleDownAt: z.string().regex(CRON_PATTERN, "a 5-field cron expression such as 0 19 * * MON-FRI"),
        /** When to scale back to minSize/desiredCapacity/maxSize (5-field cron). */
        scaleUpAt: z.string().regex(CRON_PATTERN, "a 5-field cron expression such as 0 7 * * MON-FRI"),
        /** The app tier's size while scaled down. */
        minSize: nonNegativeInt,
        desiredCapacity: nonNegativeInt,
        maxSize: nonNegativeInt,
      })
      .strict()
      .nullable(),
    /** Port the app listens on behind the load balancer. */
    port: z.number().int().min(1).max(65535),
    healthCheckPath: z.string().startsWith("/"),
    /** Blue/green: one target group, or several with weights (100/0 → 90/10 → 0/100). */
    targetGroups: z.array(targetGroupSchema).min(1).max(5),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Data tier
// ---------------------------------------------------------------------------------------------

const databaseSchema = z
  .object({
    engineVersion: z.string().regex(/^\d+(\.\d+)?$/, "a PostgreSQL major or major.minor version"),
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS class such as db.t3.small"),
    /** Memory of `instanceClass` in GiB, as AWS lists it (checked against `minMemoryGib`). */
    memoryGib: z.number().positive(),
    /** The least memory this env's database may have. */
    minMemoryGib: z.number().positive(),
    allocatedStorageGb: z.number().int().min(20).max(65536),
    multiAz: z.boolean(),
    /** Automated backups, 1..35 days; point-in-time recovery (always on with backups) spans this window. */
    backupRetentionDays: z.number().int(),
    deletionProtection: z.boolean(),
    /** Take a final snapshot when the instance is deleted. */
    finalSnapshot: z.boolean(),
    /** log_connections / log_disconnections parameters. */
    connectionLogging: z.boolean(),
    /** pgaudit-style statement logging (log_statement=ddl) exported to CloudWatch. */
    auditLogging: z.boolean(),
  })
  .strict();

const cacheSchema = z
  .object({
    nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type such as cache.t3.micro"),
    engineVersion: z.string().min(1),
    /** Read replicas beside the primary: 0 is a single node. */
    replicas: z.number().int().min(0).max(5),
    /** Promote a replica when the primary fails (needs replicas >= 1). */
    automaticFailover: z.boolean(),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Logs, edge, alarms, budget
// ---------------------------------------------------------------------------------------------

const logsSchema = z
  .object({
    /** Days application and access logs are kept (CloudWatch retention and bucket expiry). */
    retentionDays: positiveInt,
    /** Days after which log objects move to cold storage (Glacier); null keeps them warm. */
    coldStorageAfterDays: positiveInt.nullable(),
  })
  .strict();

const edgeSchema = z
  .object({
    /** CloudFront price class. */
    priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]),
    /** WAF rate limit: requests per 5 minutes per client IP. */
    rateLimitPer5Min: z.number().int().min(100).max(2_000_000_000),
  })
  .strict();

const alarmsSchema = z
  .object({
    /** notify: a notification topic; page: the on-call topic. */
    severity: z.enum(["notify", "page"]),
    /** SLO availability, e.g. 99.9; the 5xx-rate alarm fires at (100 - availability) %. */
    availabilityPercent: z.number().min(90).max(100),
    /** SLO latency: p99 target response time in milliseconds. */
    latencyP99Ms: positiveInt,
    /** SLO error rate in percent of requests. */
    errorRatePercent: z.number().min(0).max(100),
  })
  .strict();

const budgetSchema = z
  .object({
    /** Monthly cost budget in USD (AWS Budgets). */
    monthlyUsd: positiveInt,
    /** Percentages of the budget at which to notify. */
    alertThresholdsPercent: z.array(percent).min(1),
    /** Who is notified. */
    notifyEmails: z.array(z.string().email()).min(1),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// App config, secrets, DNS
// ---------------------------------------------------------------------------------------------

const secretSchema = z
  .object({
    /** Secret name; stored at `<env>/<name>` in Secrets Manager. */
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "an UPPER_SNAKE name"),
    /** Length of the generated value. */
    length: z.number().int().min(16).max(128),
    /** Rotation period recorded on the secret (days); null: no rotation policy. */
    rotationDays: positiveInt.nullable(),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Delivery: how plans of this env are promoted and applied
// ---------------------------------------------------------------------------------------------

const deliverySchema = z
  .object({
    /** The env whose successful apply of a commit is required before this env may plan it. */
    promotesFrom: envName.nullable(),
    /** An approval bound to the plan hash is required before apply. */
    requireApproval: z.boolean(),
    /** The approver must differ from the plan's author. */
    fourEyes: z.boolean(),
    /** `promote apply <env> --auto` (plan and apply in one step) is allowed. */
    autoApply: z.boolean(),
    /** Plans that destroy or replace a stateful resource (database, cache, buckets, tables, secrets) are refused. */
    protectStateful: z.boolean(),
    /** Hours a saved plan stays applicable. */
    planTtlHours: z.number().positive().max(24 * 14),
  })
  .strict();

export const envConfigSchema = z
  .object({
    name: envName,
    account: accountSchema,
    /** The single region all of this env's data lives in (data residency). */
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as us-east-1"),
    stateBackend: stateBackendSchema,
    network: networkSchema,
    app: appSchema,
    database: databaseSchema,
    cache: cacheSchema,
    logs: logsSchema,
    /** CloudFront + WAF in front of the load balancer; null: none. */
    edge: edgeSchema.nullable(),
    /** CloudWatch alarms from the SLOs; null: none. */
    alarms: alarmsSchema.nullable(),
    budget: budgetSchema,
    /** Plain settings written to SSM under `/<env>/app/<KEY>`. */
    appConfig: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, "an UPPER_SNAKE key"), z.string()),
    /** Feature flags written to SSM under `/<env>/flags/<name>`. */
    featureFlags: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, "a kebab-case flag name"), z.boolean()),
    secrets: z.array(secretSchema).min(1),
    /** Days a deleted secret can be restored: 0 (deleted at once, for envs that are destroyed) or 7..30. */
    secretRecoveryDays: z.number().int().min(0).max(30),
    /** The env's private DNS zone, attached to its own VPC only. */
    dnsZone: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "a DNS zone name such as dev.internal.example.com"),
    delivery: deliverySchema,
    /**
     * null for a long-lived environment. For an ephemeral one (a pull request's), the env it was derived
     * from: it shares that env's account and state bucket and lock table, with its own state key.
     */
    ephemeralOf: envName.nullable(),
    /** Extra tags on every resource (environment, managed-by and repository are always set). */
    tags: z.record(z.string(), z.string()),
  })
  .strict();

/** One environment's complete configuration. */
/** A type with every property and array of it (deeply) read-only: configs are values, never mutated. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type EnvConfig = DeepReadonly<z.infer<typeof envConfigSchema>>;
export type NetworkConfig = EnvConfig["network"];
export type AppConfig = EnvConfig["app"];
export type DatabaseConfig = EnvConfig["database"];
export type CacheConfig = EnvConfig["cache"];
export type DeliveryConfig = EnvConfig["delivery"];

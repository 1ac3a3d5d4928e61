import { RELEASE, REPOSITORY } from "./release";
import type { EnvConfig } from "./schema";

/** Production: highly available, approved by a second person, applies exactly the reviewed plan. */
export const prod: EnvConfig = {
  name: "prod",
  account: {
    id: "333333333333",
    deployRoleName: "terraform-deploy",
    bootstrapRoleName: "OrganizationAccountAccessRole",
    planRoleName: "promote-plan",
    gateReaderRoleName: "promote-gate-reader",
    breakGlassRoleName: "break-glass",
  },
  region: "us-east-1",
  stateBackend: { bucket: "tfstate-prod-333333333333", key: "env/prod/terraform.tfstate", lockTable: "tfstate-lock-prod" },
  store: { bucket: "promote-store-prod-333333333333", kmsKeyAlias: "alias/promote-prod", retentionDays: 400, bundleGraceDays: 7 },
  github: { repository: REPOSITORY, planSubjects: ["ref:refs/heads/main", "pull_request"] },
  network: {
    cidr: "10.30.0.0/16",
    subnetPrefixLength: 20,
    azCount: 3,
    natGateways: 3,
    flowLogRetentionDays: 365,
    adminCidrs: ["203.0.113.0/28"],
  },
  app: {
    instanceType: "m6i.large",
    allowedInstanceTypes: ["m6i.large", "m6i.xlarge", "m6i.2xlarge"],
    imageId: RELEASE.imageId,
    minSize: 2,
    desiredCapacity: 4,
    maxSize: 20,
    scaling: { targetCpuPercent: 50 },
    offHours: null,
    tlsCertificate: { kind: "iam", id: "app-prod" },
    port: 8080,
    healthCheckPath: "/healthz",
    targetGroups: [
      { name: "blue", weight: 100 },
      { name: "green", weight: 0 },
    ],
  },
  database: {
    engineVersion: RELEASE.postgresVersion,
    instanceClass: "db.r6g.large",
    memoryGib: 16,
    minMemoryGib: 16,
    allocatedStorageGb: 500,
    multiAz: true,
    backupRetentionDays: 30,
    deletionProtection: true,
    finalSnapshot: true,
    connectionLogging: true,
    auditLogging: true,
  },
  cache: { nodeType: "cache.r6g.large", engineVersion: RELEASE.redisVersion, replicas: 2, automaticFailover: true },
  logs: { retentionDays: 730, coldStorageAfterDays: 90 },
  edge: { priceClass: "PriceClass_100", rateLimitPer5Min: 2000 },
  alarms: { severity: "page", availabilityPercent: 99.9, latencyP99Ms: 200, errorRatePercent: 0.1 },
  budget: { monthlyUsd: 2000, alertThresholdsPercent: [50, 80, 100], notifyEmails: ["platform-oncall@example.com"] },
  appConfig: {
    LOG_LEVEL: "warn",
    API_TIMEOUT: "5s",
    DB_POOL_SIZE: "50",
    CACHE_ENABLED: "true",
    ENABLE_METRICS: "true",
    ALERT_ON_ERRORS: "true",
  },
  featureFlags: { "new-checkout": false, "beta-search": false },
  secrets: [
    { name: "API_KEY", length: 32, rotationDays: 90, version: 1 },
    { name: "JWT_SECRET", length: 48, rotationDays: 180, version: 1 },
  ],
  requireWriteOnlySecrets: true,
  secretRecoveryDays: 30,
  dnsZone: "prod.internal.example.com",
  ephemeralOf: null,
  delivery: {
    promotesFrom: "staging",
    requireApproval: true,
    fourEyes: true,
    protectStateful: true,
    autoApply: false,
    planTtlHours: 24,
    approvals: {
      requireSigned: true,
      minApprovers: 1,
      // Who may approve prod, with the SSH key they sign with (git's allowed_signers form). Replace the
      // placeholder with your team's keys in a reviewed commit; nobody holds its private key, so until
      // then no prod plan can be approved. The demo names its own throwaway approvers instead (see
      // PROMOTE_DEMO_ALLOWED_SIGNERS in scripts/lib/engine/io/signatures.ts, honoured on the emulator only).
      approvers: [
        {
          principal: "platform-lead@example.com",
          publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINK94FbB8o3xBBfm1XUcVf6w4XriGq8lv5v99pwHaBqL placeholder (private key discarded)",
        },
      ],
    },
  },
  tags: { "cost-center": "platform", "data-classification": "customer" },
};

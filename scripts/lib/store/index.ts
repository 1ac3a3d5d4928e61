/**
 * The promotion store of one environment, in its own account: bundles (S3BundleStore), the audit log
 * (S3AuditLog), the env's lease (LeaseLock) and, in the ephemeral base env's table, CIDR claims
 * (CidrClaims). `openEnvStore` reaches them as one of the env's roles and checks, before anything is
 * read or written, that the bucket and the KMS key are the env's own (STORE-ACCOUNT-MISMATCH,
 * STORE-KEY-MISMATCH).
 */
import type { EnvConfig } from "../../../envs/schema";
import { S3AuditLog } from "./audit-log";
import { AwsClients, connectionFromEnv, type Timeouts } from "./aws";
import { openBundleStore, resolveKmsKeyArn, S3BundleStore } from "./bundle-store";
import { CidrClaims, LeaseLock } from "./lease-lock";

export { S3AuditLog } from "./audit-log";
export { AwsClients, connectionFromEnv, DEFAULT_TIMEOUTS, type Connection, type Timeouts } from "./aws";
export { S3BundleStore, openBundleStore, resolveKmsKeyArn, type AppliedOutcome, type AppliedRecord, type BundleMarker } from "./bundle-store";
export { StoreError, StoreRefusal, STORE_RULES, type StoreRuleId } from "./errors";
export { CidrClaims, LeaseLock, type Lease, type LeaseHolder } from "./lease-lock";

/** Which of the env's roles the store is reached as. */
export type StoreRole = "deploy" | "plan" | "bootstrap" | "breakGlass" | "gateReader";

export function storeRoleArn(config: EnvConfig, role: StoreRole): string {
  const name = {
    deploy: config.account.deployRoleName,
    plan: config.account.planRoleName,
    bootstrap: config.account.bootstrapRoleName,
    breakGlass: config.account.breakGlassRoleName,
    gateReader: config.account.gateReaderRoleName,
  }[role];
  return `arn:aws:iam::${config.account.id}:role/${name}`;
}

export interface EnvStore {
  readonly env: string;
  readonly clients: AwsClients;
  readonly bundles: S3BundleStore;
  readonly audit: S3AuditLog;
  readonly lock: LeaseLock;
  readonly kmsKeyArn: string;
  /** Closes the clients. */
  close(): void;
}

export interface OpenOptions {
  readonly role?: StoreRole;
  readonly vars?: NodeJS.ProcessEnv;
  readonly timeouts?: Partial<Timeouts>;
  /** Who opens it (the role session's name). */
  readonly sessionName?: string;
}

/** Opens `config`'s store as `role` (default deploy): checks ownership and resolves the env's KMS key. */
export async function openEnvStore(config: EnvConfig, opts: OpenOptions = {}): Promise<EnvStore> {
  const clients = new AwsClients(
    connectionFromEnv({ region: config.region, roleArn: storeRoleArn(config, opts.role ?? "deploy"), sessionName: opts.sessionName ?? `promote-${config.name}`, vars: opts.vars, timeouts: opts.timeouts }),
  );
  try {
    const kmsKeyArn = await resolveKmsKeyArn(clients, config.store.kmsKeyAlias, { env: config.name, accountId: config.account.id });
    const bundles = await openBundleStore({ env: config.name, accountId: config.account.id, bucket: config.store.bucket, kmsKeyArn, clients });
    return {
      env: config.name,
      clients,
      bundles,
      audit: new S3AuditLog(bundles.bucket, config.name, kmsKeyArn),
      lock: new LeaseLock(clients, config.stateBackend.lockTable, config.name),
      kmsKeyArn,
      close: () => clients.destroy(),
    };
  } catch (e) {
    clients.destroy();
    throw e;
  }
}

/**
 * The promotion gate's view of an env's store, as its gate-reader role (which the next env's plan and
 * deploy roles may assume): applied/ only. It reads, it never writes, so it needs neither the KMS key's
 * description nor HeadBucket (neither of which that role may do); every request still carries
 * ExpectedBucketOwner = the env's account, so another account's bucket answers 403.
 */
export function openGateReader(config: EnvConfig, opts: Omit<OpenOptions, "role"> = {}): { bundles: S3BundleStore; close(): void } {
  const clients = new AwsClients(
    connectionFromEnv({ region: config.region, roleArn: storeRoleArn(config, "gateReader"), sessionName: opts.sessionName ?? `promote-gate-${config.name}`, vars: opts.vars, timeouts: opts.timeouts }),
  );
  return { bundles: new S3BundleStore({ env: config.name, accountId: config.account.id, bucket: config.store.bucket, kmsKeyArn: "", clients }), close: () => clients.destroy() };
}

/** CIDR claims of ephemeral envs, in their base env's lock table. */
export function cidrClaims(base: EnvConfig, opts: OpenOptions = {}): CidrClaims {
  const clients = new AwsClients(
    connectionFromEnv({ region: base.region, roleArn: storeRoleArn(base, opts.role ?? "deploy"), sessionName: opts.sessionName ?? `promote-${base.name}-cidr`, vars: opts.vars, timeouts: opts.timeouts }),
  );
  return new CidrClaims(clients, base.stateBackend.lockTable);
}

import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { EnvConfig } from "../envs/schema";
import { DeliveryRoles } from "../constructs/delivery-roles";
import { PromotionStore } from "../constructs/promotion-store";
import { StateBackend } from "../constructs/state-backend";
import { awsProvider, bootstrapRoleArn, pinProviderVersions, roleArn, s3Backend } from "./providers";
import type { DeployTarget } from "./target";

/** The stack id of an env's bootstrap stack. */
export function bootstrapStackId(envName: string): string {
  return `bootstrap-${envName}`;
}

/** Where the bootstrap stack keeps its own state in the env's state bucket (once it has moved there). */
export function bootstrapStateKey(envName: string): string {
  return `bootstrap/${envName}/terraform.tfstate`;
}

/** Days a bundle of `config` stays in the store: its plan's TTL (whole days, rounded up) plus the grace period. */
export function bundleExpiryDays(config: EnvConfig): number {
  return Math.ceil(config.delivery.planTtlHours / 24) + config.store.bundleGraceDays;
}

/**
 * An env's delivery baseline, in the env's own account, through the env's bootstrap role: the state
 * bucket and lock table, the env's KMS key and promotion store, and (where config names a GitHub
 * repository) the OIDC provider, deploy role, plan role and the gate reader for the envs promoted from
 * this one (`promotedTo`).
 *
 * Its backend is the state bucket it creates (`bootstrapStateKey`). The very first run cannot use it yet:
 * the bootstrap command applies with a local override at `statePath`, then moves the state into the bucket
 * (scripts/lib/store/bootstrap-state.ts).
 */
export class BootstrapStack extends TerraformStack {
  /** The path of this stack's local state before its first run has moved it into the state bucket. */
  readonly statePath: string;

  constructor(scope: Construct, config: EnvConfig, target: DeployTarget, promotedTo: readonly EnvConfig[] = []) {
    super(scope, bootstrapStackId(config.name));
    const bootstrapRole = bootstrapRoleArn(config);
    awsProvider(this, config, target, { roleArn: bootstrapRole });
    pinProviderVersions(this, ["aws"]);
    this.statePath = target.bootstrapStatePath(config.name);
    s3Backend(this, config, target, { key: bootstrapStateKey(config.name), roleArn: bootstrapRole });

    const backend = new StateBackend(this, "state-backend", {
      bucketName: config.stateBackend.bucket,
      lockTableName: config.stateBackend.lockTable,
    });
    const account = config.account;
    const deliveryRoleArns = [account.deployRoleName, account.planRoleName].map((n) => roleArn(config, n));
    const gateReaderPrincipalArns = promotedTo.flatMap((next) => [roleArn(next, next.account.planRoleName), roleArn(next, next.account.deployRoleName)]);
    const store = new PromotionStore(this, "store", {
      bucketName: config.store.bucket,
      kmsKeyAlias: config.store.kmsKeyAlias,
      retentionDays: config.store.retentionDays,
      bundleExpiryDays: bundleExpiryDays(config),
      dataPrincipalArns: [...deliveryRoleArns, ...(gateReaderPrincipalArns.length > 0 ? [roleArn(config, account.gateReaderRoleName)] : [])],
      adminPrincipalArns: [bootstrapRole],
      breakGlassRoleArn: roleArn(config, account.breakGlassRoleName),
    });
    new TerraformOutput(this, "state_bucket", { value: backend.bucketName });
    new TerraformOutput(this, "lock_table", { value: backend.lockTableName });
    new TerraformOutput(this, "store_bucket", { value: store.bucketName });
    new TerraformOutput(this, "kms_key_arn", { value: store.kmsKeyArn });

    if (config.github !== null) {
      const roles = new DeliveryRoles(this, "delivery", {
        accountId: account.id,
        repository: config.github.repository,
        deployEnvironment: config.name,
        planSubjects: config.github.planSubjects,
        deployRoleName: account.deployRoleName,
        planRoleName: account.planRoleName,
        gateReaderRoleName: account.gateReaderRoleName,
        gateReaderPrincipalArns,
        stateBucketArn: `arn:aws:s3:::${config.stateBackend.bucket}`,
        lockTableArn: `arn:aws:dynamodb:${config.region}:${account.id}:table/${config.stateBackend.lockTable}`,
        storeBucketArn: store.bucketArn,
        kmsKeyArn: store.kmsKeyArn,
      });
      new TerraformOutput(this, "deploy_role_arn", { value: roles.deployRoleArn });
      new TerraformOutput(this, "plan_role_arn", { value: roles.planRoleArn });
      if (roles.gateReaderRoleArn !== null) new TerraformOutput(this, "gate_reader_role_arn", { value: roles.gateReaderRoleArn });
    }
  }
}

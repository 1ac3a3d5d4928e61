import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { EnvConfig } from "../envs/schema";
import { StateBackend } from "../constructs/state-backend";
import { awsProvider, pinProviderVersions } from "./providers";
import type { DeployTarget } from "./target";

/** The stack id of an env's bootstrap stack. */
export function bootstrapStackId(envName: string): string {
  return `bootstrap-${envName}`;
}

/**
 * Creates an env's state bucket and lock table in the env's own account. Its own state is local, at the
 * target's bootstrap path (outside cdktf.out), since the backend it creates cannot hold it.
 */
export class BootstrapStack extends TerraformStack {
  /** The path of this stack's local state. */
  readonly statePath: string;

  constructor(scope: Construct, config: EnvConfig, target: DeployTarget) {
    super(scope, bootstrapStackId(config.name));
    awsProvider(this, config, target);
    pinProviderVersions(this, ["aws"]);
    this.statePath = target.bootstrapStatePath(config.name);
    new LocalBackend(this, { path: this.statePath });

    const backend = new StateBackend(this, "state-backend", {
      bucketName: config.stateBackend.bucket,
      lockTableName: config.stateBackend.lockTable,
    });
    new TerraformOutput(this, "state_bucket", { value: backend.bucketName });
    new TerraformOutput(this, "lock_table", { value: backend.lockTableName });
  }
}

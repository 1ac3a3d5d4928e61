/**
 * The CDKTF app: one EnvironmentStack and one BootstrapStack per environment. Kept import-light (deep
 * provider imports only) so that synth of every environment takes well under a second.
 */
import { App } from "cdktf";
import { ConfigError, loadEnvironments } from "./envs";
import { BootstrapStack } from "./stacks/bootstrap-stack";
import { EnvironmentStack } from "./stacks/environment-stack";
import { TargetError, targetFromEnv } from "./stacks/target";
import toolchain from "./scripts/toolchain.json";

/**
 * The terraform releases the synthesized code needs (write-only attributes: 1.11). cdktf ignores this
 * context key; cdktn validates features such as write-only attributes against it (its default,
 * ">=1.5.7", refuses them), so the migration (scripts/migrate-cdktn.mjs) synthesizes the same stacks.
 */
const TARGET_VERSIONS = { terraform: `>=${toolchain.terraform.minimumVersion}` };

try {
  const app = new App({ context: { targetVersions: TARGET_VERSIONS } });
  const target = targetFromEnv();
  const envs = loadEnvironments();
  for (const config of envs) {
    new EnvironmentStack(app, config, target);
    // An ephemeral env uses its base env's state backend and store: only long-lived envs bootstrap one.
    const promotedTo = envs.filter((e) => e.ephemeralOf === null && e.delivery.promotesFrom === config.name);
    if (config.ephemeralOf === null) new BootstrapStack(app, config, target, promotedTo);
  }
  app.synth();
} catch (error) {
  // A refusal (bad config or target settings) is reported as its message alone; anything else as thrown.
  if (error instanceof ConfigError || error instanceof TargetError) {
    process.stderr.write(`synth refused: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}

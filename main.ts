/**
 * The CDKTF app: one EnvironmentStack and one BootstrapStack per environment. Kept import-light (deep
 * provider imports only) so that synth of every environment takes well under a second.
 */
import { App } from "cdktf";
import { loadEnvironments } from "./envs";
import { BootstrapStack } from "./stacks/bootstrap-stack";
import { EnvironmentStack } from "./stacks/environment-stack";
import { targetFromEnv } from "./stacks/target";

const app = new App();
const target = targetFromEnv();
for (const config of loadEnvironments()) {
  new EnvironmentStack(app, config, target);
  new BootstrapStack(app, config, target);
}
app.synth();

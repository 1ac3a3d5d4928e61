/**
 * The environments, validated. `loadEnvironments()` is the only way code reads them: it applies the
 * account-id overrides (`ACCOUNT_ID_<ENV>`, e.g. ACCOUNT_ID_PROD=123456789012) and validates each
 * config and the set as a whole, throwing a ConfigError that lists every problem.
 */
import { dev } from "./dev";
import { EPHEMERAL, deriveEphemeral, parseEphemeralVar } from "./ephemeral";
import { prod } from "./prod";
import type { EnvConfig } from "./schema";
import { staging } from "./staging";
import { validateEnvironments } from "./validate";

export type { EnvConfig } from "./schema";
export { ConfigError, validateEnvironments, checkEnvConfig, checkEnvironmentSet } from "./validate";
export { subnetLayout } from "./cidr";
export { EPHEMERAL, allocateCidr, deriveEphemeral, freeCidrs, formatEphemeralVar, parseEphemeralVar, type EphemeralSpec } from "./ephemeral";

/** The configs as written, in promotion order. */
export const ENVIRONMENTS: readonly EnvConfig[] = [dev, staging, prod];

/** The variable that overrides an env's placeholder account id. */
export function accountOverrideVariable(envName: string): string {
  return `ACCOUNT_ID_${envName.toUpperCase().replace(/-/g, "_")}`;
}

/** Applies `ACCOUNT_ID_<ENV>` overrides; the result is validated like any other config. */
export function withAccountOverrides(config: EnvConfig, vars: NodeJS.ProcessEnv = process.env): EnvConfig {
  const override = vars[accountOverrideVariable(config.name)];
  return override === undefined ? config : { ...config, account: { ...config.account, id: override } };
}

/**
 * Every environment, overridden and validated: the long-lived ones, plus the ephemeral ones named in
 * EPHEMERAL_ENVS (derived from EPHEMERAL.baseEnv), validated together so that no CIDR overlaps.
 */
export function loadEnvironments(
  configs: readonly EnvConfig[] = ENVIRONMENTS,
  vars: NodeJS.ProcessEnv = process.env,
): EnvConfig[] {
  const longLived = configs.map((c) => withAccountOverrides(c, vars));
  const specs = parseEphemeralVar(vars.EPHEMERAL_ENVS);
  const base = longLived.find((c) => c.name === EPHEMERAL.baseEnv);
  if (specs.length > 0 && base === undefined) {
    throw new Error(`EPHEMERAL_ENVS: ephemeral envs derive from "${EPHEMERAL.baseEnv}", which is not defined`);
  }
  const ephemeral = specs.map((s) => deriveEphemeral(base as EnvConfig, s));
  return validateEnvironments([
    ...longLived.map((c) => ({ source: `envs/${c.name}`, config: c })),
    ...ephemeral.map((c) => ({ source: `ephemeral ${c.name}`, config: c })),
  ]);
}

/** One environment by name, or an error naming the ones that exist. */
export function getEnvironment(name: string, envs: readonly EnvConfig[] = loadEnvironments()): EnvConfig {
  const found = envs.find((e) => e.name === name);
  if (!found) {
    throw new Error(`unknown environment "${name}": expected one of ${envs.map((e) => e.name).join(", ")}`);
  }
  return found;
}

/**
 * Where the project's tools live and the environment every terraform call runs with: the project's
 * own CLI config (filesystem mirrors written by scripts/setup.mjs), checkpoint disabled, no prompts.
 */
import { join, resolve } from "node:path";

/** The repository root (this file is scripts/lib/toolchain.ts or dist/scripts/lib/toolchain.js). */
export const PROJECT_ROOT = resolve(__dirname, __dirname.includes(`${join("dist", "scripts")}`) ? "../../.." : "../..");

/** Git-ignored folder of installed tools and local runtime data. */
export const LOCAL_DIR = join(PROJECT_ROOT, ".local");

export const PATHS = {
  /** Terraform CLI config with one filesystem_mirror per provider mirror. */
  cliConfig: join(LOCAL_DIR, "terraformrc"),
  /** The project's python venv holding moto. */
  venvPython: join(LOCAL_DIR, "venv", "bin", "python"),
  /** The setup script (node built-ins only). */
  setup: join(PROJECT_ROOT, "scripts", "setup.mjs"),
} as const;

/** The terraform binary: TERRAFORM_BINARY_NAME (for example tofu) or terraform. */
export function terraformBinary(vars: NodeJS.ProcessEnv = process.env): string {
  return vars.TERRAFORM_BINARY_NAME || "terraform";
}

/**
 * Go's garbage collector target for terraform and the providers it starts (they inherit it), unless the
 * caller set GOGC. Most of a terraform call's CPU here is the AWS provider starting (about 2 s, three times
 * a plan) and terraform decoding its schema; at 400 instead of Go's 100 a `terraform validate` of one
 * resource took 2.5-2.6 s of CPU instead of 3.1-3.3 s and 390 MB instead of 360 MB at most (3 runs each).
 * GOMEMLIMIT (the caller's, if any) still bounds a large plan's heap.
 */
export const TERRAFORM_GOGC = "400";

/** The environment for a terraform process: the caller's, plus the project's CLI config. */
export function terraformEnv(extra: Record<string, string> = {}, vars: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    GOGC: TERRAFORM_GOGC,
    ...vars,
    TF_CLI_CONFIG_FILE: PATHS.cliConfig,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    ...extra,
  };
}

/**
 * Where the engine reads and writes. Each is configurable so tests (and a second checkout) never touch
 * the developer's files:
 *
 *   PROMOTE_CHECKOUT_DIR  the checkout whose commit is planned and where synth runs   @default the project root
 *   CDKTF_OUTDIR          the synth output (stacks/<env>/ is terraform's working dir) @default <checkout>/cdktf.out
 *   PROMOTE_HOME          bundles: <home>/<env>/<id>/                                 @default <project>/plans
 *   PROMOTE_AUDIT_DIR     audit logs: <dir>/<env>.jsonl                               @default <home>/_audit
 *   PROMOTE_LEDGER_DIR    the git repository holding the deployed/<env>/* tags        @default the checkout
 *
 *   <home>/_ephemeral/    the registry of ephemeral envs (promote env) with PROMOTE_STORE=local: <name>.json
 *                         (with the store, the default, it lives in the base env's store: io/ephemeral-store.ts)
 *
 * `_audit`, `_locks` and `_ephemeral` cannot clash with an environment's name (env names are [a-z0-9-]).
 */
import { isAbsolute, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../../toolchain";

export interface EnginePaths {
  readonly checkoutDir: string;
  readonly outDir: string;
  readonly plansDir: string;
  readonly auditDir: string;
  readonly locksDir: string;
  readonly ledgerDir: string;
}

export function resolvePaths(vars: NodeJS.ProcessEnv = process.env, overrides: Partial<EnginePaths> = {}): EnginePaths {
  const abs = (p: string, base: string) => (isAbsolute(p) ? p : resolve(base, p));
  const checkoutDir = overrides.checkoutDir ?? (vars.PROMOTE_CHECKOUT_DIR ? abs(vars.PROMOTE_CHECKOUT_DIR, process.cwd()) : PROJECT_ROOT);
  const outDir = overrides.outDir ?? (vars.CDKTF_OUTDIR ? abs(vars.CDKTF_OUTDIR, checkoutDir) : join(checkoutDir, "cdktf.out"));
  const plansDir = overrides.plansDir ?? (vars.PROMOTE_HOME ? abs(vars.PROMOTE_HOME, process.cwd()) : join(PROJECT_ROOT, "plans"));
  const auditDir = overrides.auditDir ?? (vars.PROMOTE_AUDIT_DIR ? abs(vars.PROMOTE_AUDIT_DIR, process.cwd()) : join(plansDir, "_audit"));
  const locksDir = overrides.locksDir ?? join(plansDir, "_locks");
  const ledgerDir = overrides.ledgerDir ?? (vars.PROMOTE_LEDGER_DIR ? abs(vars.PROMOTE_LEDGER_DIR, process.cwd()) : checkoutDir);
  return { checkoutDir, outDir, plansDir, auditDir, locksDir, ledgerDir };
}

/** Terraform's working directory for an env: the synthesized stack. */
export const stackDir = (paths: EnginePaths, env: string): string => join(paths.outDir, "stacks", env);
export const envPlansDir = (paths: EnginePaths, env: string): string => join(paths.plansDir, env);
export const auditPath = (paths: EnginePaths, env: string): string => join(paths.auditDir, `${env}.jsonl`);
export const envLockPath = (paths: EnginePaths, env: string): string => join(paths.locksDir, `${env}.lock`);
/** The local registry of ephemeral envs (`promote env`, PROMOTE_STORE=local): <home>/_ephemeral/<name>.json. */
export const ephemeralRegistryDir = (paths: EnginePaths): string => join(paths.plansDir, "_ephemeral");

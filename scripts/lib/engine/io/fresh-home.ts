/**
 * Apply on a machine that never synthesized the env's stack (another home planned the bundle, e.g. with
 * the shared store): synthesizes the bundle's commit when it is the checkout's (a clean clone at that
 * commit) and initializes the working directory, so the apply's checks compare the digests of what this
 * machine built with the manifest's (SYNTH-DIGEST-MISMATCH, LOCK-FILE-MISMATCH) instead of refusing
 * "found: (none)". With the shared store (PROMOTE_STORE=s3) also when this machine's stack was synthesized
 * from another commit (it applied an earlier bundle). Nothing happens when the stack is there (and, with
 * the local store, whatever its commit), the manifest is unreadable or the checkout is at another commit
 * or dirty: the checks then refuse as before.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { manifestSchema, parseWith } from "../core/schemas";
import type { EngineContext } from "./context";
import { dirtyPaths, headCommit } from "./git";
import { acquireLock } from "./lock";
import { envLockPath, stackDir } from "./paths";
import { storeKind } from "./s3-store";
import { planInputs, SYNTH_FILE, synthesize, synthStampCommit } from "./synth";
import { tfInit } from "./workdir";

export async function synthesizeWhenMissing(ctx: EngineContext, env: string, manifestText: string | null): Promise<boolean> {
  const cwd = stackDir(ctx.paths, env);
  if (manifestText === null) return false;
  const m = parseWith(manifestSchema, manifestText);
  if (!m.ok || m.value.env !== env) return false;
  const present = existsSync(join(cwd, SYNTH_FILE));
  if (present && (storeKind(ctx.vars) === "local" || synthStampCommit(cwd) === m.value.git.commit)) return false;
  const commit = headCommit(ctx.paths.checkoutDir, ctx.vars);
  if (commit !== m.value.git.commit || dirtyPaths(ctx.paths.checkoutDir, planInputs(ctx.vars), ctx.vars).length > 0) return false;
  ctx.io.err(`synth (${present ? "this machine's stack is of another commit" : "no synthesized stack on this machine"}: the bundle's commit ${commit.slice(0, 12)}, then its digest is checked)...\n`);
  await synthesize(ctx.paths, env, commit, ctx.vars, (t) => ctx.io.err(t));
  await tfInit(ctx, cwd, false);
  return true;
}

/**
 * Before `terraform show -json` of a bundle's plan (the review page, `promote cost`) on a machine that
 * never initialized the env's stack (another home planned the bundle: the shared store): synthesizes the
 * bundle's commit and initializes the working directory as an apply there would (synthesizeWhenMissing:
 * only when the checkout is clean at that commit), so the plan can be read. An initialized working
 * directory is never touched (it may hold a bundle waiting to be applied), nor is anything done with the
 * local store (its bundles are planned on this machine) or while a plan or apply of the env runs here
 * (this machine's env lock, not waited for). When nothing is done, the reader says why the plan cannot be shown.
 */
export async function initializeToShow(ctx: EngineContext, env: string, manifestText: string | null): Promise<void> {
  const cwd = stackDir(ctx.paths, env);
  if (storeKind(ctx.vars) === "local" || existsSync(join(cwd, ".terraform")) || manifestText === null) return;
  const got = await acquireLock(envLockPath(ctx.paths, env), { command: `promote (reading a ${env} plan)`, waitMs: 0 });
  if (!got.ok) return;
  try {
    if (existsSync(join(cwd, ".terraform"))) return;
    if (await synthesizeWhenMissing(ctx, env, manifestText)) return;
    // synthesized here from the bundle's commit already, but never initialized
    const m = parseWith(manifestSchema, manifestText);
    if (m.ok && existsSync(join(cwd, SYNTH_FILE)) && synthStampCommit(cwd) === m.value.git.commit) await tfInit(ctx, cwd, false);
  } finally {
    got.lock.release();
  }
}

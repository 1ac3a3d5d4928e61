/**
 * A stack's terraform working directory, step by step: init (skipped when nothing it depends on changed),
 * state pull, plan into a file, show -json of that file, apply of that saved file. This is the one place
 * the plan-to-apply sequence is written; plan, apply, drift, rollback and the ephemeral envs use it
 * (tfPlanAndApply: a saved plan applied at once, for a command that keeps no bundle).
 * Plan files are written under umask 077 and left 0600 (they hold values).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EngineError, RefusalError, refusal } from "../core/errors";
import type { StateIdentity } from "../core/facts";
import { sha256 } from "../core/hash";
import { fixFor } from "../core/rules";
import type { Manifest } from "../core/schemas";
import type { Io } from "./context";
import { sha256File } from "./files";
import { SYNTH_FILE } from "./synth";
import { classifyFailure, failure, lockAge, ownLockLeftBehind, parseLockInfo, parseStatePull, parseVersion, runTerraform, type TfOptions, type TfResult } from "./terraform";
import { terraformEnv } from "../../toolchain";

/** What the steps need of the engine context. */
export interface TfContext {
  readonly vars: NodeJS.ProcessEnv;
  readonly io: Io;
}

/**
 * What an init depends on: the stack's terraform block (backend and required providers), the provider
 * lock file and the CLI config (provider mirrors). When none changed since the last successful init of
 * this working directory, init is skipped: it is the slowest part of a command that re-plans nothing.
 */
function initInputsDigest(ctx: TfContext, cwd: string): string | null {
  try {
    const stack = JSON.parse(readFileSync(join(cwd, SYNTH_FILE), "utf8")) as { terraform?: unknown };
    const lock = existsSync(join(cwd, ".terraform.lock.hcl")) ? readFileSync(join(cwd, ".terraform.lock.hcl"), "utf8") : "";
    const cli = terraformEnv({}, ctx.vars).TF_CLI_CONFIG_FILE ?? "";
    const cliText = cli && existsSync(cli) ? readFileSync(cli, "utf8") : "";
    return sha256(JSON.stringify([stack.terraform ?? null, lock, cliText]));
  } catch {
    return null;
  }
}

const INIT_STAMP = join(".terraform", "promote-init.sha256");

export async function tfInit(ctx: TfContext, cwd: string, readonlyLock: boolean): Promise<void> {
  const digest = initInputsDigest(ctx, cwd);
  const stamp = join(cwd, INIT_STAMP);
  if (digest !== null && existsSync(join(cwd, ".terraform", "providers")) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) {
    ctx.io.err("terraform init: up to date (backend, providers, lock file and CLI config unchanged since the last init)\n");
    return;
  }
  const args = ["init", "-input=false", "-no-color", "-reconfigure", ...(readonlyLock ? ["-lockfile=readonly"] : [])];
  ctx.io.err(`$ terraform ${args.join(" ")}\n`);
  rmSync(stamp, { force: true });
  const r = await runTerraform(args, { cwd, vars: ctx.vars, echo: (t) => ctx.io.err(t) });
  if (r.code !== 0) throw failure("init", r);
  // Recomputed: init may have written the lock file.
  const after = initInputsDigest(ctx, cwd);
  if (after !== null) writeFileSync(stamp, after);
}

export async function tfStatePull(ctx: TfContext, cwd: string, signal?: AbortSignal): Promise<StateIdentity | null> {
  const r = await runTerraform(["state", "pull"], { cwd, vars: ctx.vars, signal });
  if (r.code !== 0) throw failure("state pull", r);
  try {
    return parseStatePull(r.stdout);
  } catch (e) {
    throw new EngineError(`terraform state pull returned an unreadable state: ${(e as Error).message}`);
  }
}

/**
 * terraform's refusals as ours. STATE-LOCKED names the lock (id, holder, operation, age, from terraform's
 * Lock Info) and the safe recovery: wait for a live holder; `promote unlock` a dead one's.
 */
export function tfRefusal(kind: "PLAN-STALE" | "STATE-LOCKED", env: string, manifest: Manifest | null, run?: TfResult, now: Date = new Date()): RefusalError {
  if (kind === "PLAN-STALE") {
    return new RefusalError(refusal("PLAN-STALE", `state as planned (${manifest?.priorState ? `serial ${manifest.priorState.serial}` : "no state"})`, 'terraform: "Saved plan is stale" (the state changed since the plan)', fixFor("PLAN-STALE", env)));
  }
  const lock = run ? parseLockInfo(`${run.stdout}\n${run.stderr}`) : null;
  if (lock === null || lock.id === null) {
    return new RefusalError(refusal("STATE-LOCKED", "the state lock free", "terraform: Error acquiring the state lock (another run holds it)", fixFor("STATE-LOCKED", env)));
  }
  const age = lockAge(lock.created, now);
  const found = `lock id ${lock.id} held by ${lock.who ?? "(unknown)"} (${lock.operation ?? "an operation"}, terraform ${lock.version ?? "?"})${age ? ` for ${age}` : ""}, since ${lock.created ?? "(unknown)"}`;
  const fix = `if that run is still going, wait for it and run the command again; if its holder is gone (check on ${(lock.who ?? "").split("@")[1] || "its machine"} that no terraform runs for ${env}), \`promote unlock ${env} ${lock.id}\` (terraform force-unlock, audited), then run the command again`;
  return new RefusalError(refusal("STATE-LOCKED", "the state lock free", found, fix));
}

/** normal: the changes to make; destroy: remove everything; refresh-only: what changed outside terraform. */
export type PlanKind = "normal" | "destroy" | "refresh-only";

/** How runLocking may run a command once more after it was refused its own lock. */
export interface OwnLockRetry {
  /** Checked before the second run (apply: the saved plan's bytes still the reviewed ones). */
  readonly mayRetry?: () => boolean;
  /**
   * Releases exactly the lock `id`; whether it did. Default: `terraform force-unlock -force <id>` in the
   * working directory, which needs the backend initialized there; an `init -migrate-state` refused at the
   * destination is not (bootstrap releases the destination's lock item itself).
   */
  readonly release?: (id: string) => Promise<boolean>;
}

/**
 * Runs a terraform command that takes the state lock, once more when it was refused a lock that is its
 * own: terraform's lock request (a conditional write) can succeed while its answer is lost, and the
 * retried request then finds that very lock and gives up, leaving it behind. Only a held lock whose id
 * this run itself tried to take is released (exactly that id, after the run ended); a lock of anyone
 * else stays a STATE-LOCKED refusal.
 */
export async function runLocking(ctx: TfContext, args: readonly string[], options: TfOptions, retry: OwnLockRetry = {}): Promise<TfResult> {
  const first = await runTerraform(args, options);
  if (first.code === 0 || classifyFailure(first) !== "STATE-LOCKED") return first;
  const own = ownLockLeftBehind(first);
  if (own === null || retry.mayRetry?.() === false) return first;
  ctx.io.err(`terraform ${args[0]}: the state lock ${own} it was refused is its own (its lock request was answered twice); releasing exactly that lock and running again\n`);
  const release =
    retry.release ?? (async (id: string) => (await runTerraform(["force-unlock", "-force", id], { cwd: options.cwd, vars: options.vars })).code === 0);
  if (!(await release(own))) return first;
  return runTerraform(args, options);
}

/**
 * `terraform plan -out=<planFile>` (0600). Returns whether the plan has changes (refresh-only: from
 * -detailed-exitcode; otherwise always true). A held state lock is STATE-LOCKED; any other failure an error.
 */
export async function tfPlanToFile(ctx: TfContext, cwd: string, env: string, planFile: string, kind: PlanKind = "normal"): Promise<{ changes: boolean }> {
  const flags = kind === "destroy" ? ["-destroy"] : kind === "refresh-only" ? ["-refresh-only", "-detailed-exitcode"] : [];
  ctx.io.err(`$ terraform plan ${[...flags, "-input=false", "-lock=true"].join(" ")} -out=${basename(planFile)}\n`);
  const previousUmask = process.umask(0o077);
  let run: TfResult;
  try {
    run = await runLocking(ctx, ["plan", ...flags, "-input=false", "-lock=true", "-no-color", `-out=${planFile}`], { cwd, vars: ctx.vars });
  } finally {
    process.umask(previousUmask);
  }
  if (kind === "refresh-only" && run.code === 0) return { changes: false };
  if (run.code !== 0 && !(kind === "refresh-only" && run.code === 2)) {
    if (classifyFailure(run) === "STATE-LOCKED") throw tfRefusal("STATE-LOCKED", env, null, run);
    throw failure(kind === "normal" ? "plan" : `plan -${kind}`, run);
  }
  chmodSync(planFile, 0o600);
  return { changes: true };
}

/** `terraform show -json <planFile>`: the plan JSON's text (never echoed: it can hold values). */
export async function tfShowJson(ctx: TfContext, cwd: string, planFile: string): Promise<string> {
  const show = await runTerraform(["show", "-json", "-no-color", planFile], { cwd, vars: ctx.vars });
  if (show.code !== 0) throw failure("show -json", show);
  return show.stdout;
}

/** `terraform version -json` in the working directory: the version and the providers it selected. */
export async function tfVersion(ctx: TfContext, cwd: string): Promise<{ version: string; providers: Record<string, string> }> {
  const version = await runTerraform(["version", "-json"], { cwd, vars: ctx.vars });
  if (version.code !== 0) throw failure("version", version);
  return parseVersion(version.stdout);
}

export interface ApplyFileOptions {
  readonly env: string;
  /** The file name shown in the log line (the bundle's name for the plan). */
  readonly shownAs: string;
  readonly planSha256: string;
  /** The manifest of the bundle applied, for the PLAN-STALE refusal's text. */
  readonly manifest: Manifest | null;
  /** The failure's name: "apply", "apply (destroy)". */
  readonly what: string;
  /** Called before a failure is thrown: refused is true when terraform refused before changing anything. */
  readonly onFailure?: (refused: boolean) => void;
}

/** `terraform apply <planFile>`: exactly the saved plan, output streamed. A stale plan or held lock is a refusal. */
export async function tfApplyFile(ctx: TfContext, cwd: string, planFile: string, o: ApplyFileOptions): Promise<TfResult> {
  ctx.io.err(`$ terraform apply -input=false -lock=true ${o.shownAs}   (plan SHA-256 ${o.planSha256})\n`);
  const run = await runLocking(ctx, ["apply", "-input=false", "-lock=true", "-no-color", planFile], { cwd, vars: ctx.vars, echo: (t) => ctx.io.out(t) });
  if (run.code !== 0) {
    const kind = classifyFailure(run);
    o.onFailure?.(kind !== null);
    if (kind !== null) throw tfRefusal(kind, o.env, o.manifest, run);
    throw failure(o.what, run);
  }
  return run;
}

export interface PlanAndApplyOptions {
  readonly env: string;
  /** The scratch folder the plan file is written in (created 0700, removed afterwards, whatever happens). */
  readonly dir: string;
  readonly kind: PlanKind;
  /** The plan file's name in dir, also the name the apply's log line shows. */
  readonly fileName: string;
  /** The failure's name: "apply (destroy)". */
  readonly what: string;
  /** Called with the plan's SHA-256 once it is saved, before it is applied (the audit record names it). */
  readonly onPlanned?: (planSha256: string) => void;
}

/**
 * A plan saved to a file, hashed and applied exactly as saved, in an initialized working directory: the
 * plan-to-apply sequence of a command that keeps no bundle (an ephemeral env's destroy). What it applied
 * is named by the returned SHA-256.
 */
export async function tfPlanAndApply(ctx: TfContext, cwd: string, o: PlanAndApplyOptions): Promise<{ planSha256: string; run: TfResult }> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  try {
    const planFile = join(o.dir, o.fileName);
    await tfPlanToFile(ctx, cwd, o.env, planFile, o.kind);
    const planSha256 = sha256File(planFile) as string;
    o.onPlanned?.(planSha256);
    const run = await tfApplyFile(ctx, cwd, planFile, { env: o.env, shownAs: o.fileName, planSha256, manifest: null, what: o.what });
    return { planSha256, run };
  } finally {
    rmSync(o.dir, { recursive: true, force: true });
  }
}

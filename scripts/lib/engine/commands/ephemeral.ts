/**
 * `promote env create|destroy|list|reap`: ephemeral environments (one per pull request), derived from
 * EPHEMERAL.baseEnv (envs/ephemeral.ts), living in its account and state bucket. The registry (the base
 * env's store, or the local folder) is io/ephemeral-registry.ts behind one interface; names, TTL, the
 * claim decision and the list table are core/ephemeral.ts.
 *
 *   create   claim a CIDR and record the entry (creating), then `apply --auto` through the normal engine
 *            path (a saved plan, policy, audit, ledger tag deployed/<name>/...), then live. A failure leaves
 *            the entry "creating" (or a bare CIDR claim): destroy cleans it up, a second create (from any
 *            machine sharing the store) resumes it with the same CIDR.
 *   destroy  a saved `plan -destroy`, applied (env lock, audit record), then the state removed from the
 *            backend (every object version, the digest item), then the registry entry and its CIDR claim.
 *   reap     destroys every one older than its TTL.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EPHEMERAL } from "../../../../envs";
import { destroySpecs, dueForReap, formatEphemeralList, formatHours, nameProblem, ttlState, type EphemeralEntry } from "../core/ephemeral";
import { EngineError } from "../core/errors";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { auditContext, ephemeralContext, longLivedEnvs, registryOf, specOf } from "../io/ephemeral-registry";
import { headCommit, whoAmI } from "../io/git";
import { stamp } from "../io/ledger";
import { envPlansDir, stackDir } from "../io/paths";
import { removeState, s3BackendSettings, type RemovedState } from "../io/state-store";
import { SYNTH_FILE, synthesize } from "../io/synth";
import { tfInit, tfPlanAndApply } from "../io/workdir";
import { apply, type ApplyResult } from "./apply";

/** What the CLI checks before it runs a command (a name that is not pr-<n> is a usage error). */
export { nameProblem } from "../core/ephemeral";

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== null) throw new EngineError(problem);
}

// create

export interface EnvCreateOptions {
  readonly name: string;
  readonly by?: string;
  /** @default EPHEMERAL.ttlHours */
  readonly ttlHours?: number;
  /**
   * An existing live one is updated to the checked-out commit (apply --auto) instead of refused
   * (EPHEMERAL-EXISTS): what a pull request's every push does. @default false
   */
  readonly update?: boolean;
  readonly waitSeconds?: number;
}

export interface EnvCreateResult {
  readonly entry: EphemeralEntry;
  /** created: a new entry; resumed: a failed create's entry, same CIDR; updated: a live one re-applied. */
  readonly mode: "created" | "resumed" | "updated";
  readonly applied: ApplyResult;
}

export async function envCreate(ctx: EngineContext, o: EnvCreateOptions): Promise<EnvCreateResult> {
  checkName(o.name);
  const name = o.name;
  const ttlHours = o.ttlHours ?? EPHEMERAL.ttlHours;
  if (!(ttlHours > 0) || !Number.isFinite(ttlHours)) throw new EngineError(`--ttl must be more than 0 hours, but ${ttlHours} was given`);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  const commit = headCommit(ctx.paths.checkoutDir);
  const reg = registryOf(ctx);
  const longLived = longLivedEnvs(ctx);
  const command = o.update ? "env create --update" : "env create";

  // Claim the name and a CIDR (refusals are audited like any other, in the env's own log).
  const claimed = await audited(auditContext(ctx, name, longLived), name, command, by, async (info) => {
    info.commit = commit;
    const value = await reg.claim({ name, by, commit, ttlHours, update: o.update === true, now: ctx.now(), longLived });
    return { value, detail: `${value.mode} ${name}: ${value.entry.cidr}, ttl ${value.entry.ttlHours}h` };
  });
  ctx.io.err(`${name}: ${claimed.mode} in the registry (${claimed.entry.cidr}); planning and applying it...\n`);

  // The normal engine path, with the registry's envs: a saved plan, policy, audit, ledger tag. A failure
  // leaves the entry as it is ("creating" for a new one) and is reported by the caller.
  const ectx = ephemeralContext(ctx, (await reg.list()).map(specOf));
  const applied = await apply(ectx, { env: name, by, auto: true, synth: "always", waitSeconds: o.waitSeconds });
  const entry = await reg.markLive(claimed.entry, applied.manifest.git.commit, ctx.now());
  return { entry, mode: claimed.mode, applied };
}

// destroy

export interface EnvDestroyOptions {
  readonly name: string;
  readonly by?: string;
  readonly waitSeconds?: number;
}

export interface EnvDestroyResult {
  /** The registry entry destroyed; null when there was none (destroy still removed any state). */
  readonly entry: EphemeralEntry | null;
  readonly destroyed: number;
  readonly planSha256: string;
  readonly removed: RemovedState;
}

export async function envDestroy(ctx: EngineContext, o: EnvDestroyOptions): Promise<EnvDestroyResult> {
  checkName(o.name);
  const name = o.name;
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  const commit = headCommit(ctx.paths.checkoutDir);
  const reg = registryOf(ctx);
  const longLived = longLivedEnvs(ctx);

  // Mark it destroying (so a concurrent create refuses), and take the registry's view of the envs. Without
  // an entry (a create that died before writing one, a runner that lost a local registry) it is destroyed
  // all the same: a destroy plan reads the state, not the configuration; the CIDR the name still holds, or
  // a free one, is used to synthesize it.
  const { entry, held } = await reg.beginDestroy(name, ctx.now());
  const specs = destroySpecs(longLived, (await reg.list()).map(specOf), name, held);
  const ectx = ephemeralContext(ctx, specs);
  const cfg = envConfig(ectx, name);

  const result = await audited(ectx, name, "env destroy", by, (info) =>
    withEnvLock(ectx, name, `promote env destroy ${name}`, o.waitSeconds ?? 0, async () => {
      info.commit = commit;
      const cwd = stackDir(ectx.paths, name);
      ctx.io.err(`synth (${name}, for its destroy plan)...\n`);
      await synthesize(ectx.paths, name, commit, ectx.vars, (t) => ctx.io.err(t));
      const backend = s3BackendSettings(JSON.parse(readFileSync(join(cwd, SYNTH_FILE), "utf8")), join(cwd, SYNTH_FILE));
      // Never remove any state but this ephemeral env's own.
      if (cfg.ephemeralOf === null || backend.key !== cfg.stateBackend.key || !backend.key.startsWith(`ephemeral/${name}/`) || backend.bucket !== cfg.stateBackend.bucket) {
        throw new EngineError(`refusing to destroy: ${cwd} has backend s3://${backend.bucket}/${backend.key}, expected the ephemeral state s3://${cfg.stateBackend.bucket}/${cfg.stateBackend.key}`);
      }
      await tfInit(ectx, cwd, false);

      // A saved destroy plan, applied as saved; then its state: every version of the object, and the digest item.
      const { planSha256, run } = await tfPlanAndApply({ vars: ectx.vars, io: ctx.io }, cwd, {
        env: name,
        dir: join(envPlansDir(ectx.paths, name), `.destroy-${stamp(ctx.now())}-${process.pid}`),
        kind: "destroy",
        fileName: "destroy.tfplan",
        what: "apply (destroy)",
        onPlanned: (sha) => (info.planSha256 = sha),
      });
      const destroyed = Number(/(\d+) destroyed/.exec(run.stdout)?.[1] ?? 0);
      ctx.io.err(`removing the state s3://${backend.bucket}/${backend.key} (every version) and its digest item...\n`);
      const removed = await removeState(backend);
      const value = { destroyed, planSha256, removed };
      return { value, detail: `destroyed ${destroyed} resource(s); removed ${removed.versions} state object version(s)${removed.digestItem ? " and the digest item" : ""}` };
    }),
  );
  await reg.finishDestroy(name, ctx.now());
  return { entry, ...result };
}

// list and reap

export async function envList(ctx: EngineContext, now: Date = ctx.now()): Promise<EphemeralEntry[]> {
  const entries = await registryOf(ctx).list();
  ctx.io.out(formatEphemeralList(entries, now));
  return entries;
}

export interface ReapResult {
  readonly destroyed: string[];
  readonly failed: Array<{ readonly name: string; readonly error: unknown }>;
}

/** Destroys every entry older than its TTL at `now`, one after another; a failure does not stop the rest. */
export async function envReap(ctx: EngineContext, o: { now?: Date; by?: string; waitSeconds?: number } = {}): Promise<ReapResult> {
  const now = o.now ?? ctx.now();
  const due = dueForReap(await registryOf(ctx).list(), now);
  if (due.length === 0) ctx.io.out(`nothing to reap at ${now.toISOString()}\n`);
  const result: ReapResult = { destroyed: [], failed: [] };
  for (const e of due) {
    const t = ttlState(e, now);
    ctx.io.out(`reaping ${e.name} (${e.status}, ${e.cidr}): age ${formatHours(t.ageHours)}, ttl ${e.ttlHours}h\n`);
    try {
      const r = await envDestroy(ctx, { name: e.name, by: o.by, waitSeconds: o.waitSeconds });
      result.destroyed.push(e.name);
      ctx.io.out(`reaped ${e.name}: ${r.destroyed} resource(s) destroyed, ${r.removed.versions} state version(s) removed\n`);
    } catch (error) {
      result.failed.push({ name: e.name, error });
      ctx.io.out(`FAILED to reap ${e.name}: ${(error as Error).message}\n`);
    }
  }
  return result;
}

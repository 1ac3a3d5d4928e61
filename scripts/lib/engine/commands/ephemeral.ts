/**
 * `promote env create|destroy|list|reap`: ephemeral environments (one per pull request), derived from
 * EPHEMERAL.baseEnv (envs/ephemeral.ts), living in its account and state bucket. The registry and its
 * CIDR claim are io/ephemeral-registry.ts; names, TTL and the list table core/ephemeral.ts.
 *
 *   create   allocate a CIDR, record it (creating), then `apply --auto` through the normal engine path (a
 *            saved plan, policy, audit, ledger tag deployed/<name>/...), then live. A failure leaves the
 *            entry "creating": destroy cleans it up, a second create resumes it with the same CIDR.
 *   destroy  a saved `plan -destroy`, applied (env lock, audit record), then the state removed from the
 *            backend (every object version, the digest item), then the registry entry.
 *   reap     destroys every one older than its TTL.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EPHEMERAL, allocateCidr } from "../../../../envs";
import { dueForReap, formatEphemeralList, formatHours, nameProblem, ttlState, type EphemeralEntry } from "../core/ephemeral";
import { EngineError } from "../core/errors";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { claimEntry, ephemeralContext, longLivedEnvs, registryOf, specOf } from "../io/ephemeral-registry";
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

  // Claim the name and a CIDR under the registry lock (refusals are audited like any other).
  const claimed = await audited(ctx, name, command, by, async (info) => {
    info.commit = commit;
    const value = await reg.withLock(`promote ${command} ${name}`, () => claimEntry(reg, { name, by, commit, ttlHours, update: o.update === true, now: ctx.now(), longLived }));
    return { value, detail: `${value.mode} ${name}: ${value.entry.cidr}, ttl ${value.entry.ttlHours}h` };
  });
  ctx.io.err(`${name}: ${claimed.mode} in the registry (${claimed.entry.cidr}); planning and applying it...\n`);

  // The normal engine path, with the registry's envs: a saved plan, policy, audit, ledger tag. A failure
  // leaves the entry as it is ("creating" for a new one) and is reported by the caller.
  const ectx = ephemeralContext(ctx, reg.list().map(specOf));
  const applied = await apply(ectx, { env: name, by, auto: true, synth: "always", waitSeconds: o.waitSeconds });
  const entry = await reg.withLock(`promote ${command} ${name}`, () => {
    const current = reg.read(name) ?? claimed.entry;
    const live: EphemeralEntry = { ...current, commit: applied.manifest.git.commit, status: current.status === "destroying" ? "destroying" : "live", updatedAt: ctx.now().toISOString() };
    reg.write(live);
    return live;
  });
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
  // an entry (a runner that lost its registry, a create that never started) it is destroyed all the same:
  // a destroy plan reads the state, not the configuration; a free CIDR is used to synthesize it.
  const { entry, specs } = await reg.withLock(`promote env destroy ${name}`, () => {
    const existing = reg.read(name);
    if (existing !== null) reg.write({ ...existing, status: "destroying", updatedAt: ctx.now().toISOString() });
    const live = reg.list().map(specOf);
    return { entry: existing, specs: existing !== null ? live : [...live, { name, cidr: allocateCidr(longLived, live) }] };
  });
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
  await reg.withLock(`promote env destroy ${name}`, () => reg.remove(name));
  return { entry, ...result };
}

// list and reap

export function envList(ctx: EngineContext, now: Date = ctx.now()): EphemeralEntry[] {
  const entries = registryOf(ctx).list();
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
  const due = dueForReap(registryOf(ctx).list(), now);
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

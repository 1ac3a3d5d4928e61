/**
 * `promote env create|destroy|list|reap`: ephemeral environments (one per pull request), derived from
 * EPHEMERAL.baseEnv (envs/ephemeral.ts), living in its account and state bucket.
 *
 * The registry `<PROMOTE_HOME>/_ephemeral/<name>.json` records each one (CIDR, creation, TTL, author,
 * commit, status creating|live|destroying); it is changed only under its own lock, so two creates never
 * take the same CIDR. Every engine run for an ephemeral env sees the registry's envs as EPHEMERAL_ENVS, so
 * synth and validation see the same set.
 *
 *   create   allocate a CIDR, record it (creating), then `apply --auto` through the normal engine path (a
 *            saved plan, policy, audit, ledger tag deployed/<name>/...), then live. A failure leaves the
 *            entry "creating": destroy cleans it up, a second create resumes it with the same CIDR.
 *   destroy  a saved `plan -destroy`, applied (env lock, audit record), then the state removed from the
 *            backend (every object version, the digest item), then the registry entry.
 *   reap     destroys every one older than its TTL.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { EPHEMERAL, allocateCidr, formatEphemeralVar, loadEnvironments, type EnvConfig, type EphemeralSpec } from "../../../../envs";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { tfApplyFile, tfInit, tfPlanToFile } from "../io/workdir";
import { apply, type ApplyResult } from "./apply";
import { EngineError, RefusalError, refusal } from "../core/errors";
import { sha256File } from "../io/files";
import { headCommit, whoAmI } from "../io/git";
import { withLock } from "../io/lock";
import { stamp } from "../io/ledger";
import { envPlansDir, ephemeralRegistryDir, stackDir } from "../io/paths";
import { fixFor } from "../core/rules";
import { removeState, s3BackendSettings, type RemovedState } from "../io/state-store";
import { SYNTH_FILE, synthesize } from "../io/synth";

// ---------------------------------------------------------------------------------------------
// the registry
// ---------------------------------------------------------------------------------------------

export const entrySchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().regex(EPHEMERAL.namePattern),
    cidr: z.string(),
    createdAt: z.string().datetime(),
    /** Hours after createdAt when `promote env reap` destroys it. */
    ttlHours: z.number().positive(),
    createdBy: z.string(),
    /** The commit last applied (or being applied). */
    commit: z.string(),
    status: z.enum(["creating", "live", "destroying"]),
    updatedAt: z.string().datetime(),
  })
  .strict();

export type EphemeralEntry = z.infer<typeof entrySchema>;

/** `<PROMOTE_HOME>/_ephemeral/<name>.json`, changed only under `withLock`. */
export class EphemeralRegistry {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The entry, null when there is none; an EngineError when the file is unreadable. */
  read(name: string): EphemeralEntry | null {
    let text: string;
    try {
      text = readFileSync(this.path(name), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
    return parseEntry(text, this.path(name));
  }

  /** Every entry, in name order (pr-2 before pr-10). */
  list(): EphemeralEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith(".json"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    return names.map((f) => parseEntry(readFileSync(join(this.dir, f), "utf8"), join(this.dir, f))).sort(byName);
  }

  /** Writes an entry atomically (temp file + rename). */
  write(entry: EphemeralEntry): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path(entry.name)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entrySchema.parse(entry), null, 2)}\n`, { mode: 0o644 });
    renameSync(tmp, this.path(entry.name));
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }

  /** Runs fn holding the registry's lock (waits up to a minute for another create or destroy). */
  withLock<T>(command: string, fn: () => T | Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(join(this.dir, ".lock"), { command, waitMs: 60_000 }, fn);
  }
}

function parseEntry(text: string, path: string): EphemeralEntry {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EngineError(`${path} is not JSON: ${(e as Error).message}`);
  }
  const r = entrySchema.safeParse(json);
  if (!r.success) throw new EngineError(`${path} does not match the registry schema: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}

const prNumber = (name: string): number => Number(name.replace(/^\D+/, ""));
const byName = (a: { name: string }, b: { name: string }): number => prNumber(a.name) - prNumber(b.name) || a.name.localeCompare(b.name);

export const registryOf = (ctx: EngineContext): EphemeralRegistry => new EphemeralRegistry(ephemeralRegistryDir(ctx.paths));

// ---------------------------------------------------------------------------------------------
// pure parts: names, TTL, the list
// ---------------------------------------------------------------------------------------------

/** Null when the name is an ephemeral env's, else what is wrong with it. */
export function nameProblem(name: string): string | null {
  return EPHEMERAL.namePattern.test(name) ? null : `an ephemeral env is named pr-<number> (${EPHEMERAL.namePattern.source}), but "${name}" was given`;
}

export interface TtlState {
  readonly ageHours: number;
  /** Negative once expired. */
  readonly leftHours: number;
  readonly expired: boolean;
}

export function ttlState(entry: Pick<EphemeralEntry, "createdAt" | "ttlHours">, now: Date): TtlState {
  const ageHours = (now.getTime() - Date.parse(entry.createdAt)) / 3_600_000;
  const leftHours = entry.ttlHours - ageHours;
  return { ageHours, leftHours, expired: leftHours <= 0 };
}

/** The entries `promote env reap` destroys at `now`: older than their TTL, whatever their status. */
export function dueForReap(entries: readonly EphemeralEntry[], now: Date): EphemeralEntry[] {
  return entries.filter((e) => ttlState(e, now).expired);
}

/** 3d 04h, 5h 07m, 42m (rounded down to the minute; a negative duration is shown by its size). */
export function formatHours(hours: number): string {
  const minutes = Math.floor(Math.abs(hours) * 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return d > 0 ? `${d}d ${pad(h)}h` : h > 0 ? `${h}h ${pad(m)}m` : `${m}m`;
}

/** The table of `promote env list`. */
export function formatEphemeralList(entries: readonly EphemeralEntry[], now: Date): string {
  if (entries.length === 0) return "no ephemeral environments\n";
  const rows = [
    ["NAME", "STATUS", "CIDR", "AGE", "TTL LEFT", "CREATED BY", "COMMIT"],
    ...[...entries].sort(byName).map((e) => {
      const t = ttlState(e, now);
      return [e.name, e.status, e.cidr, formatHours(t.ageHours), t.expired ? `expired ${formatHours(t.leftHours)} ago` : formatHours(t.leftHours), e.createdBy, e.commit.slice(0, 12)];
    }),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// the engine seen with the registry's envs
// ---------------------------------------------------------------------------------------------

const specOf = (e: Pick<EphemeralEntry, "name" | "cidr">): EphemeralSpec => ({ name: e.name, cidr: e.cidr });

/** The long-lived envs only (whatever EPHEMERAL_ENVS the caller has). */
function longLivedEnvs(ctx: EngineContext): EnvConfig[] {
  try {
    return loadEnvironments(undefined, { ...ctx.vars, EPHEMERAL_ENVS: "" });
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
}

/** The context of an engine run for ephemeral envs: EPHEMERAL_ENVS is exactly `specs`. */
export function ephemeralContext(ctx: EngineContext, specs: readonly EphemeralSpec[]): EngineContext {
  const vars = { ...ctx.vars, EPHEMERAL_ENVS: formatEphemeralVar(specs) };
  return { ...ctx, vars, environments: () => loadEnvironments(undefined, vars) };
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== null) throw new EngineError(problem);
}

// ---------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------

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

export interface ClaimRequest {
  readonly name: string;
  readonly by: string;
  readonly commit: string;
  readonly ttlHours: number;
  readonly update: boolean;
  readonly now: Date;
  /** The long-lived envs, whose CIDRs the pool avoids. */
  readonly longLived: readonly EnvConfig[];
}

/**
 * Records `name` in the registry: a new entry (status creating) with the first free CIDR of the pool, or
 * a failed create's entry resumed (same CIDR), or (update) a live one; refuses EPHEMERAL-EXISTS otherwise.
 * Call it holding the registry's lock (`reg.withLock`): that is what keeps two creates off one CIDR.
 */
export function claimEntry(reg: EphemeralRegistry, r: ClaimRequest): { entry: EphemeralEntry; mode: "created" | "resumed" | "updated" } {
  const existing = reg.read(r.name);
  const now = r.now.toISOString();
  if (existing !== null) {
    const resumable = existing.status === "creating" || (existing.status === "live" && r.update);
    if (!resumable) {
      throw new RefusalError(
        refusal(
          "EPHEMERAL-EXISTS",
          r.update ? `"${r.name}" absent, creating or live (--update)` : `no live "${r.name}" in the registry`,
          `${r.name} ${existing.status} (${existing.cidr}, created ${existing.createdAt} by ${existing.createdBy})`,
          fixFor("EPHEMERAL-EXISTS", r.name),
        ),
      );
    }
    const entry: EphemeralEntry = { ...existing, commit: r.commit, updatedAt: now };
    reg.write(entry);
    return { entry, mode: existing.status === "live" ? "updated" : "resumed" };
  }
  const cidr = allocateCidr(r.longLived, reg.list().map(specOf));
  const entry: EphemeralEntry = { schemaVersion: 1, name: r.name, cidr, createdAt: now, ttlHours: r.ttlHours, createdBy: r.by, commit: r.commit, status: "creating", updatedAt: now };
  reg.write(entry);
  return { entry, mode: "created" };
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

// ---------------------------------------------------------------------------------------------
// destroy
// ---------------------------------------------------------------------------------------------

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

      // A saved destroy plan, applied as saved.
      const dir = join(envPlansDir(ectx.paths, name), `.destroy-${stamp(ctx.now())}-${process.pid}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      try {
        const planFile = join(dir, "destroy.tfplan");
        await tfPlanToFile(ectx, cwd, name, planFile, "destroy");
        const planSha256 = sha256File(planFile) as string;
        info.planSha256 = planSha256;
        const run = await tfApplyFile({ vars: ectx.vars, io: ctx.io }, cwd, planFile, { env: name, shownAs: "destroy.tfplan", planSha256, manifest: null, what: "apply (destroy)" });
        const destroyed = Number(/(\d+) destroyed/.exec(run.stdout)?.[1] ?? 0);

        // Then its state: every version of the object, and the digest item.
        ctx.io.err(`removing the state s3://${backend.bucket}/${backend.key} (every version) and its digest item...\n`);
        const removed = await removeState(backend);
        const value = { destroyed, planSha256, removed };
        return { value, detail: `destroyed ${destroyed} resource(s); removed ${removed.versions} state object version(s)${removed.digestItem ? " and the digest item" : ""}` };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
  await reg.withLock(`promote env destroy ${name}`, () => reg.remove(name));
  return { entry, ...result };
}

// ---------------------------------------------------------------------------------------------
// list and reap
// ---------------------------------------------------------------------------------------------

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

/**
 * The ephemeral envs' registry: `<PROMOTE_HOME>/_ephemeral/<name>.json` records each one (CIDR, creation,
 * TTL, author, commit, status creating|live|destroying). It is changed only under its own lock, so two
 * creates never take the same CIDR (claimEntry allocates it). Every engine run for an ephemeral env sees
 * the registry's envs as EPHEMERAL_ENVS (ephemeralContext), so synth and validation see the same set.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allocateCidr, formatEphemeralVar, loadEnvironments, type EnvConfig, type EphemeralSpec } from "../../../../envs";
import { byName, entrySchema, type EphemeralEntry } from "../core/ephemeral";
import { EngineError, RefusalError, refusal } from "../core/errors";
import { fixFor } from "../core/rules";
import type { EngineContext } from "./context";
import { withLock } from "./lock";
import { ephemeralRegistryDir } from "./paths";

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

export const registryOf = (ctx: EngineContext): EphemeralRegistry => new EphemeralRegistry(ephemeralRegistryDir(ctx.paths));


export const specOf = (e: Pick<EphemeralEntry, "name" | "cidr">): EphemeralSpec => ({ name: e.name, cidr: e.cidr });

/** The long-lived envs only (whatever EPHEMERAL_ENVS the caller has). */
export function longLivedEnvs(ctx: EngineContext): EnvConfig[] {
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

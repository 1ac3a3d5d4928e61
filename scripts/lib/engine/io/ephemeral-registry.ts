/**
 * The ephemeral envs' registry, behind one interface (Registry) the commands use whatever the store:
 *
 *   PROMOTE_STORE=s3 (default)  the base env's store (io/ephemeral-store.ts): entries in its bucket
 *                               (`ephemeral/<name>.json`, create-only and If-Match writes), CIDR claims by
 *                               conditional writes in its lock table: every machine sees the same registry,
 *                               and two never hand out one CIDR.
 *   PROMOTE_STORE=local         `<PROMOTE_HOME>/_ephemeral/<name>.json` (EphemeralRegistry), changed only
 *                               under its own lock file: one machine.
 *
 * An entry records an env's CIDR, creation, TTL, author, commit and status creating|live|destroying. Every
 * engine run for an ephemeral env sees the registry's envs as EPHEMERAL_ENVS (ephemeralContext), so synth
 * and validation see the same set.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EPHEMERAL, allocateCidr, formatEphemeralVar, loadEnvironments, type EnvConfig, type EphemeralSpec } from "../../../../envs";
import { byName, claimedAgain, decideClaim, entrySchema, liveEntry, newEntry, presentEntry, withStatus, type ClaimAsk, type EphemeralEntry } from "../core/ephemeral";
import { EngineError } from "../core/errors";
import type { EngineContext } from "./context";
import { StoreRegistry } from "./ephemeral-store";
import { withLock } from "./lock";
import { ephemeralRegistryDir } from "./paths";
import { storeKind } from "./s3-store";

export interface ClaimRequest extends ClaimAsk {
  /** The long-lived envs, whose CIDRs the pool avoids. */
  readonly longLived: readonly EnvConfig[];
}

export interface Claimed {
  readonly entry: EphemeralEntry;
  /** created: a new entry; resumed: a failed create's (entry or bare CIDR claim), same CIDR; updated: a live one (--update). */
  readonly mode: "created" | "resumed" | "updated";
}

/** What the commands need of a registry: each step one atomic change, whoever else changes it meanwhile. */
export interface Registry {
  /** Where the entries live, for messages. */
  readonly where: string;
  /** The entry (null when there is none, or it was destroyed). */
  read(name: string): Promise<EphemeralEntry | null>;
  /** Every entry, in name order (pr-2 before pr-10). */
  list(): Promise<EphemeralEntry[]>;
  /** create: the name and a CIDR (decideClaim; EPHEMERAL-EXISTS, EPHEMERAL-CIDR-TAKEN). */
  claim(r: ClaimRequest): Promise<Claimed>;
  /** After the apply: the entry live (unless a destroy began meanwhile); `claimed` when it vanished. */
  markLive(claimed: EphemeralEntry, commit: string, now: Date): Promise<EphemeralEntry>;
  /** destroy, first: the entry marked destroying (a create refuses it), and the CIDR the name holds. */
  beginDestroy(name: string, now: Date): Promise<{ entry: EphemeralEntry | null; held: string | null }>;
  /** destroy, last: the entry removed and the name's CIDR given back. */
  finishDestroy(name: string, now: Date): Promise<void>;
}

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

/** The local registry as a Registry: every step under the folder's lock. */
export class LocalRegistry implements Registry {
  constructor(readonly files: EphemeralRegistry) {}

  get where(): string {
    return this.files.dir;
  }

  private locked<T>(command: string, fn: () => T): Promise<T> {
    return this.files.withLock(command, fn);
  }

  async read(name: string): Promise<EphemeralEntry | null> {
    return presentEntry(this.files.read(name));
  }

  async list(): Promise<EphemeralEntry[]> {
    return this.files.list().filter((e) => presentEntry(e) !== null);
  }

  claim(r: ClaimRequest): Promise<Claimed> {
    return this.locked(`promote env create ${r.name}`, () => claimEntry(this.files, r));
  }

  markLive(claimed: EphemeralEntry, commit: string, now: Date): Promise<EphemeralEntry> {
    return this.locked(`promote env create ${claimed.name}`, () => {
      const live = liveEntry(this.files.read(claimed.name) ?? claimed, commit, now);
      this.files.write(live);
      return live;
    });
  }

  beginDestroy(name: string, now: Date): Promise<{ entry: EphemeralEntry | null; held: string | null }> {
    return this.locked(`promote env destroy ${name}`, () => {
      const entry = presentEntry(this.files.read(name));
      if (entry !== null) this.files.write(withStatus(entry, "destroying", now));
      return { entry, held: entry?.cidr ?? null };
    });
  }

  finishDestroy(name: string): Promise<void> {
    return this.locked(`promote env destroy ${name}`, () => this.files.remove(name));
  }
}

/**
 * Records `name` in the local registry (decideClaim): a new entry with the first free CIDR of the pool, a
 * failed create's entry resumed (same CIDR), or (update) a live one. Call it holding the registry's lock
 * (`reg.withLock`): that is what keeps two creates of one machine off one CIDR.
 */
export function claimEntry(reg: EphemeralRegistry, r: ClaimRequest): Claimed {
  const existing = presentEntry(reg.read(r.name));
  const decision = decideClaim(existing, r);
  if (existing !== null) {
    const entry = claimedAgain(existing, r);
    reg.write(entry);
    return { entry, mode: decision === "update" ? "updated" : "resumed" };
  }
  const entry = newEntry(r, allocateCidr(r.longLived, reg.list().filter((e) => presentEntry(e) !== null).map(specOf)));
  reg.write(entry);
  return { entry, mode: "created" };
}

/** The ephemeral envs' registry: the base env's store (the default), or the local folder (PROMOTE_STORE=local). */
export function registryOf(ctx: EngineContext): Registry {
  if (storeKind(ctx.vars) === "local") return new LocalRegistry(new EphemeralRegistry(ephemeralRegistryDir(ctx.paths)));
  const base = longLivedEnvs(ctx).find((e) => e.name === EPHEMERAL.baseEnv);
  if (base === undefined) throw new EngineError(`ephemeral envs derive from "${EPHEMERAL.baseEnv}", which is not defined`);
  return new StoreRegistry(base, ctx.vars);
}

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

/**
 * A context that knows `name` before it holds a CIDR: for its audit log, whose place does not depend on
 * the CIDR (the local folder, or the base env's store: deriveEphemeral keeps the base env's store).
 */
export function auditContext(ctx: EngineContext, name: string, longLived: readonly EnvConfig[]): EngineContext {
  return ephemeralContext(ctx, [{ name, cidr: allocateCidr(longLived, []) }]);
}

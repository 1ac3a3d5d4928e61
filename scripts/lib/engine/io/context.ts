/**
 * What every command runs in: the engine context (paths, variables, output, clock, environments) and the
 * wrappers around a command body: `audited` (an audit record for ok / refused / error) and `withEnvLock`
 * (the env's lock). Commands (engine/commands/) use these; nothing here decides anything.
 */
import { getEnvironment, loadEnvironments, type EnvConfig } from "../../../../envs";
import { AuditLog, type AuditEntry } from "./audit";
import { BUNDLE_ID_PATTERN, findBundle } from "./bundle";
import { printable, validateIdentity } from "../core/identity";
import { decideNoUnfinished } from "../core/decisions";
import { envFacts } from "../core/facts";
import { PLAN_INPUTS } from "./synth";
import { EngineError, must, RefusalError, refusal } from "../core/errors";
import { Ledger } from "./ledger";
import { acquireLock, describeHolder } from "./lock";
import { auditPath, envLockPath, envPlansDir, resolvePaths, type EnginePaths } from "./paths";
import { fixFor } from "../core/rules";
import { appliedSchema, parseWith } from "../core/schemas";
import { inBatches } from "../core/batches";
import { LocalBundleStore, type BundleStore } from "./store";
import { S3EngineStore, StoreAudit, openGateStore, openStore, storeCall, storeKind, type EngineAudit } from "./s3-store";

/**
 * Files whose uncommitted changes make a gated plan refuse (WORKTREE-DIRTY) and mark a bundle dirty: what
 * the project's synth reads and what changes what a plan may do (synth.ts PLAN_INPUTS; every path for a
 * custom PROMOTE_SYNTH_COMMAND).
 */
export const SYNTH_INPUTS: readonly string[] = PLAN_INPUTS;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface EngineContext {
  readonly paths: EnginePaths;
  readonly vars: NodeJS.ProcessEnv;
  readonly io: Io;
  readonly now: () => Date;
  readonly environments: () => EnvConfig[];
}

export function defaultContext(vars: NodeJS.ProcessEnv = process.env, io?: Io, overrides: Partial<EnginePaths> = {}): EngineContext {
  return {
    paths: resolvePaths(vars, overrides),
    vars,
    io: io ?? { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
    now: () => new Date(),
    environments: () => loadEnvironments(undefined, vars),
  };
}

// ---------------------------------------------------------------------------------------------
// Audit and lock around a command
// ---------------------------------------------------------------------------------------------

export type AuditInfo = { -readonly [K in "commit" | "bundleId" | "planSha256" | "approver"]?: string };

/** Runs a command body; appends ok / refused / error to the env's audit log (refusing a broken log). */
export async function audited<T>(ctx: EngineContext, env: string, command: string, by: string, body: (info: AuditInfo) => Promise<{ value: T; detail: string }>): Promise<T> {
  const audit = auditLogOf(ctx, env);
  const broken = await audit.brokenRefusal();
  if (broken) throw new RefusalError(broken);
  // Who acts is checked before anything else: a name nobody can read, or git refuses, stops here.
  const name = validateIdentity(by);
  if (!name.ok) {
    const bad = new RefusalError(refusal("IDENTITY-INVALID", 'a name a reader can see: 1-100 characters with a letter or digit, no control or invisible characters, no "<" or ">" outside "Name <addr>"', name.problem, fixFor("IDENTITY-INVALID", env)));
    await audit.append({ env, command, by: printable(by), result: "refused", refusalId: "IDENTITY-INVALID", detail: `found ${name.problem}`.slice(0, 500) }, ctx.now());
    throw bad;
  }
  const info: AuditInfo = {};
  let outcome: { value: T; detail: string };
  try {
    outcome = await body(info);
  } catch (e) {
    const entry: AuditEntry =
      e instanceof RefusalError
        ? { env, command, by, result: "refused", refusalId: e.refusal.id, ...info, detail: `expected ${e.refusal.expected}; found ${e.refusal.found}`.slice(0, 500) }
        : { env, command, by, result: "error", ...info, detail: (e as Error).message.slice(0, 500) };
    try {
      await audit.append(entry, ctx.now());
    } catch (appendError) {
      ctx.io.err(`warning: could not append to the audit log: ${(appendError as Error).message}\n`);
    }
    throw e;
  }
  await audit.append({ env, command, by, result: "ok", ...info, detail: outcome.detail }, ctx.now());
  return outcome.value;
}

export async function withEnvLock<T>(ctx: EngineContext, env: string, command: string, waitSeconds: number, body: () => Promise<T>): Promise<T> {
  const got = await acquireLock(envLockPath(ctx.paths, env), {
    command,
    waitMs: Math.max(0, waitSeconds) * 1000,
    onWait: (h) => ctx.io.err(`waiting up to ${waitSeconds}s for the ${env} lock, held by ${describeHolder(h)}...\n`),
  });
  if (!got.ok) {
    throw new RefusalError(refusal("ENV-LOCKED", `no other plan or apply of "${env}" running`, `held by ${describeHolder(got.holder)}`, fixFor("ENV-LOCKED", env)));
  }
  if (got.lock.tookOverFrom) ctx.io.err(`took over a stale ${env} lock from dead ${describeHolder(got.lock.tookOverFrom)}\n`);
  try {
    if (storeKind(ctx.vars) === "local") return await body();
    // The shared store: the env's lease in its lock table, across every machine (ENV-LOCKED names the holder).
    const store = await openStore(envConfig(ctx, env), ctx.vars);
    const holder = ctx.vars.PROMOTE_USER || ctx.vars.USER || "unknown";
    return await storeCall(() => store.lock.withLease({ holder, command, waitMs: Math.max(0, waitSeconds) * 1000, pollMs: 1000 }, () => body()));
  } finally {
    got.lock.release();
  }
}

/** A bundle with an applied record, as read through the store (for an S3 store: manifest and applied status from the store). */
export interface AppliedBundle {
  readonly id: string;
  readonly manifestText: string | null;
  readonly appliedText: string;
}

/**
 * The env's bundles that have an applied record, oldest first, read through the store seam: the local
 * folder, or (PROMOTE_STORE=s3) the env's store, never this machine's cache (a home that applied nothing
 * sees every other home's applies).
 */
export async function appliedBundles(ctx: EngineContext, env: string, opts: { readonly manifestWhen?: (appliedText: string) => boolean } = {}): Promise<AppliedBundle[]> {
  const store = bundleStore(ctx);
  // (a local folder no engine made, its name not a bundle id, is not a bundle: skipped, as the store does)
  const toRead = (await (store.listApplied ? store.listApplied(env) : store.list(env))).filter((i) => BUNDLE_ID_PATTERN.test(i));
  // Read APPLIED_READS at a time (each is a few requests to a store), kept in id order.
  const read = await inBatches(toRead, APPLIED_READS, async (id): Promise<AppliedBundle | null> => {
    const applied = await store.read(env, id, "applied.json");
    if (applied === null) return null;
    const appliedText = applied.toString("utf8");
    const manifest = opts.manifestWhen === undefined || opts.manifestWhen(appliedText) ? await store.read(env, id, "manifest.json") : null;
    return { id, manifestText: manifest?.toString("utf8") ?? null, appliedText };
  });
  return read.filter((b): b is AppliedBundle => b !== null);
}

/** Bundles appliedBundles reads at once. */
const APPLIED_READS = 8;


/**
 * The applied record of the env's newest bundle that has one (newest first, stopping there), through the
 * store seam like appliedBundles; null when no bundle of the env was ever applied.
 */
export async function newestAppliedRecord(ctx: EngineContext, env: string): Promise<{ id: string; appliedText: string } | null> {
  const store = bundleStore(ctx);
  for (const id of (await store.list(env)).filter((i) => BUNDLE_ID_PATTERN.test(i)).reverse()) {
    const applied = await store.read(env, id, "applied.json");
    if (applied !== null) return { id, appliedText: applied.toString("utf8") };
  }
  return null;
}

/** Refuses (APPLY-UNFINISHED) while an earlier apply of the env has no recorded outcome. */
export async function refuseUnfinished(ctx: EngineContext, env: EnvConfig): Promise<void> {
  must(decideNoUnfinished(envFacts(env), await appliedBundles(ctx, env.name, { manifestWhen: unfinishedNeedsManifest })));
}

/**
 * Whether APPLY-UNFINISHED reads the bundle's manifest for this applied record: only a succeeded apply
 * without a ledger tag (its manifest says whether it was dirty, and so never tagged). A started apply is
 * unfinished whatever the manifest says, and an unreadable record is reported as such.
 */
function unfinishedNeedsManifest(appliedText: string): boolean {
  const a = parseWith(appliedSchema, appliedText);
  return a.ok && a.value.status === "succeeded" && a.value.ledgerTag === null;
}

export function envConfig(ctx: EngineContext, name: string): EnvConfig {
  try {
    return getEnvironment(name, ctx.environments());
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
}

export function ledgerOf(ctx: EngineContext): Ledger {
  return new Ledger(ctx.paths.ledgerDir, ctx.paths.checkoutDir);
}

/** The applies recorded for the env this one promotes from (none for the first env of the chain). */
export function previousEnvApplies(ctx: EngineContext, cfg: EnvConfig) {
  return cfg.delivery.promotesFrom === null ? [] : ledgerOf(ctx).entries(cfg.delivery.promotesFrom);
}

/**
 * The gate's applies of the previous env for planning `commit`. With the shared store a ledger tag of
 * `commit` counts only when the previous env's store holds a succeeded, clean apply of it: its applied
 * claim and its outcome, both create-only under applied/<commit>/, read as that env's gate reader. A tag
 * anyone who can push tags wrote (`deployed/<from>/*` on a commit never applied there) is dropped, and
 * the gate stays shut (PROMOTION-GATE). Tags of other commits pass unchanged (the rollback rule reads them).
 */
export async function gateApplies(ctx: EngineContext, cfg: EnvConfig, commit: string): Promise<ReturnType<typeof previousEnvApplies>> {
  const entries = previousEnvApplies(ctx, cfg);
  if (storeKind(ctx.vars) === "local" || cfg.delivery.promotesFrom === null || !entries.some((e) => e.commit === commit)) return entries;
  const from = envConfig(ctx, cfg.delivery.promotesFrom);
  // Through the previous env's gate-reader role: it reads applied/ and nothing else of that store.
  const reader = await openGateStore(from, ctx.vars);
  const applied = await storeCall(async () => (await reader.bundles.gateEvidence(commit)).some(({ outcome }) => outcome !== null && outcome.status === "succeeded" && !outcome.dirty));
  if (applied) return entries;
  ctx.io.err(`promotion gate: the deployed/${from.name}/* tag of ${commit.slice(0, 12)} has no succeeded apply behind it in ${from.name}'s store (s3://${from.store.bucket}/applied/${commit}/): ignored\n`);
  return entries.filter((e) => e.commit !== commit);
}

/**
 * The named bundle's folder, or the env's newest; BUNDLE-NOT-FOUND when there is none. With the shared
 * store: the bundle fetched from the store into the local cache (BUNDLE-INCOMPLETE for an upload that
 * never finished).
 */
export async function bundleDirOrRefuse(ctx: EngineContext, env: string, id?: string): Promise<string> {
  const store = bundleStore(ctx);
  if (store instanceof S3EngineStore) {
    // A named bundle: its own marker decides (listing every bundle's would read them all); else the newest.
    const chosen = id ?? (await store.list(env)).slice(-1)[0];
    if (chosen !== undefined && (await store.isListed(env, chosen))) return store.fetch(env, chosen);
    if (chosen !== undefined && (await store.anyObject(env, chosen))) {
      throw new RefusalError(refusal("BUNDLE-INCOMPLETE", `bundle ${env}/${chosen} complete in ${store.location(env)} (its commit marker written)`, "some of its files but no commit marker (its upload never finished)", fixFor("BUNDLE-INCOMPLETE", env)));
    }
    throw new RefusalError(refusal("BUNDLE-NOT-FOUND", id ? `bundle ${env}/${id}` : `a bundle in ${store.location(env)}`, "none", fixFor("BUNDLE-NOT-FOUND", env)));
  }
  const dir = findBundle(ctx.paths, env, id);
  if (dir === null) {
    throw new RefusalError(refusal("BUNDLE-NOT-FOUND", id ? `bundle ${env}/${id}` : `a bundle under ${envPlansDir(ctx.paths, env)}`, "none", fixFor("BUNDLE-NOT-FOUND", env)));
  }
  return dir;
}

/** The store the env's bundles are kept in: the local plans folder, or each env's S3 store (PROMOTE_STORE=s3). */
export function bundleStore(ctx: EngineContext): BundleStore {
  if (storeKind(ctx.vars) === "s3") return new S3EngineStore(ctx.paths, (env) => envConfig(ctx, env), ctx.vars);
  return new LocalBundleStore(ctx.paths);
}

/** The env's audit log: the local file, or the env's store (PROMOTE_STORE=s3). */
export function auditLogOf(ctx: EngineContext, env: string): EngineAudit {
  if (storeKind(ctx.vars) === "s3") return new StoreAudit(envConfig(ctx, env), ctx.vars, ctx.paths);
  const log = new AuditLog(auditPath(ctx.paths, env), env);
  return { where: log.path, brokenRefusal: async () => log.brokenRefusal(), append: (e, now) => log.append(e, now), verify: async () => log.verify(), refusalOf: (v) => log.refusalOf(v) };
}

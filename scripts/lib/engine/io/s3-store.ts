/**
 * The shared store (PROMOTE_STORE=s3): bundles, applied records, the audit log and the env's lease in the
 * env's own account (scripts/lib/store/), behind the engine's BundleStore seam. PROMOTE_HOME is then a
 * local cache: a bundle is fetched from the store into <home>/<env>/<id>/ (every file checked against the
 * store's commit marker, approval and applied record taken from the store, never from the cache) before
 * a command reads it, and every write goes to the store first.
 *
 *   plan     publish: each file create-only, the commit marker last (a half-written bundle is invisible)
 *   approve  create(approval.json): create-only in the store (APPROVAL-EXISTS)
 *   apply    create(applied.json): the claim applied/<commit>/<id>.json, create-only (If-None-Match: *):
 *            of any number of machines exactly one applies a bundle; then the status record
 *            bundles/<id>/applied.json (started → succeeded/failed/...), a new object version each time
 *
 * The store never forgets a claim (its bucket policy denies deletes): `remove(applied.json)` (terraform
 * refused before changing anything) records status "failed", and the bundle is not applied again.
 *
 * Store refusals become engine refusals (same ids, RULES.md), store failures engine errors (exit 2).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { z } from "zod";
import type { EnvStore } from "../../store";
import type { AuditCheckpoint } from "../../store/audit-log";
import { StoreError, StoreRefusal } from "../../store/errors";
import { EngineError, RefusalError, refusal, type Refusal } from "../core/errors";
import { fixFor, RULE_IDS, type RuleId } from "../core/rules";
import { SHA256_PATTERN } from "../core/hash";
import { appliedSchema, manifestSchema, parseWith, type Applied } from "../core/schemas";
import type { AuditEntry, AuditVerdict } from "./audit";
import { BUNDLE_ID_PATTERN, FILES } from "./bundle";
import { envPlansDir, type EnginePaths } from "./paths";
import { LocalBundleStore, type BundleFileName, type BundleStore } from "./store";

/** The one setting: where bundles, applied records, audit and locks are kept. */
export const STORE_SETTING = "PROMOTE_STORE";
export type StoreKind = "local" | "s3";

/**
 * The store is each env's S3 store (made by `promote bootstrap <env>`) on every target, real AWS and the
 * emulator, unless `PROMOTE_STORE=local` chooses the PROMOTE_HOME folder (one machine: offline use and the
 * hermetic unit tests). There is no fallback from one to the other: a store that cannot be reached is an
 * error, never a silent switch to local files.
 */
export function storeKind(vars: NodeJS.ProcessEnv): StoreKind {
  const v = vars[STORE_SETTING];
  if (v === undefined || v === "" || v === "s3") return "s3";
  if (v === "local") return "local";
  throw new EngineError(`${STORE_SETTING} must be "s3" (each env's store in its own account, the default) or "local" (the PROMOTE_HOME folder, one machine), but ${JSON.stringify(v.slice(0, 80))} was given`);
}

/** A store refusal as the engine's (same id), a store failure as an engine error; anything else unchanged. */
export function engineError(e: unknown): unknown {
  if (e instanceof StoreRefusal) {
    if (!(RULE_IDS as readonly string[]).includes(e.id)) return new EngineError(e.message);
    return new RefusalError(refusal(e.id as RuleId, e.expected, e.found, e.fix));
  }
  if (e instanceof StoreError) return new EngineError(e.message);
  return e;
}

export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw engineError(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Opened stores (one per env and process; closed by closeStores at the CLI's end)
// ---------------------------------------------------------------------------------------------

const opened = new Map<string, Promise<EnvStore>>();

export function openStore(cfg: EnvConfig, vars: NodeJS.ProcessEnv): Promise<EnvStore> {
  const key = `${cfg.name}\0${cfg.account.id}\0${cfg.store.bucket}\0${vars.LOCAL_ENDPOINT ?? ""}`;
  let p = opened.get(key);
  if (p === undefined) {
    p = storeCall(async () => (await import("../../store")).openEnvStore(cfg, { vars, sessionName: `promote-${cfg.name}` }));
    p.catch(() => opened.delete(key));
    opened.set(key, p);
  }
  return p;
}

type GateReader = ReturnType<typeof import("../../store").openGateReader>;
const gateReaders = new Map<string, GateReader>();

/** The previous env's store as the promotion gate sees it (its gate-reader role: applied/ only), one per env and process. */
export async function openGateStore(cfg: EnvConfig, vars: NodeJS.ProcessEnv): Promise<GateReader> {
  const key = `${cfg.name}\0${cfg.account.id}\0${cfg.store.bucket}\0${vars.LOCAL_ENDPOINT ?? ""}`;
  let r = gateReaders.get(key);
  if (r === undefined) {
    r = (await import("../../store")).openGateReader(cfg, { vars, sessionName: `promote-gate-${cfg.name}` });
    gateReaders.set(key, r);
  }
  return r;
}

/** Closes every opened store's clients (their sockets would keep the process alive). */
export async function closeStores(): Promise<void> {
  const all = [...opened.values()];
  opened.clear();
  for (const r of gateReaders.values()) r.close();
  gateReaders.clear();
  for (const p of all) {
    try {
      (await p).close();
    } catch {
      // never opened: nothing to close
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------------------------

const CACHED = [FILES.plan, FILES.manifest, FILES.summary, FILES.policy, FILES.approval, FILES.applied] as const;

/** approval.json or a signer's `<principal>.approval.json`: create-only in the store, one object each. */
const isApproval = (file: string): boolean => file === FILES.approval || file.endsWith(".approval.json");

export class S3EngineStore implements BundleStore {
  private readonly cache: LocalBundleStore;

  constructor(
    private readonly paths: EnginePaths,
    private readonly cfgOf: (env: string) => EnvConfig,
    private readonly vars: NodeJS.ProcessEnv,
  ) {
    this.cache = new LocalBundleStore(paths);
  }

  private open(env: string): Promise<EnvStore> {
    return openStore(this.cfgOf(env), this.vars);
  }

  location(env: string): string {
    const cfg = this.cfgOf(env);
    return `s3://${cfg.store.bucket}/bundles/ (${env}'s store, account ${cfg.account.id})`;
  }

  /** The local cache folder of a bundle (what fetch fills; terraform and the checks read it). */
  dir(env: string, id: string): string {
    return this.cache.dir(env, id);
  }

  list(env: string): Promise<string[]> {
    return storeCall(async () => (await (await this.open(env)).bundles.listBundles()).sort());
  }

  /**
   * The complete bundles the store lists with a status record, an applied claim or an outcome: a bundle
   * outside them has no applied record by readApplied's own rule (no status; no claim under any commit).
   */
  listApplied(env: string): Promise<string[]> {
    return storeCall(async () => (await (await this.open(env)).bundles.listAppliedBundles()).sort());
  }

  /** Whether list(env) lists this bundle, reading its marker only (not every bundle's). */
  isListed(env: string, id: string): Promise<boolean> {
    if (!BUNDLE_ID_PATTERN.test(id)) return Promise.resolve(false);
    return storeCall(async () => (await this.open(env)).bundles.isListed(id));
  }

  /** Whether anything of the bundle was ever written (complete or not). */
  async anyObject(env: string, id: string): Promise<boolean> {
    if (!BUNDLE_ID_PATTERN.test(id)) return false;
    return storeCall(async () => (await (await this.open(env)).bundles.bucket.listKeys(`bundles/${id}/`)).length > 0);
  }

  private async commitOf(s: EnvStore, id: string): Promise<string> {
    const m = parseWith(manifestSchema, (await s.bundles.readFile(id, FILES.manifest)).toString("utf8"));
    if (!m.ok) throw new EngineError(`bundle ${s.env}/${id} in the store: manifest.json does not match the manifest schema`);
    return m.value.git.commit;
  }

  read(env: string, id: string, file: BundleFileName): Promise<Buffer | null> {
    return storeCall(async () => {
      const s = await this.open(env);
      if (isApproval(file)) return s.bundles.approval(id, file);
      if (file === FILES.applied) return this.readApplied(s, id);
      const marker = await s.bundles.marker(id);
      if (marker.files[file] === undefined) return null;
      return s.bundles.readFile(id, file, marker);
    });
  }

  /** The status record; when only the claim exists (a crash between the two writes), "started" from the claim. */
  private async readApplied(s: EnvStore, id: string): Promise<Buffer | null> {
    const status = await s.bundles.bucket.get(`bundles/${id}/${FILES.applied}`);
    if (status !== null) return status.body;
    const commit = await this.commitOf(s, id);
    if (!(await s.bundles.isApplied(commit, id))) return null;
    const claim = await s.bundles.bucket.get(s.bundles.appliedKey(commit, id));
    const rec = claim ? (JSON.parse(claim.body.toString("utf8")) as { planSha256?: string; by?: string; appliedAt?: string }) : {};
    const started: Applied = {
      schemaVersion: 1,
      status: "started",
      planSha256: rec.planSha256 ?? "0".repeat(64),
      appliedBy: rec.by ?? "(the applied record was deleted)",
      startedAt: rec.appliedAt ?? new Date(0).toISOString(),
      finishedAt: null,
      stateAfter: null,
      ledgerTag: null,
    };
    return Buffer.from(`${JSON.stringify(appliedSchema.parse(started), null, 2)}\n`);
  }

  write(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<void> {
    return storeCall(async () => {
      if (file !== FILES.applied) throw new EngineError(`the store replaces no bundle file but the applied status (asked: ${file})`);
      const s = await this.open(env);
      await s.bundles.bucket.put(`bundles/${id}/${file}`, data, { kmsKeyArn: s.kmsKeyArn });
      await this.recordOutcome(s, env, id, data);
      await this.cacheWrite(env, id, file, data);
    });
  }

  /**
   * A final status (not "started") also becomes the apply's outcome under applied/<commit>/, create-only
   * (the first one stands): what the next env's gate reads, through a role that reads nothing else.
   */
  private async recordOutcome(s: EnvStore, env: string, id: string, statusText: string | Buffer): Promise<void> {
    const applied = parseWith(appliedSchema, statusText.toString());
    if (!applied.ok || applied.value.status === "started") return;
    const m = parseWith(manifestSchema, (await s.bundles.readFile(id, FILES.manifest)).toString("utf8"));
    if (!m.ok) throw new EngineError(`bundle ${env}/${id} in the store: manifest.json does not match the manifest schema`);
    await s.bundles.markOutcome({ schemaVersion: 1, env, bundleId: id, commit: m.value.git.commit, status: applied.value.status, dirty: m.value.git.dirty, at: applied.value.finishedAt ?? new Date().toISOString() });
  }

  create(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<boolean> {
    return storeCall(async () => {
      const s = await this.open(env);
      if (isApproval(file)) {
        try {
          await s.bundles.putApproval(id, data, file);
        } catch (e) {
          if (e instanceof StoreRefusal && e.id === "APPROVAL-EXISTS") return false;
          throw e;
        }
      } else if (file === FILES.applied) {
        const applied = parseWith(appliedSchema, data.toString());
        if (!applied.ok) throw new EngineError(`applied.json to claim bundle ${env}/${id} does not match its schema`);
        const commit = await this.commitOf(s, id);
        try {
          await s.bundles.markApplied({ schemaVersion: 1, env, bundleId: id, commit, planSha256: applied.value.planSha256, appliedAt: applied.value.startedAt, by: applied.value.appliedBy, host: hostname() });
        } catch (e) {
          if (e instanceof StoreRefusal && e.id === "BUNDLE-ALREADY-APPLIED") return false;
          throw e;
        }
        await s.bundles.bucket.put(`bundles/${id}/${file}`, data, { kmsKeyArn: s.kmsKeyArn });
      } else {
        throw new EngineError(`bundle files are written by publish, not one by one (asked: ${file})`);
      }
      await this.cacheWrite(env, id, file, data);
      return true;
    });
  }

  /** The store keeps every claim: a withdrawn apply (terraform refused before changing anything) is recorded failed. */
  remove(env: string, id: string, file: BundleFileName): Promise<void> {
    return storeCall(async () => {
      if (file !== FILES.applied) throw new EngineError(`the store removes nothing but withdraws an applied claim (asked: ${file})`);
      const s = await this.open(env);
      const current = await this.readApplied(s, id);
      const parsed = current ? parseWith(appliedSchema, current.toString("utf8")) : null;
      if (parsed === null || !parsed.ok) return;
      const failed: Applied = { ...parsed.value, status: "failed", finishedAt: new Date().toISOString() };
      const text = `${JSON.stringify(appliedSchema.parse(failed), null, 2)}\n`;
      await s.bundles.bucket.put(`bundles/${id}/${file}`, text, { kmsKeyArn: s.kmsKeyArn });
      await this.recordOutcome(s, env, id, text);
      await this.cacheWrite(env, id, file, text);
    });
  }

  /** Uploads the complete bundle in `fromDir` (marker last), then keeps it as the local cache copy. */
  publish(env: string, id: string, fromDir: string): Promise<void> {
    return storeCall(async () => {
      const s = await this.open(env);
      const files: Record<string, Buffer> = {};
      for (const f of readdirSync(fromDir)) {
        if (isApproval(f) || f === FILES.applied) throw new EngineError(`a new bundle has no ${f}`);
        files[f] = readFileSync(join(fromDir, f));
      }
      await s.bundles.putBundle(id, files);
      await this.cache.publish(env, id, fromDir);
    });
  }

  /**
   * Fills the local cache folder of a complete bundle from the store (every file verified against the
   * marker; approval and applied record from the store; a cached file the store does not have is
   * removed) and returns it.
   */
  fetch(env: string, id: string): Promise<string> {
    return storeCall(async () => {
      const s = await this.open(env);
      const { files } = await s.bundles.readBundle(id);
      // every approval the store holds: approval.json and each signer's <principal>.approval.json
      const approvals: Record<string, Buffer | null> = {};
      for (const name of await s.bundles.approvalNames(id)) approvals[name] = await s.bundles.approval(id, name);
      const applied = await this.readApplied(s, id);
      const all: Record<string, Buffer | null> = { ...files, ...approvals, [FILES.applied]: applied };
      const target = this.dir(env, id);
      mkdirSync(envPlansDir(this.paths, env), { recursive: true, mode: 0o700 });
      const tmp = join(envPlansDir(this.paths, env), `.fetch-${id}-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { mode: 0o700 });
      for (const name of [...CACHED, ...Object.keys(approvals).filter((n) => n !== FILES.approval)]) {
        const body = all[name];
        if (body !== null && body !== undefined) writeFileSync(join(tmp, name), body, { mode: name === FILES.plan ? 0o600 : 0o644 });
      }
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
      return target;
    });
  }

  private async cacheWrite(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<void> {
    if (existsSync(this.dir(env, id))) await this.cache.write(env, id, file, data);
  }
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/** What `audited` and apply need of an audit log, local or in the store. */
export interface EngineAudit {
  /** Where, for messages. */
  readonly where: string;
  /** The refusal a command stops with when the log is broken, or null (the store's: from this home's checkpoint). */
  brokenRefusal(): Promise<Refusal | null>;
  append(entry: AuditEntry, now: Date): Promise<unknown>;
  /** The whole log, every record read (`promote audit verify`). */
  verify(): Promise<AuditVerdict>;
  /** The AUDIT-LOG-BROKEN refusal of a verdict that is not ok. */
  refusalOf(v: AuditVerdict & { ok: false }): Refusal;
}

/** Bump when the checks of S3AuditLog.verify change: every home then reads its logs whole once. */
const AUDIT_VERIFIER = 1;

/**
 * The checkpoint a home keeps of the last verdict on an env's store log: <audit dir>/<env>.store-verified.json.
 * Trusted as the home's own (whoever can write it can also write the engine's checkout, which holds the
 * home by default), but only when this user owns it and nobody else can write it.
 */
const checkpointSchema = z.object({
  schemaVersion: z.literal(1),
  /** The checks that made it (AUDIT_VERIFIER): a checkpoint of older checks is not trusted by newer ones. */
  verifier: z.literal(AUDIT_VERIFIER),
  bucket: z.string(),
  env: z.string(),
  seq: z.number().int().min(1),
  hash: z.string().regex(SHA256_PATTERN),
  versionsSha256: z.string().regex(SHA256_PATTERN),
});

export class StoreAudit implements EngineAudit {
  constructor(
    private readonly cfg: EnvConfig,
    private readonly vars: NodeJS.ProcessEnv,
    private readonly paths: EnginePaths,
  ) {}

  get where(): string {
    return `s3://${this.cfg.store.bucket}/audit/${this.cfg.name}/`;
  }

  /**
   * Before every command: the records this home has not verified yet, chained from its checkpoint (the
   * listing of every record's versions is read each time: an overwrite or delete of any record, old or
   * new, is still found). A missing, unreadable or unmatched checkpoint means a whole verify.
   */
  async brokenRefusal(): Promise<Refusal | null> {
    const v = await storeCall(async () => (await openStore(this.cfg, this.vars)).audit.verify({ from: this.readCheckpoint() }));
    if (!v.ok) return this.refusalOf({ ok: false, line: v.seq, reason: v.reason });
    this.writeCheckpoint(v.checkpoint);
    return null;
  }

  refusalOf(v: AuditVerdict & { ok: false }): Refusal {
    return refusal("AUDIT-LOG-BROKEN", `an intact audit log ${this.where}`, `record ${v.line}: ${v.reason}`, fixFor("AUDIT-LOG-BROKEN", this.cfg.name));
  }

  private get checkpointPath(): string {
    return join(this.paths.auditDir, `${this.cfg.name}.store-verified.json`);
  }

  private readCheckpoint(): AuditCheckpoint | null {
    try {
      const st = statSync(this.checkpointPath);
      if ((st.mode & 0o022) !== 0 || (typeof process.getuid === "function" && st.uid !== process.getuid())) return null;
      const c = checkpointSchema.parse(JSON.parse(readFileSync(this.checkpointPath, "utf8")));
      return c.bucket === this.cfg.store.bucket && c.env === this.cfg.name ? c : null;
    } catch {
      return null; // none yet, or not one: the whole log is read
    }
  }

  private writeCheckpoint(c: AuditCheckpoint | null): void {
    if (c === null) return;
    try {
      mkdirSync(this.paths.auditDir, { recursive: true, mode: 0o700 });
      const tmp = `${this.checkpointPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ schemaVersion: 1, verifier: AUDIT_VERIFIER, bucket: this.cfg.store.bucket, env: this.cfg.name, ...c })}\n`, { mode: 0o600, flag: "wx" });
      renameSync(tmp, this.checkpointPath);
    } catch {
      // a home that cannot keep it reads the whole log next time
    }
  }

  append(entry: AuditEntry, now: Date): Promise<unknown> {
    return storeCall(async () => (await openStore(this.cfg, this.vars)).audit.append(entry, { now: () => now }));
  }

  verify(): Promise<AuditVerdict> {
    return storeCall(async () => {
      const v = await (await openStore(this.cfg, this.vars)).audit.verify();
      if (!v.ok) return { ok: false as const, line: v.seq, reason: v.reason };
      this.writeCheckpoint(v.checkpoint);
      return { ok: true as const, count: v.count, lastHash: v.lastHash };
    });
  }
}

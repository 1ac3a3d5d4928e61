/**
 * Bundles in an env's S3 store (the bucket bootstrap created in the env's account):
 *
 *   bundles/<id>/<file>           plan.tfplan, manifest.json, summary.txt, ...: create-only, SSE-KMS with
 *                                 the env's key (the plan file holds state and secret values)
 *   bundles/<id>/complete.json    the commit marker, written last: every file's SHA-256, size and version
 *   bundles/<id>/approval.json    create-only (APPROVAL-EXISTS)
 *   applied/<commit>/<id>.json    the applied record, create-only (BUNDLE-ALREADY-APPLIED); the gate of
 *                                 the next env reads these (and only these) through its gate-reader role
 *
 * A bundle is visible (listed, readable) only once its marker exists; files are read back by the version
 * id the marker recorded and checked against its SHA-256, and a file with any other version (written over
 * or deleted after the marker) is refused BUNDLE-INCOMPLETE, so neither a half-written bundle nor a file
 * written over later is ever handed to review or apply, nor silently passed over. "Applied" means any version of the applied
 * record exists, delete markers included: deleting the record does not make a bundle applicable again.
 */
import { SIGNED_APPROVAL_FILE } from "../engine/core/approval-statement";
import { inBatches } from "../engine/core/batches";
import { createHash } from "node:crypto";
import { z } from "zod";
import { AwsClients } from "./aws";
import { StoreError, storeRefusal } from "./errors";
import { KeyExists, StoreBucket } from "./s3";

export const BUNDLES_PREFIX = "bundles/";
export const APPLIED_PREFIX = "applied/";
export const MARKER_FILE = "complete.json";
export const APPROVAL_FILE = "approval.json";
/** Files that are encrypted with the env's key and whose key is verified on every read. */
export const SECRET_FILES = new Set(["plan.tfplan"]);

const BUNDLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A signed approval: a principal (a lower-case e-mail, as the engine's io/store.ts names it) + `.approval.json`. */
const COMMIT = /^[0-9a-f]{7,64}$/;

const markerSchema = z
  .object({
    schemaVersion: z.literal(1),
    env: z.string(),
    bundleId: z.string(),
    completedAt: z.string(),
    files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative(), versionId: z.string() }).strict()),
  })
  .strict();

export type BundleMarker = z.infer<typeof markerSchema>;

export const appliedRecordSchema = z
  .object({
    schemaVersion: z.literal(1),
    env: z.string(),
    bundleId: z.string(),
    commit: z.string().regex(COMMIT),
    planSha256: z.string().regex(/^[0-9a-f]{64}$/),
    appliedAt: z.string(),
    by: z.string(),
    host: z.string(),
  })
  .strict();

export type AppliedRecord = z.infer<typeof appliedRecordSchema>;

/**
 * How an apply ended, beside its claim under applied/<commit>/: create-only, written once when the
 * apply's final status is recorded (the first outcome stands). It is what the next env's promotion gate
 * reads through the gate-reader role, which may read nothing but applied/ (constructs/delivery-roles.ts).
 */
export const appliedOutcomeSchema = z
  .object({
    schemaVersion: z.literal(1),
    env: z.string(),
    bundleId: z.string(),
    commit: z.string().regex(COMMIT),
    status: z.enum(["succeeded", "failed", "incident", "interrupted"]),
    /** The bundle was planned from uncommitted changes (its manifest's git.dirty): it opens no gate. */
    dirty: z.boolean(),
    at: z.string(),
  })
  .strict();

export type AppliedOutcome = z.infer<typeof appliedOutcomeSchema>;

const OUTCOME_SUFFIX = ".outcome.json";
/** The engine's status record of an apply, beside a bundle's files (bundles/<id>/applied.json). */
const STATUS_FILE = "applied.json";

export interface BundleStoreOptions {
  readonly env: string;
  /** The env's account: the bucket must belong to it. */
  readonly accountId: string;
  readonly bucket: string;
  /** The env's KMS key ARN (see resolveKmsKeyArn). */
  readonly kmsKeyArn: string;
  readonly clients: AwsClients;
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** approval.json, or a signed approval's `<principal>.approval.json` (a bundle file name otherwise). */
function isApprovalName(name: string): boolean {
  return name === APPROVAL_FILE || SIGNED_APPROVAL_FILE.test(name);
}

function checkApprovalName(name: string): void {
  if (!isApprovalName(name)) throw new StoreError(`an approval's name: expected approval.json or <principal>.approval.json, found ${JSON.stringify(name.slice(0, 140))}`);
}

function checkName(kind: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) throw new StoreError(`${kind} must match ${pattern.source}, but ${JSON.stringify(value)} was provided`);
}

/** Opens the env's store and checks it is the env's: refuses STORE-ACCOUNT-MISMATCH for a foreign bucket. */
export async function openBundleStore(opts: BundleStoreOptions): Promise<S3BundleStore> {
  const store = new S3BundleStore(opts);
  await store.checkOwnership();
  return store;
}

export class S3BundleStore {
  readonly bucket: StoreBucket;

  constructor(readonly opts: BundleStoreOptions) {
    this.bucket = new StoreBucket(opts.clients, opts.bucket, opts.accountId);
  }

  get env(): string {
    return this.opts.env;
  }

  /** Refuses STORE-ACCOUNT-MISMATCH when the bucket is another account's; StoreError when it is missing or denied. */
  async checkOwnership(): Promise<void> {
    const keyAccount = /^arn:aws[\w-]*:kms:[\w-]+:(\d{12}):key\//.exec(this.opts.kmsKeyArn)?.[1] ?? null;
    if (keyAccount !== this.opts.accountId) {
      throw storeRefusal("STORE-KEY-MISMATCH", this.env, `a KMS key ARN of the env's account ${this.opts.accountId}`, this.opts.kmsKeyArn);
    }
    const o = await this.bucket.ownership();
    if (o === "ok") return;
    const where = `s3://${this.opts.bucket}`;
    if (o === "foreign" || o === "denied") {
      throw storeRefusal(
        "STORE-ACCOUNT-MISMATCH",
        this.env,
        `store bucket ${where} owned by the env's account ${this.opts.accountId}`,
        o === "foreign" ? `a bucket of another account (S3 answers 403 to ExpectedBucketOwner=${this.opts.accountId})` : `403 with ExpectedBucketOwner=${this.opts.accountId} (another account's bucket, or not readable by the role)`,
      );
    }
    throw new StoreError(`store bucket ${where} does not exist in account ${this.opts.accountId}: run \`promote bootstrap ${this.env}\``);
  }

  private fileKey(id: string, name: string): string {
    return `${BUNDLES_PREFIX}${id}/${name}`;
  }

  appliedKey(commit: string, id: string): string {
    return `${APPLIED_PREFIX}${commit}/${id}.json`;
  }

  outcomeKey(commit: string, id: string): string {
    return `${APPLIED_PREFIX}${commit}/${id}${OUTCOME_SUFFIX}`;
  }

  /**
   * The env's complete bundles (listBundles' rule) that may have an applied record: a status record
   * (fileKey(id, "applied.json")), an applied claim (appliedKey) or an outcome (outcomeKey). One listing
   * of bundles/ and one of applied/; only their markers are read (MARKER_READS at once), not every bundle's.
   */
  async listAppliedBundles(): Promise<string[]> {
    const [bundleKeys, claimKeys] = await Promise.all([this.bucket.listKeys(BUNDLES_PREFIX), this.bucket.listKeys(APPLIED_PREFIX)]);
    const applied = appliedIdsOf(bundleKeys, claimKeys);
    return this.ownBundles(markedIdsOf(bundleKeys).filter((id) => applied.has(id)));
  }

  /**
   * Writes a bundle: every file create-only (SSE-KMS with the env's key), then the commit marker. An
   * interruption anywhere before the marker leaves an invisible bundle. Refuses BUNDLE-EXISTS when a file
   * or the marker of that id exists already.
   */
  async putBundle(id: string, files: Readonly<Record<string, Uint8Array | string>>, now: Date = new Date()): Promise<BundleMarker> {
    checkName("bundle id", id, BUNDLE_ID);
    const names = Object.keys(files).sort();
    if (names.length === 0) throw new StoreError(`bundle ${id}: no files to write`);
    for (const n of names) {
      checkName("bundle file name", n, FILE_NAME);
      if (n === MARKER_FILE || n === APPROVAL_FILE) throw new StoreError(`bundle ${id}: ${n} is written by the store itself, not as a bundle file`);
    }
    // The files at once (each create-only), the marker only after every one of them was written.
    const written = await Promise.all(
      names.map(async (n) => {
        const body = typeof files[n] === "string" ? Buffer.from(files[n] as string) : (files[n] as Uint8Array);
        const versionId = await this.createOnly(id, this.fileKey(id, n), body, n.endsWith(".json") ? "application/json" : "application/octet-stream");
        return [n, { sha256: sha256(body), size: body.length, versionId }] as const;
      }),
    );
    const entries: BundleMarker["files"] = Object.fromEntries(written);
    const marker: BundleMarker = { schemaVersion: 1, env: this.env, bundleId: id, completedAt: now.toISOString(), files: entries };
    await this.createOnly(id, this.fileKey(id, MARKER_FILE), JSON.stringify(marker, null, 2), "application/json");
    return marker;
  }

  private async createOnly(id: string, key: string, body: Uint8Array | string, contentType: string): Promise<string> {
    try {
      return await this.bucket.putCreateOnly(key, body, { kmsKeyArn: this.opts.kmsKeyArn, contentType });
    } catch (e) {
      if (e instanceof KeyExists) throw storeRefusal("BUNDLE-EXISTS", this.env, `no object ${key} yet`, `s3://${this.opts.bucket}/${key} exists (bundle ${id})`);
      throw e;
    }
  }

  /**
   * The ids of this env's complete bundles (those with a marker), in id order. One bucket can hold the
   * bundles of several envs (an ephemeral env's are in its base env's store): a marker that names another
   * env is left out (its bundle is that env's); one that cannot be read is kept, so that marker() refuses it
   * (BUNDLE-INCOMPLETE) instead of hiding it.
   */
  async listBundles(): Promise<string[]> {
    return this.ownBundles(markedIdsOf(await this.bucket.listKeys(BUNDLES_PREFIX)));
  }

  /** The ids whose marker names this env (or none: an unreadable marker is refused when the bundle is read). */
  private async ownBundles(ids: readonly string[]): Promise<string[]> {
    const owners = await inBatches(ids, MARKER_READS, (id) => this.markerEnv(id));
    return ids.filter((_, i) => owners[i] === null || owners[i] === this.env);
  }

  /** The env a bundle's marker names; null when the marker is missing or unreadable. */
  private async markerEnv(id: string): Promise<string | null> {
    const got = await this.bucket.get(this.fileKey(id, MARKER_FILE));
    return got === null ? null : envOfMarker(got.body);
  }

  /** Whether listBundles lists this id (its marker exists and names this env or none), reading that marker only. */
  async isListed(id: string): Promise<boolean> {
    if (!BUNDLE_ID.test(id)) return false;
    const got = await this.bucket.get(this.fileKey(id, MARKER_FILE));
    if (got === null) return false;
    const env = envOfMarker(got.body);
    return env === null || env === this.env;
  }

  /** The bundle's marker; refuses BUNDLE-INCOMPLETE when there is none or it is malformed. */
  async marker(id: string): Promise<BundleMarker> {
    checkName("bundle id", id, BUNDLE_ID);
    const key = this.fileKey(id, MARKER_FILE);
    const got = await this.bucket.get(key);
    if (got === null) throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `the commit marker ${key}`, "none (the bundle does not exist, or its upload never finished)");
    let parsed: BundleMarker;
    try {
      parsed = markerSchema.parse(JSON.parse(got.body.toString("utf8")));
    } catch (e) {
      throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `a valid commit marker ${key}`, `unreadable: ${(e as Error).message.split("\n")[0]}`);
    }
    if (parsed.env !== this.env || parsed.bundleId !== id) {
      throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `the marker of bundle ${id} of ${this.env}`, `the marker of bundle ${parsed.bundleId} of ${parsed.env}`);
    }
    return parsed;
  }

  /**
   * One file of a complete bundle, read by the version the marker recorded and checked against its
   * SHA-256; a secret file (the plan) must be SSE-KMS with the env's key (STORE-KEY-MISMATCH).
   */
  async readFile(id: string, name: string, marker?: BundleMarker): Promise<Buffer> {
    const m = marker ?? (await this.marker(id));
    const entry = m.files[name];
    const key = this.fileKey(id, name);
    if (entry === undefined) throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `${name} listed in the marker of bundle ${id}`, `only ${Object.keys(m.files).join(", ")}`);
    // Bundle files are create-only: any other version (a write over it, a delete marker) is a change after
    // the marker, refused rather than ignored (reading the marker's version alone would hide it).
    const others = (await this.bucket.listVersions(key)).filter((v) => v.key === key && v.versionId !== entry.versionId);
    if (others.length > 0) {
      const what = others.some((v) => v.deleteMarker) ? "deleted" : "written over";
      throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `${key} only as the marker recorded it (version ${entry.versionId})`, `${others.length} later version(s) or delete marker(s): ${what} after the bundle was complete`);
    }
    const got = await this.bucket.get(key, entry.versionId);
    if (got === null) throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `${key} version ${entry.versionId}`, "no such object version");
    const digest = sha256(got.body);
    if (digest !== entry.sha256) throw storeRefusal("BUNDLE-INCOMPLETE", this.env, `${key} with SHA-256 ${entry.sha256} (the marker's)`, `SHA-256 ${digest}`);
    if (SECRET_FILES.has(name) && (got.sse !== "aws:kms" || got.kmsKeyId !== this.opts.kmsKeyArn)) {
      throw storeRefusal("STORE-KEY-MISMATCH", this.env, `${key} encrypted aws:kms with ${this.opts.kmsKeyArn}`, `${got.sse ?? "no server-side encryption"}${got.kmsKeyId ? ` with ${got.kmsKeyId}` : ""}`);
    }
    return got.body;
  }

  /** Every file of a complete bundle (see readFile). */
  async readBundle(id: string): Promise<{ marker: BundleMarker; files: Record<string, Buffer> }> {
    const marker = await this.marker(id);
    const files: Record<string, Buffer> = {};
    for (const name of Object.keys(marker.files).sort()) files[name] = await this.readFile(id, name, marker);
    return { marker, files };
  }

  /**
   * Writes an approval of a complete bundle, create-only: refuses APPROVAL-EXISTS for a second one of the
   * same name. `name` is approval.json (an unsigned approval) or `<principal>.approval.json` (one signed
   * approval per approver, issue 13).
   */
  async putApproval(id: string, approval: Uint8Array | string, name: string = APPROVAL_FILE): Promise<string> {
    checkApprovalName(name);
    await this.marker(id);
    const key = this.fileKey(id, name);
    if ((await this.bucket.listVersions(key)).some((v) => v.key === key)) {
      throw storeRefusal("APPROVAL-EXISTS", this.env, `no approval ${name} of bundle ${id} yet`, `s3://${this.opts.bucket}/${key}`);
    }
    try {
      return await this.bucket.putCreateOnly(key, approval, { kmsKeyArn: this.opts.kmsKeyArn });
    } catch (e) {
      if (e instanceof KeyExists) throw storeRefusal("APPROVAL-EXISTS", this.env, `no approval ${name} of bundle ${id} yet`, `s3://${this.opts.bucket}/${key}`);
      throw e;
    }
  }

  /** An approval's bytes (its first version: an approval is never replaced), null when there is none. */
  async approval(id: string, name: string = APPROVAL_FILE): Promise<Buffer | null> {
    checkApprovalName(name);
    const key = this.fileKey(id, name);
    const versions = (await this.bucket.listVersions(key)).filter((v) => v.key === key && !v.deleteMarker);
    if (versions.length === 0) return null;
    const first = versions.reduce((a, b) => ((a.lastModified?.getTime() ?? 0) <= (b.lastModified?.getTime() ?? 0) ? a : b));
    return (await this.bucket.get(key, first.versionId))?.body ?? null;
  }

  /** The names of a bundle's approvals (approval.json and every `<principal>.approval.json`), sorted. */
  async approvalNames(id: string): Promise<string[]> {
    const prefix = this.fileKey(id, "");
    const names = (await this.bucket.listKeys(prefix)).map((k) => k.slice(prefix.length));
    return names.filter((n) => isApprovalName(n)).sort();
  }

  /** Whether the bundle was ever marked applied (any version of its applied record, delete markers included). */
  async isApplied(commit: string, id: string): Promise<boolean> {
    checkName("commit", commit, COMMIT);
    const key = this.appliedKey(commit, id);
    return (await this.bucket.listVersions(key)).some((v) => v.key === key);
  }

  /**
   * Marks the bundle applied: a create-only write of its applied record. Exactly one of any number of
   * concurrent callers (on any machine) succeeds; the others, and every later one, are refused
   * BUNDLE-ALREADY-APPLIED.
   */
  async markApplied(record: AppliedRecord): Promise<string> {
    const r = appliedRecordSchema.parse(record);
    if (r.env !== this.env) throw new StoreError(`applied record of ${r.env} written to the store of ${this.env}`);
    checkName("bundle id", r.bundleId, BUNDLE_ID);
    const key = this.appliedKey(r.commit, r.bundleId);
    const already = () => storeRefusal("BUNDLE-ALREADY-APPLIED", this.env, `bundle ${r.bundleId} never applied`, `s3://${this.opts.bucket}/${key} exists`);
    if (await this.isApplied(r.commit, r.bundleId)) throw already();
    try {
      return await this.bucket.putCreateOnly(key, JSON.stringify(r, null, 2), { kmsKeyArn: this.opts.kmsKeyArn });
    } catch (e) {
      if (e instanceof KeyExists) throw already();
      throw e;
    }
  }

  /**
   * Records how the claimed apply ended (create-only; a second outcome of the same bundle leaves the
   * first one standing and returns false). Refuses to record an outcome of a bundle never claimed.
   */
  async markOutcome(outcome: AppliedOutcome): Promise<boolean> {
    const o = appliedOutcomeSchema.parse(outcome);
    if (o.env !== this.env) throw new StoreError(`outcome of ${o.env} written to the store of ${this.env}`);
    checkName("bundle id", o.bundleId, BUNDLE_ID);
    if (!(await this.isApplied(o.commit, o.bundleId))) throw new StoreError(`outcome of bundle ${o.bundleId}: it was never claimed (no ${this.appliedKey(o.commit, o.bundleId)})`);
    try {
      await this.bucket.putCreateOnly(this.outcomeKey(o.commit, o.bundleId), JSON.stringify(o, null, 2), { kmsKeyArn: this.opts.kmsKeyArn });
      return true;
    } catch (e) {
      if (e instanceof KeyExists) return false;
      throw e;
    }
  }

  /**
   * The gate's evidence for `commit`: each claimed apply of it with its outcome (null while none is
   * recorded), read from applied/ only (the gate-reader role's whole view of the store): claims and
   * outcomes by their first version (a later one is an overwrite, which the bucket policy forbids).
   */
  async gateEvidence(commit: string): Promise<Array<{ record: AppliedRecord; outcome: AppliedOutcome | null }>> {
    const out: Array<{ record: AppliedRecord; outcome: AppliedOutcome | null }> = [];
    for (const record of await this.appliedRecords(commit)) {
      const key = this.outcomeKey(commit, record.bundleId);
      const versions = (await this.bucket.listVersions(key)).filter((v) => v.key === key && !v.deleteMarker);
      if (versions.length === 0) {
        out.push({ record, outcome: null });
        continue;
      }
      const first = versions.reduce((a, b) => ((a.lastModified?.getTime() ?? 0) <= (b.lastModified?.getTime() ?? 0) ? a : b));
      const got = await this.bucket.get(key, first.versionId);
      const parsed = got === null ? null : appliedOutcomeSchema.safeParse(JSON.parse(got.body.toString("utf8")));
      if (parsed === null || !parsed.success || parsed.data.env !== this.env || parsed.data.commit !== commit || parsed.data.bundleId !== record.bundleId) {
        throw new StoreError(`s3://${this.opts.bucket}/${key} is not the outcome of ${this.env}'s apply of bundle ${record.bundleId} (${commit})`);
      }
      out.push({ record, outcome: parsed.data });
    }
    return out;
  }

  /** The applied records of a commit (the gate of the next env), oldest first; unreadable ones are skipped by no one: they throw. */
  async appliedRecords(commit: string): Promise<AppliedRecord[]> {
    checkName("commit", commit, COMMIT);
    const keys = (await this.bucket.listKeys(`${APPLIED_PREFIX}${commit}/`)).filter((k) => !k.endsWith(OUTCOME_SUFFIX));
    const records: AppliedRecord[] = [];
    for (const key of keys) {
      const versions = (await this.bucket.listVersions(key)).filter((v) => v.key === key && !v.deleteMarker);
      // The first version is the record: a later one is an overwrite, which the bucket policy forbids.
      const first = versions.reduce((a, b) => ((a.lastModified?.getTime() ?? 0) <= (b.lastModified?.getTime() ?? 0) ? a : b));
      const got = await this.bucket.get(key, first.versionId);
      if (got === null) continue;
      const parsed = appliedRecordSchema.safeParse(JSON.parse(got.body.toString("utf8")));
      if (!parsed.success || parsed.data.env !== this.env || parsed.data.commit !== commit || key !== this.appliedKey(commit, parsed.data.bundleId)) {
        throw new StoreError(`s3://${this.opts.bucket}/${key} is not an applied record of ${this.env} for ${commit}`);
      }
      records.push(parsed.data);
    }
    return records.sort((a, b) => a.appliedAt.localeCompare(b.appliedAt));
  }
}

/** The ARN of the key behind `aliasOrArn` in the connection's account (KMS DescribeKey). */
export async function resolveKmsKeyArn(clients: AwsClients, aliasOrArn: string, missing?: { env: string; accountId: string }): Promise<string> {
  const { DescribeKeyCommand, KMSClient } = await import("@aws-sdk/client-kms");
  const c = clients.connection;
  const credentials = await clients.creds();
  const kms = new KMSClient({
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: c.timeouts.attempts,
    requestHandler: { connectionTimeout: c.timeouts.connectMs, requestTimeout: c.timeouts.requestMs },
  });
  try {
    const r = await kms.send(new DescribeKeyCommand({ KeyId: aliasOrArn }));
    const arn = r.KeyMetadata?.Arn;
    if (!arn) throw new StoreError(`KMS DescribeKey ${aliasOrArn}: no key ARN in the answer`);
    if (r.KeyMetadata?.KeyState !== "Enabled") throw new StoreError(`KMS key ${arn} (${aliasOrArn}) is ${r.KeyMetadata?.KeyState}, expected Enabled`);
    return arn;
  } catch (e) {
    if (e instanceof StoreError) throw e;
    if (missing && (e as Error).name === "NotFoundException") {
      throw new StoreError(`${missing.env}'s store is not set up: its KMS key ${aliasOrArn} does not exist in account ${missing.accountId} (${c.region}); run \`promote bootstrap ${missing.env}\` (it creates the key, the store bucket and the roles)`);
    }
    throw new StoreError(`KMS DescribeKey ${aliasOrArn}: ${(e as Error).name}: ${(e as Error).message}`);
  } finally {
    kms.destroy();
  }
}

/** Markers listBundles reads at once. */
const MARKER_READS = 16;

/** The ids of bundles with a commit marker, from a listing of bundles/. */
function markedIdsOf(bundleKeys: readonly string[]): string[] {
  return bundleKeys
    .filter((k) => k.endsWith(`/${MARKER_FILE}`))
    .map((k) => k.slice(BUNDLES_PREFIX.length, -(MARKER_FILE.length + 1)))
    .filter((id) => BUNDLE_ID.test(id));
}

/** The ids with a status record (from a listing of bundles/), a claim or an outcome (from one of applied/). */
function appliedIdsOf(bundleKeys: readonly string[], claimKeys: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const k of bundleKeys) {
    const [id, file, ...more] = k.slice(BUNDLES_PREFIX.length).split("/");
    if (file === STATUS_FILE && more.length === 0) ids.add(id);
  }
  for (const k of claimKeys) {
    const [, name, ...more] = k.slice(APPLIED_PREFIX.length).split("/");
    if (name === undefined || more.length > 0) continue;
    const id = name.endsWith(OUTCOME_SUFFIX) ? name.slice(0, -OUTCOME_SUFFIX.length) : name.endsWith(".json") ? name.slice(0, -".json".length) : null;
    if (id) ids.add(id);
  }
  return ids;
}

/** The env a marker's text names; null when it names none or is unreadable. */
function envOfMarker(body: Buffer): string | null {
  try {
    const env = (JSON.parse(body.toString("utf8")) as { env?: unknown }).env;
    return typeof env === "string" ? env : null;
  } catch {
    return null;
  }
}

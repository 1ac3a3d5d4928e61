/**
 * An env's audit log in its store: each record one create-only object `audit/<env>/<seq>.json` (seq
 * zero-padded to 12 digits, so key order is seq order), hash-chained exactly like the local log
 * (scripts/lib/engine/audit.ts: same record, same hash), under the bucket's Object Lock COMPLIANCE
 * default retention, so no role can delete or rewrite a record version.
 *
 * Appending: read the head (the last key), write seq+1 with If-None-Match: *. Two writers racing for
 * the same seq get one winner; the loser reads the new head and retries on it (bounded attempts).
 *
 * Verifying (from any machine): every key 1..n present with exactly one version and no delete marker
 * (an overwrite leaves a second version, a delete a marker: both are reported), each record's hash
 * matches its content and chains to the previous one.
 *
 * From a checkpoint (`verify({ from })`, what a home keeps of its last verdict: seq, hash, and the digest
 * of the version ids of records 1..seq): the listing is read whole as always; when records 1..seq still
 * have exactly the version ids the checkpoint names (an S3 object version never changes, and any
 * overwrite or delete shows in the listing; a bucket without versioning, its ids all "null", gets no
 * digest) and record seq, read, holds the checkpoint's hash, only the records after seq are read,
 * chained from that hash.
 * A checkpoint that does not match the listing, or a verdict from it that is not ok, means a whole
 * verify: the checkpoint can save reads, never cause a refusal or change its wording.
 */
import { sha256 } from "../engine/core/hash";
import { GENESIS_HASH, recordHash, recordSchema, type AuditEntry, type AuditRecord } from "../engine/core/audit-record";
import { StoreError, storeRefusal } from "./errors";
import { KeyExists, StoreBucket } from "./s3";

/** What verify needs of a listed object version. */
interface ObjectVersionLike {
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

export const AUDIT_PREFIX = "audit/";
const SEQ_DIGITS = 12;


/** What a verified log is summed up by: its last seq and hash, and the digest of its records' version ids. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  /** sha256 of "<key> <versionId>\n" for records 1..seq, in seq order. */
  readonly versionsSha256: string;
}

export type S3AuditVerdict =
  | {
      readonly ok: true;
      readonly count: number;
      readonly lastHash: string;
      /** The checkpoint of this verdict (null for an empty log). */
      readonly checkpoint: AuditCheckpoint | null;
    }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

export interface AppendOptions {
  /** Attempts when other writers keep winning the next seq. @default 20 */
  readonly attempts?: number;
  readonly now?: () => Date;
}

const stripUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Records `verify` reads at once. */
const VERIFY_READS = 16;

export class S3AuditLog {
  readonly prefix: string;

  constructor(
    readonly bucket: StoreBucket,
    readonly env: string,
    /** The env's KMS key ARN (records are SSE-KMS like everything in the store). */
    readonly kmsKeyArn: string,
  ) {
    this.prefix = `${AUDIT_PREFIX}${env}/`;
  }

  key(seq: number): string {
    return `${this.prefix}${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
  }

  private seqOf(key: string): number | null {
    const m = new RegExp(`^${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\d{${SEQ_DIGITS}})\\.json$`).exec(key);
    return m ? Number(m[1]) : null;
  }

  private async read(seq: number, versionId?: string): Promise<AuditRecord | null> {
    const got = await this.bucket.get(this.key(seq), versionId);
    if (got === null) return null;
    const parsed = recordSchema.safeParse(JSON.parse(got.body.toString("utf8")));
    if (!parsed.success) throw brokenRefusal(this.env, seq, `not an audit record (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})`);
    return parsed.data;
  }

  /** The last record (null for an empty log); refuses AUDIT-LOG-BROKEN when its hash does not match its content. */
  async head(): Promise<AuditRecord | null> {
    const keys = await this.bucket.listKeys(this.prefix);
    const seqs = keys.map((k) => this.seqOf(k)).filter((s): s is number => s !== null);
    if (seqs.length === 0) return null;
    const last = Math.max(...seqs);
    const rec = await this.read(last);
    if (rec === null) throw new StoreError(`audit head ${this.key(last)} listed but not readable`);
    const { hash, ...rest } = rec;
    if (rec.seq !== last || recordHash(rest) !== hash) throw brokenRefusal(this.env, last, "the last record's hash or seq does not match its content or key");
    return rec;
  }

  /** Appends a record as the next seq; retries on the new head when another writer took that seq. */
  async append(entry: AuditEntry, opts: AppendOptions = {}): Promise<AuditRecord> {
    if (entry.env !== this.env) throw new StoreError(`audit record of ${entry.env} appended to the log of ${this.env}`);
    const attempts = opts.attempts ?? 20;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const head = await this.head();
      const body: Omit<AuditRecord, "hash"> = {
        seq: (head?.seq ?? 0) + 1,
        at: (opts.now?.() ?? new Date()).toISOString(),
        ...stripUndefined(entry),
        prevHash: head?.hash ?? GENESIS_HASH,
      };
      const record: AuditRecord = { ...body, hash: recordHash(body) };
      try {
        await this.bucket.putCreateOnly(this.key(record.seq), `${JSON.stringify(record)}\n`, { kmsKeyArn: this.kmsKeyArn });
        return record;
      } catch (e) {
        if (!(e instanceof KeyExists)) throw e;
        // Another writer took this seq: back off a little (jitter), then build on the new head.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * attempt)));
      }
    }
    throw new StoreError(`audit ${this.env}: could not append after ${attempts} attempts (other writers kept taking the next seq)`);
  }

  /**
   * Verifies the log from the store (any machine with a role that reads it): whole, or (`from`) the
   * records after a checkpoint whose version ids still match the listing (see the file's comment).
   */
  async verify(opts: { readonly from?: AuditCheckpoint | null } = {}): Promise<S3AuditVerdict> {
    const versions = await this.bucket.listVersions(this.prefix);
    const byKey = new Map<string, typeof versions>();
    for (const v of versions) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
    const seqs: number[] = [];
    for (const key of byKey.keys()) {
      const seq = this.seqOf(key);
      if (seq === null) return { ok: false, seq: 0, reason: `${key} is not an audit record key` };
      seqs.push(seq);
    }
    seqs.sort((a, b) => a - b);
    const from = opts.from;
    if (from && Number.isInteger(from.seq) && from.seq >= 1 && this.versionsDigest(byKey, seqs, from.seq) === from.versionsSha256 && (await this.isRecordWithHash(byKey, from.seq, from.hash))) {
      const v = await this.chain(byKey, seqs, from.seq, from.hash);
      if (v.ok) return v;
      // Not ok from the checkpoint: the whole log decides (and names the first broken record).
    }
    return this.chain(byKey, seqs, 0, GENESIS_HASH);
  }

  /** Whether record `seq` (its one listed version) holds `hash` and its content matches it: the checkpoint's own record, read. */
  private async isRecordWithHash(byKey: ReadonlyMap<string, readonly ObjectVersionLike[]>, seq: number, hash: string): Promise<boolean> {
    const vs = byKey.get(this.key(seq)) ?? [];
    if (vs.length !== 1) return false;
    try {
      const rec = await this.read(seq, vs[0].versionId);
      if (rec === null || rec.seq !== seq || rec.env !== this.env || rec.hash !== hash) return false;
      const { hash: own, ...rest } = rec;
      return recordHash(rest) === own;
    } catch {
      return false; // the whole verify reads it again and names what is wrong
    }
  }

  /** The digest of records 1..upTo's keys and version ids; null when one of them is not a single live version. */
  private versionsDigest(byKey: ReadonlyMap<string, readonly ObjectVersionLike[]>, seqs: readonly number[], upTo: number): string | null {
    if (upTo > seqs.length) return null;
    let text = "";
    for (let i = 0; i < upTo; i++) {
      const key = this.key(i + 1);
      const vs = byKey.get(key) ?? [];
      // (a bucket without versioning lists every version as "null": an overwrite would not show, so no digest)
      if (seqs[i] !== i + 1 || vs.length !== 1 || vs[0].deleteMarker || vs[0].versionId === "null") return null;
      text += `${key} ${vs[0].versionId}\n`;
    }
    return sha256(text);
  }

  /** Checks records start+1..n in order, the first chained to `prev` (the hash of record `start`). */
  private async chain(byKey: ReadonlyMap<string, readonly ObjectVersionLike[]>, seqs: readonly number[], start: number, startHash: string): Promise<S3AuditVerdict> {
    // The records are read VERIFY_READS at a time (a log of a year of prod is thousands of objects; one
    // GET after the other made every command wait for all of them), then checked strictly in order: the
    // verdict names the first broken record, as a sequential read would.
    const reads = new Map<number, Promise<AuditRecord | null>>();
    const readAt = (i: number): Promise<AuditRecord | null> | undefined => {
      const seq = seqs[i];
      const vs = seq === undefined ? [] : (byKey.get(this.key(seq)) ?? []);
      if (seq !== i + 1 || vs.length !== 1 || vs[0].deleteMarker) return undefined;
      let p = reads.get(seq);
      if (p === undefined) {
        p = this.read(seq, vs[0].versionId);
        p.catch(() => undefined); // awaited (and reported) in order below
        reads.set(seq, p);
      }
      return p;
    };
    let prev = startHash;
    for (let i = start; i < seqs.length; i++) {
      for (let j = i; j < Math.min(seqs.length, i + VERIFY_READS); j++) readAt(j);
      const seq = seqs[i];
      if (seq !== i + 1) return { ok: false, seq: i + 1, reason: `record ${i + 1} is missing (found ${seq} next)` };
      const vs = byKey.get(this.key(seq)) ?? [];
      if (vs.some((v) => v.deleteMarker)) return { ok: false, seq, reason: "the record was deleted (a delete marker hides it; the locked version is still there)" };
      if (vs.length !== 1) return { ok: false, seq, reason: `the record has ${vs.length} versions (it was overwritten)` };
      let rec: AuditRecord | null;
      try {
        rec = await readAt(i)!;
      } catch (e) {
        return { ok: false, seq, reason: (e as Error).message };
      } finally {
        reads.delete(seq);
      }
      if (rec === null) return { ok: false, seq, reason: "the record is not readable" };
      if (rec.seq !== seq) return { ok: false, seq, reason: `its key says seq ${seq}, its content ${rec.seq}` };
      if (rec.env !== this.env) return { ok: false, seq, reason: `a record of ${rec.env} in the log of ${this.env}` };
      if (rec.prevHash !== prev) return { ok: false, seq, reason: `prevHash ${rec.prevHash} is not the previous record's hash ${prev}` };
      const { hash, ...rest } = rec;
      const computed = recordHash(rest);
      if (computed !== hash) return { ok: false, seq, reason: `hash ${hash} does not match the record's content (${computed}): it was edited` };
      prev = hash;
    }
    const digest = seqs.length === 0 ? null : this.versionsDigest(byKey, seqs, seqs.length);
    return { ok: true, count: seqs.length, lastHash: prev, checkpoint: digest === null ? null : { seq: seqs.length, hash: prev, versionsSha256: digest } };
  }

  /** Every record, in seq order (their latest versions; use verify to know they can be trusted). */
  async records(): Promise<AuditRecord[]> {
    const keys = await this.bucket.listKeys(this.prefix);
    const out: AuditRecord[] = [];
    for (const k of keys) {
      const seq = this.seqOf(k);
      if (seq === null) continue;
      const r = await this.read(seq);
      if (r !== null) out.push(r);
    }
    return out;
  }
}

function brokenRefusal(env: string, seq: number, reason: string) {
  return storeRefusal("AUDIT-LOG-BROKEN", env, `an intact audit log in the store of ${env}`, `record ${seq}: ${reason}`);
}


/**
 * The audit log: one append-only JSON-lines file per environment, hash-chained. Each record carries
 * the previous record's hash and its own (SHA-256 of its canonical JSON without `hash`); a head file
 * beside the log holds the last seq and hash, so a removed last line is detected too. A command
 * verifies the whole log before appending and refuses (AUDIT-LOG-BROKEN) to extend a broken one.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { RefusalError, refusal } from "../core/errors";
import { SHA256_PATTERN } from "../core/hash";
import { withLock } from "./lock";
import { fixFor } from "../core/rules";

export { GENESIS_HASH, recordHash, recordSchema, type AuditEntry, type AuditRecord } from "../core/audit-record";
import { GENESIS_HASH, recordHash, recordSchema, type AuditEntry, type AuditRecord } from "../core/audit-record";


const headSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string().regex(SHA256_PATTERN) }).strict();

export type AuditVerdict =
  | { readonly ok: true; readonly count: number; readonly lastHash: string }
  | { readonly ok: false; readonly line: number; readonly reason: string };


/** Verifies a log's text (and its head file's text, null when absent). Pure. */
export function verifyAuditText(logText: string | null, headText: string | null): AuditVerdict {
  const lines = logText === null || logText === "" ? [] : logText.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] !== "") return { ok: false, line: lines.length, reason: "the last line is not terminated (a partial write or an edit)" };
  if (lines.length > 0) lines.pop();
  let prev = GENESIS_HASH;
  for (let i = 0; i < lines.length; i++) {
    let json: unknown;
    try {
      json = JSON.parse(lines[i]);
    } catch {
      return { ok: false, line: i + 1, reason: "not JSON" };
    }
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success) return { ok: false, line: i + 1, reason: `not an audit record (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})` };
    const rec = parsed.data;
    if (rec.seq !== i + 1) return { ok: false, line: i + 1, reason: `seq ${rec.seq}, expected ${i + 1} (a line removed or reordered)` };
    if (rec.prevHash !== prev) return { ok: false, line: i + 1, reason: `prevHash ${rec.prevHash} is not the previous record's hash ${prev}` };
    const { hash, ...rest } = rec;
    const computed = recordHash(rest);
    if (computed !== hash) return { ok: false, line: i + 1, reason: `hash ${hash} does not match the record's content (${computed}): the line was edited` };
    prev = hash;
  }
  if (headText === null) {
    return lines.length === 0 ? { ok: true, count: 0, lastHash: prev } : { ok: false, line: lines.length, reason: "the head file is missing" };
  }
  let head: z.infer<typeof headSchema>;
  try {
    head = headSchema.parse(JSON.parse(headText));
  } catch {
    return { ok: false, line: lines.length, reason: "the head file is unreadable" };
  }
  if (head.seq !== lines.length || head.hash !== prev) {
    return { ok: false, line: lines.length, reason: `the head file records ${head.seq} records ending in ${head.hash}; the log has ${lines.length} ending in ${prev} (records removed from the end?)` };
  }
  return { ok: true, count: lines.length, lastHash: prev };
}

/** One environment's audit log on disk. */
export class AuditLog {
  readonly headPath: string;
  constructor(readonly path: string, readonly env: string) {
    this.headPath = `${path}.head`;
  }

  verify(): AuditVerdict {
    const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : null);
    return verifyAuditText(read(this.path), read(this.headPath));
  }

  /** The refusal a command stops with when the log is broken, or null. */
  brokenRefusal() {
    const v = this.verify();
    return v.ok ? null : this.refusalOf(v);
  }

  /** The AUDIT-LOG-BROKEN refusal of a verdict that is not ok. */
  refusalOf(v: AuditVerdict & { ok: false }) {
    return refusal("AUDIT-LOG-BROKEN", `an intact audit log ${this.path}`, `line ${v.line}: ${v.reason}`, fixFor("AUDIT-LOG-BROKEN", this.env));
  }

  /** Appends a record, under a short lock; refuses (RefusalError AUDIT-LOG-BROKEN) on a broken log. */
  async append(entry: AuditEntry, now: Date = new Date()): Promise<AuditRecord> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    return withLock(`${this.path}.lock`, { command: "audit append", waitMs: 10_000, pollMs: 25 }, () => {
      const v = this.verify();
      if (!v.ok) throw new RefusalError(this.refusalOf(v));
      const body: Omit<AuditRecord, "hash"> = { seq: v.count + 1, at: now.toISOString(), ...stripUndefined(entry), prevHash: v.lastHash };
      const record: AuditRecord = { ...body, hash: recordHash(body) };
      appendFileSync(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      const tmp = `${this.headPath}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ seq: record.seq, hash: record.hash }), { mode: 0o600 });
      renameSync(tmp, this.headPath);
      return record;
    });
  }

  records(): AuditRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as AuditRecord);
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

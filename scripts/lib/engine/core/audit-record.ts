/**
 * One audit record's shape and hash: the same in the local log (io/audit.ts) and in the env's S3 store
 * (scripts/lib/store/audit-log.ts). Pure: both stores build on it, neither on the other.
 */
import { z } from "zod";
import { canonicalJson, sha256, SHA256_PATTERN } from "./hash";

export const GENESIS_HASH = "0".repeat(64);

/** What a command records. */
export interface AuditEntry {
  readonly env: string;
  /** plan, approve, apply, apply --auto, review... */
  readonly command: string;
  /**
   * ok, refused, error: how a command ended. started: an intent recorded before a change begins (an
   * apply), so a crash leaves a trace; incident: something that must never happen did (the applied plan
   * bytes changed).
   */
  readonly result: "ok" | "refused" | "error" | "started" | "incident";
  readonly by: string;
  /** The refusal id, when result is refused. */
  readonly refusalId?: string;
  readonly commit?: string;
  readonly bundleId?: string;
  readonly planSha256?: string;
  readonly approver?: string;
  /** One line: what happened (never a secret value). */
  readonly detail?: string;
}

/** One audit record, the same in the local log and in the env's S3 store (scripts/lib/store/audit-log.ts). */
export const recordSchema = z
  .object({
    seq: z.number().int().positive(),
    at: z.string(),
    env: z.string(),
    command: z.string(),
    result: z.enum(["ok", "refused", "error", "started", "incident"]),
    by: z.string(),
    refusalId: z.string().optional(),
    commit: z.string().optional(),
    bundleId: z.string().optional(),
    planSha256: z.string().optional(),
    approver: z.string().optional(),
    detail: z.string().optional(),
    prevHash: z.string().regex(SHA256_PATTERN),
    hash: z.string().regex(SHA256_PATTERN),
  })
  .strict();

export type AuditRecord = z.infer<typeof recordSchema>;

export function recordHash(record: Omit<AuditRecord, "hash">): string {
  return sha256(canonicalJson(record));
}

/**
 * The files of a plan bundle, each read through a zod schema: a malformed file is a named refusal
 * (BUNDLE-MANIFEST-INVALID, APPROVAL-INVALID), never a crash or a half-read value.
 *
 *   plans/<env>/<id>/plan.tfplan    the saved plan, mode 0600 (holds state and secret values)
 *   plans/<env>/<id>/manifest.json  ManifestSchema
 *   plans/<env>/<id>/summary.txt    the redacted human summary
 *   plans/<env>/<id>/policy.json    PolicyFileSchema: the policy findings on the plan (hash in the manifest)
 *   plans/<env>/<id>/approval.json  ApprovalSchema (written by `promote approve`)
 *   plans/<env>/<id>/applied.json   AppliedSchema (written by `promote apply`, before and after terraform)
 */
import { z } from "zod";
import { SHA256_PATTERN } from "./hash";

const sha = z.string().regex(SHA256_PATTERN, "a lower-case hex SHA-256");
const isoDate = z.string().datetime({ offset: true });
const commit = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full git commit id");

export const MANIFEST_SCHEMA_VERSION = 1;

export const destructiveChangeSchema = z
  .object({
    address: z.string().min(1),
    type: z.string().min(1),
    /** delete, replace or forget. */
    action: z.enum(["delete", "replace", "forget"]),
    /** The resource holds data (database, cache, bucket, table, secret...). */
    stateful: z.boolean(),
  })
  .strict();

export const manifestSchema = z
  .object({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    /** The bundle's id: its folder name under plans/<env>/. */
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
    env: z.string().min(1),
    stack: z.string().min(1),
    git: z.object({ commit, dirty: z.boolean() }).strict(),
    synth: z.object({ file: z.string().min(1), sha256: sha }).strict(),
    plan: z.object({ file: z.literal("plan.tfplan"), sha256: sha, bytes: z.number().int().nonnegative() }).strict(),
    lockFile: z.object({ sha256: sha.nullable() }).strict(),
    terraform: z
      .object({ binary: z.string().min(1), version: z.string().min(1), providers: z.record(z.string(), z.string()) })
      .strict(),
    backend: z
      .object({
        type: z.string().min(1),
        bucket: z.string().nullable(),
        key: z.string().nullable(),
        lockTable: z.string().nullable(),
        region: z.string().nullable(),
      })
      .strict(),
    account: z.string().regex(/^\d{12}$/),
    priorState: z.object({ serial: z.number().int().nonnegative(), lineage: z.string().min(1) }).strict().nullable(),
    counts: z
      .object({
        add: z.number().int().nonnegative(),
        change: z.number().int().nonnegative(),
        destroy: z.number().int().nonnegative(),
        replace: z.number().int().nonnegative(),
      })
      .strict(),
    destructive: z.array(destructiveChangeSchema),
    summarySha256: sha,
    createdAt: isoDate,
    expiresAt: isoDate,
    createdBy: z.string().min(1),
    /**
     * The planner's e-mail (PROMOTE_USER_EMAIL, else git config user.email), null when none: four eyes
     * compares signers with it too. Absent in bundles planned before signed approvals.
     */
    createdByEmail: z.string().min(1).max(254).nullable().optional(),
    /**
     * approversDigest() of the env's approvals config at plan time (core/approval-checks.ts): apply
     * refuses when the config it reads now differs (APPROVERS-CHANGED). The signed manifest SHA-256
     * binds it. Absent in bundles planned before signed approvals (refused: plan again).
     */
    approversSha256: sha.optional(),
    /** Made by `promote apply <env> --auto`. */
    auto: z.boolean(),
    /** The policy findings file (policy.json): its hash and counts. Bound by the approval like the summary. */
    policy: z
      .object({
        file: z.literal("policy.json"),
        sha256: sha,
        errors: z.number().int().nonnegative(),
        warnings: z.number().int().nonnegative(),
        waived: z.number().int().nonnegative(),
      })
      .strict(),
    /** Made by `promote plan <env> --speculative` (a pull request's preview): never approved, never applied. */
    speculative: z.boolean(),
    /** Made by `promote rollback <env> --to <tag>`: the code planned is that release's, not the checkout's. */
    rollback: z
      .object({
        /** The ledger tag rolled back to (deployed/<env>/<stamp>). */
        toTag: z.string().min(1),
        /** Its commit: equal to git.commit, the code that was synthesized and planned. */
        toCommit: commit,
        /** The commit the env ran before (its last ledger entry), null when none. */
        fromCommit: commit.nullable(),
      })
      .strict()
      .nullable(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type DestructiveChange = z.infer<typeof destructiveChangeSchema>;

export const approvalSchema = z
  .object({
    schemaVersion: z.literal(1),
    env: z.string().min(1),
    bundleId: z.string().min(1),
    /** The plan file's SHA-256 the approver read in `promote review`. */
    planSha256: sha,
    /** The SHA-256 of manifest.json's bytes when approved. */
    manifestSha256: sha,
    approvedBy: z.string().min(1),
    approvedAt: isoDate,
    comment: z.string().nullable(),
  })
  .strict();

export type Approval = z.infer<typeof approvalSchema>;

export const appliedSchema = z
  .object({
    schemaVersion: z.literal(1),
    /**
     * started: terraform apply was launched (a crash leaves this); then succeeded or failed.
     * interrupted: the engine died or was interrupted while terraform applied (`promote complete` records
     * it); incident: the plan bytes terraform was given changed while it ran (APPLY-INCIDENT).
     */
    status: z.enum(["started", "succeeded", "failed", "interrupted", "incident"]),
    planSha256: sha,
    appliedBy: z.string().min(1),
    startedAt: isoDate,
    finishedAt: isoDate.nullable(),
    stateAfter: z.object({ serial: z.number().int(), lineage: z.string() }).strict().nullable(),
    ledgerTag: z.string().nullable(),
  })
  .strict();

export type Applied = z.infer<typeof appliedSchema>;

const findingSchema = z
  .object({
    id: z.string().min(1),
    level: z.enum(["error", "warning"]),
    address: z.string(),
    attribute: z.string(),
    expected: z.string(),
    found: z.string(),
    info: z.string(),
    fix: z.string(),
    waived: z.object({ reason: z.string() }).strict().optional(),
  })
  .strict();

export const policyFileSchema = z
  .object({
    schemaVersion: z.literal(1),
    env: z.string().min(1),
    /** Exceptions file read (relative to the checkout), or null when there was none. */
    exceptionsFile: z.string().nullable(),
    findings: z.array(findingSchema),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;

/** Parses JSON text through a schema: the value, or a one-line reason. */
export function parseWith<T>(schema: z.ZodType<T>, text: string): { ok: true; value: T } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, reason: issues.join("; ") };
  }
  return { ok: true, value: parsed.data };
}

/**
 * The approval statement: the exact text an approver signs, and the signed-approval record stored next
 * to the bundle. Pure: building, rendering and parsing text.
 *
 * The statement is line-based text, not JSON, so what is printed before signing is byte for byte what
 * is signed, readable in a terminal:
 *
 *   envs-promotion approval statement v1
 *   env: prod
 *   account: 333333333333
 *   bundle: 20261201T120000Z-abc123
 *   plan-sha256: <64 hex>
 *   manifest-sha256: <64 hex>
 *   commit: <40 hex>
 *   approver: alice@example.com
 *   signed-at: 2026-12-01T12:05:00.000Z
 *   not-after: 2026-12-02T12:00:00.000Z
 *
 * Canonical: fixed field order, LF line ends, one trailing LF, every value matched by a strict pattern
 * (no spaces, no newlines: a value cannot smuggle in a second line) and times in the one form
 * `Date.toISOString()` writes. Parsing re-renders the parsed fields and requires the same bytes, so two
 * different texts never parse to the same statement.
 */
import { z } from "zod";
import { PRINCIPAL_PATTERN } from "./identity";

/** The SSHSIG namespace of approvals: a signature made for git ("git") or files ("file") never verifies as an approval. */
export const APPROVAL_NAMESPACE = "approval@envs-promotion";
export const STATEMENT_HEADER = "envs-promotion approval statement v1";
export const SIGNED_APPROVAL_SCHEMA_VERSION = 2;

export interface ApprovalStatement {
  readonly env: string;
  readonly account: string;
  readonly bundleId: string;
  readonly planSha256: string;
  readonly manifestSha256: string;
  readonly commit: string;
  /** The approver's principal, as the env's approver list names it. */
  readonly approver: string;
  /** ISO time the approver signed (their clock; bounded by the checks). */
  readonly signedAt: string;
  /** ISO time after which the approval is void (no later than the bundle's expiry). */
  readonly notAfter: string;
}

const isoTime = (v: string) => !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;

/** Each line: its label, the field, and the value's form. */
const FIELDS: ReadonlyArray<{ label: string; field: keyof ApprovalStatement; valid: (v: string) => boolean; form: string }> = [
  { label: "env", field: "env", valid: (v) => /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/.test(v), form: "an environment name" },
  { label: "account", field: "account", valid: (v) => /^\d{12}$/.test(v), form: "a 12-digit AWS account id" },
  { label: "bundle", field: "bundleId", valid: (v) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v), form: "a bundle id" },
  { label: "plan-sha256", field: "planSha256", valid: (v) => /^[0-9a-f]{64}$/.test(v), form: "a lower-case hex SHA-256" },
  { label: "manifest-sha256", field: "manifestSha256", valid: (v) => /^[0-9a-f]{64}$/.test(v), form: "a lower-case hex SHA-256" },
  { label: "commit", field: "commit", valid: (v) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(v), form: "a full git commit id" },
  { label: "approver", field: "approver", valid: (v) => PRINCIPAL_PATTERN.test(v), form: "a lower-case e-mail address" },
  { label: "signed-at", field: "signedAt", valid: isoTime, form: "an ISO time such as 2026-12-01T12:00:00.000Z" },
  { label: "not-after", field: "notAfter", valid: isoTime, form: "an ISO time such as 2026-12-01T12:00:00.000Z" },
];

export type Built<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Validates every field; the statement, or every problem ("approver must be ..., but ... was provided"). */
export function buildStatement(input: ApprovalStatement): Built<ApprovalStatement> {
  const problems: string[] = [];
  for (const f of FIELDS) {
    const v = (input as unknown as Record<string, unknown>)[f.field];
    if (typeof v !== "string" || !f.valid(v)) problems.push(`${f.label} must be ${f.form}, but ${JSON.stringify(v)} was provided`);
  }
  // The order of signed-at and not-after is the checks' business (APPROVAL-EXPIRED), not the format's.
  if (problems.length > 0) return { ok: false, reason: problems.join("; ") };
  const value = Object.fromEntries(FIELDS.map((f) => [f.field, input[f.field]])) as unknown as ApprovalStatement;
  return { ok: true, value };
}

/** The canonical text of a statement (what is signed). Throws when a field is malformed. */
export function renderStatement(statement: ApprovalStatement): string {
  const built = buildStatement(statement);
  if (!built.ok) throw new Error(`invalid approval statement: ${built.reason}`);
  return [STATEMENT_HEADER, ...FIELDS.map((f) => `${f.label}: ${built.value[f.field]}`)].join("\n") + "\n";
}

/** Parses statement text; only canonical text (what renderStatement writes) is accepted. */
export function parseStatement(text: string): Built<ApprovalStatement> {
  if (typeof text !== "string" || text.length > 2048) return { ok: false, reason: "statement text of at most 2048 characters" };
  const lines = text.split("\n");
  if (lines[lines.length - 1] !== "") return { ok: false, reason: "a statement ending in one newline" };
  lines.pop();
  if (lines[0] !== STATEMENT_HEADER) return { ok: false, reason: `a statement starting with "${STATEMENT_HEADER}", but ${JSON.stringify(lines[0] ?? "")}` };
  if (lines.length !== FIELDS.length + 1) return { ok: false, reason: `${FIELDS.length} field lines, but ${lines.length - 1}` };
  const values: Record<string, string> = {};
  for (let i = 0; i < FIELDS.length; i++) {
    const prefix = `${FIELDS[i].label}: `;
    const line = lines[i + 1];
    if (!line.startsWith(prefix)) return { ok: false, reason: `line ${i + 2} to be "${prefix}<value>", but ${JSON.stringify(line.slice(0, 80))}` };
    values[FIELDS[i].field] = line.slice(prefix.length);
  }
  const built = buildStatement(values as unknown as ApprovalStatement);
  if (!built.ok) return built;
  if (renderStatement(built.value) !== text) return { ok: false, reason: "canonical statement text" };
  return built;
}

/**
 * The signed approval as stored (one file per approver and bundle): the statement text exactly as
 * signed and the armored SSHSIG over it. Everything that counts is inside the signed statement; the
 * record has no unsigned fields that could be edited to mean something else.
 */
export const signedApprovalSchema = z
  .object({
    schemaVersion: z.literal(SIGNED_APPROVAL_SCHEMA_VERSION),
    statement: z.string().min(1).max(2048),
    signature: z.string().min(1).max(4096),
  })
  .strict();

export type SignedApproval = z.infer<typeof signedApprovalSchema>;

/** The record's JSON text (what is written to the store). */
export function formatSignedApproval(statementText: string, armoredSignature: string): string {
  const record: SignedApproval = { schemaVersion: SIGNED_APPROVAL_SCHEMA_VERSION, statement: statementText, signature: armoredSignature };
  return JSON.stringify(record, null, 2) + "\n";
}

/**
 * The file name of one approver's signed approval: a principal (a lower-case e-mail, no path separator)
 * + `.approval.json`. The one pattern the engine's bundle store and the S3 store both check names against.
 */
export const SIGNED_APPROVAL_FILE = /^[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9.-]{1,253}\.approval\.json$/;

/** Whether a candidate for the file name of one approver's approval is safe (`<principal>.approval.json`). */
export function approvalFileName(principal: string): `${string}.approval.json` {
  if (!PRINCIPAL_PATTERN.test(principal)) throw new Error(`an approver principal is a lower-case e-mail address, but ${JSON.stringify(principal)} was provided`);
  return `${principal}.approval.json`;
}

/**
 * The default not-after: the bundle's expiry, or `validForHours` from now when that is earlier. An
 * approval never outlives the bundle it approves.
 */
export function defaultNotAfter(bundleExpiresAt: string, now: Date, validForHours?: number): string {
  const bundle = Date.parse(bundleExpiresAt);
  const asked = validForHours === undefined ? bundle : now.getTime() + validForHours * 3_600_000;
  return new Date(Math.min(bundle, asked)).toISOString();
}

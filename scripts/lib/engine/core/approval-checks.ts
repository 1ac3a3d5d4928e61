/**
 * The checks of signed approvals: pure functions of facts the command layer gathered (the env's
 * approver config from the bundle's commit, the bundle's identity, the commit's author, the approval
 * records' texts, the time). No I/O: signatures are verified in-process (envs/ssh-keys.ts).
 *
 * Results have the engine's refusal shape (`{ ok: false, id, expected, found, fix }`), the first
 * failure wins, and a check that throws is a refusal (fail closed). Every approval record present must
 * verify: one forged or copied record refuses the apply even when enough good ones exist beside it
 * (someone tried something; that is investigated, not outvoted).
 *
 * Order: APPROVERS-CHANGED (the approver list is the one planned with), then for each record in the order given: APPROVAL-UNSIGNED / APPROVAL-INVALID (the record),
 * APPROVAL-SIGNATURE-INVALID (the armor), APPROVAL-INVALID (the statement), APPROVAL-IDENTITY-INVALID,
 * APPROVER-NOT-ALLOWED, APPROVAL-SIGNATURE-INVALID (the signature), APPROVAL-STATEMENT-MISMATCH,
 * APPROVAL-EXPIRED, FOUR-EYES; then APPROVALS-TOO-FEW over the distinct approvers.
 */
import { createHash } from "node:crypto";
import type { EnvConfig } from "../../../../envs/schema";
import { approvalFixFor, type ApprovalCheckId } from "./approval-rules";
import { APPROVAL_NAMESPACE, buildStatement, defaultNotAfter, parseStatement, signedApprovalSchema, type ApprovalStatement, type Built } from "./approval-statement";
import { identityProblem, normalizeName, sharedIdentity } from "./identity";
import { fingerprint, parseSshPublicKey, parseSshSignature, verifySshSignature } from "../../../../envs/ssh-keys";

export type ApprovalsConfig = EnvConfig["delivery"]["approvals"];
export type Approver = ApprovalsConfig["approvers"][number];

/** How far an approver's clock may run ahead of the applying machine's. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The bundle an approval must be about, as the manifest records it. */
export interface ApprovalBundle {
  readonly env: string;
  readonly account: string;
  readonly id: string;
  readonly planSha256: string;
  /** SHA-256 of manifest.json's bytes. */
  readonly manifestSha256: string;
  readonly commit: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Who planned: the manifest's createdBy, plus the planner's e-mail when the manifest records one. */
  readonly plannedBy: readonly string[];
  /**
   * approversDigest() of the env's approvals config when the bundle was planned (recorded in the
   * manifest, so the signed manifest SHA-256 binds it); null when the manifest records none (refused).
   */
  readonly approversSha256: string | null;
}

export interface SignedApprovalFacts {
  readonly env: {
    readonly name: string;
    readonly accountId: string;
    readonly fourEyes: boolean;
    /** delivery.approvals of the env's config AT THE BUNDLE'S COMMIT (the reviewed list). */
    readonly approvals: ApprovalsConfig;
  };
  readonly bundle: ApprovalBundle;
  /** The bundle commit's author (git's %an / %ae); null only where no commit can be read (refused when four eyes applies). */
  readonly commitAuthor: { readonly name: string; readonly email: string } | null;
  /** Every approval record of the bundle: where it came from (for messages) and its text. */
  readonly approvals: ReadonlyArray<{ readonly source: string; readonly text: string }>;
  readonly now: Date;
}

export type ApprovalRefusal = { readonly ok: false; readonly id: ApprovalCheckId; readonly expected: string; readonly found: string; readonly fix: string };
export type ApprovalDecision = { readonly ok: true; readonly approvers: readonly string[]; readonly required: boolean } | ApprovalRefusal;

class Refused extends Error {
  constructor(readonly id: ApprovalCheckId, readonly expected: string, readonly found: string) {
    super(`${id}: expected ${expected}, found ${found}`);
  }
}
const refuse = (id: ApprovalCheckId, expected: string, found: string): never => {
  throw new Refused(id, expected, found);
};

/**
 * A digest of an approvals config: requirement, count, and each approver's principal, key (without its
 * comment) and name, in principal order. Recorded at plan time, compared at apply: an approver list
 * edited in the working tree after the plan (committed or not) does not match.
 */
export function approversDigest(approvals: ApprovalsConfig): string {
  const approvers = [...approvals.approvers]
    .sort((a, b) => (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0))
    .map((a) => {
      const k = parseSshPublicKey(a.publicKey);
      return [a.principal, k.ok ? k.value.line : a.publicKey, a.name ?? null];
    });
  return createHash("sha256").update(JSON.stringify(["approvals-v1", approvals.requireSigned, approvals.minApprovers, approvers])).digest("hex");
}

/** The approver list applied against is the one the bundle was planned (and so approved) with. */
function checkApproversUnchanged(facts: SignedApprovalFacts): void {
  const now = approversDigest(facts.env.approvals);
  if (facts.bundle.approversSha256 !== now) {
    refuse("APPROVERS-CHANGED", `the approver list the bundle was planned with (approvers SHA-256 ${facts.bundle.approversSha256 ?? "(not recorded)"})`,
      `the approver list now: SHA-256 ${now} (${facts.env.approvals.approvers.map((a) => a.principal).join(", ") || "none"}, ${facts.env.approvals.minApprovers} required)`);
  }
}

/** The listed approver with this principal (principals in config are already normalized). */
function approverFor(approvals: ApprovalsConfig, principal: string): Approver | undefined {
  const p = normalizeName(principal);
  return approvals.approvers.find((a) => a.principal === p);
}

function describeKey(line: string): string {
  const k = parseSshPublicKey(line);
  return k.ok ? fingerprint(k.value) : "an unreadable key";
}

/** The identities of a signer four eyes compares: the principal and, when the list gives one, the approver's name. */
function signerIdentities(approver: Approver): string[] {
  return approver.name === undefined ? [approver.principal] : [approver.principal, approver.name];
}

/** The identities of the authors: who planned, and the commit's author (name and e-mail). */
function authorIdentities(facts: SignedApprovalFacts): string[] {
  const out = [...facts.bundle.plannedBy];
  if (facts.commitAuthor !== null) out.push(facts.commitAuthor.name, facts.commitAuthor.email);
  return out;
}

function checkIdentities(names: readonly string[], what: string): void {
  for (const n of names) {
    const problem = identityProblem(n);
    if (problem !== null) refuse("APPROVAL-IDENTITY-INVALID", `${what} as a visible name of at most 254 characters`, `${JSON.stringify(n.slice(0, 80))}: ${problem}`);
  }
}

/** Four eyes: no signer is the plan's or the commit's author (normalized names and e-mail forms). */
function checkFourEyes(facts: SignedApprovalFacts, approver: Approver, source: string): void {
  if (!facts.env.fourEyes) return;
  if (facts.commitAuthor === null) refuse("FOUR-EYES", `the author of commit ${facts.bundle.commit}`, "no commit author (the commit could not be read)");
  const authors = authorIdentities(facts);
  checkIdentities(authors, "the plan's and the commit's author");
  const same = sharedIdentity(signerIdentities(approver), authors);
  if (same !== null) {
    refuse("FOUR-EYES", `an approver other than the plan's author (${facts.bundle.plannedBy.join(", ")}) and the commit's author (${facts.commitAuthor!.name} <${facts.commitAuthor!.email}>)`,
      `${source}: signed by ${approver.principal}, who is ${JSON.stringify(same.b)} (both "${same.key}" once normalized)`);
  }
}

/** The statement's binding to the bundle, field by field. */
function checkStatementMatches(s: ApprovalStatement, facts: SignedApprovalFacts, source: string): void {
  const b = facts.bundle;
  const pairs: Array<[string, string, string]> = [
    ["env", facts.env.name, s.env],
    ["account", facts.env.accountId, s.account],
    ["bundle", b.id, s.bundleId],
    ["plan-sha256", b.planSha256, s.planSha256],
    ["manifest-sha256", b.manifestSha256, s.manifestSha256],
    ["commit", b.commit, s.commit],
  ];
  if (b.env !== facts.env.name || b.account !== facts.env.accountId) {
    refuse("APPROVAL-STATEMENT-MISMATCH", `a bundle of env ${facts.env.name} in account ${facts.env.accountId}`, `bundle of ${b.env} in ${b.account}`);
  }
  for (const [label, want, got] of pairs) {
    if (want !== got) refuse("APPROVAL-STATEMENT-MISMATCH", `${label} ${want} (this bundle, ${facts.env.name}/${b.id})`, `${source}: a statement with ${label} ${got}`);
  }
  if (Date.parse(s.notAfter) > Date.parse(b.expiresAt)) {
    refuse("APPROVAL-STATEMENT-MISMATCH", `not-after no later than the bundle's expiry ${b.expiresAt}`, `${source}: not-after ${s.notAfter}`);
  }
  if (Date.parse(s.signedAt) < Date.parse(b.createdAt) - CLOCK_SKEW_MS) {
    refuse("APPROVAL-STATEMENT-MISMATCH", `signed-at after the bundle was planned (${b.createdAt})`, `${source}: signed-at ${s.signedAt}`);
  }
}

function checkValidity(s: ApprovalStatement, now: Date, source: string): void {
  const signed = Date.parse(s.signedAt);
  const notAfter = Date.parse(s.notAfter);
  if (signed >= notAfter) refuse("APPROVAL-EXPIRED", `signed-at before not-after ${s.notAfter}`, `${source}: signed at ${s.signedAt}`);
  if (now.getTime() >= notAfter) refuse("APPROVAL-EXPIRED", `now (${now.toISOString()}) before not-after ${s.notAfter}`, `${source}: expired at ${s.notAfter}`);
  if (signed > now.getTime() + CLOCK_SKEW_MS) {
    refuse("APPROVAL-EXPIRED", `signed-at no later than now (${now.toISOString()}, ${CLOCK_SKEW_MS / 60_000} min of clock skew allowed)`, `${source}: signed at ${s.signedAt}`);
  }
}

/** One record: verified and bound to this bundle; returns its approver. */
function checkOne(facts: SignedApprovalFacts, source: string, text: string): Approver {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return refuse("APPROVAL-INVALID", "a signed approval record (JSON)", `${source}: not JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json) || typeof (json as { signature?: unknown }).signature !== "string") {
    const fields = json !== null && typeof json === "object" ? Object.keys(json).slice(0, 8).join(", ") : typeof json;
    return refuse("APPROVAL-UNSIGNED", `a signed approval (statement and SSH signature, env "${facts.env.name}" requires one)`, `${source}: an approval without a signature (${fields})`);
  }
  const record = signedApprovalSchema.safeParse(json);
  if (!record.success) {
    const why = record.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    return refuse("APPROVAL-INVALID", "a signed approval record { schemaVersion: 2, statement, signature }", `${source}: ${why}`);
  }
  const sig = parseSshSignature(record.data.signature);
  if (!sig.ok) return refuse("APPROVAL-SIGNATURE-INVALID", "an armored SSH signature (ssh-keygen -Y sign) by an ssh-ed25519 key", `${source}: ${sig.reason}`);
  const statement = parseStatement(record.data.statement);
  if (!statement.ok) return refuse("APPROVAL-INVALID", "an approval statement in the v1 canonical form", `${source}: ${statement.reason}`);
  const s = statement.value;
  checkIdentities([s.approver], "the signer's principal");
  const approver = approverFor(facts.env.approvals, s.approver);
  const signedBy = fingerprint(sig.value.publicKey);
  const listed = facts.env.approvals.approvers.map((a) => a.principal).join(", ") || "(none)";
  if (approver === undefined) {
    return refuse("APPROVER-NOT-ALLOWED", `an approver of env "${facts.env.name}" (${listed})`, `${source}: approver ${s.approver}, not in the list (key ${signedBy})`);
  }
  const key = parseSshPublicKey(approver.publicKey);
  if (!key.ok) return refuse("APPROVER-NOT-ALLOWED", `a readable key for ${approver.principal} in the approver list`, key.reason);
  if (!sig.value.publicKey.raw.equals(key.value.raw)) {
    const holder = facts.env.approvals.approvers.find((a) => { const k = parseSshPublicKey(a.publicKey); return k.ok && k.value.raw.equals(sig.value.publicKey.raw); });
    return refuse("APPROVER-NOT-ALLOWED", `a signature by ${approver.principal}'s listed key ${fingerprint(key.value)}`,
      `${source}: signed with key ${signedBy}${holder ? `, which the list names for ${holder.principal}` : ", which the list does not name"}`);
  }
  if (sig.value.namespace !== APPROVAL_NAMESPACE) {
    return refuse("APPROVAL-SIGNATURE-INVALID", `a signature in namespace "${APPROVAL_NAMESPACE}"`, `${source}: namespace ${JSON.stringify(sig.value.namespace)}`);
  }
  if (!verifySshSignature(sig.value, key.value, APPROVAL_NAMESPACE, record.data.statement)) {
    return refuse("APPROVAL-SIGNATURE-INVALID", `a valid signature by ${approver.principal} (${fingerprint(key.value)}) over the statement`, `${source}: the signature does not verify (the statement was changed after signing, or signed over other bytes)`);
  }
  checkStatementMatches(s, facts, source);
  checkValidity(s, facts.now, source);
  checkFourEyes(facts, approver, source);
  return approver;
}

/**
 * May this bundle be applied as far as signed approvals go? The approvals config is the one planned
 * with (every env); not required (dev): ok. Required: every
 * record verifies and at least minApprovers distinct listed approvers signed.
 */
export function decideSignedApprovals(facts: SignedApprovalFacts): ApprovalDecision {
  const cfg = facts.env.approvals;
  try {
    // Checked for every env, before the requirement is read: flipping requireSigned to false in the
    // working tree is itself a change of the approver config.
    checkApproversUnchanged(facts);
    if (!cfg.requireSigned) return { ok: true, approvers: [], required: false };
    const distinct = new Set<string>();
    for (const a of facts.approvals) distinct.add(checkOne(facts, a.source, a.text).principal);
    if (distinct.size < cfg.minApprovers) {
      refuse("APPROVALS-TOO-FEW", `${cfg.minApprovers} distinct approver(s) of env "${facts.env.name}" (${cfg.approvers.map((a) => a.principal).join(", ")})`,
        distinct.size === 0 ? "no signed approval" : `${distinct.size}: ${[...distinct].join(", ")}`);
    }
    return { ok: true, approvers: [...distinct].sort(), required: true };
  } catch (e) {
    return asRefusal(e, facts);
  }
}

/**
 * The statement `promote approve` prints and signs for this bundle: the bundle's identity, the signer's
 * principal, now, and a not-after no later than the bundle's expiry (`validForHours` shortens it).
 */
export function statementFor(bundle: ApprovalBundle, principal: string, now: Date, validForHours?: number): Built<ApprovalStatement> {
  return buildStatement({
    env: bundle.env,
    account: bundle.account,
    bundleId: bundle.id,
    planSha256: bundle.planSha256,
    manifestSha256: bundle.manifestSha256,
    commit: bundle.commit,
    approver: normalizeName(principal),
    signedAt: now.toISOString(),
    notAfter: defaultNotAfter(bundle.expiresAt, now, validForHours),
  });
}

/** What `promote approve` checks before it signs: the signer is listed with this key, four eyes, a sane validity. */
export interface SigningFacts {
  readonly env: SignedApprovalFacts["env"];
  readonly bundle: ApprovalBundle;
  readonly commitAuthor: SignedApprovalFacts["commitAuthor"];
  /** The principal the signer signs as, and the public key of the key they sign with. */
  readonly signer: { readonly principal: string; readonly publicKey: string };
  readonly statement: ApprovalStatement;
  readonly now: Date;
}

export function decideSigning(facts: SigningFacts): ApprovalDecision {
  const ctx: SignedApprovalFacts = { env: facts.env, bundle: facts.bundle, commitAuthor: facts.commitAuthor, approvals: [], now: facts.now };
  const source = "this approval";
  try {
    checkApproversUnchanged(ctx);
    checkIdentities([facts.signer.principal], "the signer's principal");
    const approver = approverFor(facts.env.approvals, facts.signer.principal);
    const listed = facts.env.approvals.approvers.map((a) => a.principal).join(", ") || "(none)";
    if (approver === undefined) refuse("APPROVER-NOT-ALLOWED", `an approver of env "${facts.env.name}" (${listed})`, `principal ${facts.signer.principal}`);
    const want = parseSshPublicKey(approver!.publicKey);
    const got = parseSshPublicKey(facts.signer.publicKey);
    if (!got.ok) refuse("APPROVER-NOT-ALLOWED", "an ssh-ed25519 signing key", got.ok ? "" : got.reason);
    if (!want.ok || !got.ok || !want.value.raw.equals(got.value.raw)) {
      refuse("APPROVER-NOT-ALLOWED", `${approver!.principal}'s listed key ${describeKey(approver!.publicKey)}`, `signing key ${describeKey(facts.signer.publicKey)}`);
    }
    if (normalizeName(facts.statement.approver) !== approver!.principal) {
      refuse("APPROVAL-STATEMENT-MISMATCH", `approver ${approver!.principal}`, `a statement for ${facts.statement.approver}`);
    }
    checkStatementMatches(facts.statement, ctx, source);
    checkValidity(facts.statement, facts.now, source);
    checkFourEyes(ctx, approver!, source);
    return { ok: true, approvers: [approver!.principal], required: facts.env.approvals.requireSigned };
  } catch (e) {
    return asRefusal(e, ctx);
  }
}

function asRefusal(e: unknown, facts: SignedApprovalFacts): ApprovalRefusal {
  if (e instanceof Refused) return { ok: false, id: e.id, expected: e.expected, found: e.found, fix: approvalFixFor(e.id, facts.env.name, facts.bundle.id) };
  // fail closed: an unexpected throw is a refusal, never a pass
  return { ok: false, id: "APPROVAL-INVALID", expected: "the approval checks to complete", found: `they failed: ${(e as Error).message}`, fix: approvalFixFor("APPROVAL-INVALID", facts.env.name, facts.bundle.id) };
}

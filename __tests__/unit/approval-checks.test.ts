/**
 * Signed approvals (issue 13), the pure part: the canonical statement, SSHSIG parsing and
 * verification, and the approval checks, with real Ed25519 signatures made by throwaway node keys.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { approversDigest, decideSignedApprovals, decideSigning, type ApprovalsConfig, type SignedApprovalFacts } from "../../scripts/lib/engine/core/approval-checks";
import { APPROVAL_RULES, approvalFixFor } from "../../scripts/lib/engine/core/approval-rules";
import {
  APPROVAL_NAMESPACE,
  approvalFileName,
  buildStatement,
  defaultNotAfter,
  formatSignedApproval,
  parseStatement,
  renderStatement,
  type ApprovalStatement,
} from "../../scripts/lib/engine/core/approval-statement";
import { identityKeys, identityProblem, sharedIdentity } from "../../scripts/lib/engine/core/identity";
import { parseAllowedSigners, formatAllowedSigners } from "../../scripts/lib/engine/core/allowed-signers";
import { fingerprint, parseSshPublicKey, parseSshSignature, publicKeyLineOf, signSshSignature, verifySshSignature } from "../../envs/ssh-keys";
import { RULE_IDS } from "../../scripts/lib/engine/core/rules";

interface TestKey {
  readonly privateKey: KeyObject;
  readonly line: string;
}
function newKey(): TestKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { privateKey, line: publicKeyLineOf(privateKey) };
}

const alice = newKey();
const bob = newKey();
const mallory = newKey();

const PLAN = "1".repeat(64);
const OTHER_PLAN = "2".repeat(64);
const MANIFEST = "3".repeat(64);
const COMMIT = "4".repeat(40);
const NOW = new Date("2030-01-01T12:00:00.000Z");

const APPROVALS: ApprovalsConfig = {
  requireSigned: true,
  minApprovers: 1,
  approvers: [
    { principal: "alice@example.com", publicKey: `${alice.line} alice@laptop` },
    { principal: "bob@example.com", publicKey: bob.line, name: "Bob Builder" },
  ],
};

function facts(overrides: Partial<SignedApprovalFacts> & { approvalsConfig?: Partial<ApprovalsConfig>; fourEyes?: boolean } = {}): SignedApprovalFacts {
  const { approvalsConfig, fourEyes, ...rest } = overrides;
  const approvals = { ...APPROVALS, ...approvalsConfig };
  return {
    env: { name: "prod", accountId: "333333333333", fourEyes: fourEyes ?? true, approvals },
    bundle: {
      env: "prod",
      account: "333333333333",
      id: "20300101T110000Z-bundle-0001",
      planSha256: PLAN,
      manifestSha256: MANIFEST,
      commit: COMMIT,
      createdAt: "2030-01-01T11:00:00.000Z",
      expiresAt: "2030-01-02T11:00:00.000Z",
      plannedBy: ["carol"],
      approversSha256: approversDigest(approvals),
    },
    commitAuthor: { name: "Carol Coder", email: "carol@example.com" },
    approvals: [],
    now: NOW,
    ...rest,
  };
}

function statement(overrides: Partial<ApprovalStatement> = {}): ApprovalStatement {
  return {
    env: "prod",
    account: "333333333333",
    bundleId: "20300101T110000Z-bundle-0001",
    planSha256: PLAN,
    manifestSha256: MANIFEST,
    commit: COMMIT,
    approver: "alice@example.com",
    signedAt: "2030-01-01T11:30:00.000Z",
    notAfter: "2030-01-02T11:00:00.000Z",
    ...overrides,
  };
}

/** A signed approval record by `key` over the statement (namespace overridable to forge). */
function signed(key: TestKey, s: Partial<ApprovalStatement> = {}, namespace = APPROVAL_NAMESPACE): { source: string; text: string } {
  const text = renderStatement(statement(s));
  return { source: `${s.approver ?? "alice@example.com"}.approval.json`, text: formatSignedApproval(text, signSshSignature(key.privateKey, namespace, text)) };
}

function refused(d: ReturnType<typeof decideSignedApprovals>, id: string): { expected: string; found: string; fix: string } {
  expect(d).toMatchObject({ ok: false, id });
  if (d.ok) throw new Error("not refused");
  expect(d.expected.length).toBeGreaterThan(0);
  expect(d.found.length).toBeGreaterThan(0);
  expect(d.fix.length).toBeGreaterThan(0);
  return d;
}

describe("the approval statement", () => {
  it("renders canonical text that parses back to the same statement, and only that text", () => {
    const text = renderStatement(statement());
    expect(text).toBe(
      [
        "envs-promotion approval statement v1",
        "env: prod",
        "account: 333333333333",
        "bundle: 20300101T110000Z-bundle-0001",
        `plan-sha256: ${PLAN}`,
        `manifest-sha256: ${MANIFEST}`,
        `commit: ${COMMIT}`,
        "approver: alice@example.com",
        "signed-at: 2030-01-01T11:30:00.000Z",
        "not-after: 2030-01-02T11:00:00.000Z",
        "",
      ].join("\n"),
    );
    expect(parseStatement(text)).toEqual({ ok: true, value: statement() });
    for (const variant of [text.replace("\n", "\r\n"), text + "\n", text.slice(0, -1), text.replace("env: prod", "env:  prod"), text.replace("approver:", "extra: x\napprover:"), text.replace("signed-at: 2030-01-01T11:30:00.000Z", "signed-at: 2030-01-01T11:30:00Z")]) {
      expect(parseStatement(variant).ok).toBe(false);
    }
  });

  it("refuses a value that would smuggle in a line or is not of its form, naming the field", () => {
    const r = buildStatement(statement({ approver: "alice@example.com\nenv: dev", planSha256: "ABC" }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain("approver must be a lower-case e-mail address");
      expect(r.reason).toContain('plan-sha256 must be a lower-case hex SHA-256, but "ABC" was provided');
    }
    expect(() => renderStatement(statement({ env: "Prod" }))).toThrow(/env must be an environment name/);
  });

  it("defaults not-after to the bundle's expiry, never later", () => {
    expect(defaultNotAfter("2030-01-02T11:00:00.000Z", NOW)).toBe("2030-01-02T11:00:00.000Z");
    expect(defaultNotAfter("2030-01-02T11:00:00.000Z", NOW, 2)).toBe("2030-01-01T14:00:00.000Z");
    expect(defaultNotAfter("2030-01-02T11:00:00.000Z", NOW, 48)).toBe("2030-01-02T11:00:00.000Z");
  });

  it("names approval files by principal only when it is one", () => {
    expect(approvalFileName("alice@example.com")).toBe("alice@example.com.approval.json");
    expect(() => approvalFileName("../../x@y.z")).toThrow(/lower-case e-mail/);
  });
});

describe("SSH keys and signatures", () => {
  it("parses ssh-ed25519 public keys strictly and fingerprints them as ssh-keygen does", () => {
    const k = parseSshPublicKey(`${alice.line} a comment`);
    expect(k.ok).toBe(true);
    if (k.ok) expect(fingerprint(k.value)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(parseSshPublicKey("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ").ok).toBe(false);
    expect(parseSshPublicKey("ssh-ed25519 not!base64").ok).toBe(false);
    // a blob that claims ssh-ed25519 in text but is an RSA blob inside
    expect(parseSshPublicKey("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==").ok).toBe(false);
  });

  it("verifies a signature only by the trusted key, in the namespace, over the exact bytes", () => {
    const armored = signSshSignature(alice.privateKey, APPROVAL_NAMESPACE, "hello\n");
    const sig = parseSshSignature(armored);
    const a = parseSshPublicKey(alice.line);
    const b = parseSshPublicKey(bob.line);
    if (!sig.ok || !a.ok || !b.ok) throw new Error("parse failed");
    expect(verifySshSignature(sig.value, a.value, APPROVAL_NAMESPACE, "hello\n")).toBe(true);
    expect(verifySshSignature(sig.value, a.value, APPROVAL_NAMESPACE, "hello")).toBe(false);
    expect(verifySshSignature(sig.value, a.value, "git", "hello\n")).toBe(false);
    expect(verifySshSignature(sig.value, b.value, APPROVAL_NAMESPACE, "hello\n")).toBe(false);
    // a flipped bit in the signature
    const raw = Buffer.from(sig.value.signature);
    raw[10] ^= 1;
    expect(verifySshSignature({ ...sig.value, signature: raw }, a.value, APPROVAL_NAMESPACE, "hello\n")).toBe(false);
    expect(parseSshSignature("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----").ok).toBe(false);
    expect(parseSshSignature("x".repeat(5000)).ok).toBe(false);
  });
});

describe("identities four eyes compares", () => {
  it("normalizes case, whitespace, NFKC and the e-mail form", () => {
    expect(identityKeys("  Alice   Smith <ALICE@Example.COM> ")).toEqual(["alice smith", "alice@example.com"]);
    expect(identityKeys("ａｌｉｃｅ@example.com")).toEqual(["alice@example.com"]);
    expect(sharedIdentity(["alice@example.com"], ["Alice <alice@example.com>"])?.key).toBe("alice@example.com");
    expect(sharedIdentity(["alice@example.com"], ["alice"])).toBeNull();
  });

  it("rejects empty, invisible and unbounded names", () => {
    expect(identityProblem("")).toBe("an empty name");
    expect(identityProblem("   ")).toBe("an empty name");
    expect(identityProblem(" <> ")).toBe("an empty name");
    expect(identityProblem("ali\u200bce")).toMatch(/U\+200B/);
    expect(identityProblem("alice\u202e")).toMatch(/U\+202E/);
    expect(identityProblem("alice\n")).toMatch(/U\+000A/);
    expect(identityProblem("\u3164")).toMatch(/invisible/);
    expect(identityProblem("a".repeat(255))).toMatch(/at most 254/);
    expect(identityProblem("a".repeat(10_000))).toMatch(/at most 254/);
    expect(identityProblem("Alice Smith")).toBeNull();
  });
});

describe("signed approvals at apply", () => {
  it("keeps envs that do not require them (dev) working as today", () => {
    expect(decideSignedApprovals(facts({ approvalsConfig: { requireSigned: false, minApprovers: 0, approvers: [] }, fourEyes: false }))).toEqual({ ok: true, approvers: [], required: false });
  });

  it("refuses the requirement switched off after the plan (requireSigned false in the working tree)", () => {
    const planned = facts();
    refused(decideSignedApprovals({ ...planned, env: { ...planned.env, fourEyes: false, approvals: { ...APPROVALS, requireSigned: false, minApprovers: 0 } } }), "APPROVERS-CHANGED");
  });

  it("accepts a valid signature by a listed approver over this bundle", () => {
    expect(decideSignedApprovals(facts({ approvals: [signed(alice)] }))).toEqual({ ok: true, approvers: ["alice@example.com"], required: true });
  });

  it("refuses no approval at all as too few", () => {
    expect(refused(decideSignedApprovals(facts()), "APPROVALS-TOO-FEW").found).toBe("no signed approval");
  });

  it("refuses a hand-written unsigned approval.json", () => {
    const handWritten = JSON.stringify({ schemaVersion: 1, env: "prod", bundleId: "20300101T110000Z-bundle-0001", planSha256: PLAN, manifestSha256: MANIFEST, approvedBy: "alice", approvedAt: NOW.toISOString(), comment: null });
    const r = refused(decideSignedApprovals(facts({ approvals: [{ source: "approval.json", text: handWritten }] })), "APPROVAL-UNSIGNED");
    expect(r.found).toContain("approval.json: an approval without a signature");
    expect(r.fix).toContain("promote approve prod 20300101T110000Z-bundle-0001 --sha256");
  });

  it("refuses records that are not JSON, or signed records with extra unsigned fields", () => {
    refused(decideSignedApprovals(facts({ approvals: [{ source: "x.approval.json", text: "not json" }] })), "APPROVAL-INVALID");
    const rec = JSON.parse(signed(alice).text);
    refused(decideSignedApprovals(facts({ approvals: [{ source: "x", text: JSON.stringify({ ...rec, approvedBy: "someone" }) }] })), "APPROVAL-INVALID");
  });

  it("refuses a signature that is not SSHSIG, one in another namespace, and a statement edited after signing", () => {
    const rec = JSON.parse(signed(alice).text);
    refused(decideSignedApprovals(facts({ approvals: [{ source: "x", text: JSON.stringify({ ...rec, signature: "signed, alice" }) }] })), "APPROVAL-SIGNATURE-INVALID");
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(alice, {}, "git")] })), "APPROVAL-SIGNATURE-INVALID").found).toContain('namespace "git"');
    const edited = { ...rec, statement: rec.statement.replace("not-after: 2030-01-02T11:00:00.000Z", "not-after: 2030-01-02T10:00:00.000Z") };
    expect(refused(decideSignedApprovals(facts({ approvals: [{ source: "x", text: JSON.stringify(edited) }] })), "APPROVAL-SIGNATURE-INVALID").found).toContain("does not verify");
  });

  it("refuses a valid signature over another plan's hash", () => {
    const r = refused(decideSignedApprovals(facts({ approvals: [signed(alice, { planSha256: OTHER_PLAN })] })), "APPROVAL-STATEMENT-MISMATCH");
    expect(r.expected).toContain(`plan-sha256 ${PLAN}`);
    expect(r.found).toContain(`plan-sha256 ${OTHER_PLAN}`);
  });

  it("refuses an approval copied from another bundle, env, account, manifest or commit", () => {
    const cases: Array<[Partial<ApprovalStatement>, string]> = [
      [{ bundleId: "20300101T100000Z-bundle-0000" }, "bundle"],
      [{ env: "staging" }, "env"],
      [{ account: "222222222222" }, "account"],
      [{ manifestSha256: "5".repeat(64) }, "manifest-sha256"],
      [{ commit: "6".repeat(40) }, "commit"],
    ];
    for (const [s, field] of cases) {
      expect(refused(decideSignedApprovals(facts({ approvals: [signed(alice, s)] })), "APPROVAL-STATEMENT-MISMATCH").expected).toContain(`${field} `);
    }
  });

  it("refuses an approval that outlives the bundle, or claims to predate it", () => {
    refused(decideSignedApprovals(facts({ approvals: [signed(alice, { notAfter: "2030-01-03T00:00:00.000Z" })] })), "APPROVAL-STATEMENT-MISMATCH");
    refused(decideSignedApprovals(facts({ approvals: [signed(alice, { signedAt: "2030-01-01T09:00:00.000Z" })] })), "APPROVAL-STATEMENT-MISMATCH");
  });

  it("refuses a signature by a key not in the list, and a listed key signing as someone else", () => {
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(mallory, { approver: "mallory@example.com" })] })), "APPROVER-NOT-ALLOWED").found).toContain("not in the list");
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(mallory)] })), "APPROVER-NOT-ALLOWED").found).toContain("which the list does not name");
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(bob)] })), "APPROVER-NOT-ALLOWED").found).toContain("which the list names for bob@example.com");
  });

  it("refuses the author signing their own plan on prod, in any spelling of their name", () => {
    const authors: Array<Partial<SignedApprovalFacts>> = [
      { bundle: { ...facts().bundle, plannedBy: ["Alice <ALICE@Example.com>"] } },
      { bundle: { ...facts().bundle, plannedBy: [" alice@example.com "] } },
      { bundle: { ...facts().bundle, plannedBy: ["ａｌｉｃｅ@ｅｘａｍｐｌｅ.com"] } },
      { commitAuthor: { name: "Someone", email: "Alice@Example.com" } },
    ];
    for (const a of authors) {
      expect(refused(decideSignedApprovals(facts({ ...a, approvals: [signed(alice)] })), "FOUR-EYES").found).toContain("signed by alice@example.com");
    }
    // bob's list entry names him: his git name as commit author is caught too
    refused(decideSignedApprovals(facts({ commitAuthor: { name: "bob   BUILDER", email: "b@home.example" }, approvals: [signed(bob, { approver: "bob@example.com" })] })), "FOUR-EYES");
    // an env without four eyes accepts it
    expect(decideSignedApprovals(facts({ fourEyes: false, bundle: { ...facts().bundle, plannedBy: ["alice@example.com"] }, approvals: [signed(alice)] })).ok).toBe(true);
  });

  it("refuses four eyes against an invisible, empty or unknown author instead of guessing", () => {
    refused(decideSignedApprovals(facts({ bundle: { ...facts().bundle, plannedBy: ["ali\u200bce@example.com"] }, approvals: [signed(alice)] })), "APPROVAL-IDENTITY-INVALID");
    refused(decideSignedApprovals(facts({ commitAuthor: { name: " ", email: "carol@example.com" }, approvals: [signed(alice)] })), "APPROVAL-IDENTITY-INVALID");
    refused(decideSignedApprovals(facts({ commitAuthor: null, approvals: [signed(alice)] })), "FOUR-EYES");
  });

  it("refuses a signature made after its not-after, an expired one, and one dated in the future", () => {
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(alice, { signedAt: "2030-01-01T11:50:00.000Z", notAfter: "2030-01-01T11:40:00.000Z" })] })), "APPROVAL-EXPIRED").found).toContain("signed at 2030-01-01T11:50:00.000Z");
    expect(refused(decideSignedApprovals(facts({ approvals: [signed(alice, { notAfter: "2030-01-01T11:59:59.000Z" })] })), "APPROVAL-EXPIRED").found).toContain("expired at");
    refused(decideSignedApprovals(facts({ approvals: [signed(alice, { signedAt: "2030-01-01T12:10:00.000Z" })] })), "APPROVAL-EXPIRED");
    expect(decideSignedApprovals(facts({ approvals: [signed(alice, { signedAt: "2030-01-01T12:04:00.000Z" })] })).ok).toBe(true);
  });

  it("applies with two approvers when config asks for two, and refuses one (or one twice)", () => {
    const two = { approvalsConfig: { minApprovers: 2 } };
    expect(decideSignedApprovals(facts({ ...two, approvals: [signed(alice), signed(bob, { approver: "bob@example.com" })] }))).toEqual({ ok: true, approvers: ["alice@example.com", "bob@example.com"], required: true });
    expect(refused(decideSignedApprovals(facts({ ...two, approvals: [signed(alice)] })), "APPROVALS-TOO-FEW").found).toBe("1: alice@example.com");
    refused(decideSignedApprovals(facts({ ...two, approvals: [signed(alice), signed(alice, { signedAt: "2030-01-01T11:31:00.000Z" })] })), "APPROVALS-TOO-FEW");
  });

  it("refuses an approver list changed since the plan (an approver added in the working tree)", () => {
    const planned = facts();
    const withMallory = { ...APPROVALS, approvers: [...APPROVALS.approvers, { principal: "mallory@example.com", publicKey: mallory.line }] };
    const r = refused(decideSignedApprovals({ ...planned, env: { ...planned.env, approvals: withMallory }, approvals: [signed(mallory, { approver: "mallory@example.com" })] }), "APPROVERS-CHANGED");
    expect(r.found).toContain("mallory@example.com");
    refused(decideSignedApprovals(facts({ bundle: { ...planned.bundle, approversSha256: null }, approvals: [signed(alice)] })), "APPROVERS-CHANGED");
    // the digest ignores key comments and list order, not keys, names or counts
    const reordered = { ...APPROVALS, approvers: [{ ...APPROVALS.approvers[1] }, { ...APPROVALS.approvers[0], publicKey: alice.line }] };
    expect(approversDigest(reordered)).toBe(approversDigest(APPROVALS));
    expect(approversDigest({ ...APPROVALS, minApprovers: 2 })).not.toBe(approversDigest(APPROVALS));
    expect(approversDigest({ ...APPROVALS, approvers: [APPROVALS.approvers[0], { ...APPROVALS.approvers[1], name: "Bobby" }] })).not.toBe(approversDigest(APPROVALS));
  });

  it("refuses when one record is forged even though enough valid ones exist beside it", () => {
    refused(decideSignedApprovals(facts({ approvals: [signed(alice), signed(mallory, { approver: "bob@example.com" })] })), "APPROVER-NOT-ALLOWED");
  });
});

describe("before signing (promote approve)", () => {
  const base = { env: facts().env, bundle: facts().bundle, commitAuthor: facts().commitAuthor, now: NOW };
  it("accepts a listed approver with their key", () => {
    expect(decideSigning({ ...base, signer: { principal: "alice@example.com", publicKey: alice.line }, statement: statement() }).ok).toBe(true);
  });
  it("refuses a key the list does not name for the signer, an unlisted signer, and the author", () => {
    refused(decideSigning({ ...base, signer: { principal: "alice@example.com", publicKey: bob.line }, statement: statement() }), "APPROVER-NOT-ALLOWED");
    refused(decideSigning({ ...base, signer: { principal: "mallory@example.com", publicKey: mallory.line }, statement: statement({ approver: "mallory@example.com" }) }), "APPROVER-NOT-ALLOWED");
    refused(decideSigning({ ...base, bundle: { ...base.bundle, plannedBy: ["Alice <alice@example.com>"] }, signer: { principal: "alice@example.com", publicKey: alice.line }, statement: statement() }), "FOUR-EYES");
    refused(decideSigning({ ...base, signer: { principal: "alice@example.com", publicKey: alice.line }, statement: statement({ planSha256: OTHER_PLAN }) }), "APPROVAL-STATEMENT-MISMATCH");
  });
});

describe("allowed_signers", () => {
  it("parses plain entries and refuses patterns, certificate authorities, other namespaces and other key types", () => {
    const text = `# demo approvers\nalice@example.com ${alice.line} alice\nbob@example.com namespaces="${APPROVAL_NAMESPACE}" ${bob.line}\n`;
    expect(parseAllowedSigners(text, APPROVAL_NAMESPACE)).toEqual({ ok: true, value: [{ principal: "alice@example.com", publicKey: alice.line }, { principal: "bob@example.com", publicKey: bob.line }] });
    for (const bad of [`*@example.com ${alice.line}`, `alice@example.com cert-authority ${alice.line}`, `alice@example.com namespaces="git" ${alice.line}`, "alice@example.com ssh-rsa AAAAB3NzaC1yc2E=", `Alice@Example.com ${alice.line}`]) {
      expect(parseAllowedSigners(bad, APPROVAL_NAMESPACE).ok).toBe(false);
    }
    expect(formatAllowedSigners([{ principal: "alice@example.com", publicKey: `${alice.line} c` }], APPROVAL_NAMESPACE)).toBe(`alice@example.com namespaces="${APPROVAL_NAMESPACE}" ${alice.line}\n`);
  });
});

describe("the approval refusals", () => {
  it("are ids of the engine's registry, each documented in RULES.md with its fix", () => {
    const doc = readFileSync(join(__dirname, "../../scripts/lib/engine/RULES.md"), "utf8");
    for (const r of APPROVAL_RULES) {
      expect(RULE_IDS as readonly string[]).toContain(r.id);
      expect(doc).toContain(`| \`${r.id}\` | ${r.info} | ${r.explanation} | ${r.fix} |`);
    }
    expect(approvalFixFor("FOUR-EYES", "prod", "b1")).toContain("promote approve prod b1");
  });
});

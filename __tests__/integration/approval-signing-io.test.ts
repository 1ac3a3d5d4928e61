/**
 * Signed approvals (issue 13), the I/O part: real keys made by ssh-keygen in a temporary folder (never
 * the user's), signing through `ssh-keygen -Y sign`, verification in-process and by `ssh-keygen -Y
 * verify` both ways, git's user.signingkey, and the demo's approver override.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { approversDigest, decideSignedApprovals, decideSigning, statementFor, type SignedApprovalFacts } from "../../scripts/lib/engine/core/approval-checks";
import { APPROVAL_NAMESPACE, formatSignedApproval, renderStatement } from "../../scripts/lib/engine/core/approval-statement";
import { publicKeyLineOf, signSshSignature } from "../../envs/ssh-keys";
import {
  DEMO_SIGNERS_VARIABLE,
  commitAuthor,
  effectiveApprovals,
  makeThrowawayApprovers,
  readApprovalRecords,
  resolveSigningKey,
  signStatement,
  signerPrincipal,
  verifyWithSshKeygen,
} from "../../scripts/lib/engine/io/signatures";

let dir: string;
let keyFile: string;
let publicKey: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "approval-io-"));
  keyFile = join(dir, "alice_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f", keyFile], { timeout: 20_000 });
  publicKey = readFileSync(`${keyFile}.pub`, "utf8").trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOW = new Date("2030-01-01T12:00:00.000Z");
const statementText = () =>
  renderStatement({
    env: "prod",
    account: "333333333333",
    bundleId: "b-1",
    planSha256: "1".repeat(64),
    manifestSha256: "3".repeat(64),
    commit: "4".repeat(40),
    approver: "alice@example.com",
    signedAt: "2030-01-01T11:30:00.000Z",
    notAfter: "2030-01-02T11:00:00.000Z",
  });

function facts(approvals: SignedApprovalFacts["approvals"]): SignedApprovalFacts {
  const config = { requireSigned: true, minApprovers: 1, approvers: [{ principal: "alice@example.com", publicKey }] };
  return {
    env: { name: "prod", accountId: "333333333333", fourEyes: true, approvals: config },
    bundle: { env: "prod", account: "333333333333", id: "b-1", planSha256: "1".repeat(64), manifestSha256: "3".repeat(64), commit: "4".repeat(40), createdAt: "2030-01-01T11:00:00.000Z", expiresAt: "2030-01-02T11:00:00.000Z", plannedBy: ["carol"], approversSha256: approversDigest(config) },
    commitAuthor: { name: "Carol", email: "carol@example.com" },
    approvals,
    now: NOW,
  };
}

describe("signing with ssh-keygen", () => {
  it("signs with --key; the signature verifies in-process and with ssh-keygen -Y verify, and not once edited", () => {
    const key = resolveSigningKey({ key: keyFile, dir });
    expect(key.publicKey).toBe(publicKey.split(" ").slice(0, 2).join(" "));
    const text = statementText();
    const armored = signStatement(text, key);
    expect(decideSignedApprovals(facts([{ source: "alice@example.com.approval.json", text: formatSignedApproval(text, armored) }]))).toEqual({ ok: true, approvers: ["alice@example.com"], required: true });
    const signers = [{ principal: "alice@example.com", publicKey }];
    expect(verifyWithSshKeygen(text, armored, "alice@example.com", signers).ok).toBe(true);
    expect(verifyWithSshKeygen(text.replace("b-1", "b-2"), armored, "alice@example.com", signers).ok).toBe(false);
    expect(verifyWithSshKeygen(text, armored, "bob@example.com", signers).ok).toBe(false);
    const edited = formatSignedApproval(text.replace("2030-01-02T11:00:00.000Z", "2030-01-02T10:59:00.000Z"), armored);
    expect(decideSignedApprovals(facts([{ source: "x", text: edited }]))).toMatchObject({ ok: false, id: "APPROVAL-SIGNATURE-INVALID" });
  });

  it("writes signatures ssh-keygen accepts when signing in-process (the formats agree)", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const text = statementText();
    const armored = signSshSignature(privateKey, APPROVAL_NAMESPACE, text);
    const signers = [{ principal: "alice@example.com", publicKey: publicKeyLineOf(privateKey) }];
    expect(verifyWithSshKeygen(text, armored, "alice@example.com", signers)).toMatchObject({ ok: true });
    // a git commit signature (namespace "git") by the same key is not an approval
    expect(verifyWithSshKeygen(text, signSshSignature(privateKey, "git", text), "alice@example.com", signers).ok).toBe(false);
  });

  it("refuses to sign with a missing key file or a key whose public half is not the one named", () => {
    expect(() => resolveSigningKey({ key: join(dir, "nope"), dir })).toThrow(/must name a key file, but .*nope does not exist/);
    const other = join(dir, "other");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other], { timeout: 20_000 });
    const liar = { ...resolveSigningKey({ key: keyFile, dir }), file: other };
    expect(() => signStatement(statementText(), liar)).toThrow(/must verify with --key .*'s public key/);
  });

  it("stops a signing subprocess that outlives its timeout", () => {
    // an ssh-keygen that hangs (waiting for a passphrase nobody types, a security key nobody touches)
    const bin = join(dir, "hanging-bin");
    execFileSync("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "ssh-keygen"), "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    const key = resolveSigningKey({ key: keyFile, dir });
    const t0 = Date.now();
    expect(() => signStatement(statementText(), key, { timeoutMs: 1000, vars: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })).toThrow(
      "ssh-keygen -Y sign must finish within 1 s, but it was stopped after that",
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe("git's signing key and identity", () => {
  let repo: string;
  beforeAll(() => {
    repo = join(dir, "repo");
    const g = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { timeout: 20_000, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });
    execFileSync("git", ["init", "-q", repo], { timeout: 20_000 });
    g("config", "user.name", "Carol Coder");
    g("config", "user.email", "Carol@Example.com");
    g("commit", "-q", "--allow-empty", "-m", "x");
  });
  const vars = () => ({ ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" });

  it("uses user.signingkey when gpg.format is ssh, as a path or as a key:: literal for ssh-agent", () => {
    expect(() => resolveSigningKey({ dir: repo, vars: vars() })).toThrow(/a signing key is required/);
    execFileSync("git", ["-C", repo, "config", "user.signingkey", keyFile]);
    expect(() => resolveSigningKey({ dir: repo, vars: vars() })).toThrow(/gpg.format ssh/);
    execFileSync("git", ["-C", repo, "config", "gpg.format", "ssh"]);
    const k = resolveSigningKey({ dir: repo, vars: vars() });
    expect(k.origin).toBe("git config user.signingkey");
    expect(k.file).toBe(keyFile);
    execFileSync("git", ["-C", repo, "config", "user.signingkey", `key::${publicKey}`]);
    const literal = resolveSigningKey({ dir: repo, vars: vars() });
    expect(readFileSync(literal.file, "utf8").trim()).toBe(publicKey.split(" ").slice(0, 2).join(" "));
    literal.dispose();
  });

  it("takes the principal from user.email (normalized) and the commit's author from git", () => {
    expect(signerPrincipal({ dir: repo, vars: vars() })).toBe("carol@example.com");
    expect(signerPrincipal({ as: " Dave@Example.com ", dir: repo })).toBe("dave@example.com");
    const head = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(commitAuthor(repo, head)).toEqual({ name: "Carol Coder", email: "Carol@Example.com" });
    expect(() => commitAuthor(repo, "HEAD")).toThrow(/full commit id/);
  });
});

describe("approval records and the demo's approvers", () => {
  it("makes throwaway approvers whose signatures the demo's list accepts, end to end", () => {
    const demoDir = join(dir, "demo");
    execFileSync("mkdir", ["-p", demoDir]);
    const made = makeThrowawayApprovers(demoDir, ["reviewer@demo.example", "second@demo.example"]);
    const vars = { TARGET: "local", LOCAL_ENDPOINT: "http://127.0.0.1:4599", [DEMO_SIGNERS_VARIABLE]: made.allowedSigners };
    const prodConfig = { requireSigned: true, minApprovers: 2, approvers: [{ principal: "platform-lead@example.com", publicKey }] };
    const { approvals } = effectiveApprovals(prodConfig, vars);
    expect(approvals.approvers.map((a) => a.principal)).toEqual(["reviewer@demo.example", "second@demo.example"]);
    const base = facts([]);
    const env = { ...base.env, approvals };
    const bundle = { ...base.bundle, approversSha256: approversDigest(approvals) };
    const records = ["reviewer@demo.example", "second@demo.example"].map((p) => {
      const s = statementFor(bundle, p, NOW);
      if (!s.ok) throw new Error(s.reason);
      const key = resolveSigningKey({ key: made.keys[p], dir });
      expect(decideSigning({ env, bundle, commitAuthor: base.commitAuthor, signer: { principal: p, publicKey: key.publicKey }, statement: s.value, now: NOW }).ok).toBe(true);
      const text = renderStatement(s.value);
      return { source: `${p}.approval.json`, text: formatSignedApproval(text, signStatement(text, key)) };
    });
    expect(decideSignedApprovals({ ...base, env, bundle, approvals: records })).toEqual({ ok: true, approvers: ["reviewer@demo.example", "second@demo.example"], required: true });
    expect(decideSignedApprovals({ ...base, env, bundle, approvals: records.slice(0, 1) })).toMatchObject({ ok: false, id: "APPROVALS-TOO-FEW" });
  });

  it("reads every approval record of a bundle folder, bounded in size", () => {
    const b = join(dir, "bundle");
    execFileSync("mkdir", ["-p", b]);
    writeFileSync(join(b, "approval.json"), "{}");
    writeFileSync(join(b, "bob@example.com.approval.json"), "x".repeat(20_000));
    writeFileSync(join(b, "manifest.json"), "{}");
    const records = readApprovalRecords(b);
    expect(records.map((r) => r.source)).toEqual(["approval.json", "bob@example.com.approval.json"]);
    expect(records[1].text).toMatch(/larger than/);
  });

  const config = { requireSigned: true, minApprovers: 1, approvers: [{ principal: "platform-lead@example.com", publicKey }] };
  const demoKey = publicKeyLineOf(generateKeyPairSync("ed25519").privateKey);
  const read = () => `demo-approver@example.com ${demoKey} demo\n`;
  const local = { TARGET: "local", LOCAL_ENDPOINT: "http://127.0.0.1:4599", [DEMO_SIGNERS_VARIABLE]: "/tmp/demo/allowed_signers" };

  it("uses the config's approvers unless the demo names its own against the local emulator", () => {
    expect(effectiveApprovals(config, {}, read).approvals).toBe(config);
    const demo = effectiveApprovals(config, local, read);
    expect(demo.approvals).toEqual({ requireSigned: true, minApprovers: 1, approvers: [{ principal: "demo-approver@example.com", publicKey: demoKey }] });
    expect(demo.source).toContain("emulator only");
  });

  it("refuses the demo's approvers anywhere but the local emulator, and a file that cannot satisfy the count", () => {
    expect(() => effectiveApprovals(config, { ...local, TARGET: "aws" }, read)).toThrow(/honoured only with TARGET=local/);
    expect(() => effectiveApprovals(config, { ...local, TARGET: undefined }, read)).toThrow(/honoured only with TARGET=local/);
    expect(() => effectiveApprovals(config, { ...local, LOCAL_ENDPOINT: "https://s3.amazonaws.com" }, read)).toThrow(/loopback LOCAL_ENDPOINT/);
    expect(() => effectiveApprovals(config, { ...local, LOCAL_ENDPOINT: "http://127.0.0.1.evil.example:80" }, read)).toThrow(/loopback/);
    expect(() => effectiveApprovals({ ...config, minApprovers: 2 }, local, read)).toThrow(/at least 2 approver/);
    expect(() => effectiveApprovals(config, local, () => `*@example.com ${demoKey}\n`)).toThrow(/no patterns/);
    expect(() => effectiveApprovals(config, local, () => `a@example.com ${demoKey}\nb@example.com ${demoKey}\n`)).toThrow(/each key once/);
    expect(() => effectiveApprovals(config, local, () => { throw new Error("ENOENT"); })).toThrow(/readable allowed_signers file/);
  });
});

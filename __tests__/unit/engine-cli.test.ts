/**
 * The promote CLI without terraform: every refusal that happens before terraform runs, its output
 * (id, expected, found, fix), its exit code, and the audit record it leaves.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { getEnvironment } from "../../envs";
import { AuditLog } from "../../scripts/lib/engine/io/audit";
import { defaultContext, type EngineContext } from "../../scripts/lib/engine/commands";
import { sha256 } from "../../scripts/lib/engine/core/hash";
import { Ledger } from "../../scripts/lib/engine/io/ledger";
import type { Manifest } from "../../scripts/lib/engine/core/schemas";
import { main, parseDuration } from "../../scripts/promote";
import { gitRepo, manifest, policyText, tempDir } from "../helpers/engine-fixtures";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { approversDigest } from "../../scripts/lib/engine/core/approval-checks";
import { formatAllowedSigners } from "../../scripts/lib/engine/core/allowed-signers";
import { APPROVAL_NAMESPACE, formatSignedApproval, renderStatement, type ApprovalStatement } from "../../scripts/lib/engine/core/approval-statement";
import { publicKeyLineOf, signSshSignature } from "../../envs/ssh-keys";

interface World {
  ctx: EngineContext;
  out: string[];
  err: string[];
  root: string;
  head: string;
  cleanup: () => void;
}

function world(user = "alice", extraVars: NodeJS.ProcessEnv = {}): World {
  const { dir: root, cleanup } = tempDir();
  const checkoutDir = join(root, "checkout");
  mkdirSync(checkoutDir);
  const head = gitRepo(checkoutDir);
  const out: string[] = [];
  const err: string[] = [];
  const ctx = defaultContext({ ...process.env, PROMOTE_USER: user, ...extraVars }, { out: (t) => out.push(t), err: (t) => err.push(t) }, {
    checkoutDir,
    outDir: join(root, "cdktf.out"),
    plansDir: join(root, "plans"),
    auditDir: join(root, "audit"),
    locksDir: join(root, "locks"),
    ledgerDir: checkoutDir,
  });
  return { ctx, out, err, root, head, cleanup };
}

/** Writes a complete bundle (as `promote plan` would) for env, planned from the world's head. */
function writeBundle(w: World, env: string, overrides: Partial<Manifest> = {}): { dir: string; m: Manifest } {
  const cfg = getEnvironment(env);
  const stack = join(w.ctx.paths.outDir, "stacks", env);
  mkdirSync(stack, { recursive: true });
  writeFileSync(join(stack, "cdk.tf.json"), `{"env":"${env}"}`);
  writeFileSync(join(stack, ".terraform.lock.hcl"), "# lock");
  const planBytes = Buffer.from(`plan for ${env}`);
  const summary = `Environment: ${env}\nPlan: 1 to add, 0 to change, 0 to destroy (0 replaced).\n`;
  const now = Date.now();
  const m = manifest({
    id: `20300101T000000Z-${env}-${Math.random().toString(16).slice(2, 6)}`,
    env,
    stack: env,
    git: { commit: w.head, dirty: false },
    synth: { file: "cdk.tf.json", sha256: sha256(`{"env":"${env}"}`) },
    plan: { file: "plan.tfplan", sha256: sha256(planBytes), bytes: planBytes.length },
    lockFile: { sha256: sha256("# lock") },
    backend: { type: "s3", bucket: cfg.stateBackend.bucket, key: cfg.stateBackend.key, lockTable: cfg.stateBackend.lockTable, region: cfg.region },
    account: cfg.account.id,
    summarySha256: sha256(summary),
    policy: { file: "policy.json", sha256: sha256(policyText(env)), errors: 0, warnings: 0, waived: 0 },
    createdAt: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + 3_600_000).toISOString(),
    createdBy: "alice",
    approversSha256: approversDigest(cfg.delivery.approvals),
    ...overrides,
  });
  const dir = join(w.ctx.paths.plansDir, env, m.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "plan.tfplan"), planBytes, { mode: 0o600 });
  writeFileSync(join(dir, "summary.txt"), summary);
  writeFileSync(join(dir, "policy.json"), policyText(env));
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(m, null, 2)}\n`);
  return { dir, m };
}

const errText = (w: World) => w.err.join("");
const outText = (w: World) => w.out.join("");
const audit = (w: World, env: string) => new AuditLog(join(w.ctx.paths.auditDir, `${env}.jsonl`), env);

function expectRefusal(w: World, code: number, id: string): void {
  expect(code).toBe(1);
  const text = errText(w);
  expect(text).toContain(`REFUSED ${id}:`);
  expect(text).toMatch(/\n {2}expected: \S/);
  expect(text).toMatch(/\n {2}found: {4}\S/);
  expect(text).toMatch(/\n {2}fix: {6}\S/);
}

describe("promote CLI (no terraform)", () => {
  let w: World;
  beforeEach(() => (w = world()));
  afterEach(() => w.cleanup());

  describe("usage", () => {
    it("prints help for every command", async () => {
      for (const c of ["plan", "review", "approve", "apply", "audit", "ledger", "bundles", "rules"]) {
        expect(await main([c, "--help"], w.ctx)).toBe(0);
      }
      expect(outText(w)).toContain("npx promote apply <env> --auto");
    });
    it("exits 2 on a usage error and an unknown env", async () => {
      expect(await main(["plan"], w.ctx)).toBe(2);
      expect(await main(["apply", "prod", "--bogus"], w.ctx)).toBe(2);
      expect(await main(["approve", "prod"], w.ctx)).toBe(2);
      expect(await main(["plan", "nowhere"], w.ctx)).toBe(2);
      expect(errText(w)).toContain('unknown environment "nowhere"');
    });
    it("parses durations", () => {
      expect(parseDuration("90m")).toBe(1.5);
      expect(parseDuration("3600s")).toBe(1);
      expect(parseDuration("12")).toBe(12);
      expect(() => parseDuration("soon")).toThrow(/--ttl/);
    });
  });

  describe("review", () => {
    it("prints the summary and the plan SHA-256 being approved", async () => {
      const { m } = writeBundle(w, "prod");
      expect(await main(["review", "prod"], w.ctx)).toBe(0);
      expect(outText(w)).toContain(`Plan SHA-256 being approved: ${m.plan.sha256}`);
      expect(outText(w)).toContain("Approval: none (required)");
    });
    it("refuses a plan file with one flipped byte (PLAN-HASH-MISMATCH)", async () => {
      const { dir } = writeBundle(w, "prod");
      const bytes = readFileSync(join(dir, "plan.tfplan"));
      bytes[0] ^= 0x01;
      writeFileSync(join(dir, "plan.tfplan"), bytes);
      expectRefusal(w, await main(["review", "prod"], w.ctx), "PLAN-HASH-MISMATCH");
    });
    it("refuses when there is no bundle (BUNDLE-NOT-FOUND)", async () => {
      expectRefusal(w, await main(["review", "prod"], w.ctx), "BUNDLE-NOT-FOUND");
    });
  });

  describe("approve", () => {
    // staging does not require signed approvals: approval.json with the --by name, as before issue 13.
    it("binds the approval to the plan hash and the manifest hash, and audits it", async () => {
      const { dir, m } = writeBundle(w, "staging");
      expect(await main(["approve", "staging", "--sha256", m.plan.sha256, "--by", "bob", "--comment", "looks fine"], w.ctx)).toBe(0);
      const approval = JSON.parse(readFileSync(join(dir, "approval.json"), "utf8"));
      expect(approval).toMatchObject({ env: "staging", bundleId: m.id, planSha256: m.plan.sha256, approvedBy: "bob", comment: "looks fine" });
      expect(approval.manifestSha256).toBe(sha256(readFileSync(join(dir, "manifest.json"))));
      expect(audit(w, "staging").records()).toMatchObject([{ command: "approve", result: "ok", by: "bob", approver: "bob", planSha256: m.plan.sha256 }]);
    });
    it("refuses a hash that is not the bundle's (APPROVAL-HASH-MISMATCH)", async () => {
      const { dir } = writeBundle(w, "staging");
      expectRefusal(w, await main(["approve", "staging", "--sha256", sha256("x"), "--by", "bob"], w.ctx), "APPROVAL-HASH-MISMATCH");
      expect(existsSync(join(dir, "approval.json"))).toBe(false);
      expect(audit(w, "staging").records()).toMatchObject([{ command: "approve", result: "refused", refusalId: "APPROVAL-HASH-MISMATCH" }]);
    });
    it("refuses a second approval (APPROVAL-EXISTS)", async () => {
      const { m } = writeBundle(w, "staging");
      expect(await main(["approve", "staging", "--sha256", m.plan.sha256, "--by", "bob"], w.ctx)).toBe(0);
      expectRefusal(w, await main(["approve", "staging", "--sha256", m.plan.sha256, "--by", "carol"], w.ctx), "APPROVAL-EXISTS");
    });
    it("refuses signing options where the env takes no signed approvals (INPUT-INVALID)", async () => {
      const { dir, m } = writeBundle(w, "staging");
      expectRefusal(w, await main(["approve", "staging", "--sha256", m.plan.sha256, "--key", "/nonexistent"], w.ctx), "INPUT-INVALID");
      expect(existsSync(join(dir, "approval.json"))).toBe(false);
    });
  });

  describe("apply: refusals before terraform runs", () => {
    const staged = (w: World) => new Ledger(w.ctx.paths.ledgerDir, w.ctx.paths.checkoutDir).record("staging", w.head, { bundleId: "s", planSha256: "f".repeat(64), appliedBy: "x", approvedBy: null });

    it("refuses an unapproved prod bundle (APPROVALS-TOO-FEW: no signed approval) and records the refusal", async () => {
      staged(w);
      const { dir } = writeBundle(w, "prod");
      expectRefusal(w, await main(["apply", "prod"], w.ctx), "APPROVALS-TOO-FEW");
      expect(existsSync(join(dir, "applied.json"))).toBe(false);
      expect(audit(w, "prod").records()).toMatchObject([{ command: "apply", result: "refused", refusalId: "APPROVALS-TOO-FEW", by: "alice" }]);
      expect(audit(w, "prod").verify().ok).toBe(true);
    });
    it("refuses the staging bundle applied as prod (BUNDLE-ENV-MISMATCH)", async () => {
      const { m } = writeBundle(w, "staging");
      mkdirSync(join(w.ctx.paths.plansDir, "prod"), { recursive: true });
      // the staging bundle copied where prod bundles live
      cpSync(join(w.ctx.paths.plansDir, "staging", m.id), join(w.ctx.paths.plansDir, "prod", m.id), { recursive: true });
      expectRefusal(w, await main(["apply", "prod", m.id], w.ctx), "BUNDLE-ENV-MISMATCH");
    });
    it("refuses a flipped byte in the plan file (PLAN-HASH-MISMATCH)", async () => {
      const { dir } = writeBundle(w, "dev", { createdBy: "alice" });
      writeFileSync(join(dir, "plan.tfplan"), "plan for deV");
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "PLAN-HASH-MISMATCH");
    });
    it("refuses an expired bundle (BUNDLE-EXPIRED)", async () => {
      writeBundle(w, "dev", { createdAt: "2020-01-01T00:00:00.000Z", expiresAt: "2020-01-02T00:00:00.000Z" });
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "BUNDLE-EXPIRED");
    });
    it("refuses a bundle whose commit staging never applied (PROMOTION-GATE)", async () => {
      writeBundle(w, "prod");
      expectRefusal(w, await main(["apply", "prod"], w.ctx), "PROMOTION-GATE");
    });
    it("refuses a bundle already applied (BUNDLE-ALREADY-APPLIED)", async () => {
      const { dir, m } = writeBundle(w, "dev");
      writeFileSync(join(dir, "applied.json"), JSON.stringify({ schemaVersion: 1, status: "succeeded", planSha256: m.plan.sha256, appliedBy: "a", startedAt: m.createdAt, finishedAt: m.createdAt, stateAfter: null, ledgerTag: "deployed/dev/20300101T000000Z" }));
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "BUNDLE-ALREADY-APPLIED");
    });
    it("refuses to apply anything while an earlier apply recorded no outcome (APPLY-UNFINISHED)", async () => {
      const { dir, m } = writeBundle(w, "dev");
      writeFileSync(join(dir, "applied.json"), JSON.stringify({ schemaVersion: 1, status: "started", planSha256: m.plan.sha256, appliedBy: "a", startedAt: m.createdAt, finishedAt: null, stateAfter: null, ledgerTag: null }));
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "APPLY-UNFINISHED");
      expectRefusal(w, await main(["plan", "dev"], w.ctx), "APPLY-UNFINISHED");
    });
    it("refuses a malformed manifest (BUNDLE-MANIFEST-INVALID)", async () => {
      const { dir } = writeBundle(w, "dev");
      writeFileSync(join(dir, "manifest.json"), '{"schemaVersion":1}');
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "BUNDLE-MANIFEST-INVALID");
    });
    it("refuses apply --auto where the env does not allow it (AUTO-APPLY-NOT-ALLOWED)", async () => {
      expectRefusal(w, await main(["apply", "prod", "--auto"], w.ctx), "AUTO-APPLY-NOT-ALLOWED");
    });
    it("refuses while another live process holds the env lock (ENV-LOCKED)", async () => {
      writeBundle(w, "dev");
      const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
      try {
        mkdirSync(w.ctx.paths.locksDir, { recursive: true });
        writeFileSync(join(w.ctx.paths.locksDir, "dev.lock"), JSON.stringify({ pid: child.pid, host: hostname(), command: "promote apply dev", since: new Date().toISOString(), token: "t" }));
        expectRefusal(w, await main(["apply", "dev"], w.ctx), "ENV-LOCKED");
        expect(errText(w)).toContain(`pid ${child.pid}`);
      } finally {
        child.kill();
      }
    });
    it("refuses to act on a broken audit log (AUDIT-LOG-BROKEN) and does not append to it", async () => {
      writeBundle(w, "dev");
      await audit(w, "dev").append({ env: "dev", command: "plan", result: "ok", by: "x" });
      const path = join(w.ctx.paths.auditDir, "dev.jsonl");
      writeFileSync(path, readFileSync(path, "utf8").replace('"by":"x"', '"by":"y"'));
      const before = readFileSync(path, "utf8");
      expectRefusal(w, await main(["apply", "dev"], w.ctx), "AUDIT-LOG-BROKEN");
      expect(readFileSync(path, "utf8")).toBe(before);
      w.err.length = 0;
      expectRefusal(w, await main(["audit", "verify", "dev"], w.ctx), "AUDIT-LOG-BROKEN");
    });
  });

  describe("plan: the promotion gate refuses before anything is synthesized", () => {
    it("refuses a prod plan from a commit staging never applied (PROMOTION-GATE)", async () => {
      expectRefusal(w, await main(["plan", "prod"], w.ctx), "PROMOTION-GATE");
      expect(existsSync(w.ctx.paths.outDir)).toBe(false);
      expect(audit(w, "prod").records()).toMatchObject([{ command: "plan", result: "refused", refusalId: "PROMOTION-GATE", commit: w.head }]);
    });
  });

  describe("audit verify", () => {
    it("reports an intact log", async () => {
      await audit(w, "dev").append({ env: "dev", command: "plan", result: "ok", by: "x" });
      expect(await main(["audit", "verify", "dev"], w.ctx)).toBe(0);
      expect(outText(w)).toContain("intact, 1 record(s)");
    });
  });

  describe("bundles", () => {
    it("lists every bundle; one that cannot be read is marked, its error follows the list, and the exit is 2", async () => {
      const a = writeBundle(w, "dev", { id: "20300101T000000Z-dev-aaaa" });
      const b = writeBundle(w, "dev", { id: "20300101T000001Z-dev-bbbb" });
      const c = writeBundle(w, "dev", { id: "20300101T000002Z-dev-cccc" });
      expect(await main(["bundles", "dev"], w.ctx)).toBe(0);
      expect(outText(w).trim().split("\n").map((l) => l.split(/\s+/).slice(0, 3))).toEqual([a, b, c].map(({ m }) => [m.id, "planned", m.plan.sha256]));

      // a plan file that cannot be read (a folder in its place)
      rmSync(join(b.dir, "plan.tfplan"));
      mkdirSync(join(b.dir, "plan.tfplan"));
      w.out.length = 0;
      expect(await main(["bundles", "dev"], w.ctx)).toBe(2);
      const lines = outText(w).trim().split("\n");
      expect(lines.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([[a.m.id, "planned"], [b.m.id, "unreadable"], [c.m.id, "planned"]]);
      expect(lines[1]).toContain(`bundle dev/${b.m.id} could not be read`);
      expect(errText(w)).toContain(`ERROR: bundle dev/${b.m.id} could not be read: EISDIR`);
      expect(errText(w)).toContain(`bundles: 1 of dev's bundles could not be read (${b.m.id}); the others are listed above`);
    });

    it("an env with signed approvals: an approval record that cannot be read marks its bundle alone, exit 2", async () => {
      const a = writeBundle(w, "prod", { id: "20300101T000000Z-prod-aaaa" });
      const b = writeBundle(w, "prod", { id: "20300101T000001Z-prod-bbbb" });
      // a signer's record that cannot be read (a folder in its place): read while listing, for the "signed" status
      mkdirSync(join(b.dir, "alice.approval.json"));
      expect(await main(["bundles", "prod"], w.ctx)).toBe(2);
      const lines = outText(w).trim().split("\n");
      expect(lines.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([[a.m.id, "planned"], [b.m.id, "unreadable"]]);
      expect(errText(w)).toContain(`ERROR: bundle prod/${b.m.id} could not be read: EISDIR`);
      expect(errText(w)).not.toContain("unexpected");
    });
  });
});

/**
 * Signed approvals through the CLI, without ssh-keygen (hermetic): the throwaway approvers are node
 * Ed25519 keys named by the demo's allowed_signers (honoured with TARGET=local on loopback); approve is
 * refused before anything is signed, and apply's refusals come from records signed in-process.
 */
describe("promote CLI: signed approvals of prod (no terraform, no ssh-keygen)", () => {
  interface Person {
    readonly principal: string;
    readonly key: KeyObject;
    readonly line: string;
    readonly pub: string;
  }
  let w: World;
  let people: Record<"alice" | "bob" | "mallory", Person>;
  let signersFile: string;
  const staged = (x: World) => new Ledger(x.ctx.paths.ledgerDir, x.ctx.paths.checkoutDir).record("staging", x.head, { bundleId: "s", planSha256: "f".repeat(64), appliedBy: "x", approvedBy: null });
  const listed = (): Person[] => [people.alice, people.bob];
  const digestOf = (list: Person[]) => approversDigest({ requireSigned: true, minApprovers: 1, approvers: list.map((p) => ({ principal: p.principal, publicKey: p.line })) });

  beforeEach(() => {
    const { dir: keys } = tempDir();
    const make = (name: string): Person => {
      const { privateKey } = generateKeyPairSync("ed25519");
      const line = publicKeyLineOf(privateKey);
      const pub = join(keys, `${name}.pub`);
      writeFileSync(pub, `${line} ${name}@laptop\n`);
      return { principal: `${name}@example.com`, key: privateKey, line, pub };
    };
    people = { alice: make("alice"), bob: make("bob"), mallory: make("mallory") };
    signersFile = join(keys, "allowed_signers");
    writeFileSync(signersFile, formatAllowedSigners(listed().map((p) => ({ principal: p.principal, publicKey: p.line })), APPROVAL_NAMESPACE));
    w = world("alice", { PROMOTE_DEMO_ALLOWED_SIGNERS: signersFile, TARGET: "local", LOCAL_ENDPOINT: "http://127.0.0.1:9" });
  });
  afterEach(() => w.cleanup());

  /** A prod bundle planned by alice (alice@example.com) with the demo's approver list. */
  const prodBundle = (overrides: Partial<Manifest> = {}) => writeBundle(w, "prod", { createdByEmail: "alice@example.com", approversSha256: digestOf(listed()), ...overrides });

  function statementOf(m: Manifest, dir: string, by: Person, overrides: Partial<ApprovalStatement> = {}): ApprovalStatement {
    return {
      env: "prod",
      account: m.account,
      bundleId: m.id,
      planSha256: m.plan.sha256,
      manifestSha256: sha256(readFileSync(join(dir, "manifest.json"))),
      commit: m.git.commit,
      approver: by.principal,
      signedAt: new Date(Date.now() - 1000).toISOString(),
      notAfter: m.expiresAt,
      ...overrides,
    };
  }
  /** A signed record as `promote approve` stores it, signed in-process by `key`. */
  function writeSigned(dir: string, s: ApprovalStatement, key: KeyObject, file = `${s.approver}.approval.json`): void {
    const text = renderStatement(s);
    writeFileSync(join(dir, file), formatSignedApproval(text, signSshSignature(key, APPROVAL_NAMESPACE, text)));
  }
  /** apply refuses with `id`, leaves no applied.json and audits the refusal in an intact chain. */
  async function applyRefused(dir: string, id: string): Promise<void> {
    expectRefusal(w, await main(["apply", "prod"], w.ctx), id);
    expect(existsSync(join(dir, "applied.json"))).toBe(false);
    expect(audit(w, "prod").records().slice(-1)[0]).toMatchObject({ command: "apply", result: "refused", refusalId: id });
    expect(audit(w, "prod").verify().ok).toBe(true);
  }

  describe("approve refuses before it signs anything", () => {
    it("the author of the plan, signing with their own listed key (FOUR-EYES)", async () => {
      const { dir, m } = prodBundle();
      expectRefusal(w, await main(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", people.alice.pub], w.ctx), "FOUR-EYES");
      expect(outText(w)).not.toContain("Signing this statement");
      expect(readdirSafe(dir).filter((f) => f.endsWith("approval.json"))).toEqual([]);
      expect(audit(w, "prod").records()).toMatchObject([{ command: "approve", result: "refused", refusalId: "FOUR-EYES", by: "alice@example.com" }]);
    });
    it("a key the list does not name (APPROVER-NOT-ALLOWED), and a listed principal claimed with another key", async () => {
      const { m } = prodBundle();
      expectRefusal(w, await main(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", people.mallory.pub, "--as", "mallory@example.com"], w.ctx), "APPROVER-NOT-ALLOWED");
      w.err.length = 0;
      expectRefusal(w, await main(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", people.mallory.pub, "--as", "bob@example.com"], w.ctx), "APPROVER-NOT-ALLOWED");
      expect(errText(w)).toContain("signing key SHA256:");
    });
    it("a typed --by name where signatures are required (INPUT-INVALID), and a hash that is not the bundle's", async () => {
      const { m } = prodBundle();
      expectRefusal(w, await main(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", people.bob.pub, "--by", "bob"], w.ctx), "INPUT-INVALID");
      w.err.length = 0;
      expectRefusal(w, await main(["approve", "prod", m.id, "--sha256", sha256("other plan"), "--key", people.bob.pub], w.ctx), "APPROVAL-HASH-MISMATCH");
    });
    it("the demo's approver list anywhere but the local emulator (an error naming the variable)", async () => {
      const { m } = prodBundle();
      const off = world("bob", { PROMOTE_DEMO_ALLOWED_SIGNERS: signersFile, TARGET: "aws" });
      try {
        expect(await main(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", people.bob.pub], off.ctx)).toBe(2);
        expect(off.err.join("")).toContain("PROMOTE_DEMO_ALLOWED_SIGNERS is honoured only with TARGET=local");
      } finally {
        off.cleanup();
      }
    });
  });

  describe("apply refuses, before terraform, every approval that is not a listed approver's signature over this bundle", () => {
    beforeEach(() => staged(w));

    it("a hand-written approval.json, even with the right hashes and another name (APPROVAL-UNSIGNED)", async () => {
      const { dir, m } = prodBundle();
      writeFileSync(join(dir, "approval.json"), JSON.stringify({ schemaVersion: 1, env: "prod", bundleId: m.id, planSha256: m.plan.sha256, manifestSha256: sha256(readFileSync(join(dir, "manifest.json"))), approvedBy: "bob", approvedAt: new Date().toISOString(), comment: null }));
      await applyRefused(dir, "APPROVAL-UNSIGNED");
    });
    it("a valid signature by a listed approver over another plan's hash (APPROVAL-STATEMENT-MISMATCH)", async () => {
      const { dir, m } = prodBundle();
      writeSigned(dir, statementOf(m, dir, people.bob, { planSha256: sha256("another plan") }), people.bob.key);
      await applyRefused(dir, "APPROVAL-STATEMENT-MISMATCH");
    });
    it("an approval copied from another bundle (APPROVAL-STATEMENT-MISMATCH)", async () => {
      const a = prodBundle();
      writeSigned(a.dir, statementOf(a.m, a.dir, people.bob), people.bob.key);
      const b = prodBundle();
      cpSync(join(a.dir, "bob@example.com.approval.json"), join(b.dir, "bob@example.com.approval.json"));
      rmSafe(a.dir);
      await applyRefused(b.dir, "APPROVAL-STATEMENT-MISMATCH");
    });
    it("a signature by a key not in the list (APPROVER-NOT-ALLOWED)", async () => {
      const { dir, m } = prodBundle();
      writeSigned(dir, statementOf(m, dir, people.mallory), people.mallory.key);
      await applyRefused(dir, "APPROVER-NOT-ALLOWED");
    });
    it("a statement edited after it was signed (APPROVAL-SIGNATURE-INVALID)", async () => {
      const { dir, m } = prodBundle();
      writeSigned(dir, statementOf(m, dir, people.bob), people.bob.key);
      const file = join(dir, "bob@example.com.approval.json");
      const rec = JSON.parse(readFileSync(file, "utf8"));
      rec.statement = rec.statement.replace(/not-after: .*\n/, `not-after: ${new Date(Date.parse(m.expiresAt) - 1000).toISOString()}\n`);
      writeFileSync(file, JSON.stringify(rec));
      await applyRefused(dir, "APPROVAL-SIGNATURE-INVALID");
    });
    it("the author's own signature (FOUR-EYES), and an expired one (APPROVAL-EXPIRED)", async () => {
      const own = prodBundle();
      writeSigned(own.dir, statementOf(own.m, own.dir, people.alice), people.alice.key);
      await applyRefused(own.dir, "FOUR-EYES");
      rmSafe(own.dir);
      w.err.length = 0;
      const old = prodBundle();
      const past = Date.now() - 60_000;
      writeSigned(old.dir, statementOf(old.m, old.dir, people.bob, { signedAt: new Date(past - 1000).toISOString(), notAfter: new Date(past).toISOString() }), people.bob.key);
      await applyRefused(old.dir, "APPROVAL-EXPIRED");
    });
    it("an approver list changed after the plan (APPROVERS-CHANGED), and a bundle planned before signed approvals", async () => {
      const { dir, m } = prodBundle();
      writeSigned(dir, statementOf(m, dir, people.bob), people.bob.key);
      // mallory adds herself to the list the apply reads
      writeFileSync(signersFile, formatAllowedSigners([...listed(), people.mallory].map((p) => ({ principal: p.principal, publicKey: p.line })), APPROVAL_NAMESPACE));
      await applyRefused(dir, "APPROVERS-CHANGED");
      rmSafe(dir);
      w.err.length = 0;
      const legacy = prodBundle({ approversSha256: undefined });
      await applyRefused(legacy.dir, "APPROVERS-CHANGED");
    });
  });
});

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? require("node:fs").readdirSync(dir) : [];
}
function rmSafe(dir: string): void {
  require("node:fs").rmSync(dir, { recursive: true, force: true });
}

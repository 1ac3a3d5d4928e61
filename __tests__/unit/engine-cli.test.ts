/**
 * The promote CLI without terraform: every refusal that happens before terraform runs, its output
 * (id, expected, found, fix), its exit code, and the audit record it leaves.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

interface World {
  ctx: EngineContext;
  out: string[];
  err: string[];
  root: string;
  head: string;
  cleanup: () => void;
}

function world(user = "alice"): World {
  const { dir: root, cleanup } = tempDir();
  const checkoutDir = join(root, "checkout");
  mkdirSync(checkoutDir);
  const head = gitRepo(checkoutDir);
  const out: string[] = [];
  const err: string[] = [];
  const ctx = defaultContext({ ...process.env, PROMOTE_USER: user }, { out: (t) => out.push(t), err: (t) => err.push(t) }, {
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
    it("binds the approval to the plan hash and the manifest hash, and audits it", async () => {
      const { dir, m } = writeBundle(w, "prod");
      expect(await main(["approve", "prod", "--sha256", m.plan.sha256, "--by", "bob", "--comment", "looks fine"], w.ctx)).toBe(0);
      const approval = JSON.parse(readFileSync(join(dir, "approval.json"), "utf8"));
      expect(approval).toMatchObject({ env: "prod", bundleId: m.id, planSha256: m.plan.sha256, approvedBy: "bob", comment: "looks fine" });
      expect(approval.manifestSha256).toBe(sha256(readFileSync(join(dir, "manifest.json"))));
      expect(audit(w, "prod").records()).toMatchObject([{ command: "approve", result: "ok", by: "bob", approver: "bob", planSha256: m.plan.sha256 }]);
    });
    it("refuses a hash that is not the bundle's (APPROVAL-HASH-MISMATCH)", async () => {
      const { dir } = writeBundle(w, "prod");
      expectRefusal(w, await main(["approve", "prod", "--sha256", sha256("x"), "--by", "bob"], w.ctx), "APPROVAL-HASH-MISMATCH");
      expect(existsSync(join(dir, "approval.json"))).toBe(false);
      expect(audit(w, "prod").records()).toMatchObject([{ command: "approve", result: "refused", refusalId: "APPROVAL-HASH-MISMATCH" }]);
    });
    it("refuses the author where four eyes are required (FOUR-EYES)", async () => {
      const { m } = writeBundle(w, "prod");
      expectRefusal(w, await main(["approve", "prod", "--sha256", m.plan.sha256, "--by", "alice"], w.ctx), "FOUR-EYES");
    });
    it("refuses a second approval (APPROVAL-EXISTS)", async () => {
      const { m } = writeBundle(w, "prod");
      expect(await main(["approve", "prod", "--sha256", m.plan.sha256, "--by", "bob"], w.ctx)).toBe(0);
      expectRefusal(w, await main(["approve", "prod", "--sha256", m.plan.sha256, "--by", "carol"], w.ctx), "APPROVAL-EXISTS");
    });
  });

  describe("apply: refusals before terraform runs", () => {
    const staged = (w: World) => new Ledger(w.ctx.paths.ledgerDir, w.ctx.paths.checkoutDir).record("staging", w.head, { bundleId: "s", planSha256: "f".repeat(64), appliedBy: "x", approvedBy: null });

    it("refuses an unapproved prod bundle (APPROVAL-MISSING) and records the refusal", async () => {
      staged(w);
      const { dir } = writeBundle(w, "prod");
      expectRefusal(w, await main(["apply", "prod"], w.ctx), "APPROVAL-MISSING");
      expect(existsSync(join(dir, "applied.json"))).toBe(false);
      expect(audit(w, "prod").records()).toMatchObject([{ command: "apply", result: "refused", refusalId: "APPROVAL-MISSING", by: "alice" }]);
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
      const { m } = writeBundle(w, "prod");
      await main(["approve", "prod", "--sha256", m.plan.sha256, "--by", "bob"], w.ctx);
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
});

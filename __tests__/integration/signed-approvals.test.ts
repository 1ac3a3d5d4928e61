/**
 * Issue 13: approvals that cannot be forged, end to end on the emulator with the stand-in stack, real
 * terraform and real SSH signatures (`ssh-keygen -Y sign` with throwaway keys made in the world's own
 * folder; the user's keys are never touched). prod here asks for TWO distinct approvers (its config with
 * minApprovers 2, given to the engine in-process); the approvers are the demo's allowed_signers
 * (alice@, bob@, carol@example.com), honoured only against the emulator.
 *
 * Every refusal is asserted by its id, leaves no applied.json, no state and no ledger tag, is the last
 * audit record, and leaves the audit chain intact.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironments, type EnvConfig } from "../../envs";
import { defaultContext, type EngineContext } from "../../scripts/lib/engine/commands";
import { renderStatement, formatSignedApproval, type ApprovalStatement } from "../../scripts/lib/engine/core/approval-statement";
import { sha256 } from "../../scripts/lib/engine/core/hash";
import type { Manifest } from "../../scripts/lib/engine/core/schemas";
import { resolveSigningKey, signStatement } from "../../scripts/lib/engine/io/signatures";
import { main } from "../../scripts/promote";
import { withEmulator } from "../helpers/emulator";
import { expectExit, standinWorld, type Run, type StandinWorld } from "../helpers/standin";

const STEP_MS = 10 * 60_000;
const BOB = "bob@example.com";
const CAROL = "carol@example.com";
const ALICE = "alice@example.com";

describe("signed approvals of prod (emulator, ssh-keygen): only listed approvers' signatures over this bundle apply", () => {
  const emu = withEmulator();
  let w: StandinWorld;
  let mallory: string;
  let envs: EnvConfig[];
  afterAll(() => w?.cleanup());

  /** The CLI in-process as `user`, with prod asking for two approvers. */
  async function cli(args: readonly string[], user = "alice"): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const base = defaultContext({ ...w.vars, PROMOTE_USER: user, PROMOTE_USER_EMAIL: `${user}@example.com` }, { out: (t) => out.push(t), err: (t) => err.push(t) });
    const ctx: EngineContext = { ...base, environments: () => envs };
    const code = await main(args, ctx);
    return { code, out: out.join(""), err: err.join("") };
  }
  const plansDir = () => join(w.root, "plans");
  const bundleDir = (id: string) => join(plansDir(), "prod", id);
  const audit = () => readFileSync(join(plansDir(), "_audit", "prod.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const approvalFiles = (id: string) => readdirSync(bundleDir(id)).filter((f) => f.endsWith("approval.json")).sort();

  async function plan(): Promise<Manifest> {
    const r = await cli(["plan", "prod"], "alice");
    expectExit(r, 0);
    const dir = /Bundle:\s+(\S+)/.exec(r.out)?.[1];
    if (!dir) throw new Error(`no bundle in the output:\n${r.out}`);
    return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  }

  /** The statement `promote approve` would sign for this bundle, with overrides. */
  function statementFor(m: Manifest, approver: string, overrides: Partial<ApprovalStatement> = {}): ApprovalStatement {
    return {
      env: "prod",
      account: m.account,
      bundleId: m.id,
      planSha256: m.plan.sha256,
      manifestSha256: sha256(readFileSync(join(bundleDir(m.id), "manifest.json"))),
      commit: m.git.commit,
      approver,
      signedAt: new Date().toISOString(),
      notAfter: m.expiresAt,
      ...overrides,
    };
  }
  /** Signs a statement with ssh-keygen -Y sign (the approval namespace) and stores it as promote approve would. */
  function signInto(id: string, s: ApprovalStatement, keyFile: string, file = `${s.approver}.approval.json`): void {
    const key = resolveSigningKey({ key: keyFile, dir: w.checkout });
    const text = renderStatement(s);
    writeFileSync(join(bundleDir(id), file), formatSignedApproval(text, signStatement(text, key)));
  }

  /** A refusal with `id`: exit 1, nothing applied, no state, no ledger tag, the last audit record, the chain intact. */
  async function refused(args: readonly string[], id: string, user = "alice"): Promise<Run> {
    const r = await cli(args, user);
    if (r.code !== 1 || !r.err.includes(`REFUSED ${id}:`)) throw new Error(`expected refusal ${id}, got exit ${r.code}\n${r.out.slice(-1500)}\n${r.err.slice(-2500)}`);
    expect(audit().slice(-1)[0]).toMatchObject({ result: "refused", refusalId: id });
    expectExit(await cli(["audit", "verify", "prod"]), 0);
    for (const b of readdirSync(join(plansDir(), "prod"))) expect(existsSync(join(bundleDir(b), "applied.json"))).toBe(false);
    expect(execFileSync("git", ["-C", w.checkout, "tag", "-l", "deployed/prod/*"], { encoding: "utf8" }).trim()).toBe("");
    return r;
  }

  beforeAll(async () => {
    w = await standinWorld(emu(), "prod");
    envs = loadEnvironments(undefined, w.vars).map((e) => (e.name === "prod" ? { ...e, delivery: { ...e.delivery, approvals: { ...e.delivery.approvals, minApprovers: 2 } } } : e));
    const keys = join(w.root, "mallory");
    mkdirSync(keys);
    mallory = join(keys, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "mallory (throwaway)", "-f", mallory], { timeout: 20_000 });
    const c1 = w.commit({ version: "a" });
    w.recordApply("staging", c1);
  }, STEP_MS);

  let p1: Manifest;
  let p2: Manifest;

  it(
    "approve prints the statement, refuses the author before signing, and stores one signed record per approver",
    async () => {
      p1 = await plan();
      expect(p1.createdByEmail).toBe(ALICE);
      expect(p1.approversSha256).toMatch(/^[0-9a-f]{64}$/);
      const review = await cli(["review", "prod", p1.id], "bob");
      expectExit(review, 0);
      expect(review.out).toContain(`npx promote approve prod ${p1.id} --sha256 ${p1.plan.sha256}\n`);
      // the author, with her own listed key: refused before anything is signed
      const own = await refused(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[ALICE]], "FOUR-EYES");
      expect(own.out).not.toContain("Signing this statement");
      // a key the list does not name
      await refused(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", mallory, "--as", BOB], "APPROVER-NOT-ALLOWED", "mallory");
      expect(approvalFiles(p1.id)).toEqual([]);
      // bob: what is signed is printed first
      const ok = await cli(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[BOB]], "bob");
      expectExit(ok, 0);
      expect(ok.out).toContain(`Signing this statement (namespace approval@envs-promotion)`);
      expect(ok.out).toContain(`plan-sha256: ${p1.plan.sha256}\n`);
      expect(ok.out).toContain(`approver: ${BOB}\n`);
      expect(approvalFiles(p1.id)).toEqual([`${BOB}.approval.json`]);
      // a second approval by bob is refused; the record is never replaced
      await refused(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[BOB]], "APPROVAL-EXISTS", "bob");
      expect(audit().filter((r) => r.command === "approve" && r.result === "ok").map((r) => r.by)).toEqual([BOB]);
    },
    STEP_MS,
  );

  it(
    "one approver where config asks two is refused (APPROVALS-TOO-FEW); a hand-written approval.json beside it is refused (APPROVAL-UNSIGNED)",
    async () => {
      await refused(["apply", "prod", p1.id], "APPROVALS-TOO-FEW");
      const dir = bundleDir(p1.id);
      writeFileSync(join(dir, "approval.json"), JSON.stringify({ schemaVersion: 1, env: "prod", bundleId: p1.id, planSha256: p1.plan.sha256, manifestSha256: sha256(readFileSync(join(dir, "manifest.json"))), approvedBy: "carol", approvedAt: new Date().toISOString(), comment: null }));
      await refused(["apply", "prod", p1.id], "APPROVAL-UNSIGNED");
      unlinkSync(join(dir, "approval.json"));
    },
    STEP_MS,
  );

  it(
    "refuses a valid signature over another plan's hash, an approval copied from another bundle, a key not in the list, the author's own signature, and an expired one",
    async () => {
      // a second bundle of the same commit (another plan file), approved by carol
      p2 = await plan();
      expect(p2.plan.sha256).not.toBe(p1.plan.sha256);
      expectExit(await cli(["approve", "prod", p2.id, "--sha256", p2.plan.sha256, "--key", w.keys[CAROL]], "carol"), 0);
      const carolFile = `${CAROL}.approval.json`;
      // carol's valid signature, over p2's plan hash, named as p1's
      signInto(p1.id, statementFor(p1, CAROL, { planSha256: p2.plan.sha256 }), w.keys[CAROL]);
      await refused(["apply", "prod", p1.id], "APPROVAL-STATEMENT-MISMATCH");
      // carol's approval of p2 copied into p1
      copyFileSync(join(bundleDir(p2.id), carolFile), join(bundleDir(p1.id), carolFile));
      const copied = await refused(["apply", "prod", p1.id], "APPROVAL-STATEMENT-MISMATCH");
      expect(copied.err).toContain(p2.id);
      // mallory's key, claiming to be carol
      signInto(p1.id, statementFor(p1, CAROL), mallory);
      await refused(["apply", "prod", p1.id], "APPROVER-NOT-ALLOWED");
      // alice (the author) signs her own plan with her listed key, bypassing approve's check
      unlinkSync(join(bundleDir(p1.id), carolFile));
      signInto(p1.id, statementFor(p1, ALICE), w.keys[ALICE]);
      await refused(["apply", "prod", p1.id], "FOUR-EYES");
      unlinkSync(join(bundleDir(p1.id), `${ALICE}.approval.json`));
      // carol approves for two seconds; the apply comes later
      expectExit(await cli(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[CAROL], "--valid-for", "2s"], "carol"), 0);
      await new Promise((r) => setTimeout(r, 2500));
      await refused(["apply", "prod", p1.id], "APPROVAL-EXPIRED");
      // and one signed after its own not-after
      const past = new Date(Date.now() - 60_000).toISOString();
      signInto(p1.id, statementFor(p1, CAROL, { notAfter: past }), w.keys[CAROL]);
      await refused(["apply", "prod", p1.id], "APPROVAL-EXPIRED");
      unlinkSync(join(bundleDir(p1.id), carolFile));
    },
    STEP_MS,
  );

  it(
    "refuses an approver list changed after the plan (APPROVERS-CHANGED), then applies with two listed approvers",
    async () => {
      expectExit(await cli(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[CAROL]], "carol"), 0);
      expect(approvalFiles(p1.id)).toEqual([`${BOB}.approval.json`, `${CAROL}.approval.json`]);
      // mallory adds herself to the list the apply reads (uncommitted, after the plan)
      const listed = readFileSync(w.allowedSigners, "utf8");
      const key = readFileSync(`${mallory}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
      writeFileSync(w.allowedSigners, `${listed}mallory@example.com namespaces="approval@envs-promotion" ${key}\n`);
      await refused(["apply", "prod", p1.id], "APPROVERS-CHANGED");
      writeFileSync(w.allowedSigners, listed);
      // the list as planned: p1 applies with bob's and carol's signatures
      const r = await cli(["apply", "prod", p1.id], "alice");
      expectExit(r, 0);
      expect(JSON.parse(readFileSync(join(bundleDir(p1.id), "applied.json"), "utf8"))).toMatchObject({ status: "succeeded" });
      const tag = execFileSync("git", ["-C", w.checkout, "tag", "-l", "deployed/prod/*", "--format=%(contents)"], { encoding: "utf8" });
      expect(tag).toContain(`${BOB}, ${CAROL}`);
      expect(audit().slice(-1)[0]).toMatchObject({ command: "apply", result: "ok" });
      expectExit(await cli(["audit", "verify", "prod"]), 0);
      rmSync(bundleDir(p2.id), { recursive: true, force: true });
    },
    STEP_MS,
  );
});

/**
 * Issue 13: approvals that cannot be forged, end to end on the emulator with the stand-in stack, real
 * terraform and real SSH signatures (`ssh-keygen -Y sign` with throwaway keys made in the world's own
 * folder; the user's keys are never touched). prod here asks for TWO distinct approvers (its config with
 * minApprovers 2, given to the engine in-process); the approvers are the demo's allowed_signers
 * (alice@, bob@, carol@example.com), honoured only against the emulator.
 *
 * Approvals live in prod's store (the default store): forgeries are put there, as anyone with write
 * access to the store bucket could, and since the store never forgets or replaces an approval each
 * forgery goes onto its own fresh bundle (one that bob validly approved). Every refusal is asserted by
 * its id, leaves no applied claim in the store, no state and no ledger tag, is the last audit record in
 * the store, and leaves the audit chain intact.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
import { auditRecords, putStoreApproval, withEnvStore } from "../helpers/store-records";

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
  // prod's records, where the engine keeps them: its store (the audit log, the approvals, the applied claims)
  const audit = () => auditRecords(w.vars, "prod");
  const approvalFiles = (id: string) => withEnvStore(w.vars, "prod", (s) => s.bundles.approvalNames(id));
  // Everything under applied/: the create-only claims and the outcomes recorded beside them.
  const appliedClaims = () => withEnvStore(w.vars, "prod", (s) => s.bundles.bucket.listKeys("applied/"));

  async function plan(): Promise<Manifest> {
    const r = await cli(["plan", "prod"], "alice");
    expectExit(r, 0);
    const dir = /Bundle:\s+(\S+)/.exec(r.out)?.[1];
    if (!dir) throw new Error(`no bundle in the output:\n${r.out}`);
    return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  }

  /**
   * A fresh bundle of prod with bob's valid signed approval (one of the two prod asks for): the target of
   * one forgery. The store never forgets or replaces an approval, so each forgery gets its own bundle.
   */
  async function victim(): Promise<Manifest> {
    const m = await plan();
    expectExit(await cli(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", w.keys[BOB]], "bob"), 0);
    return m;
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
  /** Signs a statement with ssh-keygen -Y sign (the approval namespace) and puts it into the bundle in prod's store, as someone with write access to the store could. */
  async function signInto(id: string, s: ApprovalStatement, keyFile: string, file = `${s.approver}.approval.json`): Promise<void> {
    const key = resolveSigningKey({ key: keyFile, dir: w.checkout });
    const text = renderStatement(s);
    await putStoreApproval(w.vars, "prod", id, file, formatSignedApproval(text, signStatement(text, key)));
  }

  /** A refusal with `id`: exit 1, nothing applied (no applied claim in prod's store), no ledger tag, the last audit record, the chain intact. */
  async function refused(args: readonly string[], id: string, user = "alice"): Promise<Run> {
    const r = await cli(args, user);
    if (r.code !== 1 || !r.err.includes(`REFUSED ${id}:`)) throw new Error(`expected refusal ${id}, got exit ${r.code}\n${r.out.slice(-1500)}\n${r.err.slice(-2500)}`);
    expect((await audit()).slice(-1)[0]).toMatchObject({ result: "refused", refusalId: id });
    expectExit(await cli(["audit", "verify", "prod"]), 0);
    expect(await appliedClaims()).toEqual([]);
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
    await w.recordApply("staging", c1);
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
      expect(await approvalFiles(p1.id)).toEqual([]);
      // bob: what is signed is printed first
      const ok = await cli(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[BOB]], "bob");
      expectExit(ok, 0);
      expect(ok.out).toContain(`Signing this statement (namespace approval@envs-promotion)`);
      expect(ok.out).toContain(`plan-sha256: ${p1.plan.sha256}\n`);
      expect(ok.out).toContain(`approver: ${BOB}\n`);
      expect(await approvalFiles(p1.id)).toEqual([`${BOB}.approval.json`]);
      // a second approval by bob is refused; the record is never replaced
      await refused(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[BOB]], "APPROVAL-EXISTS", "bob");
      expect((await audit()).filter((r) => r.command === "approve" && r.result === "ok").map((r) => r.by)).toEqual([BOB]);
    },
    STEP_MS,
  );

  it(
    "one approver where config asks two is refused (APPROVALS-TOO-FEW); a hand-written approval.json beside it is refused (APPROVAL-UNSIGNED)",
    async () => {
      await refused(["apply", "prod", p1.id], "APPROVALS-TOO-FEW");
      const v = await victim();
      const manifestSha256 = sha256(readFileSync(join(bundleDir(v.id), "manifest.json")));
      await putStoreApproval(w.vars, "prod", v.id, "approval.json", JSON.stringify({ schemaVersion: 1, env: "prod", bundleId: v.id, planSha256: v.plan.sha256, manifestSha256, approvedBy: "carol", approvedAt: new Date().toISOString(), comment: null }));
      await refused(["apply", "prod", v.id], "APPROVAL-UNSIGNED");
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
      // carol's valid signature, over p2's plan hash, named as another bundle's
      const otherHash = await victim();
      await signInto(otherHash.id, statementFor(otherHash, CAROL, { planSha256: p2.plan.sha256 }), w.keys[CAROL]);
      await refused(["apply", "prod", otherHash.id], "APPROVAL-STATEMENT-MISMATCH");
      // carol's approval of p2 copied, byte for byte, into another bundle
      const copiedInto = await victim();
      const carolsOfP2 = await withEnvStore(w.vars, "prod", (s) => s.bundles.approval(p2.id, carolFile));
      await putStoreApproval(w.vars, "prod", copiedInto.id, carolFile, carolsOfP2!.toString("utf8"));
      const copied = await refused(["apply", "prod", copiedInto.id], "APPROVAL-STATEMENT-MISMATCH");
      expect(copied.err).toContain(p2.id);
      // mallory's key, claiming to be carol
      const byMallory = await victim();
      await signInto(byMallory.id, statementFor(byMallory, CAROL), mallory);
      await refused(["apply", "prod", byMallory.id], "APPROVER-NOT-ALLOWED");
      // alice (the author) signs her own plan with her listed key, bypassing approve's check
      const own = await victim();
      await signInto(own.id, statementFor(own, ALICE), w.keys[ALICE]);
      await refused(["apply", "prod", own.id], "FOUR-EYES");
      // carol approves for two seconds; the apply comes later
      const brief = await victim();
      expectExit(await cli(["approve", "prod", brief.id, "--sha256", brief.plan.sha256, "--key", w.keys[CAROL], "--valid-for", "2s"], "carol"), 0);
      await new Promise((r) => setTimeout(r, 2500));
      await refused(["apply", "prod", brief.id], "APPROVAL-EXPIRED");
      // and one signed after its own not-after
      const late = await victim();
      await signInto(late.id, statementFor(late, CAROL, { notAfter: new Date(Date.now() - 60_000).toISOString() }), w.keys[CAROL]);
      await refused(["apply", "prod", late.id], "APPROVAL-EXPIRED");
    },
    STEP_MS,
  );

  it(
    "refuses an approver list changed after the plan (APPROVERS-CHANGED), then applies with two listed approvers",
    async () => {
      expectExit(await cli(["approve", "prod", p1.id, "--sha256", p1.plan.sha256, "--key", w.keys[CAROL]], "carol"), 0);
      expect(await approvalFiles(p1.id)).toEqual([`${BOB}.approval.json`, `${CAROL}.approval.json`]);
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
      expect(await appliedClaims()).toEqual([`applied/${p1.git.commit}/${p1.id}.json`, `applied/${p1.git.commit}/${p1.id}.outcome.json`]);
      const tag = execFileSync("git", ["-C", w.checkout, "tag", "-l", "deployed/prod/*", "--format=%(contents)"], { encoding: "utf8" });
      expect(tag).toContain(`${BOB}, ${CAROL}`);
      expect((await audit()).slice(-1)[0]).toMatchObject({ command: "apply", result: "ok" });
      expectExit(await cli(["audit", "verify", "prod"]), 0);
    },
    STEP_MS,
  );
});

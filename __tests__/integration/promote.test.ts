/**
 * Issue 5: the promotion engine end to end, the CLI (`node bin/promote.js`) with real terraform against the
 * emulator. A stand-in app (__tests__/fixtures/standin/synth.js: the project's provider and S3 backend,
 * SSM parameters from the checkout's standin.json) keeps each plan and apply to seconds; the backends are
 * the real bootstrap stacks (`promote bootstrap`), and so are the stores: bundles, approvals, applied claims
 * and the audit logs live in each env's store (the default), and the test reads and attacks them there.
 * The checkout is a temporary git repository whose commits the test makes; the ledger is another one.
 *
 * The tests share one world and run in order (a promotion is a story): dev applies, is refused a replayed,
 * tampered, expired and stale bundle, two applies race; staging and prod follow through the promotion gate,
 * approval and four eyes. Refusals are matched by id (scripts/lib/engine/RULES.md), never by wording; after
 * every refusal the env's state (serial, lineage, every resource) is what it was and the refusal is the last
 * record of the env's audit log.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { getEnvironment } from "../../envs";
import { makeThrowawayApprovers } from "../../scripts/lib/engine/io/signatures";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { withEmulator } from "../helpers/emulator";
import { auditRecords, copyStoreBundle, tamperStoreFile, withEnvStore } from "../helpers/store-records";
import {
  accountCredentials,
  ACCOUNTS,
  clientConfig,
  commitFiles,
  ENV_NAMES,
  expectExit,
  expectRefusal,
  gitInit,
  holdStateLock,
  isolatedVars,
  ledgerTags,
  promote,
  removeDir,
  run,
  ssmParameter,
  statePull,
  tempDir,
  terraform,
  type EnvName,
  type PromoteRun,
  type StateSnapshot,
} from "../helpers/integration";

const FIXTURE = join(PROJECT_ROOT, "__tests__", "fixtures", "standin", "synth.js");
/** Bootstrap of three envs in parallel (~1-1.5 min on a loaded 2-core machine) plus the emulator. */
const SETUP_MS = 10 * 60_000;
/**
 * One story step: up to three plans and two applies of the stand-in. A plan of even one SSM parameter is
 * ~20 s here (the AWS provider binary starts for plan and for show -json), an apply ~10 s; a step takes
 * 0.5-2 min, more when CI runs other suites beside it.
 */
const STEP_MS = 10 * 60_000;

const AUTHOR = "alice";
const APPROVER = "bob";

describe("promote on the emulator: plan, approve, apply exactly the reviewed plan, and every refusal", () => {
  const emu = withEmulator();
  let root: string;
  let checkout: string;
  let ledger: string;
  let plansDir: string;
  let vars: NodeJS.ProcessEnv;
  /** Commits of the story, by name. */
  const commits: Record<string, string> = {};

  const stackDir = (env: EnvName) => join(root, "cdktf.out", "stacks", env);
  // A user "alice" plans as alice@example.com (four eyes compares it with the signers' principals).
  const cli = (args: readonly string[], user = AUTHOR): Promise<PromoteRun> => promote(args, { ...vars, PROMOTE_USER: user, PROMOTE_USER_EMAIL: user.includes("@") ? "" : `${user}@example.com` });
  /** prod requires signed approvals: throwaway approvers (ssh-keygen keys in the test's folder), named by the demo's allowed_signers. */
  let keys: Record<string, string>;
  const state = (env: EnvName): Promise<StateSnapshot> => statePull(stackDir(env), vars);
  const param = (env: EnvName, name = "greeting") => ssmParameter(emu().endpoint, ACCOUNTS[env], `/standin/${env}/${name}`);
  const bundles = (env: EnvName): string[] => (existsSync(join(plansDir, env)) ? readdirSync(join(plansDir, env)).filter((n) => !n.startsWith(".")).sort() : []);
  const bundleDir = (env: EnvName, id: string) => join(plansDir, env, id);
  const manifest = (env: EnvName, id: string) => JSON.parse(readFileSync(join(bundleDir(env, id), "manifest.json"), "utf8"));
  /** The env's audit records, from its store (where the engine keeps them). */
  const audit = (env: EnvName) => auditRecords(vars, env);

  /** Commits the stand-in's code: its SSM parameters. */
  function commitCode(name: string, params: Record<string, string>): string {
    commits[name] = commitFiles(checkout, { "standin.json": `${JSON.stringify({ params }, null, 2)}\n` }, `stand-in ${name}`);
    return commits[name];
  }

  /** `promote plan <env>` (must succeed): the new bundle's id. */
  async function plan(env: EnvName, extra: string[] = [], user = AUTHOR): Promise<string> {
    const before = new Set(bundles(env));
    expectExit(await cli(["plan", env, ...extra], user), 0);
    const created = bundles(env).filter((b) => !before.has(b));
    expect(created).toHaveLength(1);
    return created[0];
  }

  /**
   * Runs a command that must be refused with `id`: exit 1, that id, the env's state exactly as before,
   * and the refusal recorded as the last record of the env's audit log.
   */
  async function refused(env: EnvName, args: string[], id: string, user = AUTHOR): Promise<PromoteRun> {
    const before = existsSync(join(stackDir(env), ".terraform")) ? await state(env) : null;
    const r = await cli(args, user);
    expectRefusal(r, id);
    if (before !== null) expect(await state(env)).toEqual(before);
    expect((await audit(env)).slice(-1)[0]).toMatchObject({ result: "refused", refusalId: id, by: user });
    return r;
  }

  beforeAll(async () => {
    root = tempDir("promote-it");
    checkout = join(root, "checkout");
    ledger = join(root, "ledger");
    plansDir = join(root, "plans");
    for (const d of [checkout, ledger]) {
      mkdirSync(d);
      gitInit(d);
    }
    vars = isolatedVars(emu(), {
      PROMOTE_CHECKOUT_DIR: checkout,
      PROMOTE_HOME: plansDir,
      PROMOTE_LEDGER_DIR: ledger,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE)}`,
      PROMOTE_USER: AUTHOR,
    });
    mkdirSync(join(root, "approver-keys"), { mode: 0o700 });
    const approvers = makeThrowawayApprovers(join(root, "approver-keys"), [`${AUTHOR}@example.com`, `${APPROVER}@example.com`]);
    keys = approvers.keys;
    vars.PROMOTE_DEMO_ALLOWED_SIGNERS = approvers.allowedSigners;
    commitCode("c1", { greeting: "hello-1" });
    // dist/ up to date once (the parallel CLI runs below would each check it).
    expectExit(await run(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--if-needed", "--quiet"], { cwd: PROJECT_ROOT, env: vars }), 0, "setup --if-needed");
    // Each env's state bucket and lock table, from the real bootstrap stacks, in its own account.
    const boots = await Promise.all(ENV_NAMES.map((env) => cli(["bootstrap", env])));
    boots.forEach((r) => expectExit(r, 0));
  }, SETUP_MS);

  afterAll(() => removeDir(root));

  // ------------------------------------------------------------------------------------------- dev

  it(
    "dev: plan then apply changes the state, creates the resource in dev's account, and tags the ledger",
    async () => {
      const id = await plan("dev");
      expect(manifest("dev", id)).toMatchObject({ env: "dev", account: ACCOUNTS.dev, git: { commit: commits.c1 }, priorState: null, counts: { add: 1 } });
      expect(await state("dev")).toEqual({ serial: null, lineage: null, resources: {} });

      const r = await cli(["apply", "dev", id]);
      expectExit(r, 0);
      const after = await state("dev");
      expect(after.serial).toBeGreaterThan(0);
      expect(after.lineage).toMatch(/^[0-9a-f-]{36}$/);
      expect(Object.keys(after.resources)).toEqual(["aws_ssm_parameter.param-greeting"]);
      expect(after.resources["aws_ssm_parameter.param-greeting"]).toMatchObject({ name: "/standin/dev/greeting", value: "hello-1" });
      // In dev's account, and only there.
      expect(await param("dev")).toBe("hello-1");
      expect(await ssmParameter(emu().endpoint, ACCOUNTS.prod, "/standin/dev/greeting")).toBeNull();
      expect(ledgerTags(ledger, "dev")).toEqual([{ tag: expect.stringMatching(/^deployed\/dev\//), commit: commits.c1 }]);
      expect(JSON.parse(readFileSync(join(bundleDir("dev", id), "applied.json"), "utf8"))).toMatchObject({ status: "succeeded", stateAfter: { serial: after.serial, lineage: after.lineage } });

      // The same bundle again: refused, nothing changes.
      await refused("dev", ["apply", "dev", id], "BUNDLE-ALREADY-APPLIED");
    },
    STEP_MS,
  );

  it(
    "dev: one flipped byte in the plan file is refused (BUNDLE-INCOMPLETE in the store); an expired bundle is refused (BUNDLE-EXPIRED); the intact bundle applies, whatever its cache copy holds",
    async () => {
      commitCode("c2", { greeting: "hello-2" });
      const tampered = await plan("dev");
      // One byte of the plan file flipped in dev's store, with a marker rewritten to vouch for it, as
      // someone with write access to the store bucket could: a bundle file with another object version
      // than the one it was completed with is refused, and stays refused.
      await tamperStoreFile(vars, "dev", tampered, "plan.tfplan", (bytes) => {
        bytes[Math.floor(bytes.length / 2)] ^= 0x01;
        return bytes;
      });
      await refused("dev", ["apply", "dev", tampered], "BUNDLE-INCOMPLETE");
      // A flipped byte in this machine's cache copy is never applied: the bundle is fetched from the store again.
      const id = await plan("dev");
      const cached = join(bundleDir("dev", id), "plan.tfplan");
      const bytes = readFileSync(cached);
      bytes[0] ^= 0x01;
      writeFileSync(cached, bytes);

      // A bundle that lived past its time-to-live (1 s): waited out, never forged.
      const short = await plan("dev", ["--ttl", "1s"]);
      const expiresAt = Date.parse(manifest("dev", short).expiresAt);
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1_000));
      await refused("dev", ["apply", "dev", short], "BUNDLE-EXPIRED");

      // The intact bundle (its flipped cache copy replaced from the store): it applies.
      const before = await state("dev");
      expectExit(await cli(["apply", "dev", id]), 0);
      const after = await state("dev");
      expect(after.lineage).toBe(before.lineage);
      expect(after.serial).toBeGreaterThan(before.serial!);
      expect(await param("dev")).toBe("hello-2");
    },
    STEP_MS,
  );

  it(
    "dev: concurrent applies: one runs; one started meanwhile is refused (ENV-LOCKED); one that waits then finds its plan stale (PLAN-STALE), as does any bundle planned before another apply; the state stays whole",
    async () => {
      commitCode("c3", { greeting: "hello-3", color: "blue" });
      const first = await plan("dev");
      const second = await plan("dev");
      const before = await state("dev");
      // The state planned against, as terraform recorded it in each plan file: the backend's snapshot.
      expect(manifest("dev", first).priorState).toEqual({ serial: before.serial, lineage: before.lineage });
      expect(manifest("dev", second).priorState).toEqual({ serial: before.serial, lineage: before.lineage });
      const lockFile = join(plansDir, "_locks", "dev.lock");

      const running = cli(["apply", "dev", first]);
      const deadline = Date.now() + 60_000;
      while (!existsSync(lockFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(lockFile)).toBe(true);
      const [winner, locked, waited] = await Promise.all([running, cli(["apply", "dev", second], "dave"), cli(["apply", "dev", second, "--wait", "300"], "erin")]);

      expectExit(winner, 0);
      expectRefusal(locked, "ENV-LOCKED");
      expectRefusal(waited, "PLAN-STALE");
      expect(waited.err).toMatch(/waiting up to 300s for the dev lock/);

      // One apply's worth of change, same lineage, and the state matches the emulator (an empty plan).
      const after = await state("dev");
      expect(after.lineage).toBe(before.lineage);
      expect(Object.keys(after.resources).sort()).toEqual(["aws_ssm_parameter.param-color", "aws_ssm_parameter.param-greeting"]);
      expect(JSON.parse(readFileSync(join(bundleDir("dev", first), "applied.json"), "utf8")).stateAfter).toEqual({ serial: after.serial, lineage: after.lineage });
      expect(existsSync(join(bundleDir("dev", second), "applied.json"))).toBe(false);
      expectExit(await terraform(stackDir("dev"), ["plan", "-detailed-exitcode", "-lock=true", "-input=false", "-no-color"], vars), 0, "terraform plan after the race");
      expect([await param("dev", "greeting"), await param("dev", "color")]).toEqual(["hello-3", "blue"]);
      const refusals = (await audit("dev")).filter((r) => r.result === "refused").map((r) => `${r.by}:${r.refusalId}`);
      expect(refusals).toEqual(expect.arrayContaining(["dave:ENV-LOCKED", "erin:PLAN-STALE"]));

      // The plain case, nothing running: a bundle planned before another apply changed the state.
      await refused("dev", ["apply", "dev", second], "PLAN-STALE");
    },
    STEP_MS,
  );

  it(
    "dev: while another terraform holds the state's DynamoDB lock, promote refuses (STATE-LOCKED) and changes nothing",
    async () => {
      const cfg = getEnvironment("dev");
      const before = await state("dev");
      const held = await holdStateLock(stackDir("dev"), vars, {
        endpoint: emu().endpoint,
        credentials: await accountCredentials(emu().endpoint, ACCOUNTS.dev),
        table: cfg.stateBackend.lockTable,
        bucket: cfg.stateBackend.bucket,
        key: cfg.stateBackend.key,
      });
      try {
        const r = await cli(["apply", "dev", "--auto"]);
        expectRefusal(r, "STATE-LOCKED");
      } finally {
        await held.release();
      }
      expect(await state("dev")).toEqual(before);
      expect((await audit("dev")).slice(-1)[0]).toMatchObject({ result: "refused", refusalId: "STATE-LOCKED" });
    },
    STEP_MS,
  );

  // ------------------------------------------------------------------------------- staging, prod

  it(
    "staging then prod: the gate passes for what the previous env applied; prod needs an approval by someone else than the author; approved, the reviewed bytes apply",
    async () => {
      // staging: the commit dev applied (c3); no approval required there.
      const s1 = await plan("staging");
      expect(manifest("staging", s1)).toMatchObject({ env: "staging", account: ACCOUNTS.staging, git: { commit: commits.c3 } });
      expectExit(await cli(["apply", "staging", s1]), 0);
      expect(await param("staging")).toBe("hello-3");
      expect(ledgerTags(ledger, "staging").map((t) => t.commit)).toEqual([commits.c3]);

      // prod: planned by alice.
      const p1 = await plan("prod");
      const m = manifest("prod", p1);
      expect(m).toMatchObject({ env: "prod", account: ACCOUNTS.prod, createdBy: AUTHOR, git: { commit: commits.c3 }, priorState: null });
      await refused("prod", ["apply", "prod", p1], "APPROVALS-TOO-FEW");
      // the author signing with her own listed key; the approver signing another hash: refused before signing
      await refused("prod", ["approve", "prod", p1, "--sha256", m.plan.sha256, "--key", keys[`${AUTHOR}@example.com`]], "FOUR-EYES", `${AUTHOR}@example.com`);
      await refused("prod", ["approve", "prod", p1, "--sha256", "0".repeat(64), "--key", keys[`${APPROVER}@example.com`]], "APPROVAL-HASH-MISMATCH", `${APPROVER}@example.com`);
      expect(await withEnvStore(vars, "prod", (st) => st.bundles.approvalNames(p1))).toEqual([]);

      // The reviewer reads the plan SHA-256 from review and approves exactly that.
      const review = await cli(["review", "prod", p1], APPROVER);
      expectExit(review, 0);
      expect(review.out).toContain(`Plan SHA-256 being approved: ${m.plan.sha256}`);
      expectExit(await cli(["approve", "prod", p1, "--sha256", m.plan.sha256, "--key", keys[`${APPROVER}@example.com`]], APPROVER), 0);
      expectExit(await cli(["apply", "prod", p1]), 0);

      const after = await state("prod");
      expect(after.serial).toBeGreaterThan(0);
      expect(await param("prod")).toBe("hello-3");
      expect(await param("prod", "color")).toBe("blue");
      expect(ledgerTags(ledger, "prod").map((t) => t.commit)).toEqual([commits.c3]);
      expect((await audit("prod")).filter((r) => r.command === "approve" && r.result === "ok").map((r) => r.by)).toEqual([`${APPROVER}@example.com`]);
    },
    STEP_MS,
  );

  it(
    "prod refuses a staging bundle (BUNDLE-ENV-MISMATCH) and a commit staging never applied (PROMOTION-GATE); staging refuses one dev never applied",
    async () => {
      commitCode("c4", { greeting: "hello-4", color: "blue" });
      expectExit(await cli(["apply", "dev", "--auto"]), 0);
      const s2 = await plan("staging");

      // The staging bundle copied among prod's bundles and applied as prod.
      await copyStoreBundle(vars, "staging", "prod", s2);
      await refused("prod", ["apply", "prod", s2], "BUNDLE-ENV-MISMATCH");
      // c4: dev applied it, staging has not yet: prod may not even plan it.
      const prodBundles = bundles("prod");
      await refused("prod", ["plan", "prod"], "PROMOTION-GATE");
      expect(bundles("prod")).toEqual(prodBundles);
      expect(await param("prod")).toBe("hello-3");

      // The staging bundle was a good one for staging.
      expectExit(await cli(["apply", "staging", s2]), 0);
      expect(await param("staging")).toBe("hello-4");

      // c5: nobody applied it. Neither staging nor prod plans it.
      commitCode("c5", { greeting: "hello-5", color: "blue" });
      await refused("staging", ["plan", "staging"], "PROMOTION-GATE");
      await refused("prod", ["plan", "prod"], "PROMOTION-GATE");
    },
    STEP_MS,
  );

  // ---------------------------------------------------------------------------------- the records

  it("every audit log verifies and holds its refusals; the ledger tags every successful apply and only those", async () => {
    for (const env of ENV_NAMES) {
      const r = await cli(["audit", "verify", env]);
      expectExit(r, 0);
      expect(r.out).toMatch(/intact, \d+ record\(s\)/);
    }
    const refusalsOf = async (env: EnvName) => (await audit(env)).filter((r) => r.result === "refused").map((r) => r.refusalId);
    expect((await refusalsOf("dev")).sort()).toEqual(["BUNDLE-ALREADY-APPLIED", "BUNDLE-EXPIRED", "BUNDLE-INCOMPLETE", "ENV-LOCKED", "PLAN-STALE", "PLAN-STALE", "STATE-LOCKED"]);
    expect(await refusalsOf("staging")).toEqual(["PROMOTION-GATE"]);
    expect((await refusalsOf("prod")).sort()).toEqual(["APPROVAL-HASH-MISMATCH", "APPROVALS-TOO-FEW", "BUNDLE-ENV-MISMATCH", "FOUR-EYES", "PROMOTION-GATE", "PROMOTION-GATE"]);

    // Ledger: one tag per successful apply, on the applied commit, and audit "ok" applies agree.
    const applies = { dev: [commits.c1, commits.c2, commits.c3, commits.c4], staging: [commits.c3, commits.c4], prod: [commits.c3] };
    for (const env of ENV_NAMES) {
      expect({ env, commits: ledgerTags(ledger, env).map((t) => t.commit) }).toEqual({ env, commits: applies[env] });
      expect((await audit(env)).filter((r) => r.command.startsWith("apply") && r.result === "ok")).toHaveLength(applies[env].length);
      const listed = await cli(["ledger", env]);
      expectExit(listed, 0);
      for (const c of applies[env]) expect(listed.out).toContain(c);
    }

    // Each env's state object is in its own bucket, in its own account.
    for (const env of ENV_NAMES) {
      const cfg = getEnvironment(env);
      const s3 = new S3Client({ ...clientConfig(emu().endpoint, await accountCredentials(emu().endpoint, ACCOUNTS[env])), forcePathStyle: true });
      try {
        const objects = await s3.send(new ListObjectsV2Command({ Bucket: cfg.stateBackend.bucket }));
        expect((objects.Contents ?? []).map((o) => o.Key)).toEqual([`bootstrap/${cfg.name}/terraform.tfstate`, cfg.stateBackend.key]);
      } finally {
        s3.destroy();
      }
    }
  }, STEP_MS);
});

/**
 * Issue 11: the reviewed plan is the applied plan, also against a hostile process and a crash. Each test
 * is an attack on apply, run with the real CLI (`node bin/promote.js`), real terraform and the emulator,
 * with the stand-in app (__tests__/fixtures/standin/synth.js: a few SSM parameters, optionally one slow
 * S3 lifecycle configuration). Each asserts the refusal or named error, and that the state, the audit
 * chain and the ledger are intact and truthful afterwards.
 *
 * The tests share one world (dev, staging, prod backends created through the SDK; the checkout is also
 * the ledger; the local store, PROMOTE_STORE=local) and run in order; the stopped-emulator test has an
 * emulator of its own.
 */
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { getEnvironment } from "../../envs";
import { makeThrowawayApprovers } from "../../scripts/lib/engine/io/signatures";
import { PROJECT_ROOT, terraformBinary } from "../../scripts/lib/toolchain";
import { startTestEmulator, withEmulator, type TestEmulator } from "../helpers/emulator";
import {
  accountCredentials,
  ACCOUNTS,
  clientConfig,
  commitFiles,
  expectExit,
  expectRefusal,
  git,
  gitInit,
  isolatedVars,
  ledgerTags,
  promote,
  removeDir,
  run,
  ssmParameter,
  statePull,
  tempDir,
  type EnvName,
  type PromoteRun,
  type StateSnapshot,
} from "../helpers/integration";

const FIXTURE = join(PROJECT_ROOT, "__tests__", "fixtures", "standin", "synth.js");
const SETUP_MS = 5 * 60_000;
const STEP_MS = 25 * 60_000;
const AUTHOR = "alice";

interface AuditLine {
  seq: number;
  command: string;
  result: string;
  refusalId?: string;
  by: string;
  bundleId?: string;
  planSha256?: string;
  detail?: string;
}

/** Creates an env's state bucket and lock table in its own account (what `promote bootstrap` makes, minus its settings). */
async function createBackend(endpoint: string, env: EnvName): Promise<void> {
  const cfg = getEnvironment(env);
  const creds = await accountCredentials(endpoint, ACCOUNTS[env]);
  const s3 = new S3Client({ ...clientConfig(endpoint, creds), forcePathStyle: true });
  const ddb = new DynamoDBClient(clientConfig(endpoint, creds));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: cfg.stateBackend.bucket }));
    await ddb.send(
      new CreateTableCommand({
        TableName: cfg.stateBackend.lockTable,
        AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } finally {
    s3.destroy();
    ddb.destroy();
  }
}

/** Processes whose working directory is `dir` (terraform, its providers, the guard). */
function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir) pids.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe("issue 11: apply's integrity and crash safety, attacked", () => {
  const emu = withEmulator();
  let root: string;
  let checkout: string;
  let plansDir: string;
  let vars: NodeJS.ProcessEnv;
  const commits: Record<string, string> = {};

  const stackDir = (env: EnvName) => join(root, "cdktf.out", "stacks", env);
  // A user "alice" plans as alice@example.com (four eyes compares it with the signers' principals).
  const cli = (args: readonly string[], user = AUTHOR, extra: NodeJS.ProcessEnv = {}): Promise<PromoteRun> =>
    promote(args, { ...vars, PROMOTE_USER: user, PROMOTE_USER_EMAIL: /^[a-z]+$/.test(user) ? `${user}@example.com` : "", ...extra });
  /** prod requires signed approvals: throwaway approvers' key files (ssh-keygen, in the test's folder), by principal. */
  let keys: Record<string, string>;
  const state = (env: EnvName): Promise<StateSnapshot> => statePull(stackDir(env), vars);
  const param = (env: EnvName, name = "greeting") => ssmParameter(emu().endpoint, ACCOUNTS[env], `/standin/${env}/${name}`);
  const bundles = (env: EnvName): string[] => (existsSync(join(plansDir, env)) ? readdirSync(join(plansDir, env)).filter((n) => !n.startsWith(".")).sort() : []);
  const bundleDir = (env: EnvName, id: string) => join(plansDir, env, id);
  const manifest = (env: EnvName, id: string) => JSON.parse(readFileSync(join(bundleDir(env, id), "manifest.json"), "utf8"));
  const applied = (env: EnvName, id: string) => {
    const f = join(bundleDir(env, id), "applied.json");
    return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
  };
  const audit = (env: EnvName): AuditLine[] => {
    const file = join(plansDir, "_audit", `${env}.jsonl`);
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
  };
  const lastAudit = (env: EnvName) => audit(env).slice(-1)[0];
  const privateCopies = (env: EnvName): string[] => {
    const dir = join(plansDir, "_private", env);
    return existsSync(dir) ? readdirSync(dir).map((d) => join(dir, d, "plan.tfplan")).filter((f) => existsSync(f)) : [];
  };

  async function auditIntact(env: EnvName): Promise<void> {
    expectExit(await cli(["audit", "verify", env]), 0);
  }

  function commitCode(name: string, code: Record<string, unknown>): string {
    commits[name] = commitFiles(checkout, { "standin.json": `${JSON.stringify(code, null, 2)}\n` }, `stand-in ${name}`);
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

  /** Records that `env` applied `commit` (the ledger is the checkout): opens the next env's gate. */
  function gateOpenFor(env: EnvName, commit: string): void {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
    git(checkout, ["tag", "-a", `deployed/${env}/${stamp}-t`, "-m", `test\n\n${JSON.stringify({ env, commit, bundleId: "test" })}`, commit]);
  }

  /** A refusal with `id`; the state exactly as before; the refusal the last audit record; the audit chain intact. */
  async function refused(env: EnvName, args: string[], id: string, user = AUTHOR, extra: NodeJS.ProcessEnv = {}): Promise<PromoteRun> {
    const before = existsSync(join(stackDir(env), ".terraform")) ? await state(env) : null;
    const tags = ledgerTags(checkout, env);
    const r = await cli(args, user, extra);
    expectRefusal(r, id);
    if (before !== null) expect(await state(env)).toEqual(before);
    expect(lastAudit(env)).toMatchObject({ result: "refused", refusalId: id });
    expect(ledgerTags(checkout, env)).toEqual(tags);
    await auditIntact(env);
    return r;
  }

  beforeAll(async () => {
    root = tempDir("promote-integrity");
    checkout = join(root, "checkout");
    plansDir = join(root, "plans");
    mkdirSync(checkout);
    gitInit(checkout);
    vars = isolatedVars(emu(), {
      // The one-machine store, chosen explicitly: these attacks are on this machine's process and files
      // (the private plan copy, the guard, a crash, a dead endpoint), the same with either store; this
      // suite is also the end-to-end run of PROMOTE_STORE=local. The shared store's own faults and
      // attacks: store.test.ts, store-faults.test.ts, promote.test.ts, signed-approvals.test.ts.
      PROMOTE_STORE: "local",
      PROMOTE_CHECKOUT_DIR: checkout,
      PROMOTE_HOME: plansDir,
      PROMOTE_LEDGER_DIR: checkout,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE)}`,
      PROMOTE_USER: AUTHOR,
    });
    mkdirSync(join(root, "approver-keys"), { mode: 0o700 });
    const approvers = makeThrowawayApprovers(join(root, "approver-keys"), ["alice@example.com", "bob@example.com"]);
    keys = approvers.keys;
    vars.PROMOTE_DEMO_ALLOWED_SIGNERS = approvers.allowedSigners;
    commitCode("c1", { params: { greeting: "hello-1" } });
    expectExit(await run(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--if-needed", "--quiet"], { cwd: PROJECT_ROOT, env: vars }), 0, "setup --if-needed");
    for (const env of ["dev", "staging", "prod"] as const) await createBackend(emu().endpoint, env);
  }, SETUP_MS);

  afterAll(() => removeDir(root));

  // ---------------------------------------------------------------------------------- 8. identities

  it(
    "8 + 5: names are validated before anything changes (IDENTITY-INVALID, INPUT-INVALID) and compared as a reader reads them (FOUR-EYES)",
    async () => {
      // GIVEN an ungated env and names a reader cannot see, git refuses, or that never end
      for (const by of ["", "   ", "alice\u200b", "\u202eecila", "<>", "...", "x".repeat(101), "bob\nmallory"]) {
        await refused("dev", ["apply", "dev", "--auto", "--by", by], "IDENTITY-INVALID");
      }
      // the env was never touched: no bundle, no state
      expect(bundles("dev")).toEqual([]);
      // PROMOTE_USER is validated too
      await refused("dev", ["plan", "dev"], "IDENTITY-INVALID", "\u0007");

      // GIVEN prod's gate open for c1 and a plan by alice
      gateOpenFor("staging", commits.c1);
      const p = await plan("prod");
      const sha = manifest("prod", p).plan.sha256;
      // WHEN alice signs her own plan with her listed key: refused (prod's approvals are signatures; the
      // spellings of a name four eyes folds are the unit tests' (approval-checks.test.ts))
      await refused("prod", ["approve", "prod", p, "--sha256", sha, "--key", keys["alice@example.com"]], "FOUR-EYES");
      // a typed name or a comment is no part of a signed approval
      await refused("prod", ["approve", "prod", p, "--sha256", sha, "--key", keys["bob@example.com"], "--by", "bob"], "INPUT-INVALID", "bob");
      await refused("prod", ["approve", "prod", p, "--sha256", sha, "--key", keys["bob@example.com"], "--comment", "ok\u0007"], "INPUT-INVALID", "bob");
      expect(readdirSync(bundleDir("prod", p)).filter((f) => f.endsWith("approval.json"))).toEqual([]);
      // bob is another person: accepted
      expectExit(await cli(["approve", "prod", p, "--sha256", sha, "--key", keys["bob@example.com"]], "bob"), 0);
    },
    STEP_MS,
  );

  // ------------------------------------------------------------------------ 4. the terraform version

  it(
    "4: a terraform reporting another version than the plan's is refused before it runs (TERRAFORM-VERSION-MISMATCH), naming both",
    async () => {
      const id = await plan("dev");
      expect(manifest("dev", id).terraform.version).toBe("1.11.4");
      // GIVEN a wrapper that runs the real terraform but says it is 1.11.3 (another release, still at least the toolchain minimum setup checks)
      const real = (await run("sh", ["-c", `command -v ${terraformBinary(vars)}`], { cwd: root, env: vars })).out.trim();
      const wrapper = join(root, "terraform-1.11.3");
      writeFileSync(
        wrapper,
        `#!/bin/sh\nif [ "$1" = "version" ]; then ${JSON.stringify(real)} "$@" | sed 's/"terraform_version": *"[^"]*"/"terraform_version": "1.11.3"/'; exit 0; fi\nexec ${JSON.stringify(real)} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const r = await refused("dev", ["apply", "dev", id], "TERRAFORM-VERSION-MISMATCH", AUTHOR, { TERRAFORM_BINARY_NAME: wrapper });
      expect(r.err).toContain("terraform 1.11.4");
      expect(r.err).toContain("terraform 1.11.3");
      expect(applied("dev", id)).toBeNull();
      expect(await param("dev")).toBeNull();
      // the bundle is untouched: with the plan's terraform it applies
      expectExit(await cli(["apply", "dev", id]), 0);
      expect(await param("dev")).toBe("hello-1");
    },
    STEP_MS,
  );

  // --------------------------------------------------------------- 1. the applied bytes are pinned

  it(
    "1: a racing process replacing the bundle's plan file after the last check changes nothing; replacing the engine's private copy is an incident (APPLY-INCIDENT), audited, bundle marked, not in the ledger",
    async () => {
      commitCode("c2", { params: { greeting: "hello-2" } });
      // GIVEN another valid plan against the same state, of other code (a preview of an uncommitted change)
      writeFileSync(join(checkout, "standin.json"), `${JSON.stringify({ params: { greeting: "evil" } })}\n`);
      const evil = await plan("dev", ["--speculative"]);
      git(checkout, ["checkout", "--", "standin.json"]);
      // and the reviewed plan of the commit
      const good = await plan("dev");
      const before = await state("dev");

      // WHEN the racer swaps the bundle's plan file for the evil plan as soon as the apply has claimed the bundle
      const running = cli(["apply", "dev", good]);
      await until("applied.json of the good bundle", 120_000, () => existsSync(join(bundleDir("dev", good), "applied.json")));
      copyFileSync(join(bundleDir("dev", evil), "plan.tfplan"), join(bundleDir("dev", good), "plan.tfplan"));
      const r = await running;
      // THEN the reviewed bytes were applied, not the swapped ones
      expectExit(r, 0);
      expect(await param("dev")).toBe("hello-2");
      const after = await state("dev");
      expect(after.serial ?? 0).toBeGreaterThan(before.serial ?? 0);
      expect(applied("dev", good)).toMatchObject({ status: "succeeded", ledgerTag: expect.stringMatching(/^deployed\/dev\//) });
      expect(privateCopies("dev")).toEqual([]);

      // WHEN the racer finds the engine's private copy and swaps it while terraform runs
      commitCode("c4", { params: { greeting: "hello-4" } });
      const next = await plan("dev");
      const tags = ledgerTags(checkout, "dev");
      const second = cli(["apply", "dev", next]);
      await until("the private copy and the claimed bundle", 120_000, () => privateCopies("dev").length === 1 && existsSync(join(bundleDir("dev", next), "applied.json")));
      const copy = privateCopies("dev")[0];
      chmodSync(copy, 0o600); // the engine made it read-only; the racer runs as the same user
      const bytes = readFileSync(copy);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      writeFileSync(copy, bytes);
      const incident = await second;
      // THEN it is never passed over: a named error, exit 2, audited as an incident, the bundle marked
      expectExit(incident, 2);
      expect(incident.err).toMatch(/APPLY-INCIDENT/);
      expect(applied("dev", next)).toMatchObject({ status: "incident", ledgerTag: null });
      expect(audit("dev").filter((a) => a.bundleId === next).map((a) => a.result)).toEqual(expect.arrayContaining(["started", "incident"]));
      expect(ledgerTags(checkout, "dev")).toEqual(tags);
      expect(privateCopies("dev")).toEqual([]);
      await auditIntact("dev");
      // complete has nothing to add to an incident, and says so
      const c = await cli(["complete", "dev", next]);
      expectExit(c, 0);
      expect(c.out).toMatch(/incident/);
      expect(ledgerTags(checkout, "dev")).toEqual(tags);
    },
    STEP_MS,
  );

  // ------------------------------------------------------------------- 2. the synth of the commit

  it(
    "2: a speculative plan of uncommitted code is never reused by a normal plan; a dirty bundle is marked dirty, never enters the ledger and never opens a gate",
    async () => {
      const clean = commits.c4;
      expect(git(checkout, ["rev-parse", "HEAD"])).toBe(clean);
      // GIVEN a speculative plan of uncommitted code
      writeFileSync(join(checkout, "standin.json"), `${JSON.stringify({ params: { greeting: "uncommitted" } })}\n`);
      expectExit(await cli(["plan", "dev", "--speculative"]), 0);
      git(checkout, ["checkout", "--", "standin.json"]);
      // WHEN a normal plan runs on the clean tree
      const id = await plan("dev");
      const m = manifest("dev", id);
      // THEN it is the synth of the commit, and says so
      expect(m.git).toEqual({ commit: clean, dirty: false });
      expect(readFileSync(join(bundleDir("dev", id), "summary.txt"), "utf8")).not.toContain("uncommitted");
      expect(JSON.parse(readFileSync(join(stackDir("dev"), "cdk.tf.json"), "utf8")).resource.aws_ssm_parameter["param-greeting"].value).toBe("hello-4");

      // GIVEN a bundle planned from a dirty tree (dev is not gated), the tree cleaned afterwards
      writeFileSync(join(checkout, "standin.json"), `${JSON.stringify({ params: { greeting: "dirty" } })}\n`);
      const dirty = await plan("dev");
      expect(manifest("dev", dirty).git).toEqual({ commit: clean, dirty: true });
      git(checkout, ["checkout", "--", "standin.json"]);
      const tags = ledgerTags(checkout, "dev");
      // WHEN it is applied
      const r = await cli(["apply", "dev", dirty]);
      expectExit(r, 0);
      expect(await param("dev")).toBe("dirty");
      // THEN the ledger does not record the clean commit for it, and staging's gate stays closed
      expect(r.out + r.err).toMatch(/not recorded in the ledger/);
      expect(ledgerTags(checkout, "dev")).toEqual(tags);
      expect(applied("dev", dirty)).toMatchObject({ status: "succeeded", ledgerTag: null });
      expect(lastAudit("dev")).toMatchObject({ command: "apply", result: "ok", bundleId: dirty });
      // the old behaviour recorded the dirty apply under the clean commit c4 and opened staging's gate for it
      await refused("staging", ["plan", "staging"], "PROMOTION-GATE");
    },
    STEP_MS,
  );

  // -------------------------------------------------------------- 3. inputs that change what is allowed

  it(
    "3: an uncommitted policy-exceptions.json (or any other input) makes a gated plan refuse (WORKTREE-DIRTY)",
    async () => {
      commitCode("c5", { params: { greeting: "hello-5" } });
      gateOpenFor("dev", commits.c5);
      writeFileSync(join(checkout, "policy-exceptions.json"), `${JSON.stringify({ exceptions: [] })}\n`);
      const r = await refused("staging", ["plan", "staging"], "WORKTREE-DIRTY");
      expect(r.err).toContain("policy-exceptions.json");
      rmSync(join(checkout, "policy-exceptions.json"));
    },
    STEP_MS,
  );

  // ------------------------------------------------------ 5. bookkeeping after the change is recoverable

  it(
    "5: when the ledger fails after terraform applied, the error says so (APPLY-NOT-RECORDED) and `promote complete` records it, once",
    async () => {
      commitCode("c6", { params: { greeting: "hello-6" } });
      const id = await plan("dev");
      const tags = ledgerTags(checkout, "dev");
      // GIVEN a racer that takes the ledger's repository away once the apply has claimed the bundle
      const running = cli(["apply", "dev", id]);
      await until("applied.json", 120_000, () => existsSync(join(bundleDir("dev", id), "applied.json")));
      renameSync(join(checkout, ".git"), join(root, "ledger-git-away"));
      let r: PromoteRun;
      try {
        r = await running;
      } finally {
        renameSync(join(root, "ledger-git-away"), join(checkout, ".git"));
      }
      // THEN terraform changed the env, the error names the recovery, and nothing claims a ledger entry
      expectExit(r, 2);
      expect(r.err).toMatch(/APPLY-NOT-RECORDED/);
      expect(r.err).toContain(`promote complete dev ${id}`);
      expect(await param("dev")).toBe("hello-6");
      expect(applied("dev", id)).toMatchObject({ status: "succeeded", ledgerTag: null });
      expect(ledgerTags(checkout, "dev")).toEqual(tags);
      // the next plan reports the unrecorded apply
      await refused("dev", ["plan", "dev"], "APPLY-UNFINISHED");
      // WHEN complete runs (twice)
      expectExit(await cli(["complete", "dev", id]), 0);
      const once = ledgerTags(checkout, "dev");
      expect(once).toHaveLength(tags.length + 1);
      expect(once.slice(-1)[0]).toMatchObject({ commit: commits.c6 });
      const s = await state("dev");
      expect(applied("dev", id)).toMatchObject({ status: "succeeded", ledgerTag: once.slice(-1)[0].tag, stateAfter: { serial: s.serial, lineage: s.lineage } });
      const again = await cli(["complete", "dev", id]);
      expectExit(again, 0);
      expect(again.out).toMatch(/already/);
      expect(ledgerTags(checkout, "dev")).toEqual(once);
      expect(audit("dev").filter((a) => a.command === "complete" && a.result === "ok" && a.bundleId === id)).toHaveLength(2);
      await auditIntact("dev");
      // and staging's gate now opens for c6
      expectExit(await cli(["plan", "staging"]), 0);
    },
    STEP_MS,
  );

  // --------------------------------------------------------------------------------------- 6. a crash

  it(
    "6: SIGKILL of the engine during a real apply: terraform is interrupted, not orphaned; the intent was audited; the next command reports the unfinished apply; complete records it",
    async () => {
      commitCode("c7", { params: { greeting: "hello-7" }, slow: true });
      const id = await plan("dev");
      const before = await state("dev");
      const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), "apply", "dev", id], {
        cwd: PROJECT_ROOT,
        env: { ...vars, PROMOTE_TIMEOUT_GRACE: "60" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
      child.stderr.on("data", (b: Buffer) => (out += b.toString("utf8")));
      const exited = new Promise<void>((r) => child.on("close", () => r()));
      // WHEN the engine is killed while terraform creates the slow resource
      await until("terraform creating the lifecycle configuration", 180_000, () => /aws_s3_bucket_lifecycle_configuration\.slow: Creating/.test(out));
      expect(audit("dev").slice(-1)[0]).toMatchObject({ command: "apply", result: "started", bundleId: id, planSha256: manifest("dev", id).plan.sha256 });
      child.kill("SIGKILL");
      await exited;
      // THEN no terraform process outlives the engine for long, and terraform released the state lock
      await until("terraform's process group to end", 120_000, () => processesIn(stackDir("dev")).length === 0);
      const cfg = getEnvironment("dev");
      const ddb = new DynamoDBClient(clientConfig(emu().endpoint, await accountCredentials(emu().endpoint, ACCOUNTS.dev)));
      const lockId = `${cfg.stateBackend.bucket}/${cfg.stateBackend.key}`;
      const lockItem = async () => (await ddb.send(new GetItemCommand({ TableName: cfg.stateBackend.lockTable, Key: { LockID: { S: lockId } }, ConsistentRead: true }))).Item;
      try {
        expect(await lockItem()).toBeUndefined();
      } finally {
        ddb.destroy();
      }
      expect(applied("dev", id)).toMatchObject({ status: "started" });
      // the next command reports it, naming the bundle
      const r = await refused("dev", ["plan", "dev"], "APPLY-UNFINISHED");
      expect(r.err).toContain(id);
      await refused("dev", ["apply", "dev", "--auto"], "APPLY-UNFINISHED");
      // WHEN complete records what is known
      const done = await cli(["complete", "dev", id]);
      expectExit(done, 0);
      const s = await state("dev");
      // the same state (a first apply creates it)
      if (before.lineage !== null) expect(s.lineage).toBe(before.lineage);
      else expect(s.lineage).toMatch(/^[0-9a-f-]{36}$/);
      expect(applied("dev", id)).toMatchObject({ status: "interrupted", stateAfter: { serial: s.serial, lineage: s.lineage }, ledgerTag: null });
      expect(lastAudit("dev")).toMatchObject({ command: "complete", result: "ok", bundleId: id });
      await auditIntact("dev");
      // and the env moves on: a new plan finishes what the interrupted apply left
      const fresh = await plan("dev");
      expectExit(await cli(["apply", "dev", fresh]), 0);
      expect(await param("dev")).toBe("hello-7");
    },
    STEP_MS,
  );

  it(
    "6: a state lock left by a dead holder: STATE-LOCKED names the lock id, holder and age; `promote unlock` removes it, audited",
    async () => {
      const cfg = getEnvironment("dev");
      const creds = await accountCredentials(emu().endpoint, ACCOUNTS.dev);
      const ddb = new DynamoDBClient(clientConfig(emu().endpoint, creds));
      const lockKey = { LockID: { S: `${cfg.stateBackend.bucket}/${cfg.stateBackend.key}` } };
      // GIVEN the lock item a terraform killed 10 minutes ago left behind (what terraform writes)
      const lockId = "5b0e1c2a-8d1f-4c3e-9a7b-1f2e3d4c5b6a";
      const created = new Date(Date.now() - 10 * 60_000).toISOString();
      const info = { ID: lockId, Operation: "OperationTypeApply", Info: "", Who: "ghost@gone-host", Version: "1.11.4", Created: created, Path: `${cfg.stateBackend.bucket}/${cfg.stateBackend.key}` };
      await ddb.send(new PutItemCommand({ TableName: cfg.stateBackend.lockTable, Item: { ...lockKey, Info: { S: JSON.stringify(info) } } }));
      try {
        const before = await state("dev");
        const r = await refused("dev", ["apply", "dev", "--auto"], "STATE-LOCKED");
        expect(r.err).toContain(`lock id ${lockId}`);
        expect(r.err).toContain("held by ghost@gone-host");
        expect(r.err).toMatch(/for (9|10|11) min/);
        expect(r.err).toContain(`promote unlock dev ${lockId}`);
        await refused("dev", ["unlock", "dev", "not a lock id"], "INPUT-INVALID");
        // WHEN the recovery runs
        const u = await cli(["unlock", "dev", lockId]);
        expectExit(u, 0);
        expect(lastAudit("dev")).toMatchObject({ command: "unlock", result: "ok", detail: expect.stringContaining(lockId) });
        expect((await ddb.send(new GetItemCommand({ TableName: cfg.stateBackend.lockTable, Key: lockKey, ConsistentRead: true }))).Item).toBeUndefined();
        expect(await state("dev")).toEqual(before);
        await auditIntact("dev");
      } finally {
        await ddb.send(new DeleteItemCommand({ TableName: cfg.stateBackend.lockTable, Key: lockKey })).catch(() => undefined);
        ddb.destroy();
      }
    },
    STEP_MS,
  );

  // ------------------------------------------------------------------ 7. a dead dependency is bounded

  it(
    "7: the emulator stops during a real plan: a named error (TERRAFORM-TIMEOUT), the plan's temporary files removed, the error audited",
    async () => {
      // GIVEN an emulator of this test's own, with dev's backend
      const own: TestEmulator = await startTestEmulator();
      const world = tempDir("promote-integrity-dead");
      try {
        await createBackend(own.endpoint, "dev");
        const home = join(world, "plans");
        const v = { ...vars, ...own.env, PROMOTE_HOME: home, CDKTF_OUTDIR: join(world, "cdktf.out"), PROMOTE_TIMEOUT_PLAN: "45", PROMOTE_TIMEOUT_STATE: "45", PROMOTE_TIMEOUT_GRACE: "10" };
        const running = promote(["plan", "dev"], v);
        // WHEN it stops while terraform plans
        await until("the plan's temporary bundle", 180_000, () => existsSync(join(home, "dev")) && readdirSync(join(home, "dev")).some((n) => n.startsWith(".tmp-")));
        await own.stop();
        const started = Date.now();
        const r = await running;
        // THEN a named error within the bound, nothing left behind, the error audited
        expectExit(r, 2);
        // a silent endpoint ends at the bound; a refused connection as soon as terraform gives up on it
        expect(r.err).toMatch(/ERROR: (TERRAFORM-TIMEOUT: terraform (plan|state) did not finish within 45 s|ENDPOINT-UNREACHABLE: )/);
        expect(Date.now() - started).toBeLessThan(120_000);
        expect(readdirSync(join(home, "dev")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
        const lines = readFileSync(join(home, "_audit", "dev.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
        expect(lines.slice(-1)[0]).toMatchObject({ command: "plan", result: "error", detail: expect.stringMatching(/TERRAFORM-TIMEOUT|ENDPOINT-UNREACHABLE/) });
        expect(processesIn(join(world, "cdktf.out", "stacks", "dev"))).toEqual([]);
      } finally {
        await own.stop().catch(() => undefined);
        removeDir(world);
      }
    },
    STEP_MS,
  );
});

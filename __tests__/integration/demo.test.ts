/**
 * `npm start` end to end: the demo promotes the checked-out commit dev → staging → prod on its own
 * emulator, with the real stacks, the real CLI and real terraform, on each env's store, from three homes
 * (A the CI runner, B the approver's laptop, C the production apply job). This is the engine's test on the
 * full environment stacks (the other engine tests use a small stand-in stack for speed).
 *
 * The demo runs with --keep, so that what it claims is read back from prod's store afterwards (the
 * bundles, approvals, applied records, object versions and the audit chain), not only from its output;
 * the test stops that emulator itself.
 *
 * Its deployment is the integration run's one deployment of the real stacks, and the checks of the local
 * target run on it (they had a suite of their own that bootstrapped and applied the three envs again):
 * backends in their own accounts only; every synthesized resource applied; a second raw `terraform plan`
 * of each env empty; VPCs only in their own account, no peering; dev's configuration pointed at prod's
 * account refused by allowed_account_ids (provider and backend) with nothing created; the S3 backend's
 * DynamoDB lock, held by a running terraform, blocks a second one. They run raw terraform in home A's
 * synthesized folders (the engine's init already done there), after the demo.
 *
 * The demo refuses to run while synth inputs have uncommitted changes (it promotes a commit), so on a
 * developer's dirty checkout this test is skipped, saying so; when CI is set a dirty tree fails instead.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEnvironment } from "../../envs";
import { APPLIER, APPROVER, AUTHOR } from "../../scripts/demo";
import { SYNTH_INPUTS } from "../../scripts/lib/engine/commands";
import { emulatorEnv, emulatorStatus, stopEmulator } from "../../scripts/lib/emulator";
import { openEnvStore } from "../../scripts/lib/store";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { DescribeVpcPeeringConnectionsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListBucketsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
  accountCredentials,
  ACCOUNTS,
  clientConfig,
  ENV_NAMES,
  expectExit,
  holdStateLock,
  isolatedVars,
  synthesizedAddresses,
  terraform,
  type Credentials,
  type EnvName,
} from "../helpers/integration";

/** A raw terraform step on the demo's deployment (a plan of a full stack, a rogue apply). */
const STEP_MS = 5 * 60_000;
/** Reads through the SDK only. */
const SDK_MS = 2 * 60_000;

const dirty = spawnSync("git", ["status", "--porcelain", "--", ...SYNTH_INPUTS], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout.trim();
/** In CI (CI set) a dirty tree fails the run: a green CI run always includes this end-to-end test. */
const inCi = (process.env.CI ?? "") !== "" && process.env.CI !== "false";
const maybe = dirty === "" ? it : it.skip;
if (dirty !== "" && !inCi) console.warn(`demo.test.ts skipped: uncommitted synth inputs (the demo promotes a commit):\n${dirty}`);

if (dirty !== "" && inCi) {
  it("runs on a clean tree in CI (CI is set)", () => {
    throw new Error(`CI is set and synth inputs have uncommitted changes, so the demo (which promotes a commit) cannot run:\n${dirty}\nCommit them, or run on a fresh clone.`);
  });
}

/** The output of the step whose header line contains `name` (exactly one such step). */
function section(out: string, name: string): string {
  const found = out.split(/\n(?=━━ step )/).filter((s) => s.startsWith("━━ step ") && s.split("\n")[0].includes(name));
  if (found.length !== 1) throw new Error(`expected one step named like ${JSON.stringify(name)}, found ${found.length}`);
  return found[0];
}

describe("npm start (the local promotion demo)", () => {
  let work: string;
  /** The demo's output, once it exited 0: the deployment the later checks read. */
  let demoOut: string | null = null;
  const emulatorVars = () => ({ ...process.env, EMULATOR_PORT: "", EMULATOR_STATE_DIR: "" });
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "demo-test-"));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    // the demo ran with --keep: its emulator is this test's to stop
    if (existsSync(join(work, "emulator"))) await stopEmulator({ stateDir: join(work, "emulator"), env: emulatorVars() });
    rmSync(work, { recursive: true, force: true });
  }, 30_000);

  maybe(
    "promotes one commit to all three envs from three homes on the store: C applies what A planned and B signed, A is refused BUNDLE-ALREADY-APPLIED, a forged approval and a tampered plan in the store are refused",
    async () => {
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(PROJECT_ROOT, "dist", "scripts", "demo.js"), "--workdir", work, "--keep"], { cwd: PROJECT_ROOT, env: emulatorVars() });
        let text = "";
        child.stdout.on("data", (b) => (text += b));
        child.stderr.on("data", (b) => (text += b));
        child.on("close", (c) => resolve({ code: c, out: text }));
      });
      if (code !== 0) throw new Error(`demo exited ${code}:\n${out.slice(-6000)}`);
      demoOut = out;
      process.stderr.write(`demo.test measured: ${out.slice(out.lastIndexOf("done in"))}`);

      // Every step ran, in order, as many as the header announces, and the timing table was printed.
      const headers = [...out.matchAll(/━━ step (\d+)\/(\d+)/g)];
      expect(headers.map((m) => Number(m[1]))).toEqual(Array.from({ length: headers.length }, (_, i) => i + 1));
      expect(new Set(headers.map((m) => Number(m[2])))).toEqual(new Set([headers.length]));
      expect(out).toMatch(/done in \d+ s — time per step:/);

      // What each home did, as the CLI printed it, step by step.
      expect(section(out, "home C (never synthesized) applies")).toContain("no synthesized stack on this machine");
      expect(section(out, "home C (never synthesized) applies")).toMatch(/Applied prod\/\S+ \(plan SHA-256 [0-9a-f]{64}\)/);
      expect(section(out, "home A applies the same bundle")).toContain("REFUSED BUNDLE-ALREADY-APPLIED");
      const forgedStep = section(out, "hand-written approval.json");
      expect(forgedStep).toContain("REFUSED APPROVAL-UNSIGNED");
      const tamperStep = section(out, "flipped byte");
      expect(tamperStep).toContain("REFUSED BUNDLE-INCOMPLETE");
      expect(tamperStep).toContain("written over");
      expect(tamperStep).not.toContain("APPROVAL-UNSIGNED"); // the store's check comes first, before any approval is read
      for (const env of ["dev", "staging", "prod"]) {
        expect(section(out, "audit chains verified from the store")).toMatch(new RegExp(`audit log s3://${getEnvironment(env).store.bucket}/audit/${env}/: intact, \\d+ record`));
      }
      // C synthesized the commit itself (it never planned); B only read the store, it never synthesized.
      expect(existsSync(join(work, "home-c", "cdktf.out", "stacks", "prod"))).toBe(true);
      expect(existsSync(join(work, "home-b", "cdktf.out", "stacks"))).toBe(false);

      // What prod's store holds, read back from the emulator the demo left running.
      const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout.trim();
      const status = await emulatorStatus({ stateDir: join(work, "emulator"), env: emulatorVars() });
      expect(status.state).toBe("running");
      const store = await openEnvStore(getEnvironment("prod"), { vars: { ...emulatorVars(), ...emulatorEnv(status.record!) }, sessionName: "demo-test" });
      try {
        const ids = await store.bundles.listBundles();
        expect(ids).toHaveLength(2); // the applied one and the no-change re-plan
        const [applied, replan] = ids;
        const json = async (id: string, file: string) => JSON.parse((await store.bundles.readFile(id, file)).toString("utf8"));

        // The applied bundle: planned by the author (A), signed by the listed approver (B), applied by C.
        const manifest = await json(applied, "manifest.json");
        expect(manifest.createdBy).toBe(AUTHOR);
        expect(manifest.git.commit).toBe(head);
        expect(manifest.counts.add).toBeGreaterThan(70);
        expect(await store.bundles.approvalNames(applied)).toEqual([`${APPROVER}.approval.json`]);
        const approval = JSON.parse((await store.bundles.approval(applied, `${APPROVER}.approval.json`))!.toString("utf8"));
        expect(approval.statement).toContain(`plan-sha256: ${manifest.plan.sha256}\n`);
        expect(approval.statement).toContain(`approver: ${APPROVER}\n`);
        expect(approval.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----/);
        const appliedStatus = JSON.parse((await store.bundles.bucket.get(`bundles/${applied}/applied.json`))!.body.toString("utf8"));
        expect(appliedStatus).toMatchObject({ status: "succeeded", appliedBy: APPLIER, planSha256: manifest.plan.sha256 });
        expect((await store.bundles.appliedRecords(head)).map((r) => [r.bundleId, r.by])).toEqual([[applied, APPLIER]]);

        // The re-plan: no changes; the forged approval stays in the store (create-only, never removed), its
        // plan file has the attacker's second version, and it was never applied.
        const replanManifest = await json(replan, "manifest.json");
        expect(replanManifest.counts).toMatchObject({ add: 0, change: 0, destroy: 0 });
        expect(await store.bundles.approvalNames(replan)).toEqual(["approval.json"]);
        const forged = JSON.parse((await store.bundles.approval(replan))!.toString("utf8"));
        expect(forged).toMatchObject({ bundleId: replan, planSha256: replanManifest.plan.sha256 });
        expect(forged.signature).toBeUndefined();
        const planKey = `bundles/${replan}/plan.tfplan`;
        expect((await store.bundles.bucket.listVersions(planKey)).filter((v) => v.key === planKey)).toHaveLength(2);
        expect(await store.bundles.isApplied(head, replan)).toBe(false);
        expect(await store.bundles.bucket.get(`bundles/${replan}/applied.json`)).toBeNull();

        // The audit chain in the store verifies and records every home's commands, in order.
        const verdict = await store.audit.verify();
        expect(verdict.ok).toBe(true);
        const records = await store.audit.records();
        const seqOf = (pred: (r: (typeof records)[number]) => boolean): number => {
          const found = records.filter(pred);
          if (found.length !== 1) throw new Error(`expected one such audit record of prod, found ${found.length}:\n${records.map((r) => JSON.stringify(r)).join("\n")}`);
          return found[0].seq;
        };
        const planned = seqOf((r) => r.command === "plan" && r.result === "ok" && r.by === AUTHOR && r.bundleId === applied);
        const approved = seqOf((r) => r.command === "approve" && r.result === "ok" && r.by === APPROVER && r.bundleId === applied);
        const appliedByC = seqOf((r) => r.command === "apply" && r.result === "ok" && r.by === APPLIER && r.bundleId === applied);
        const refusedA = seqOf((r) => r.command === "apply" && r.refusalId === "BUNDLE-ALREADY-APPLIED" && r.by === AUTHOR && r.bundleId === applied);
        const unsigned = seqOf((r) => r.command === "apply" && r.refusalId === "APPROVAL-UNSIGNED" && r.by === APPLIER && r.bundleId === replan);
        const tampered = seqOf((r) => r.command === "apply" && r.refusalId === "BUNDLE-INCOMPLETE" && r.by === APPLIER && (r.detail ?? "").includes(planKey));
        expect([planned, approved, appliedByC, refusedA, unsigned, tampered]).toEqual([...[planned, approved, appliedByC, refusedA, unsigned, tampered]].sort((a, b) => a - b));
      } finally {
        store.close();
      }

      // The ledger holds one deployed tag per env on the promoted commit.
      const tags = spawnSync("git", ["tag", "--points-at", head], { cwd: join(work, "ledger"), encoding: "utf8" }).stdout.trim().split("\n");
      expect(tags.map((t) => t.split("/").slice(0, 2).join("/")).sort()).toEqual(["deployed/dev", "deployed/prod", "deployed/staging"]);
    },
    25 * 60_000,
  );

  // ---- the local target's checks, on the demo's deployment ----------------------------------------

  const CIDRS = Object.fromEntries(ENV_NAMES.map((env) => [env, getEnvironment(env).network.cidr])) as Record<EnvName, string>;
  let deployment: { endpoint: string; vars: NodeJS.ProcessEnv; creds: Record<EnvName, Credentials> } | null = null;
  /** The demo's emulator and raw-terraform environment (built once, after the demo ran). */
  async function deployed() {
    if (demoOut === null) throw new Error("the demo did not finish, so there is no deployment of the real stacks to check (see the first test)");
    if (deployment === null) {
      const status = await emulatorStatus({ stateDir: join(work, "emulator"), env: emulatorVars() });
      if (status.state !== "running") throw new Error(`the demo's emulator is ${status.state}, expected running (--keep)`);
      const env = emulatorEnv(status.record!);
      const creds = {} as Record<EnvName, Credentials>;
      for (const e of ENV_NAMES) creds[e] = await accountCredentials(env.LOCAL_ENDPOINT, ACCOUNTS[e]);
      deployment = { endpoint: env.LOCAL_ENDPOINT, vars: isolatedVars({ env }, { PROMOTE_USER: "integration-test" }), creds };
    }
    return deployment;
  }
  /** Home A's synthesized folder of an env: the commit the demo promoted, initialized by the engine. */
  const stackDir = (env: string) => join(work, "home-a", "cdktf.out", "stacks", env);
  // One client per account and service, destroyed in afterAll (open sockets would keep jest alive).
  const clients: Array<{ destroy(): void }> = [];
  const memo = <T extends { destroy(): void }>(make: (endpoint: string, creds: Credentials) => T) => {
    const made = new Map<EnvName, T>();
    return async (env: EnvName): Promise<T> => {
      if (!made.has(env)) {
        const d = await deployed();
        clients.push(made.set(env, make(d.endpoint, d.creds[env])).get(env)!);
      }
      return made.get(env)!;
    };
  };
  const s3 = memo((endpoint, creds) => new S3Client({ ...clientConfig(endpoint, creds), forcePathStyle: true }));
  const ddb = memo((endpoint, creds) => new DynamoDBClient(clientConfig(endpoint, creds)));
  const ec2 = memo((endpoint, creds) => new EC2Client(clientConfig(endpoint, creds)));

  /** What an account holds that a stack could have created: buckets, lock tables, VPCs. */
  async function accountContents(env: EnvName) {
    const [buckets, tables, vpcs] = await Promise.all([
      (await s3(env)).send(new ListBucketsCommand({})),
      (await ddb(env)).send(new ListTablesCommand({})),
      (await ec2(env)).send(new DescribeVpcsCommand({})),
    ]);
    return {
      buckets: (buckets.Buckets ?? []).map((b) => b.Name).sort(),
      tables: (tables.TableNames ?? []).sort(),
      vpcs: (vpcs.Vpcs ?? []).map((v) => v.VpcId).sort(),
    };
  }

  maybe("bootstrap put each env's state bucket and lock table in that env's account only, and each state is in its own bucket", async () => {
    for (const env of ENV_NAMES) {
      const cfg = getEnvironment(env);
      const { buckets, tables } = await accountContents(env);
      const stateBuckets = buckets.filter((b) => b!.startsWith("tfstate-"));
      const lockTables = tables.filter((t) => t.startsWith("tfstate-lock-"));
      expect({ env, stateBuckets, lockTables }).toEqual({ env, stateBuckets: [cfg.stateBackend.bucket], lockTables: [cfg.stateBackend.lockTable] });
      // The env's state object (written by the apply through the S3 backend) is in its own bucket.
      const list = await (await s3(env)).send(new ListObjectsV2Command({ Bucket: cfg.stateBackend.bucket }));
      expect((list.Contents ?? []).map((o) => o.Key)).toEqual([`bootstrap/${cfg.name}/terraform.tfstate`, cfg.stateBackend.key]);
    }
  }, SDK_MS);

  maybe("applied every resource each env's stack synthesizes", async () => {
    const { vars } = await deployed();
    const lists = await Promise.all(ENV_NAMES.map((env) => terraform(stackDir(env), ["state", "list"], vars)));
    for (const [i, env] of ENV_NAMES.entries()) {
      const expected = synthesizedAddresses(join(stackDir(env), "cdk.tf.json"));
      const list = lists[i];
      expectExit(list, 0, `terraform state list (${env})`);
      const managed = list.out.split("\n").filter((a) => a !== "" && !a.startsWith("data."));
      expect({ env, resources: managed.sort() }).toEqual({ env, resources: expected });
      expect(expected.length).toBeGreaterThan(40);
      // and the demo's apply of the env said so, by terraform's own count
      expect(demoOut).toContain(`Apply complete! Resources: ${expected.length} added, 0 changed, 0 destroyed.`);
    }
  }, STEP_MS);

  maybe(
    "a second raw plan of every env shows no changes (terraform plan -detailed-exitcode exits 0)",
    async () => {
      const { vars } = await deployed();
      const plans = await Promise.all(ENV_NAMES.map((env) => terraform(stackDir(env), ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=true"], vars)));
      // Every env's verdict at once (exit 2 = changes): which resources would change, per env.
      const changes = Object.fromEntries(
        plans.map((p, i) => [ENV_NAMES[i], p.code === 0 ? "no changes" : `exit ${p.code}: ${[...p.out.matchAll(/# (\S+) (will be|must be) [^\n]+/g)].map((m) => m[0].slice(2)).join("; ") || p.err.slice(-2000)}`]),
      );
      expect(changes).toEqual({ dev: "no changes", staging: "no changes", prod: "no changes" });
    },
    STEP_MS,
  );

  maybe("each env's VPC exists in its own account only, and no VPC peering exists anywhere", async () => {
    for (const owner of ENV_NAMES) {
      for (const account of ENV_NAMES) {
        const vpcs = await (await ec2(account)).send(new DescribeVpcsCommand({}));
        const found = (vpcs.Vpcs ?? []).filter((v) => v.CidrBlock === CIDRS[owner]).map((v) => v.OwnerId);
        expect({ vpcOf: owner, inAccount: account, count: found.length }).toEqual({ vpcOf: owner, inAccount: account, count: owner === account ? 1 : 0 });
        if (owner === account) expect(found).toEqual([ACCOUNTS[account]]);
      }
      const peerings = await (await ec2(owner)).send(new DescribeVpcPeeringConnectionsCommand({}));
      expect({ account: owner, peerings: peerings.VpcPeeringConnections ?? [] }).toEqual({ account: owner, peerings: [] });
    }
  }, SDK_MS);

  maybe(
    "dev's configuration pointed at prod's account is refused by allowed_account_ids, and creates nothing there",
    async () => {
      const { vars } = await deployed();
      const before = await accountContents("prod");
      const prodRole = `arn:aws:iam::${ACCOUNTS.prod}:role/terraform-deploy`;
      const devJson = JSON.parse(readFileSync(join(stackDir("dev"), "cdk.tf.json"), "utf8"));
      expect(devJson.provider.aws[0].allowed_account_ids).toEqual([ACCOUNTS.dev]);

      // (1) The provider: assume_role into prod, allowed_account_ids still ["111111111111"], local state.
      const rogue = join(work, "rogue-provider");
      mkdirSync(rogue);
      const provider = structuredClone(devJson);
      provider.provider.aws[0].assume_role[0].role_arn = prodRole;
      provider.terraform.backend = { local: { path: join(rogue, "terraform.tfstate") } };
      writeFileSync(join(rogue, "cdk.tf.json"), JSON.stringify(provider, null, 2));
      copyFileSync(join(stackDir("dev"), ".terraform.lock.hcl"), join(rogue, ".terraform.lock.hcl"));
      expectExit(await terraform(rogue, ["init", "-input=false", "-no-color"], vars), 0, "terraform init (rogue provider)");
      // apply, not only plan: the attempt to create is what must fail.
      const attempt = await terraform(rogue, ["apply", "-auto-approve", "-input=false", "-no-color"], vars);
      expect(attempt.code).toBe(1);
      expect(attempt.err).toContain(`AWS account ID not allowed: ${ACCOUNTS.prod}`);
      expect(attempt.out).not.toMatch(/Creation complete|Apply complete/);
      const localState = join(rogue, "terraform.tfstate");
      const managed = existsSync(localState) ? (JSON.parse(readFileSync(localState, "utf8")).resources ?? []).filter((r: { mode: string }) => r.mode === "managed") : [];
      expect(managed).toEqual([]);

      // (2) The backend: dev's S3 backend config pointed at prod's role and bucket, allowed ["111111111111"].
      const rogueBackend = join(work, "rogue-backend");
      mkdirSync(rogueBackend);
      const backend = structuredClone(devJson);
      const prod = getEnvironment("prod");
      Object.assign(backend.terraform.backend.s3, { bucket: prod.stateBackend.bucket, dynamodb_table: prod.stateBackend.lockTable });
      backend.terraform.backend.s3.assume_role.role_arn = prodRole;
      expect(backend.terraform.backend.s3.allowed_account_ids).toEqual([ACCOUNTS.dev]);
      writeFileSync(join(rogueBackend, "cdk.tf.json"), JSON.stringify(backend, null, 2));
      const init = await terraform(rogueBackend, ["init", "-input=false", "-no-color"], vars);
      expect(init.code).toBe(1);
      expect(init.err).toContain(`AWS account ID not allowed: ${ACCOUNTS.prod}`);

      // Nothing appeared in prod's account (and prod's state object is untouched: still only its key).
      expect(await accountContents("prod")).toEqual(before);
      const objects = await (await s3("prod")).send(new ListObjectsV2Command({ Bucket: prod.stateBackend.bucket }));
      expect((objects.Contents ?? []).map((o) => o.Key)).toEqual([`bootstrap/${prod.name}/terraform.tfstate`, prod.stateBackend.key]);
    },
    STEP_MS,
  );

  maybe(
    "the S3 backend's DynamoDB lock held by one terraform run blocks a second, which proceeds once it is released",
    async () => {
      const { endpoint, vars, creds } = await deployed();
      const dev = getEnvironment("dev");
      const dir = stackDir("dev");
      const held = await holdStateLock(dir, vars, { endpoint, credentials: creds.dev, table: dev.stateBackend.lockTable, bucket: dev.stateBackend.bucket, key: dev.stateBackend.key });
      try {
        // The lock is an item of dev's own table, LockID "<bucket>/<key>"; the other accounts have no such table.
        expect(held.lockId).toBe(`${dev.stateBackend.bucket}/${dev.stateBackend.key}`);
        const item = await (await ddb("dev")).send(new GetItemCommand({ TableName: dev.stateBackend.lockTable, Key: { LockID: { S: held.lockId } }, ConsistentRead: true }));
        expect(JSON.parse(item.Item!.Info!.S!)).toMatchObject({ Path: held.lockId });
        for (const other of ["staging", "prod"] as const) {
          expect((await (await ddb(other)).send(new ListTablesCommand({}))).TableNames).not.toContain(dev.stateBackend.lockTable);
        }

        const blocked = await terraform(dir, ["plan", "-lock=true", "-lock-timeout=0s", "-refresh=false", "-input=false", "-no-color"], vars);
        expect(blocked.code).toBe(1);
        expect(blocked.err).toContain("Error acquiring the state lock");
        expect(blocked.err).toContain(`Path:      ${held.lockId}`);
      } finally {
        await held.release();
      }
      const after = await terraform(dir, ["plan", "-lock=true", "-lock-timeout=0s", "-refresh=false", "-detailed-exitcode", "-input=false", "-no-color"], vars);
      expectExit(after, 0, "terraform plan after the lock was released");
    },
    STEP_MS,
  );
});

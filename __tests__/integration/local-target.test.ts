/**
 * Issue 4: the local target for real. Three environments on one emulator, each in its own account:
 *
 *   beforeAll  `promote bootstrap dev|staging|prod` (the real bootstrap stacks, in parallel), one synth of
 *              the app (`node dist/main.js`, TARGET=local), then every full env stack applied with raw
 *              terraform in its synthesized folder, the three in parallel (the promotion order is the
 *              engine's business: promote.test.ts). One full round, about 3-4 minutes.
 *   its        backends in their own accounts only; every synthesized resource applied; a second plan
 *              empty; VPCs only in their own account, no peering; dev's configuration pointed at prod's
 *              account refused by allowed_account_ids (provider and backend) with nothing created; the
 *              S3 backend's DynamoDB lock, held by a running terraform, blocks a second one.
 *
 * Everything lives in temporary folders (PROMOTE_HOME, PROMOTE_LEDGER_DIR, CDKTF_OUTDIR, LOCAL_STATE_DIR)
 * and on this file's own emulator, stopped at the end.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeVpcPeeringConnectionsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListBucketsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { getEnvironment } from "../../envs";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { withEmulator } from "../helpers/emulator";
import {
  accountCredentials,
  ACCOUNTS,
  clientConfig,
  ENV_NAMES,
  expectExit,
  gitInit,
  holdStateLock,
  isolatedVars,
  promote,
  removeDir,
  run,
  synthesizedAddresses,
  tempDir,
  terraform,
  type Credentials,
  type EnvName,
  type Run,
} from "../helpers/integration";

/** A full round (bootstrap + three parallel applies) takes 3-4 min on 2 cores; allow for a loaded machine. */
const ROUND_MS = 20 * 60_000;
const STEP_MS = 5 * 60_000;
/** Reads through the SDK only. */
const SDK_MS = 2 * 60_000;

const CIDRS: Record<EnvName, string> = { dev: "10.10.0.0/16", staging: "10.20.0.0/16", prod: "10.30.0.0/16" };

interface Applied {
  readonly dir: string;
  readonly apply: Run;
  readonly seconds: number;
}

describe("the local target: dev, staging and prod on the emulator, each in its own account", () => {
  const emu = withEmulator();
  let root: string;
  let vars: NodeJS.ProcessEnv;
  let synthDir: string;
  const applied = {} as Record<EnvName, Applied>;
  const creds = {} as Record<EnvName, Credentials>;

  const stackDir = (env: string) => join(synthDir, "stacks", env);
  // One client per account and service, destroyed in afterAll (open sockets would keep jest alive).
  const clients: Array<{ destroy(): void }> = [];
  const memo = <T extends { destroy(): void }>(make: (env: EnvName) => T) => {
    const made = new Map<EnvName, T>();
    return (env: EnvName): T => {
      if (!made.has(env)) clients.push(made.set(env, make(env)).get(env)!);
      return made.get(env)!;
    };
  };
  const s3 = memo((env) => new S3Client({ ...clientConfig(emu().endpoint, creds[env]), forcePathStyle: true }));
  const ddb = memo((env) => new DynamoDBClient(clientConfig(emu().endpoint, creds[env])));
  const ec2 = memo((env) => new EC2Client(clientConfig(emu().endpoint, creds[env])));

  /** What an account holds that a stack could have created: buckets, lock tables, VPCs. */
  async function accountContents(env: EnvName) {
    const [buckets, tables, vpcs] = await Promise.all([
      s3(env).send(new ListBucketsCommand({})),
      ddb(env).send(new ListTablesCommand({})),
      ec2(env).send(new DescribeVpcsCommand({})),
    ]);
    return {
      buckets: (buckets.Buckets ?? []).map((b) => b.Name).sort(),
      tables: (tables.TableNames ?? []).sort(),
      vpcs: (vpcs.Vpcs ?? []).map((v) => `${v.VpcId} ${v.CidrBlock}`).sort(),
    };
  }

  beforeAll(async () => {
    root = tempDir("local-target");
    const ledger = join(root, "ledger");
    mkdirSync(ledger);
    gitInit(ledger);
    synthDir = join(root, "synth");
    vars = isolatedVars(emu(), {
      PROMOTE_HOME: join(root, "plans"),
      PROMOTE_LEDGER_DIR: ledger,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_USER: "integration-test",
    });
    for (const env of ENV_NAMES) creds[env] = await accountCredentials(emu().endpoint, ACCOUNTS[env]);

    // dist/ up to date once (each `bin/promote.js` below would otherwise race to rebuild it).
    expectExit(await run(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--if-needed", "--quiet"], { cwd: PROJECT_ROOT, env: vars }), 0, "setup --if-needed");

    // The backends: the real bootstrap stacks through the CLI, the three envs at once (own locks, own accounts).
    const boots = await Promise.all(ENV_NAMES.map((env) => promote(["bootstrap", env, "--by", "integration-test"], vars)));
    boots.forEach((r) => expectExit(r, 0));

    // One synth of the app for the local target.
    expectExit(await run(process.execPath, [join(PROJECT_ROOT, "dist", "main.js")], { cwd: PROJECT_ROOT, env: { ...vars, CDKTF_OUTDIR: synthDir } }), 0, "node dist/main.js");

    // Every full env stack, in parallel: init + apply in its own synthesized folder.
    const results = await Promise.all(
      ENV_NAMES.map(async (env): Promise<[EnvName, Applied]> => {
        const dir = stackDir(env);
        expectExit(await terraform(dir, ["init", "-input=false", "-no-color"], vars), 0, `terraform init (${env})`);
        const started = Date.now();
        const apply = await terraform(dir, ["apply", "-auto-approve", "-input=false", "-no-color"], vars);
        expectExit(apply, 0, `terraform apply (${env})`);
        return [env, { dir, apply, seconds: (Date.now() - started) / 1000 }];
      }),
    );
    for (const [env, a] of results) applied[env] = a;
  }, ROUND_MS);

  afterAll(() => {
    for (const c of clients) c.destroy();
    removeDir(root);
  });

  it("bootstrap put each env's state bucket and lock table in that env's account only, and each state is in its own bucket", async () => {
    for (const env of ENV_NAMES) {
      const cfg = getEnvironment(env);
      const { buckets, tables } = await accountContents(env);
      const stateBuckets = buckets.filter((b) => b!.startsWith("tfstate-"));
      const lockTables = tables.filter((t) => t.startsWith("tfstate-lock-"));
      expect({ env, stateBuckets, lockTables }).toEqual({ env, stateBuckets: [cfg.stateBackend.bucket], lockTables: [cfg.stateBackend.lockTable] });
      // The env's state object (written by the apply through the S3 backend) is in its own bucket.
      const list = await s3(env).send(new ListObjectsV2Command({ Bucket: cfg.stateBackend.bucket }));
      expect((list.Contents ?? []).map((o) => o.Key)).toEqual([`bootstrap/${cfg.name}/terraform.tfstate`, cfg.stateBackend.key]);
    }
  }, SDK_MS);

  it("applied every resource each env's stack synthesizes", async () => {
    const lists = await Promise.all(ENV_NAMES.map((env) => terraform(applied[env].dir, ["state", "list"], vars)));
    for (const [i, env] of ENV_NAMES.entries()) {
      const { dir, apply } = applied[env];
      const expected = synthesizedAddresses(join(dir, "cdk.tf.json"));
      const list = lists[i];
      expectExit(list, 0, `terraform state list (${env})`);
      const managed = list.out.split("\n").filter((a) => a !== "" && !a.startsWith("data."));
      expect({ env, resources: managed.sort() }).toEqual({ env, resources: expected });
      expect(apply.out).toContain(`Apply complete! Resources: ${expected.length} added, 0 changed, 0 destroyed.`);
      expect(expected.length).toBeGreaterThan(40);
    }
  }, STEP_MS);

  it(
    "a second plan of every env shows no changes (terraform plan -detailed-exitcode exits 0)",
    async () => {
      const plans = await Promise.all(ENV_NAMES.map((env) => terraform(stackDir(env), ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=true"], vars)));
      // Every env's verdict at once (exit 2 = changes): which resources would change, per env.
      const changes = Object.fromEntries(
        plans.map((p, i) => [ENV_NAMES[i], p.code === 0 ? "no changes" : `exit ${p.code}: ${[...p.out.matchAll(/# (\S+) (will be|must be) [^\n]+/g)].map((m) => m[0].slice(2)).join("; ") || p.err.slice(-2000)}`]),
      );
      expect(changes).toEqual({ dev: "no changes", staging: "no changes", prod: "no changes" });
    },
    STEP_MS,
  );

  it("each env's VPC exists in its own account only, and no VPC peering exists anywhere", async () => {
    for (const owner of ENV_NAMES) {
      for (const account of ENV_NAMES) {
        const vpcs = await ec2(account).send(new DescribeVpcsCommand({}));
        const found = (vpcs.Vpcs ?? []).filter((v) => v.CidrBlock === CIDRS[owner]).map((v) => v.OwnerId);
        expect({ vpcOf: owner, inAccount: account, count: found.length }).toEqual({ vpcOf: owner, inAccount: account, count: owner === account ? 1 : 0 });
        if (owner === account) expect(found).toEqual([ACCOUNTS[account]]);
      }
      const peerings = await ec2(owner).send(new DescribeVpcPeeringConnectionsCommand({}));
      expect({ account: owner, peerings: peerings.VpcPeeringConnections ?? [] }).toEqual({ account: owner, peerings: [] });
    }
  }, SDK_MS);

  it(
    "dev's configuration pointed at prod's account is refused by allowed_account_ids, and creates nothing there",
    async () => {
      const before = await accountContents("prod");
      const prodRole = `arn:aws:iam::${ACCOUNTS.prod}:role/terraform-deploy`;
      const devJson = JSON.parse(readFileSync(join(stackDir("dev"), "cdk.tf.json"), "utf8"));
      expect(devJson.provider.aws[0].allowed_account_ids).toEqual([ACCOUNTS.dev]);

      // (1) The provider: assume_role into prod, allowed_account_ids still ["111111111111"], local state.
      const rogue = join(root, "rogue-provider");
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
      const rogueBackend = join(root, "rogue-backend");
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
      const objects = await s3("prod").send(new ListObjectsV2Command({ Bucket: prod.stateBackend.bucket }));
      expect((objects.Contents ?? []).map((o) => o.Key)).toEqual([`bootstrap/${prod.name}/terraform.tfstate`, prod.stateBackend.key]);
    },
    STEP_MS,
  );

  it(
    "the S3 backend's DynamoDB lock held by one terraform run blocks a second, which proceeds once it is released",
    async () => {
      const dev = getEnvironment("dev");
      const dir = stackDir("dev");
      const held = await holdStateLock(dir, vars, {
        endpoint: emu().endpoint,
        credentials: creds.dev,
        table: dev.stateBackend.lockTable,
        bucket: dev.stateBackend.bucket,
        key: dev.stateBackend.key,
      });
      try {
        // The lock is an item of dev's own table, LockID "<bucket>/<key>"; the other accounts have no such table.
        expect(held.lockId).toBe(`${dev.stateBackend.bucket}/${dev.stateBackend.key}`);
        const item = await ddb("dev").send(new GetItemCommand({ TableName: dev.stateBackend.lockTable, Key: { LockID: { S: held.lockId } }, ConsistentRead: true }));
        expect(JSON.parse(item.Item!.Info!.S!)).toMatchObject({ Path: held.lockId });
        for (const other of ["staging", "prod"] as const) {
          expect((await ddb(other).send(new ListTablesCommand({}))).TableNames).not.toContain(dev.stateBackend.lockTable);
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

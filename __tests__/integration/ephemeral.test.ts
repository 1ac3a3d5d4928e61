/**
 * `promote env` for real, on its own emulator and the real (dev-shaped) stack: dev is bootstrapped; pr-1
 * is created (a CIDR from the pool, recorded, planned and applied through apply --auto: audit, ledger
 * tag); a second create is refused (EPHEMERAL-EXISTS); pr-1 is destroyed, and nothing of it is left in
 * dev's account (checked through the AWS SDK inside dev's account): no VPC with its CIDR, no secret
 * pr-1/* (not even one scheduled for deletion), no version of its state object, no digest item, no
 * registry entry. dev's own state object and digest item are untouched.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { EPHEMERAL, getEnvironment } from "../../envs";
import { AuditLog } from "../../scripts/lib/engine/io/audit";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { EphemeralRegistry } from "../../scripts/lib/engine/io/ephemeral-registry";
import { main } from "../../scripts/promote";
import { withEmulator } from "../helpers/emulator";

interface Run {
  code: number;
  out: string;
  err: string;
  argv: string[];
}

function expectExit(r: Run, code: number): void {
  if (r.code !== code) throw new Error(`promote ${r.argv.join(" ")}: expected exit ${code}, got ${r.code}\n--- stdout\n${r.out.slice(-4000)}\n--- stderr\n${r.err.slice(-6000)}`);
}


describe("promote env (emulator, the real dev-shaped stack)", () => {
  const emu = withEmulator();
  const dev = getEnvironment("dev");
  let root: string;
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("creates pr-1 (CIDR, registry, apply --auto), lists it, refuses a second create, destroys it and leaves nothing behind", async () => {
    // GIVEN a temporary PROMOTE_HOME, ledger and synth output; dev bootstrapped on the emulator
    root = mkdtempSync(join(tmpdir(), "promote-ephemeral-"));
    const ledger = join(root, "ledger");
    mkdirSync(ledger);
    execFileSync("git", ["-C", ledger, "init", "-q"]);
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PROMOTE_|CDKTF_|ACCOUNT_ID_|LOCAL_|EMULATOR_|AWS_|EPHEMERAL_ENVS$|TARGET$)/.test(k)));
    const vars: NodeJS.ProcessEnv = {
      ...clean,
      ...emu().env,
      PROMOTE_HOME: join(root, "plans"),
      PROMOTE_LEDGER_DIR: ledger,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_USER: "ci",
      GIT_COMMITTER_EMAIL: "ci@localhost",
    };
    const promote = async (argv: string[]): Promise<Run> => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, defaultContext(vars, { out: (t) => out.push(t), err: (t) => err.push(t) }));
      return { code, out: out.join(""), err: err.join(""), argv };
    };
    const timings: Record<string, number> = {};
    const timed = async (label: string, argv: string[]): Promise<Run> => {
      const t0 = Date.now();
      const r = await promote(argv);
      timings[label] = Math.round((Date.now() - t0) / 1000);
      return r;
    };
    expectExit(await timed("bootstrap dev", ["bootstrap", "dev"]), 0);

    // SDK clients inside dev's account (its deploy role, as terraform assumes it)
    const base = { endpoint: emu().endpoint, region: dev.region };
    const { Credentials: c } = await new STSClient({ ...base, credentials: { accessKeyId: "test", secretAccessKey: "test" } }).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${dev.account.id}:role/${dev.account.deployRoleName}`, RoleSessionName: "ephemeral-test" }),
    );
    const credentials = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
    const s3 = new S3Client({ ...base, credentials, forcePathStyle: true });
    const ddb = new DynamoDBClient({ ...base, credentials });
    const ec2 = new EC2Client({ ...base, credentials });
    const bucket = dev.stateBackend.bucket;
    const table = dev.stateBackend.lockTable;
    const versionsUnder = async (prefix: string) => {
      const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
      return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`).sort();
    };
    const digestItem = async (key: string) => (await ddb.send(new GetItemCommand({ TableName: table, Key: { LockID: { S: `${bucket}/${key}-md5` } }, ConsistentRead: true }))).Item;
    const secretsManager = new SecretsManagerClient({ ...base, credentials });
    const listSecrets = async (): Promise<string[]> => {
      const r = await secretsManager.send(new ListSecretsCommand({ IncludePlannedDeletion: true, MaxResults: 100 }));
      return (r.SecretList ?? []).map((x) => x.Name as string);
    };

    // dev's own state: an object (two versions) and its digest item, which must survive everything below
    const devState = JSON.stringify({ version: 4, serial: 1, lineage: "dev-lineage", outputs: {}, resources: [] });
    for (const text of [devState, `${devState}\n`]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: dev.stateBackend.key, Body: text }));
    const devDigest = createHash("md5").update(`${devState}\n`).digest("hex");
    await ddb.send(new PutItemCommand({ TableName: table, Item: { LockID: { S: `${bucket}/${dev.stateBackend.key}-md5` }, Digest: { S: devDigest } } }));
    const devVersionsBefore = await versionsUnder(dev.stateBackend.key);
    expect(devVersionsBefore).toHaveLength(2);

    // WHEN pr-1 is created
    const created = await timed("env create pr-1", ["env", "create", "pr-1"]);
    expectExit(created, 0);

    // THEN it is recorded live with the pool's first CIDR, applied through the engine (ledger, audit)
    const registry = new EphemeralRegistry(join(root, "plans", "_ephemeral"));
    const entry = registry.read("pr-1");
    expect(entry).toMatchObject({ name: "pr-1", status: "live", ttlHours: EPHEMERAL.ttlHours, createdBy: "ci" });
    const cidr = entry!.cidr;
    expect(cidr).toBe("10.64.0.0/18");
    expect(created.out).toMatch(/pr-1: created, live \(10\.64\.0\.0\/18\); ledger tag deployed\/pr-1\//);
    expect(execFileSync("git", ["-C", ledger, "tag", "-l", "deployed/pr-1/*"], { encoding: "utf8" }).trim()).toMatch(/^deployed\/pr-1\/\d{8}T\d{6}Z/);
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: [cidr] }] }));
    expect(vpcs.Vpcs ?? []).toHaveLength(1);
    expect((await listSecrets()).filter((n) => n.startsWith("pr-1/")).length).toBeGreaterThan(0);
    const stateKey = "ephemeral/pr-1/terraform.tfstate";
    expect((await versionsUnder("ephemeral/pr-1/")).length).toBeGreaterThanOrEqual(1);
    expect(await digestItem(stateKey)).toBeDefined();

    // and listed; a second create is refused before anything runs; a malformed name is a usage error
    const listed = await promote(["env", "list"]);
    expectExit(listed, 0);
    expect(listed.out).toMatch(/^pr-1\s+live\s+10\.64\.0\.0\/18\s+\S+\s+(71h|72h|2d)/m);
    const again = await promote(["env", "create", "pr-1"]);
    expectExit(again, 1);
    expect(again.err).toContain("REFUSED EPHEMERAL-EXISTS");
    expectExit(await promote(["env", "create", "feature-x"]), 2);

    // WHEN it is destroyed
    const destroyed = await timed("env destroy pr-1", ["env", "destroy", "pr-1"]);
    expectExit(destroyed, 0);
    expect(destroyed.out).toMatch(/pr-1: destroyed [1-9]\d* resource\(s\); removed [1-9]\d* state object version\(s\) and the digest item/);

    // THEN nothing of it is left in dev's account
    expect((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: [cidr] }] }))).Vpcs ?? []).toHaveLength(0);
    expect((await listSecrets()).filter((n) => n.startsWith("pr-1/"))).toEqual([]);
    expect(await versionsUnder("ephemeral/pr-1/")).toEqual([]);
    expect(await digestItem(stateKey)).toBeUndefined();
    expect(registry.read("pr-1")).toBeNull();
    const empty = await promote(["env", "list"]);
    expectExit(empty, 0);
    expect(empty.out).toBe("no ephemeral environments\n");

    // and dev's own state is untouched
    expect(await versionsUnder(dev.stateBackend.key)).toEqual(devVersionsBefore);
    expect((await digestItem(dev.stateBackend.key))?.Digest?.S).toBe(devDigest);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: dev.stateBackend.key }))).Body!.transformToString();
    expect(body).toBe(`${devState}\n`);

    // and every step is in pr-1's intact audit log
    const audit = new AuditLog(join(root, "plans", "_audit", "pr-1.jsonl"), "pr-1");
    expect(audit.verify().ok).toBe(true);
    expect(audit.records().map((r) => `${r.command} ${r.result}${r.refusalId ? ` ${r.refusalId}` : ""}`)).toEqual([
      "env create ok",
      "apply started", // the intent record written before terraform applies (issue 11)
      "apply --auto ok",
      "env create refused EPHEMERAL-EXISTS",
      "env destroy ok",
    ]);
    process.stdout.write(`ephemeral.test.ts timings (s): ${JSON.stringify(timings)}\n`);
  }, 12 * 60_000);
});

/**
 * `promote env` for real, on the emulator, with the registry where the store keeps it (dev's store: the
 * default). One emulator, dev bootstrapped once (the real bootstrap stack), then two tests:
 *
 * 1. The real (dev-shaped) stack: pr-1 is created from one home (a CIDR claimed in
 *    dev's lock table, the entry in dev's store bucket, planned and applied through apply --auto: audit,
 *    ledger tag); a second home (its own PROMOTE_HOME, synth output and ledger: nothing shared but the
 *    store) lists it, is refused a second create (EPHEMERAL-EXISTS) and destroys it; nothing of it is left
 *    in dev's account (checked through the AWS SDK inside dev's account): no VPC with its CIDR, no secret
 *    pr-1/* (not even one scheduled for deletion), no version of its state object, no digest item, no CIDR
 *    claim, and its entry's last version says destroyed. dev's own state object and digest item are
 *    untouched; pr-1's audit log in dev's store holds every step of both homes.
 * 2. Two homes, no terraform apply, names of their own (pr-1xx): both create at once (a synth that fails: each create dies halfway,
 *    after its claim) and get different CIDRs; each lists the other's; two processes racing a dozen claims
 *    get a dozen different blocks (the losers of a conditional write take the next one) and one name
 *    claimed by both at once is one entry; a live env of one home is refused to the other
 *    (EPHEMERAL-EXISTS); a dead create (entry, or a bare claim) is resumed from the other home with its
 *    CIDR; the other home's destroy of a dead create releases its claim.
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
import { EPHEMERAL, freeCidrs, getEnvironment, loadEnvironments } from "../../envs";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { registryOf } from "../../scripts/lib/engine/io/ephemeral-registry";
import { closeStores } from "../../scripts/lib/engine/io/s3-store";
import { cidrClaims } from "../../scripts/lib/store";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { main } from "../../scripts/promote";
import { withEmulator } from "../helpers/emulator";
import { expectExit as expectRun, expectRefusal, isolatedVars, promote as cli, run } from "../helpers/integration";
import { auditRecords, ephemeralRecords, withEnvStore } from "../helpers/store-records";

interface Run {
  code: number;
  out: string;
  err: string;
  argv: string[];
}

function expectExit(r: Run, code: number): void {
  if (r.code !== code) throw new Error(`promote ${r.argv.join(" ")}: expected exit ${code}, got ${r.code}\n--- stdout\n${r.out.slice(-4000)}\n--- stderr\n${r.err.slice(-6000)}`);
}

/** A home of its own: PROMOTE_HOME, synth output and ledger in `root` (nothing shared with another home but the store). */
function homeVars(root: string, base: NodeJS.ProcessEnv, user: string): NodeJS.ProcessEnv {
  const ledger = join(root, "ledger");
  mkdirSync(ledger, { recursive: true });
  execFileSync("git", ["-C", ledger, "init", "-q"]);
  return { ...base, PROMOTE_HOME: join(root, "plans"), PROMOTE_LEDGER_DIR: ledger, CDKTF_OUTDIR: join(root, "cdktf.out"), PROMOTE_USER: user, GIT_COMMITTER_EMAIL: `${user}@localhost` };
}

/** An ephemeral env's audit log is in dev's store: its config (and so its store) comes from EPHEMERAL_ENVS. */
const auditOf = async (vars: NodeJS.ProcessEnv, name: string, cidr: string) =>
  (await auditRecords({ ...vars, EPHEMERAL_ENVS: `${name}=${cidr}` }, name)).map((r) => `${r.by}: ${r.command} ${r.result}${r.refusalId ? ` ${r.refusalId}` : ""}`);

/**
 * A child process that claims `names` in the registry of its home (dev's store), all at once, at `startAt`
 * (epoch ms: two processes fire together); prints what each claim got. What two machines' creates do up
 * to their claim, without the CLI's synth and apply.
 */
const CLAIMER = `
  const { join } = require("node:path");
  const dist = (p) => require(join(${JSON.stringify(join(PROJECT_ROOT, "dist", "scripts", "lib", "engine", "io"))}, p));
  const { defaultContext } = dist("context.js");
  const { longLivedEnvs, registryOf } = dist("ephemeral-registry.js");
  const { closeStores } = dist("s3-store.js");
  (async () => {
    const [names, startAt] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
    const ctx = defaultContext(process.env);
    const reg = registryOf(ctx);
    const longLived = longLivedEnvs(ctx);
    await reg.list(); // the store opened (role assumed, bucket and key checked) before the start
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    const got = await Promise.all(names.map((name) =>
      reg.claim({ name, by: process.env.PROMOTE_USER, commit: "c".repeat(40), ttlHours: 1, update: false, now: new Date(), longLived })
        .then((r) => ({ name, mode: r.mode, cidr: r.entry.cidr }), (e) => ({ name, error: String(e && e.message) }))));
    process.stdout.write(JSON.stringify(got));
    await closeStores();
  })().catch((e) => { console.error(e); process.exit(1); });
`;

describe("promote env (emulator, the registry in dev's store)", () => {
  const emu = withEmulator();
  const dev = getEnvironment("dev");
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "promote-ephemeral-"));
    const t0 = Date.now();
    expectRun(await cli(["bootstrap", "dev"], homeVars(join(root, "bootstrap"), isolatedVars(emu(), {}), "ci")), 0);
    process.stdout.write(`ephemeral.test.ts: bootstrap dev ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }, 6 * 60_000);
  afterAll(async () => {
    await closeStores();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("creates pr-1 from one home (CIDR claim, entry, apply --auto); another home lists it, is refused a second create, destroys it; nothing is left behind", async () => {
    // GIVEN two homes (temporary PROMOTE_HOMEs, ledgers and synth outputs); dev bootstrapped on the emulator
    const varsA = homeVars(join(root, "a1"), isolatedVars(emu(), {}), "ci");
    const varsB = homeVars(join(root, "b1"), isolatedVars(emu(), {}), "ci-b");
    const promoteIn =
      (vars: NodeJS.ProcessEnv) =>
      async (argv: string[]): Promise<Run> => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(argv, defaultContext(vars, { out: (t) => out.push(t), err: (t) => err.push(t) }));
        return { code, out: out.join(""), err: err.join(""), argv };
      };
    const promote = promoteIn(varsA);
    const promoteB = promoteIn(varsB);
    const timings: Record<string, number> = {};
    const timed = async (label: string, p: (argv: string[]) => Promise<Run>, argv: string[]): Promise<Run> => {
      const t0 = Date.now();
      const r = await p(argv);
      timings[label] = Math.round((Date.now() - t0) / 1000);
      return r;
    };

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

    // WHEN pr-1 is created from home A
    const created = await timed("env create pr-1", promote, ["env", "create", "pr-1"]);
    expectExit(created, 0);

    // THEN dev's store records it live with the pool's first CIDR, claimed for it in dev's lock table;
    // it was applied through the engine (ledger, audit); home A keeps no registry of its own
    const afterCreate = await ephemeralRecords(varsA);
    expect(afterCreate.entries["pr-1"]).toMatchObject({ name: "pr-1", status: "live", ttlHours: EPHEMERAL.ttlHours, createdBy: "ci" });
    const cidr = afterCreate.entries["pr-1"].cidr;
    expect(cidr).toBe("10.64.0.0/18");
    expect(afterCreate.claims).toEqual({ "pr-1": [cidr] });
    expect(created.out).toMatch(/pr-1: created, live \(10\.64\.0\.0\/18\); ledger tag deployed\/pr-1\//);
    expect(execFileSync("git", ["-C", varsA.PROMOTE_LEDGER_DIR!, "tag", "-l", "deployed/pr-1/*"], { encoding: "utf8" }).trim()).toMatch(/^deployed\/pr-1\/\d{8}T\d{6}Z/);
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: [cidr] }] }));
    expect(vpcs.Vpcs ?? []).toHaveLength(1);
    expect((await listSecrets()).filter((n) => n.startsWith("pr-1/")).length).toBeGreaterThan(0);
    const stateKey = "ephemeral/pr-1/terraform.tfstate";
    expect((await versionsUnder("ephemeral/pr-1/")).length).toBeGreaterThanOrEqual(1);
    expect(await digestItem(stateKey)).toBeDefined();
    // its bundle is in dev's store bucket, and dev's bundles are dev's alone (an apply of dev, or of another
    // ephemeral env, never reads it as its own: BUNDLE-INCOMPLETE)
    expect((await withEnvStore({ ...varsA, EPHEMERAL_ENVS: `pr-1=${cidr}` }, "pr-1", (st) => st.bundles.listBundles())).length).toBeGreaterThan(0);
    expect(await withEnvStore(varsA, "dev", (st) => st.bundles.listBundles())).toEqual([]);

    // and home B, which never saw it, lists it; a second create from either home is refused before anything runs
    for (const p of [promote, promoteB]) {
      const listed = await p(["env", "list"]);
      expectExit(listed, 0);
      expect(listed.out).toMatch(/^pr-1\s+live\s+10\.64\.0\.0\/18\s+\S+\s+(71h|72h|2d)/m);
    }
    const again = await promoteB(["env", "create", "pr-1"]);
    expectExit(again, 1);
    expect(again.err).toContain("REFUSED EPHEMERAL-EXISTS");
    expectExit(await promote(["env", "create", "feature-x"]), 2);

    // WHEN home B destroys it
    const destroyed = await timed("env destroy pr-1 (home B)", promoteB, ["env", "destroy", "pr-1"]);
    expectExit(destroyed, 0);
    expect(destroyed.out).toMatch(/pr-1: destroyed [1-9]\d* resource\(s\); removed [1-9]\d* state object version\(s\) and the digest item/);
    expect(destroyed.out).not.toContain("it had no registry entry");

    // THEN nothing of it is left in dev's account: its claim is released, its entry's last version says destroyed
    expect((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: [cidr] }] }))).Vpcs ?? []).toHaveLength(0);
    expect((await listSecrets()).filter((n) => n.startsWith("pr-1/"))).toEqual([]);
    expect(await versionsUnder("ephemeral/pr-1/")).toEqual([]);
    expect(await digestItem(stateKey)).toBeUndefined();
    const afterDestroy = await ephemeralRecords(varsA);
    expect(afterDestroy.claims).toEqual({});
    expect(afterDestroy.entries["pr-1"]).toMatchObject({ name: "pr-1", status: "destroyed", cidr });
    const empty = await promote(["env", "list"]);
    expectExit(empty, 0);
    expect(empty.out).toBe("no ephemeral environments\n");

    // and dev's own state is untouched
    expect(await versionsUnder(dev.stateBackend.key)).toEqual(devVersionsBefore);
    expect((await digestItem(dev.stateBackend.key))?.Digest?.S).toBe(devDigest);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: dev.stateBackend.key }))).Body!.transformToString();
    expect(body).toBe(`${devState}\n`);

    // and every step of both homes is in pr-1's audit log in dev's store (intact: read through the store's verify)
    expect(await auditOf(varsA, "pr-1", cidr)).toEqual([
      "ci: env create ok",
      "ci: apply started", // the intent record written before terraform applies (issue 11)
      "ci: apply --auto ok",
      "ci-b: env create refused EPHEMERAL-EXISTS",
      "ci-b: env destroy ok",
    ]);
    expect(await withEnvStore({ ...varsB, EPHEMERAL_ENVS: `pr-1=${cidr}` }, "pr-1", (st) => st.audit.verify())).toMatchObject({ ok: true, count: 5 });
    process.stdout.write(`ephemeral.test.ts timings (s): ${JSON.stringify(timings)}\n`);
  }, 14 * 60_000);

  it("two homes create at once and get different CIDRs, see each other's envs, never share a CIDR, refuse each other's live env, resume each other's dead create and destroy it", async () => {
    // GIVEN two homes (own PROMOTE_HOME, synth output, ledger, user; nothing shared but dev's store); dev
    // bootstrapped; names of their own (pr-1xx: whatever an earlier test left in the registry stays apart)
    const varsA = homeVars(join(root, "a2"), isolatedVars(emu(), {}), "alice");
    const varsB = homeVars(join(root, "b2"), isolatedVars(emu(), {}), "bob");
    // a create that dies halfway: its CIDR claimed and its entry written, then its synth fails
    const dying = (vars: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...vars, PROMOTE_SYNTH_COMMAND: "echo 'synth: killed halfway (test)' >&2; exit 3" });
    const timings: Record<string, number> = {};
    const t0 = Date.now();
    const lap = (label: string) => (timings[label] = Math.round((Date.now() - t0) / 1000));
    const longLived = loadEnvironments(undefined, { ...varsA, EPHEMERAL_ENVS: "" });
    const ours = (claims: Record<string, string[]>) => Object.entries(claims).filter(([owner]) => /^pr-1\d\d$/.test(owner));
    const before = await ephemeralRecords(varsA);
    const takenBefore = Object.values(before.claims).flat();
    expect(ours(before.claims)).toEqual([]);

    // WHEN both homes create at the same time (different names), and both creates die after their claim
    const [a1, b2] = await Promise.all([cli(["env", "create", "pr-101"], dying(varsA)), cli(["env", "create", "pr-102"], dying(varsB))]);
    lap("two creates at once");

    // THEN each got its own CIDR (the pool's first two free blocks), recorded "creating" in dev's store and claimed in its lock table
    for (const r of [a1, b2]) {
      expectRun(r, 2);
      expect(r.err).toContain("synth: killed halfway (test)");
    }
    const first = await ephemeralRecords(varsA);
    const cidrOf = (name: string) => first.entries[name]?.cidr;
    expect(first.entries["pr-101"]).toMatchObject({ status: "creating", createdBy: "alice" });
    expect(first.entries["pr-102"]).toMatchObject({ status: "creating", createdBy: "bob" });
    expect(new Set([cidrOf("pr-101"), cidrOf("pr-102")])).toEqual(new Set(freeCidrs(longLived, takenBefore).slice(0, 2)));
    expect(Object.fromEntries(ours(first.claims))).toEqual({ "pr-101": [cidrOf("pr-101")], "pr-102": [cidrOf("pr-102")] });
    expect(a1.err).toContain(`pr-101: created in the registry (${cidrOf("pr-101")})`);
    expect(b2.err).toContain(`pr-102: created in the registry (${cidrOf("pr-102")})`);

    // and each home lists the other's
    for (const vars of [varsA, varsB]) {
      const listed = await cli(["env", "list"], vars);
      expectRun(listed, 0);
      expect(listed.out).toMatch(new RegExp(`^pr-101\\s+creating\\s+${cidrOf("pr-101")}\\s+.*alice`, "m"));
      expect(listed.out).toMatch(new RegExp(`^pr-102\\s+creating\\s+${cidrOf("pr-102")}\\s+.*bob`, "m"));
    }

    // WHEN two processes (one per home) claim a dozen names at the same moment, and one name both at once
    const startAt = Date.now() + 5000;
    const claimer = (vars: NodeJS.ProcessEnv, names: string[]) => run(process.execPath, ["-e", CLAIMER, JSON.stringify(names), String(startAt)], { cwd: PROJECT_ROOT, env: vars });
    const mine = (from: number) => Array.from({ length: 6 }, (_, i) => `pr-${from + 2 * i}`);
    const [ra, rb] = await Promise.all([claimer(varsA, [...mine(111), "pr-130"]), claimer(varsB, [...mine(112), "pr-130"])]);
    lap("claim race");
    for (const r of [ra, rb]) expectRun(r, 0, "the claiming process");
    const got = [...JSON.parse(ra.out), ...JSON.parse(rb.out)] as Array<{ name: string; mode?: string; cidr?: string; error?: string }>;

    // THEN every claim worked; the dozen got a dozen different blocks, the next free ones of the pool (a
    // claim that lost a conditional write took the next block; at most one hole: the block pr-130's loser may
    // have claimed, then given back); pr-130 is one entry on one CIDR, created at most once
    expect(got.filter((g) => g.error !== undefined)).toEqual([]);
    const dozen = got.filter((g) => g.name !== "pr-130");
    expect(dozen.map((g) => g.mode)).toEqual(Array(12).fill("created"));
    const both30 = got.filter((g) => g.name === "pr-130");
    expect(both30).toHaveLength(2);
    expect(both30.filter((g) => g.mode === "created").length).toBeLessThanOrEqual(1);
    expect(both30[0].cidr).toBe(both30[1].cidr);
    const next = freeCidrs(longLived, [...takenBefore, cidrOf("pr-101")!, cidrOf("pr-102")!]).slice(0, 14);
    const thirteen = [...dozen.map((g) => g.cidr!), both30[0].cidr!];
    const shared = thirteen.filter((c, i) => thirteen.indexOf(c) !== i);
    expect({ shared, got }).toEqual({ shared: [], got: expect.anything() }); // on failure: what each claim got
    expect(thirteen.filter((c) => !next.includes(c))).toEqual([]);
    const raced = await ephemeralRecords(varsB);
    const owners = ours(raced.claims);
    expect(owners).toHaveLength(15);
    for (const [owner, cidrs] of owners) expect([owner, cidrs]).toEqual([owner, [raced.entries[owner].cidr]]);
    expect(new Set(owners.map(([, c]) => c[0])).size).toBe(15);

    // WHEN one of home A's envs is live: home B is refused a create of it, whoever's it is
    const regA = registryOf(defaultContext(varsA));
    const pr111 = (await regA.read("pr-111"))!;
    await regA.markLive(pr111, "c".repeat(40), new Date());
    const refused = await cli(["env", "create", "pr-111"], varsB);
    expectRefusal(refused, "EPHEMERAL-EXISTS");
    expect(refused.err).toContain(`pr-111 live (${pr111.cidr}`);

    // WHEN home A retries home B's dead create, and a create that died before writing its entry (a bare claim)
    const resumed = await cli(["env", "create", "pr-102"], dying(varsA));
    expectRun(resumed, 2);
    expect(resumed.err).toContain(`pr-102: resumed in the registry (${cidrOf("pr-102")})`);
    const free = freeCidrs(longLived, Object.values(raced.claims).flat())[0];
    const claims = cidrClaims(getEnvironment("dev", longLived), { vars: varsB, sessionName: "integration-test" });
    try {
      expect(await claims.claim(free, "pr-140", "bob")).toBe(true);
    } finally {
      claims.clients.destroy();
    }
    const bare = await cli(["env", "create", "pr-140"], dying(varsA));
    expectRun(bare, 2);
    expect(bare.err).toContain(`pr-140: resumed in the registry (${free})`);
    lap("resumes");

    // WHEN home B destroys home A's dead create (nothing applied: a destroy plan of an empty state)
    const destroyed = await cli(["env", "destroy", "pr-101"], varsB);
    lap("destroy pr-101 from home B");
    expectRun(destroyed, 0);
    expect(destroyed.out).toMatch(/^pr-101: destroyed 0 resource\(s\)/m);
    expect(destroyed.out).not.toContain("it had no registry entry");

    // THEN its claim is released and its entry says destroyed; home A no longer lists it; its CIDR is free again
    const after = await ephemeralRecords(varsA);
    expect(after.claims["pr-101"]).toBeUndefined();
    expect(after.entries["pr-101"]).toMatchObject({ status: "destroyed", cidr: cidrOf("pr-101") });
    expect(ours(after.claims)).toHaveLength(15); // every other claim kept (pr-140's included)
    const listedA = await cli(["env", "list"], varsA);
    expectRun(listedA, 0);
    expect(listedA.out).not.toMatch(/^pr-101\s/m);
    expect(listedA.out).toMatch(/^pr-102\s+creating/m);
    expect(freeCidrs(longLived, Object.values(after.claims).flat())[0]).toBe(cidrOf("pr-101"));

    // and pr-101's audit log (dev's store) has both homes' steps, in order
    expect(await auditOf(varsA, "pr-101", cidrOf("pr-101")!)).toEqual(["alice: env create ok", "alice: apply --auto error", "bob: env destroy ok"]);
    process.stdout.write(`ephemeral.test.ts two homes, elapsed (s): ${JSON.stringify(timings)}\n`);
  }, 6 * 60_000);
});

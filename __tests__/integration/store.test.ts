/**
 * Issue 12, the shared store (PROMOTE_STORE=s3), end to end: the real CLI (`node bin/promote.js`), real
 * terraform, the emulator. dev's store is created by the real bootstrap stack (`promote bootstrap dev`,
 * run twice: the second run changes nothing, its state is in the state bucket). Then three homes that share
 * nothing but the emulator (each its own clone of the stand-in's repository, PROMOTE_HOME, synth output
 * and ledger): A plans, B lists, reviews and approves, C (which never synthesized) applies, and A's apply
 * of the same bundle is refused BUNDLE-ALREADY-APPLIED. Two homes applying one bundle at once: one
 * applies, the other is refused, the state is whole. An audit record cannot be deleted, and the chain
 * verifies from any home. A live lease elsewhere refuses ENV-LOCKED naming its holder; a dead holder's
 * lease is broken by `promote unlock dev` (named, audited; only the lease that was read). A fourth home D,
 * which never planned or applied, reads the others' record through the store: the review page and cost of
 * a bundle A planned, doctor (the tools of the apply another home made) and rollback (the failed apply
 * another home made after the last release).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { getEnvironment } from "../../envs";
import { readApprovalRecords } from "../../scripts/lib/engine/io/signatures";
import { openEnvStore, StoreRefusal } from "../../scripts/lib/store";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { withEmulator } from "../helpers/emulator";
import { accountCredentials, ACCOUNTS, clientConfig, expectExit, expectRefusal, git, gitInit, isolatedVars, ledgerTags, promote, removeDir, tempDir, type PromoteRun } from "../helpers/integration";
import type { Lease } from "../../scripts/lib/store";

const ENV = "dev";
const cfg = getEnvironment(ENV);
const SETUP_MS = 6 * 60_000;
const STEP_MS = 4 * 60_000;

// The stand-in app: the project's providers and S3 backend (assume_role into dev's account), one VPC.
const SYNTH = `require(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/engine/ts-hook.js"))});
const root = ${JSON.stringify(PROJECT_ROOT)};
const { App, TerraformStack } = require(root + "/node_modules/cdktf");
const { Vpc } = require(root + "/node_modules/@cdktf/provider-aws/lib/vpc");
const { getEnvironment } = require(root + "/envs");
const { awsProvider, s3Backend, pinProviderVersions } = require(root + "/stacks/providers");
const { targetFromEnv } = require(root + "/stacks/target");
const code = require("./code.json");
const app = new App();
const config = getEnvironment(code.env);
const target = targetFromEnv();
const stack = new TerraformStack(app, config.name);
awsProvider(stack, config, target);
s3Backend(stack, config, target);
pinProviderVersions(stack, ["aws"]);
new Vpc(stack, "main", { cidrBlock: "10.78.0.0/16", tags: { Name: "store-standin", version: code.version } });
app.synth();
`;

interface Home {
  readonly name: string;
  readonly checkout: string;
  readonly vars: NodeJS.ProcessEnv;
  cli(args: readonly string[]): Promise<PromoteRun>;
}

describe("the shared store (PROMOTE_STORE=s3): three homes, one record", () => {
  const emu = withEmulator();
  let root: string;
  let origin: string;
  const homes: Record<"A" | "B" | "C", Home> = {} as never;
  /** The bundle two homes raced to apply (the env's last release), and D: a home that never planned or applied. */
  let raceId = "";
  let D: Home;
  /** A's bundle D reads (review page, cost), then A's apply of it that terraform refused (rollback). */
  let readId = "";
  let s3: S3Client;
  const bootOut: string[] = [];

  const home = (name: string): Home => {
    const dir = join(root, `home-${name}`);
    mkdirSync(dir);
    const checkout = join(dir, "checkout");
    git(root, ["clone", "-q", origin, checkout]);
    const vars = isolatedVars(emu(), {
      PROMOTE_STORE: "s3",
      PROMOTE_CHECKOUT_DIR: checkout,
      PROMOTE_HOME: join(dir, "plans"),
      PROMOTE_LEDGER_DIR: checkout,
      CDKTF_OUTDIR: join(dir, "cdktf.out"),
      PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} synth.js`,
      PROMOTE_USER: `user-${name}`,
    });
    return { name, checkout, vars, cli: (args) => promote(args, vars) };
  };

  const commitCode = (version: string): string => {
    writeFileSync(join(origin, "code.json"), `${JSON.stringify({ env: ENV, version })}\n`);
    git(origin, ["add", "-A"]);
    git(origin, ["commit", "-q", "-m", `stand-in ${version}`]);
    return git(origin, ["rev-parse", "HEAD"]).trim();
  };

  const bundleIdOf = (r: PromoteRun): string => {
    const m = /^Bundle:\s+(\S+)$/m.exec(r.out);
    if (!m) throw new Error(`no bundle in the plan's output:\n${r.out.slice(-2000)}`);
    return m[1].split("/").slice(-1)[0];
  };
  const shaOf = (r: PromoteRun): string => /^Plan SHA-256: ([0-9a-f]{64})$/m.exec(r.out)?.[1] ?? "";

  const state = async (): Promise<{ serial: number; lineage: string; resources: Array<{ type: string; instances: Array<{ attributes: { tags?: Record<string, string> } }> }> }> => {
    const r = await s3.send(new GetObjectCommand({ Bucket: cfg.stateBackend.bucket, Key: cfg.stateBackend.key }));
    return JSON.parse(await r.Body!.transformToString());
  };

  beforeAll(async () => {
    root = tempDir("promote-store");
    // dev's delivery baseline (state bucket, lock table, KMS key, store bucket, roles), by the real bootstrap stack, twice.
    const bootVars = isolatedVars(emu(), { PROMOTE_HOME: join(root, "bootstrap-home"), CDKTF_OUTDIR: join(root, "bootstrap-out") });
    for (let i = 0; i < 2; i++) {
      const r = await promote(["bootstrap", ENV, "--by", "integration-test"], bootVars);
      expectExit(r, 0);
      bootOut.push(r.out);
    }
    s3 = new S3Client({ ...clientConfig(emu().endpoint, await accountCredentials(emu().endpoint, ACCOUNTS.dev)), forcePathStyle: true });
    origin = join(root, "origin");
    mkdirSync(origin);
    gitInit(origin);
    writeFileSync(join(origin, "synth.js"), SYNTH);
    writeFileSync(join(origin, ".gitignore"), "cdktf.out/\n");
    commitCode("a");
    for (const n of ["A", "B", "C"] as const) homes[n] = home(n);
  }, SETUP_MS);

  afterAll(() => {
    s3?.destroy();
    removeDir(root);
  });

  it("bootstrap twice: the second run changes nothing, and the bootstrap state is in the state bucket", async () => {
    expect(bootOut[0]).toMatch(/bootstrapped dev: \d+ resources managed, [1-9]\d* created or changed/);
    expect(bootOut[1]).toMatch(/bootstrapped dev: \d+ resources managed, 0 created or changed/);
    const managed = (t: string) => /(\d+) resources managed/.exec(t)?.[1];
    expect(managed(bootOut[1])).toBe(managed(bootOut[0]));
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: cfg.stateBackend.bucket }))).Contents?.map((o) => o.Key);
    expect(keys).toContain(`bootstrap/${ENV}/terraform.tfstate`);
  });

  it("A plans, B lists, reviews and approves, C applies (never synthesized there); A's apply of it is refused BUNDLE-ALREADY-APPLIED", async () => {
    const { A, B, C } = homes;
    const planned = await A.cli(["plan", ENV]);
    expectExit(planned, 0);
    const id = bundleIdOf(planned);
    const sha = shaOf(planned);
    const commit = git(A.checkout, ["rev-parse", "HEAD"]).trim();

    // B has no copy of it: it lists, reviews and approves from the store.
    expect(existsSync(join(B.vars.PROMOTE_HOME as string, ENV, id))).toBe(false);
    const listed = await B.cli(["bundles", ENV]);
    expectExit(listed, 0);
    expect(listed.out).toContain(id);
    const reviewed = await B.cli(["review", ENV, id]);
    expectExit(reviewed, 0);
    expect(reviewed.out).toContain(`Plan SHA-256 being approved: ${sha}`);
    expectExit(await B.cli(["approve", ENV, id, "--sha256", sha, "--by", "bob"]), 0);

    // C never synthesized the stack: apply synthesizes the bundle's commit and checks its digest.
    expect(existsSync(join(C.vars.CDKTF_OUTDIR as string, "stacks", ENV))).toBe(false);
    const applied = await C.cli(["apply", ENV, id]);
    expectExit(applied, 0);
    expect(applied.err).toContain("no synthesized stack on this machine");
    expect(applied.out).toContain(`Applied ${ENV}/${id}`);
    expect(ledgerTags(C.checkout, ENV).map((t) => t.commit)).toEqual([commit]);

    const serial = (await state()).serial;
    const again = await A.cli(["apply", ENV, id]);
    expectRefusal(again, "BUNDLE-ALREADY-APPLIED");
    expect((await state()).serial).toBe(serial);

    // The record: the create-only claim, the status, the approval, in dev's store.
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: cfg.store.bucket }))).Contents?.map((o) => o.Key) ?? [];
    expect(keys).toEqual(expect.arrayContaining([`applied/${commit}/${id}.json`, `bundles/${id}/applied.json`, `bundles/${id}/approval.json`, `bundles/${id}/complete.json`]));
    const review = await B.cli(["review", ENV, id]);
    expect(review.out).toMatch(/Applied:\s+succeeded by user-C/);
    expect(review.out).toMatch(/Approval: by bob/);
  }, STEP_MS);

  it("a lease held on another machine refuses ENV-LOCKED naming its holder; nothing is planned", async () => {
    const store = await openEnvStore(cfg, { vars: homes.A.vars });
    try {
      const lease = await store.lock.acquire({ holder: "mallory-ci", command: "promote apply dev", host: "runner-7" });
      try {
        const before = (await store.bundles.listBundles()).length;
        const r = await homes.A.cli(["plan", ENV]);
        expectRefusal(r, "ENV-LOCKED");
        expect(r.err).toContain("mallory-ci");
        expect(r.err).toContain("runner-7");
        expect((await store.bundles.listBundles()).length).toBe(before);
      } finally {
        await store.lock.release(lease);
      }
    } finally {
      store.close();
    }
  }, STEP_MS);

  it("a dead holder's lease (another home, an hour long) refuses ENV-LOCKED naming it; `promote unlock dev` breaks it, names it, is audited; then the plan runs", async () => {
    const store = await openEnvStore(cfg, { vars: homes.B.vars });
    // GIVEN a holder that died holding a lease that would last an hour (it never releases it)
    const ghost = await store.lock.acquire({ holder: "ghost-ci", command: "promote apply dev", host: "runner-dead", leaseMs: 3_600_000 });
    try {
      const refused = await homes.A.cli(["plan", ENV]);
      expectRefusal(refused, "ENV-LOCKED");
      expect(refused.err).toContain("ghost-ci running `promote apply dev` on runner-dead");
      expect(refused.err).toContain(`promote unlock ${ENV}`);

      // WHEN it is broken on purpose
      const u = await homes.A.cli(["unlock", ENV]);
      expectExit(u, 0);
      // THEN the output names whose lease it broke, the lease is gone, and dev's store audit has the record
      expect(u.out).toContain(`Broke the lease of ${ENV} held by ghost-ci (\`promote apply dev\` on runner-dead since ${ghost.since})`);
      expect(u.err).toMatch(/held by ghost-ci running `promote apply dev` on runner-dead since \S+, lease until \S+ \(runs out in (59|60) min/);
      expect(await store.lock.holder()).toBeNull();
      const records = await store.audit.records();
      expect(records[records.length - 1]).toMatchObject({ env: ENV, command: "unlock", by: "user-A", result: "ok", detail: expect.stringContaining("ghost-ci running `promote apply dev` on runner-dead") });

      // and the env moves on
      expectExit(await homes.A.cli(["plan", ENV]), 0);
      // nothing held: refused, audited, nothing changed
      const none = await homes.A.cli(["unlock", ENV]);
      expectRefusal(none, "LEASE-NOT-HELD");
      expect((await store.audit.records()).slice(-1)[0]).toMatchObject({ command: "unlock", result: "refused", refusalId: "LEASE-NOT-HELD" });
      expect(await store.lock.holder()).toBeNull();
    } finally {
      await store.lock.release(ghost).catch(() => false);
      store.close();
    }
  }, STEP_MS);

  it("breaking a lease is conditional: a lease renewed or taken since it was read is not broken", async () => {
    const store = await openEnvStore(cfg, { vars: homes.C.vars });
    const leases: Lease[] = [];
    try {
      const live = await store.lock.acquire({ holder: "alive", command: "promote plan dev", host: "host-1", leaseMs: 600_000 });
      leases.push(live);
      const seen = await store.lock.read();
      expect(seen).toMatchObject({ holder: "alive", host: "host-1", token: live.token, expiresAt: live.expiresAt });
      // renewed by its (live) holder after it was read: the lease read is not broken
      expect(await store.lock.renew(live, 700_000)).toBe(true);
      expect(await store.lock.break(seen!)).toBe(false);
      expect(await store.lock.holder()).toMatchObject({ holder: "alive" });
      // released and taken by another run after it was read: not broken either
      const before = await store.lock.read();
      expect(await store.lock.release(live)).toBe(true);
      const next = await store.lock.acquire({ holder: "next-run", command: "promote apply dev", host: "host-2", leaseMs: 600_000 });
      leases.push(next);
      expect(await store.lock.break(before!)).toBe(false);
      expect(await store.lock.holder()).toMatchObject({ holder: "next-run" });
      // the lease as it is now: broken
      expect(await store.lock.break((await store.lock.read())!)).toBe(true);
      expect(await store.lock.holder()).toBeNull();
    } finally {
      for (const l of leases) await store.lock.release(l).catch(() => false);
      store.close();
    }
  }, STEP_MS);

  it("two homes apply one bundle at once: one applies, the other is refused, the state is whole", async () => {
    const { A, B, C } = homes;
    commitCode("b");
    for (const h of [A, B, C]) git(h.checkout, ["pull", "-q", "--ff-only"]);
    const planned = await A.cli(["plan", ENV]);
    expectExit(planned, 0);
    const id = bundleIdOf(planned);
    const before = await state();
    // B waits for C's lease (or C for B's), then finds the bundle applied.
    raceId = id;
    const [b, c] = await Promise.all([B.cli(["apply", ENV, id, "--wait", "180"]), C.cli(["apply", ENV, id, "--wait", "180"])]);
    const winners = [b, c].filter((r) => r.code === 0);
    const losers = [b, c].filter((r) => r.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expectRefusal(losers[0], "BUNDLE-ALREADY-APPLIED");
    const after = await state();
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBeGreaterThan(before.serial);
    const vpc = after.resources.find((r) => r.type === "aws_vpc");
    expect(vpc?.instances).toHaveLength(1);
    expect(vpc?.instances[0].attributes.tags?.version).toBe("b");
  }, STEP_MS);

  it("a half-written bundle (no commit marker) is never listed, reviewed or applied: BUNDLE-INCOMPLETE", async () => {
    const store = await openEnvStore(cfg, { vars: homes.A.vars });
    const id = "20991231T235959Z-0123456789-half";
    try {
      await store.bundles.bucket.putCreateOnly(`bundles/${id}/plan.tfplan`, "an upload that stopped here", { kmsKeyArn: store.kmsKeyArn });
      await store.bundles.bucket.putCreateOnly(`bundles/${id}/manifest.json`, "{}", { kmsKeyArn: store.kmsKeyArn });
    } finally {
      store.close();
    }
    const listed = await homes.B.cli(["bundles", ENV]);
    expectExit(listed, 0);
    expect(listed.out).not.toContain(id);
    expectRefusal(await homes.B.cli(["review", ENV, id]), "BUNDLE-INCOMPLETE");
    const serial = (await state()).serial;
    expectRefusal(await homes.C.cli(["apply", ENV, id]), "BUNDLE-INCOMPLETE");
    expect((await state()).serial).toBe(serial);
    expect(existsSync(join(homes.C.vars.PROMOTE_HOME as string, ENV, id))).toBe(false);
  }, STEP_MS);

  it("a bundle file written over after its marker (a second object version) is refused BUNDLE-INCOMPLETE by review and apply, from any home", async () => {
    // GIVEN a complete bundle planned by A, whose plan file someone who can write the bucket writes over:
    // a new object version with one byte flipped (versioning keeps the original, which the marker names)
    const planned = await homes.A.cli(["plan", ENV]);
    expectExit(planned, 0);
    const id = bundleIdOf(planned);
    const store = await openEnvStore(cfg, { vars: homes.A.vars });
    const key = `bundles/${id}/plan.tfplan`;
    try {
      const bytes = Buffer.from(await store.bundles.readFile(id, "plan.tfplan"));
      bytes[bytes.length - 1] ^= 0xff;
      await store.bundles.bucket.put(key, bytes, { kmsKeyArn: store.kmsKeyArn, contentType: "application/octet-stream" });
      expect((await store.bundles.bucket.listVersions(key)).filter((v) => v.key === key)).toHaveLength(2);
    } finally {
      store.close();
    }
    // WHEN B reviews it and C applies it, THEN both are refused before anything runs, naming the file
    const review = await homes.B.cli(["review", ENV, id]);
    expectRefusal(review, "BUNDLE-INCOMPLETE");
    expect(review.err).toContain(key);
    // (no state yet when this test runs alone: nothing applied before it)
    const serial = async () => (await state().catch((e) => (e?.name === "NoSuchKey" ? null : Promise.reject(e))))?.serial ?? null;
    const before = await serial();
    const applied = await homes.C.cli(["apply", ENV, id]);
    expectRefusal(applied, "BUNDLE-INCOMPLETE");
    expect(applied.err).toMatch(/written over/);
    expect(await serial()).toBe(before);
    // AND B's listing of the env's bundles still lists every other bundle, marks this one, and exits 1
    const listed = await homes.B.cli(["bundles", ENV]);
    expectRefusal(listed, "BUNDLE-INCOMPLETE");
    const lines = listed.out.trim().split("\n");
    expect(lines.filter((l) => l.startsWith(`${id}  `))).toEqual([`${id}  unreadable  (REFUSED BUNDLE-INCOMPLETE)`]);
    expect(lines.filter((l) => / {2}(planned|applied|approved|signed|preview|expired) {0,3} {2}[0-9a-f]{64} {2}/.test(l)).length).toBe(lines.length - 1);
    expect(listed.err).toContain(`bundles: 1 of ${ENV}'s bundles could not be read (${id})`);
  }, STEP_MS);

  it("keeps each signer's approval (<principal>.approval.json) as its own create-only object; a home's fetch brings every one into its cache", async () => {
    // GIVEN a complete bundle planned by A, and two signers' records written to the store
    const planned = await homes.A.cli(["plan", ENV]);
    expectExit(planned, 0);
    const id = bundleIdOf(planned);
    const store = await openEnvStore(cfg, { vars: homes.A.vars });
    try {
      await store.bundles.putApproval(id, "alice's record\n", "alice@example.com.approval.json");
      await store.bundles.putApproval(id, "bob's record\n", "bob@example.com.approval.json");
      // a second record of one signer is refused, and the first stays
      await expect(store.bundles.putApproval(id, "a replacement\n", "alice@example.com.approval.json")).rejects.toMatchObject({ id: "APPROVAL-EXISTS" });
      // a bundle file is not an approval
      await expect(store.bundles.putApproval(id, "{}", "manifest.json")).rejects.toThrow(/expected approval\.json or <principal>\.approval\.json/);
      expect(await store.bundles.approvalNames(id)).toEqual(["alice@example.com.approval.json", "bob@example.com.approval.json"]);
    } finally {
      store.close();
    }
    // WHEN home B, which never saw the bundle, reviews it (fetched from the store into its cache)
    expectExit(await homes.B.cli(["review", ENV, id]), 0);
    // THEN both records are in B's cache exactly as the store holds them (what apply's checks read)
    expect(readApprovalRecords(join(homes.B.vars.PROMOTE_HOME as string, ENV, id))).toEqual([
      { source: "alice@example.com.approval.json", text: "alice's record\n" },
      { source: "bob@example.com.approval.json", text: "bob's record\n" },
    ]);
  }, STEP_MS);

  it("a home that never planned (D) reads a bundle A planned: cost, the review page (the plan itself, not the summary only), doctor (the tools of B's or C's apply, from the store)", async () => {
    const { A } = homes;
    // GIVEN a change planned by A (at a new commit), and D: cloned now, its cache and synth output empty
    commitCode("c");
    git(A.checkout, ["pull", "-q", "--ff-only"]);
    const planned = await A.cli(["plan", ENV]);
    expectExit(planned, 0);
    readId = bundleIdOf(planned);
    D = home("D");
    // D's ledger: the releases B and C made (tags are shared by pushing or fetching them)
    for (const from of [homes.B, homes.C]) git(D.checkout, ["fetch", "-q", from.checkout, "refs/tags/deployed/*:refs/tags/deployed/*"]);
    expect(ledgerTags(D.checkout, ENV)).toHaveLength(2);
    expect(existsSync(join(D.vars.PROMOTE_HOME as string, ENV))).toBe(false);
    expect(existsSync(join(D.vars.CDKTF_OUTDIR as string, "stacks", ENV))).toBe(false);

    // WHEN D estimates its cost: fetched from the store, the stack synthesized at the bundle's commit and initialized
    const cost = await D.cli(["cost", ENV, readId]);
    expectExit(cost, 0);
    expect(cost.out).toContain(`Estimated monthly cost of ${ENV} once bundle ${readId} is applied (plan SHA-256 ${shaOf(planned)})`);
    expect(cost.out).toMatch(/budget/i);

    // and writes the review page: the plan's own changes and cost, not the summary.txt fallback
    const page = join(root, "review-D.html");
    const reviewed = await D.cli(["review", ENV, readId, "--html", "--out", page]);
    expectExit(reviewed, 0);
    expect(reviewed.out).toContain(`Plan SHA-256 being approved: ${shaOf(planned)}`);
    expect(reviewed.err).not.toContain("the page shows summary.txt only");
    const html = readFileSync(page, "utf8");
    expect(html).toContain("aws_vpc.main");
    expect(html).not.toContain("Attribute changes unavailable");
    expect(html).not.toContain("Cost change not estimated");

    // and doctor: dev's last release was applied by B or C; its tools are that bundle's, read from dev's store
    const manifest = JSON.parse(readFileSync(join(homes.A.vars.PROMOTE_HOME as string, ENV, raceId, "manifest.json"), "utf8")) as { lockFile: { sha256: string } };
    const doctor = await D.cli(["doctor", "--no-drift"]);
    expectExit(doctor, 0);
    const devSection = doctor.out.split(/^staging/m)[0];
    expect(devSection).toContain(`lock file:    ${manifest.lockFile.sha256}   (from bundle ${raceId})`);
    expect(devSection).not.toContain("UNREADABLE");
    // staging and prod have no store on this emulator: said per env, the report goes on
    expect(doctor.out).toMatch(/^staging[\s\S]*bundles: +UNREADABLE: /m);
  }, STEP_MS);

  it("rollback reads the applied records from the store: D (which applied nothing) sees A's failed apply after the last release and rolls back to that release", async () => {
    const { A } = homes;
    // GIVEN A's apply of the bundle refused by terraform before it changed anything (a dead holder's state
    // lock): the store records it failed, after dev's last release
    const creds = await accountCredentials(emu().endpoint, ACCOUNTS.dev);
    const ddb = new DynamoDBClient(clientConfig(emu().endpoint, creds));
    const lockKey = { LockID: { S: `${cfg.stateBackend.bucket}/${cfg.stateBackend.key}` } };
    const info = { ID: "6c1f2d3b-9e2a-4d4f-8b8c-2a3b4c5d6e7f", Operation: "OperationTypeApply", Info: "", Who: "ghost@gone-host", Version: "1.11.4", Created: new Date(Date.now() - 5 * 60_000).toISOString(), Path: lockKey.LockID.S };
    await ddb.send(new PutItemCommand({ TableName: cfg.stateBackend.lockTable, Item: { ...lockKey, Info: { S: JSON.stringify(info) } } }));
    try {
      expectRefusal(await A.cli(["apply", ENV, readId]), "STATE-LOCKED");
    } finally {
      await ddb.send(new DeleteItemCommand({ TableName: cfg.stateBackend.lockTable, Key: lockKey })).catch(() => undefined);
      ddb.destroy();
    }
    const status = await s3.send(new GetObjectCommand({ Bucket: cfg.store.bucket, Key: `bundles/${readId}/applied.json` }));
    expect(JSON.parse(await status.Body!.transformToString())).toMatchObject({ status: "failed", appliedBy: "user-A" });
    // D's cache holds the bundle as it was before that apply: no applied record there
    expect(existsSync(join(D.vars.PROMOTE_HOME as string, ENV, readId, "applied.json"))).toBe(false);

    // WHEN D plans a rollback with no target
    const tags = ledgerTags(D.checkout, ENV);
    const current = tags[tags.length - 1];
    const rb = await D.cli(["rollback", ENV]);
    expectExit(rb, 0);
    // THEN its target is the current release itself (the newest apply failed after it), not the one before
    expect(rb.err).toContain(`rollback ${ENV} to ${current.tag} (commit ${current.commit})`);
    expect(rb.out).toContain(`ROLLBACK:    to ${current.tag}`);
    expect(current.commit).not.toBe(tags[0].commit);
  }, STEP_MS);

  it("measured: what the store adds to a plan (the same home, nothing to synthesize or init; local folder vs s3)", async () => {
    const seconds = async (store: string): Promise<number> => {
      const t = Date.now();
      const r = await promote(["plan", ENV], { ...homes.A.vars, PROMOTE_STORE: store });
      expectExit(r, 0);
      return (Date.now() - t) / 1000;
    };
    const local = await seconds("local");
    const s3plan = await seconds("s3");
    process.stderr.write(`store.test measured: plan with PROMOTE_STORE=local ${local.toFixed(1)} s, with s3 ${s3plan.toFixed(1)} s (adds ${(s3plan - local).toFixed(1)} s)\n`);
  }, STEP_MS);

  it("the applied record is create-only: of two writers racing for it exactly one wins", async () => {
    const store = await openEnvStore(cfg, { vars: homes.A.vars });
    try {
      const record = { schemaVersion: 1 as const, env: ENV, bundleId: "race-bundle", commit: "0123456789abcdef0123456789abcdef01234567", planSha256: "a".repeat(64), appliedAt: new Date().toISOString(), by: "t", host: "h" };
      const results = await Promise.allSettled([store.bundles.markApplied(record), store.bundles.markApplied({ ...record, by: "u" })]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(StoreRefusal);
      expect((lost.reason as StoreRefusal).id).toBe("BUNDLE-ALREADY-APPLIED");
    } finally {
      store.close();
    }
  }, STEP_MS);

  it("the audit chain verifies from any home and holds every home's commands; a locked record version cannot be deleted, a delete marker is detected", async () => {
    for (const h of [homes.A, homes.C]) {
      const r = await h.cli(["audit", "verify", ENV]);
      expectExit(r, 0);
      expect(r.out).toMatch(new RegExp(`audit log s3://${cfg.store.bucket}/audit/${ENV}/: intact, \\d+ record\\(s\\)`));
    }
    const store = await openEnvStore(cfg, { vars: homes.B.vars });
    try {
      // Every home's commands are in the one log: A's plans and refusals, B's approval, C's apply.
      const records = await store.audit.records();
      const by = (who: string, command: string, result: string) => records.some((r) => r.by === who && r.command === command && r.result === result);
      expect(by("user-A", "plan", "ok")).toBe(true);
      expect(by("bob", "approve", "ok")).toBe(true);
      expect(by("user-C", "apply", "ok")).toBe(true);
      expect(by("user-A", "apply", "refused")).toBe(true);
      expect(records.some((r) => r.refusalId === "ENV-LOCKED")).toBe(true);

      // Deleting the record's version (the record itself) is refused: Object Lock COMPLIANCE.
      const key = `audit/${ENV}/000000000001.json`;
      const [version] = (await store.bundles.bucket.listVersions(key)).filter((v) => v.key === key);
      await expect(s3.send(new DeleteObjectCommand({ Bucket: cfg.store.bucket, Key: key, VersionId: version.versionId }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      const got = await s3.send(new GetObjectCommand({ Bucket: cfg.store.bucket, Key: key, VersionId: version.versionId }));
      expect(JSON.parse(await got.Body!.transformToString()).seq).toBe(1);

      // A delete marker: on AWS the bucket policy refuses it to every role but break-glass; the emulator
      // cannot evaluate that statement (aws:PrincipalArn, see s3_policy_request_context) and lets it
      // through. Verify detects it from any home, and no command appends to the broken log.
      await s3.send(new DeleteObjectCommand({ Bucket: cfg.store.bucket, Key: key }));
      const before = (await store.bundles.bucket.listVersions(`audit/${ENV}/`)).length;
      const verify = await homes.C.cli(["audit", "verify", ENV]);
      expectRefusal(verify, "AUDIT-LOG-BROKEN");
      expect(verify.err).toContain("record 1: the record was deleted");
      expectRefusal(await homes.A.cli(["plan", ENV]), "AUDIT-LOG-BROKEN");
      expect((await store.bundles.bucket.listVersions(`audit/${ENV}/`)).length).toBe(before);
    } finally {
      store.close();
    }
  }, STEP_MS);
});

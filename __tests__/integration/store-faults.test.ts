/**
 * Issue 12, faults of the shared store (the default store), with the real CLI in-process, real terraform
 * and the emulator behind a fault proxy (helpers/fault-proxy.ts: every request of the engine and of
 * terraform goes through it, and a rule cuts exactly the requests it names, as a stopped emulator or a
 * dropped connection would):
 *
 *   1. the connection drops while a plan uploads its bundle (the commit marker never arrives): a named
 *      error, the bundle invisible to every command (BUNDLE-INCOMPLETE by name), state untouched, the
 *      error in the audit log;
 *   2. the store is unreachable at apply: an error naming the store before terraform runs, no claim, the
 *      state untouched; once it is back the same bundle applies;
 *   3. the store goes away after terraform applied (the outcome cannot be written): APPLY-NOT-RECORDED,
 *      the next plan refuses APPLY-UNFINISHED, and `promote complete` records the outcome once the store
 *      is back. Nothing is lost: the claim, the state and the audit chain are whole.
 *   4. an apply stops between its claim and its status record (the connection drops on the status
 *      write): the claim alone makes the next plan refuse APPLY-UNFINISHED, naming the bundle (the
 *      engine finds it by listing the claims, not by reading every bundle); `promote complete` records it.
 *   5. the audit check before each command reads only the records this home has not verified (its
 *      checkpoint: last seq, hash, the digest of the records' version ids), the listing of every
 *      version each time: an overwritten old record is still refused AUDIT-LOG-BROKEN by the whole
 *      log's verdict, and a checkpoint that lies (another hash, other versions) or that others could
 *      write never refuses nor skips.
 *   6. the store stops answering while `promote bundles` reads the bundles: the listing stops there with
 *      the store's error (exit 2), after the bundles it had read; not one "unreadable" line per bundle,
 *      each waiting out the same failure.
 *   0. (the world's bootstrap, first run) the lock request terraform's `init -migrate-state` makes on
 *      the new backend succeeds while its answer is lost: terraform's retry finds that very lock and
 *      gives up holding it; bootstrap releases exactly that lock (by its id, in the lock table: the folder
 *      is not initialized for the new backend yet) and moves the state, instead of a STATE-LOCKED that
 *      nobody could clear but by hand.
 */
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { getEnvironment } from "../../envs";
import { bootstrapStateKey } from "../../stacks/bootstrap-stack";
import { stateLockId } from "../../scripts/lib/engine/core/backend-settings";
import { releaseBackendLock } from "../../scripts/lib/store/bootstrap-state";
import { withEmulator, type TestEmulator } from "../helpers/emulator";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy";
import { expectExit, standinWorld, type Run, type StandinWorld } from "../helpers/standin";
import { auditRecords, withEnvStore } from "../helpers/store-records";

const ENV = "dev";
const cfg = getEnvironment(ENV);
const STORE = `/${cfg.store.bucket}`;
const STEP_MS = 8 * 60_000;
/** A request to dev's store bucket (path style: /<bucket>, /<bucket>/<key>, /<bucket>?<query>). */
const inStore = (path: string): boolean => path === STORE || path.startsWith(`${STORE}/`) || path.startsWith(`${STORE}?`);

describe("faults of the shared store (fault proxy in front of the emulator)", () => {
  const emu = withEmulator();
  let proxy: FaultProxy;
  let w: StandinWorld;
  let commitA: string;

  const refusedWith = (r: Run, id: string) => {
    if (r.code !== 1 || !r.err.includes(`REFUSED ${id}:`)) throw new Error(`expected refusal ${id}, got exit ${r.code}\n${r.out.slice(-1500)}\n${r.err.slice(-2500)}`);
  };
  const bundleIdOf = (r: Run): string => {
    const dir = /Bundle:\s+(\S+)/.exec(r.out)?.[1];
    if (!dir) throw new Error(`no bundle in the output:\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
    return dir.split("/").slice(-1)[0];
  };
  /** The env's state object as the state bucket has it, read past the proxy ("(none)" before the first apply). */
  const stateObject = async (): Promise<string> => {
    const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
    const creds = await w.credentials();
    const s3 = new S3Client({ endpoint: emu().endpoint, region: cfg.region, credentials: creds, forcePathStyle: true });
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: cfg.stateBackend.bucket, Key: cfg.stateBackend.key }));
      return await got.Body!.transformToString();
    } catch (e) {
      if ((e as Error).name === "NoSuchKey") return "(none)";
      throw e;
    } finally {
      s3.destroy();
    }
  };

  beforeAll(async () => {
    proxy = await startFaultProxy(emu().endpoint);
    const through: TestEmulator = { ...emu(), endpoint: proxy.endpoint, env: { ...emu().env, LOCAL_ENDPOINT: proxy.endpoint } };
    // The first PutItem of the bootstrap is terraform's lock of its destination state (the local apply
    // before it takes no DynamoDB lock): carried out, its answer lost.
    proxy.lose((r) => r.target === "DynamoDB_20120810.PutItem", 1);
    w = await standinWorld(through, ENV);
    proxy.clear();
    commitA = w.commit({ version: "a" });
  }, STEP_MS);

  afterAll(async () => {
    w?.cleanup();
    await proxy?.close();
  });

  it(
    "0: bootstrap's lock on its new backend, taken while the answer was lost, is released by its own id; the state moves, no lock is left",
    async () => {
      expect(proxy.lostCount).toBe(1);
      expect(w.bootLog).toMatch(/terraform init: the state lock [0-9a-f-]{36} it was refused is its own/);
      const ddb = new DynamoDBClient({ endpoint: emu().endpoint, region: cfg.region, credentials: await w.credentials() });
      try {
        const items = (await ddb.send(new ScanCommand({ TableName: cfg.stateBackend.lockTable, ConsistentRead: true }))).Items ?? [];
        // terraform's digest of the moved state stays; no lock (an item with Info) on any state
        expect(items.filter((i) => i.Info !== undefined).map((i) => i.LockID?.S)).toEqual([]);
        expect(items.map((i) => i.LockID?.S)).toContain(`${cfg.stateBackend.bucket}/${bootstrapStateKey(ENV)}-md5`);

        // The release itself deletes only a lock whose ID is the one asked for: a lock taken by someone
        // else meanwhile (another ID) stays; the asked-for one goes.
        const bootstrapDir = join(w.root, "bootstrap-out", "stacks", `bootstrap-${ENV}`);
        const lockId = stateLockId({ bucket: cfg.stateBackend.bucket, key: bootstrapStateKey(ENV) });
        const theirs = "57afbfed-021b-bcc5-6852-60c7f85ac2a9";
        const Info = { S: JSON.stringify({ ID: theirs, Operation: "OperationTypeApply", Who: "someone@elsewhere", Path: lockId }) };
        await ddb.send(new PutItemCommand({ TableName: cfg.stateBackend.lockTable, Item: { LockID: { S: lockId }, Info } }));
        const held = async () => (await ddb.send(new GetItemCommand({ TableName: cfg.stateBackend.lockTable, Key: { LockID: { S: lockId } }, ConsistentRead: true }))).Item?.Info?.S;
        expect(await releaseBackendLock(bootstrapDir, "4d6bc68b-e1bf-a996-5b6c-a76d72743b65")).toBe(false);
        expect(await held()).toBe(Info.S);
        expect(await releaseBackendLock(bootstrapDir, theirs)).toBe(true);
        expect(await held()).toBeUndefined();
      } finally {
        ddb.destroy();
      }
      // the bootstrap's state is in its bucket (not left in the local file)
      const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
      const s3 = new S3Client({ endpoint: emu().endpoint, region: cfg.region, credentials: await w.credentials(), forcePathStyle: true });
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: cfg.stateBackend.bucket, Key: bootstrapStateKey(ENV) }));
        const state = JSON.parse(await got.Body!.transformToString()) as { resources: unknown[] };
        expect(state.resources.length).toBeGreaterThan(10);
      } finally {
        s3.destroy();
      }
      expect(w.bootLog).toMatch(/bootstrap state not in \S+ yet: applying with local state/);
    },
    STEP_MS,
  );

  it(
    "1: the connection drops while a plan uploads its bundle: a named error, nothing any command can pick up, state untouched, the error audited",
    async () => {
      const before = await stateObject();
      proxy.cut((r) => r.method === "PUT" && r.path.startsWith(`${STORE}/bundles/`) && r.path.includes("/complete.json"));
      const r = await w.promote(["plan", ENV]);
      proxy.clear();
      expectExit(r, 2);
      expect(r.err).toMatch(/complete\.json/);
      // the upload never finished: its files are in the store, but no command lists or takes it
      const partial = await withEnvStore(w.vars, ENV, (s) => s.bundles.bucket.listKeys("bundles/"));
      const ids = [...new Set(partial.map((k) => k.split("/")[1]))];
      expect(ids).toHaveLength(1);
      expect(partial.some((k) => k.endsWith("/plan.tfplan"))).toBe(true);
      expect(partial.some((k) => k.endsWith("/complete.json"))).toBe(false);
      const listed = await w.promote(["bundles", ENV]);
      expectExit(listed, 0);
      expect(listed.out).not.toContain(ids[0]);
      refusedWith(await w.promote(["apply", ENV, ids[0]]), "BUNDLE-INCOMPLETE");
      refusedWith(await w.promote(["review", ENV, ids[0]], "bob"), "BUNDLE-INCOMPLETE");
      expect(await stateObject()).toBe(before);
      const audit = await auditRecords(w.vars, ENV);
      expect(audit.filter((a) => a.command === "plan").map((a) => a.result)).toEqual(["error"]);
      expectExit(await w.promote(["audit", "verify", ENV]), 0);
    },
    STEP_MS,
  );

  it(
    "2: the store is unreachable at apply: an error naming it before terraform runs, no claim, state untouched; back, the same bundle applies",
    async () => {
      const planned = await w.promote(["plan", ENV]);
      expectExit(planned, 0);
      const id = bundleIdOf(planned);
      const before = await stateObject();
      proxy.clear();
      proxy.cut((r) => inStore(r.path));
      const r = await w.promote(["apply", ENV, id]);
      const cut = proxy.cutCount;
      const terraformRan = proxy.seen.some((s) => s.path.startsWith(`/${cfg.stateBackend.bucket}`));
      proxy.clear();
      if (r.code !== 2) throw new Error(`expected exit 2, got ${r.code}\n${r.out.slice(-1500)}\n${r.err.slice(-2500)}`);
      expect(cut).toBeGreaterThan(0);
      expect(r.err).toContain(cfg.store.bucket);
      expect(r.out).not.toContain("Apply complete");
      expect(terraformRan).toBe(false);
      expect(await stateObject()).toBe(before);
      expect(await withEnvStore(w.vars, ENV, (s) => s.bundles.bucket.listKeys("applied/"))).toEqual([]);

      const again = await w.promote(["apply", ENV, id]);
      expectExit(again, 0);
      expect(await stateObject()).not.toBe(before);
      const commit = commitA;
      expect(await withEnvStore(w.vars, ENV, (s) => s.bundles.bucket.listKeys("applied/"))).toEqual([`applied/${commit}/${id}.json`, `applied/${commit}/${id}.outcome.json`]);
      expect((await withEnvStore(w.vars, ENV, (s) => s.bundles.gateEvidence(commit))).map((e) => e.outcome?.status)).toEqual(["succeeded"]);
      expectExit(await w.promote(["audit", "verify", ENV]), 0);
    },
    STEP_MS,
  );

  it(
    "3: the store goes away after terraform applied: APPLY-NOT-RECORDED, the next plan refuses APPLY-UNFINISHED, `promote complete` records it once the store is back",
    async () => {
      w.commit({ version: "b" });
      const planned = await w.promote(["plan", ENV]);
      expectExit(planned, 0);
      const id = bundleIdOf(planned);
      // the claim and the intent record pass; from the moment terraform writes the new state, the store is gone
      let stateWritten = false;
      proxy.cut((r) => {
        if (r.method === "PUT" && r.path.startsWith(`/${cfg.stateBackend.bucket}/`)) stateWritten = true;
        return stateWritten && inStore(r.path);
      });
      const r = await w.promote(["apply", ENV, id]);
      proxy.clear();
      expect(stateWritten).toBe(true);
      expect(r.code).not.toBe(0);
      expect(`${r.out}\n${r.err}`).toContain("APPLY-NOT-RECORDED");
      // the apply happened (terraform's state is the new one) and its claim is kept
      expect(await stateObject()).toContain('"version": "b"');
      const claims = await withEnvStore(w.vars, ENV, (s) => s.bundles.bucket.listKeys("applied/"));
      expect(claims.filter((k) => k.endsWith(`/${id}.json`))).toHaveLength(1);

      refusedWith(await w.promote(["plan", ENV]), "APPLY-UNFINISHED");
      const completed = await w.promote(["complete", ENV, id]);
      expectExit(completed, 0);
      const status = await withEnvStore(w.vars, ENV, async (s) => JSON.parse((await s.bundles.bucket.get(`bundles/${id}/applied.json`))!.body.toString("utf8")) as { status: string });
      expect(status.status).toBe("succeeded");
      expectExit(await w.promote(["plan", ENV]), 0);
      expectExit(await w.promote(["audit", "verify", ENV]), 0);
    },
    STEP_MS,
  );

  it(
    "4: an apply stopped between its claim and its status record: the claim alone refuses the next plan APPLY-UNFINISHED by name; complete records it",
    async () => {
      w.commit({ version: "c" });
      const planned = await w.promote(["plan", ENV]);
      expectExit(planned, 0);
      const id = bundleIdOf(planned);
      const before = await stateObject();
      // the claim goes through; the status record after it never arrives
      proxy.cut((r) => r.method === "PUT" && r.path.startsWith(`${STORE}/bundles/${id}/applied.json`));
      const r = await w.promote(["apply", ENV, id]);
      proxy.clear();
      expectExit(r, 2);
      expect(await stateObject()).toBe(before);
      const keys = await withEnvStore(w.vars, ENV, async (s) => [...(await s.bundles.bucket.listKeys("applied/")), ...(await s.bundles.bucket.listKeys(`bundles/${id}/`))]);
      expect(keys.filter((k) => k.endsWith(`/${id}.json`))).toHaveLength(1);
      expect(keys).not.toContain(`bundles/${id}/applied.json`);

      const refused = await w.promote(["plan", ENV]);
      refusedWith(refused, "APPLY-UNFINISHED");
      expect(refused.err).toContain(`${id}: apply started by`);
      expectExit(await w.promote(["complete", ENV, id]), 0);
      const status = await withEnvStore(w.vars, ENV, async (s) => JSON.parse((await s.bundles.bucket.get(`bundles/${id}/applied.json`))!.body.toString("utf8")) as { status: string });
      expect(status.status).not.toBe("started");
      expect(status.status).not.toBe("succeeded");
      expectExit(await w.promote(["plan", ENV]), 0);
      expect(await stateObject()).toBe(before);
    },
    STEP_MS,
  );
  it(
    "5: the audit check before a command reads only the records after this home's checkpoint; an overwritten old record still refuses; a lying checkpoint reads the whole log",
    async () => {
      const checkpointFile = join(w.root, "plans", "_audit", `${ENV}.store-verified.json`);
      /** Versioned GETs of audit records (verify reads each by its version id; append reads the head without one). */
      const recordReads = () => proxy.seen.filter((r) => r.method === "GET" && r.path.startsWith(`${STORE}/audit/${ENV}/`) && r.path.includes("versionId=")).length;
      /** An audited command that needs no terraform: there is no lease to break (LEASE-NOT-HELD, appended to the log). */
      const cheap = async () => {
        proxy.clear();
        refusedWith(await w.promote(["unlock", ENV]), "LEASE-NOT-HELD");
        return recordReads();
      };
      await cheap();
      await cheap(); // a log of at least two records, whichever tests ran before
      const verified = await w.promote(["audit", "verify", ENV]);
      expectExit(verified, 0);
      const count = Number(/intact, (\d+) record/.exec(verified.out)?.[1]);
      expect(count).toBeGreaterThanOrEqual(2);
      const checkpoint = JSON.parse(readFileSync(checkpointFile, "utf8")) as { seq: number; hash: string; versionsSha256: string };
      expect(checkpoint.seq).toBe(count);

      // At the checkpoint: its own record only (its hash checked); then that and the one record the last command appended.
      expect(await cheap()).toBe(1);
      expect(await cheap()).toBe(2);
      // Without a checkpoint (a new home): every record.
      rmSync(checkpointFile);
      expect(await cheap()).toBe(count + 2);

      // A checkpoint that lies is never believed into a refusal: a wrong hash (its record read) means the whole log, which passes.
      const now = JSON.parse(readFileSync(checkpointFile, "utf8")) as typeof checkpoint;
      writeFileSync(checkpointFile, JSON.stringify({ ...now, hash: "f".repeat(64) }));
      expect(await cheap()).toBe(count + 4);
      // ...nor into skipping records whose versions it does not name.
      writeFileSync(checkpointFile, JSON.stringify({ ...now, seq: count + 4, versionsSha256: "e".repeat(64) }));
      expect(await cheap()).toBe(count + 4);
      // ...nor when another user could have written it (group or others may write: ignored, the whole log read).
      chmodSync(checkpointFile, 0o666);
      expect(await cheap()).toBe(count + 5);
      expect(statSync(checkpointFile).mode & 0o777).toBe(0o600);

      // An old record overwritten (a second version): found by the listing, refused by the whole log's verdict.
      const key = `audit/${ENV}/000000000001.json`;
      const { S3Client, PutObjectCommand } = await import("@aws-sdk/client-s3");
      const s3 = new S3Client({ endpoint: emu().endpoint, region: cfg.region, credentials: await w.credentials(), forcePathStyle: true });
      try {
        const original = await withEnvStore(w.vars, ENV, async (s) => (await s.bundles.bucket.get(key))!.body.toString("utf8"));
        await s3.send(new PutObjectCommand({ Bucket: cfg.store.bucket, Key: key, Body: original }));
      } finally {
        s3.destroy();
      }
      expect(JSON.parse(readFileSync(checkpointFile, "utf8")).seq).toBe(count + 5);
      proxy.clear();
      const refused = await w.promote(["unlock", ENV]);
      refusedWith(refused, "AUDIT-LOG-BROKEN");
      expect(refused.err).toContain("record 1: the record has 2 versions (it was overwritten)");
      const after = await auditRecords(w.vars, ENV);
      expect(after).toHaveLength(count + 6); // nothing appended to the broken log
    },
    STEP_MS,
  );

  it(
    "6: the store stops answering while bundles are listed: the listing stops at that bundle with the store's error, exit 2",
    async () => {
      proxy.clear();
      const listed = await w.promote(["bundles", ENV]);
      expectExit(listed, 0);
      const ids = listed.out.trim().split("\n").map((l) => l.split(/\s+/)[0]);
      expect(ids.length).toBeGreaterThanOrEqual(3);
      // From the second bundle on, the store's reads of bundle files are cut; their commit markers (which
      // the listing reads to list complete bundles only) still answer.
      const fileOf = (id: string, path: string) => path.startsWith(`${STORE}/bundles/${id}/`) && !path.includes("/complete.json");
      proxy.cut((q) => q.method === "GET" && ids.slice(1).some((id) => fileOf(id, q.path)));
      const from = proxy.seen.length;
      const r = await w.promote(["bundles", ENV]);
      const askedAfter = proxy.seen.slice(from).filter((q) => ids.slice(2).some((id) => fileOf(id, q.path)));
      proxy.clear();
      expectExit(r, 2);
      if (!r.out.startsWith(`${ids[0]} `)) throw new Error(`expected the first bundle listed, then the store's error\n--- out\n${r.out}\n--- err\n${r.err.slice(-3000)}`);
      expect(r.out.trim().split("\n").map((l) => l.split(/\s+/)[0])).toEqual([ids[0]]);
      expect(r.err).toMatch(new RegExp(`^ERROR: store s3://${cfg.store.bucket} unreachable \\(GetObject bundles/${ids[1]}/`, "m"));
      expect(r.err).not.toMatch(/could not be read/);
      expect(r.out).not.toContain("unreadable");
      // the listing stopped there: no file of a later bundle was asked for (each would wait out the same failure)
      expect(askedAfter).toEqual([]);
    },
    STEP_MS,
  );
});

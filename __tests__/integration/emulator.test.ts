/**
 * The emulator launcher and its patches, for real: moto from the project venv, no mocks.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { S3Client, CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { EmulatorError, answers, emulatorStatus, pidAlive, startEmulator, stopEmulator } from "../../scripts/lib/emulator";
import { PATHS, PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { startTestEmulator, withEmulator } from "../helpers/emulator";

const run = promisify(execFile);
const noEnv = { ...process.env, EMULATOR_PORT: "", EMULATOR_STATE_DIR: "" };

async function probe(endpoint: string, scenario: string, account = "111111111111"): Promise<any> {
  const { stdout } = await run(PATHS.venvPython, [join(PROJECT_ROOT, "scripts/emulator/probe.py"), endpoint, scenario, "--account", account], {
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

async function clientsFor(endpoint: string, account: string) {
  const base = { endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  const sts = new STSClient(base);
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/terraform-deploy`, RoleSessionName: "test" }),
  );
  const credentials = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
  return {
    sts: new STSClient({ ...base, credentials }),
    s3: new S3Client({ ...base, credentials, forcePathStyle: true }),
  };
}

describe("emulator lifecycle", () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), "emulator-life-"));
  });
  afterEach(async () => {
    await stopEmulator({ stateDir, env: noEnv }).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("starts on a free port, answers, reuses on a second start, stops and removes its record", async () => {
    const first = await startEmulator({ stateDir, env: noEnv });
    expect(first.reused).toBe(false);
    expect(first.endpoint).toBe(`http://127.0.0.1:${first.port}`);
    expect(first.env).toMatchObject({ TARGET: "local", LOCAL_ENDPOINT: first.endpoint, LOCAL_STATE_DIR: join(stateDir, String(first.port)) });
    expect(existsSync(first.localStateDir)).toBe(true);
    expect(JSON.parse(readFileSync(first.recordFile, "utf8"))).toMatchObject({ pid: first.pid, port: first.port, endpoint: first.endpoint });
    expect(first.patches).toEqual(expect.arrayContaining(["elasticache_members", "budgets_tags"]));

    const sts = new STSClient({ endpoint: first.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toMatch(/^\d{12}$/);

    const again = await startEmulator({ stateDir, env: noEnv });
    expect(again.reused).toBe(true);
    expect(again.pid).toBe(first.pid);
    const samePort = await startEmulator({ stateDir, port: first.port, env: noEnv });
    expect(samePort.pid).toBe(first.pid);

    expect((await emulatorStatus({ stateDir, env: noEnv })).state).toBe("running");
    const stopped = await stopEmulator({ stateDir, env: noEnv });
    expect(stopped?.pid).toBe(first.pid);
    expect(pidAlive(first.pid)).toBe(false);
    expect(existsSync(first.recordFile)).toBe(false);
    expect(existsSync(first.localStateDir)).toBe(false);
    expect(await answers(first.port)).toBe(false);
    expect((await emulatorStatus({ stateDir, env: noEnv })).state).toBe("stopped");
  }, 60_000);

  it("reports a kill -9'd emulator as crashed, and a new start replaces it", async () => {
    const emu = await startEmulator({ stateDir, env: noEnv });
    process.kill(emu.pid, "SIGKILL");
    for (let i = 0; i < 50 && pidAlive(emu.pid); i++) await new Promise((r) => setTimeout(r, 100));

    const status = await emulatorStatus({ stateDir, env: noEnv });
    expect(status.state).toBe("crashed");
    expect(status.reason).toContain(`pid ${emu.pid} is gone`);
    expect(status.record?.port).toBe(emu.port);

    const fresh = await startEmulator({ stateDir, env: noEnv });
    expect(fresh.reused).toBe(false);
    expect(fresh.pid).not.toBe(emu.pid);
    expect(existsSync(emu.recordFile)).toBe(emu.port === fresh.port);
  }, 60_000);

  it("refuses clearly when the venv is missing", async () => {
    const python = join(stateDir, "no-venv", "bin", "python");
    await expect(startEmulator({ stateDir, python, env: noEnv })).rejects.toMatchObject({
      name: "EmulatorError",
      code: "VENV_MISSING",
      message: expect.stringContaining("npm run setup"),
    });
    await expect(startEmulator({ stateDir, python, env: noEnv })).rejects.toBeInstanceOf(EmulatorError);
  });

  it("gives the log tail when the launcher dies before answering", async () => {
    // A patch name that does not exist makes the launcher exit with code 4 before serving.
    await expect(startEmulator({ stateDir, patches: "no_such_patch", env: noEnv, timeoutMs: 20_000 })).rejects.toMatchObject({
      code: "START_EXITED",
      message: expect.stringMatching(/exited \(code 4\)[\s\S]*unknown patch/),
    });
  }, 30_000);

  it("never adopts another emulator that holds the port: its own launcher must report ready", async () => {
    // GIVEN an emulator of another state dir on a port
    const other = await startTestEmulator();
    const mine = mkdtempSync(join(tmpdir(), "emulator-mine-"));
    try {
      // WHEN a start in this state dir asks for that port
      // THEN it fails (the port answers, but not from the launcher it spawned), rather than sharing the other's accounts
      await expect(startEmulator({ stateDir: mine, port: other.port, env: noEnv, timeoutMs: 20_000 })).rejects.toMatchObject({
        code: "START_EXITED",
        message: expect.stringContaining(`EMULATOR PORT IN USE: 127.0.0.1:${other.port}`),
      });
      expect(existsSync(join(mine, `${other.port}.json`))).toBe(false);
      expect(await answers(other.port)).toBe(true);
    } finally {
      await other.stop();
      rmSync(mine, { recursive: true, force: true });
    }
  }, 60_000);

  it("gives two test emulators two ports and two pids", async () => {
    const [a, b] = await Promise.all([startTestEmulator(), startTestEmulator()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.pid).not.toBe(b.pid);
      expect(await answers(a.port)).toBe(true);
      expect(await answers(b.port)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(pidAlive(a.pid) || pidAlive(b.pid)).toBe(false);
  }, 60_000);
});

describe("emulator fidelity patches", () => {
  const emu = withEmulator();

  it("describes replication group members as available cache clusters, deletes them with the group, deletes subnet groups", async () => {
    const out = await probe(emu().endpoint, "elasticache");
    expect(out.memberClusters).toHaveLength(3);
    expect(out.described.map(({ id, status, replicationGroupId }: any) => ({ id, status, replicationGroupId }))).toEqual(
      out.memberClusters.map((id: string) => ({ id, status: "available", replicationGroupId: id.replace(/-\d{3}$/, "") })),
    );
    for (const c of out.described) expect(c.securityGroups).toEqual(c.sgExpected);
    expect(out.membersLeftAfterDelete).toEqual([]);
    expect(out.groupLeftAfterDelete).toBe(false);
    expect(out.subnetGroupDeleteWhileInUse).toBe("CacheSubnetGroupInUse");
    expect(out.subnetGroupAfterDelete).toBe("CacheSubnetGroupNotFoundFault");
  }, 60_000);

  it("round-trips budget tags (create, tag, untag, delete)", async () => {
    const out = await probe(emu().endpoint, "budgets", "333333333333");
    expect(out).toEqual({
      created: ["Project=probe"],
      tagged: ["Env=dev", "Project=probe", "Tmp=x"],
      untagged: ["Env=dev", "Project=probe"],
      afterDelete: "NotFoundException",
    });
  }, 60_000);

  // One read-back per patch behind the real stacks' second-plan diffs (the fidelity test covers the
  // same four through terraform; these fail in seconds instead of minutes).
  it("returns a scaling policy's Enabled (default true) and no empty PredictiveScalingConfiguration", async () => {
    expect(await probe(emu().endpoint, "scaling-policy")).toEqual({ enabled: true, hasPredictive: false, enabledAfterDisable: false });
  }, 60_000);

  it("invents no ForwardedValues for a CloudFront behavior with a cache policy, keeps the legacy ones", async () => {
    expect(await probe(emu().endpoint, "cloudfront-cache-policy")).toEqual({
      defaultHasForwardedValues: false,
      defaultCachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
      orderedQueryString: true,
    });
  }, 60_000);

  it("returns DB parameters set by the user with Source = user, and filters by Source", async () => {
    const user = ["log_connections=1:user", "rds.force_ssl=1:user"];
    expect(await probe(emu().endpoint, "db-parameters")).toEqual({ all: user, user, engineDefault: [] });
  }, 60_000);

  it("keeps the description of a security group rule that references another group", async () => {
    expect(await probe(emu().endpoint, "sg-rule-description")).toEqual({
      referenced: "from b",
      cidr: "from the net",
      referencedAfterModify: "from b, renamed",
    });
  }, 60_000);

  it("keeps accounts apart: a bucket made in 111111111111 is not listed in 333333333333", async () => {
    const a = await clientsFor(emu().endpoint, "111111111111");
    const b = await clientsFor(emu().endpoint, "333333333333");
    expect((await a.sts.send(new GetCallerIdentityCommand({}))).Account).toBe("111111111111");
    expect((await b.sts.send(new GetCallerIdentityCommand({}))).Account).toBe("333333333333");

    const bucket = `apart-${Date.now()}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const inA = (await a.s3.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name) ?? [];
    const inB = (await b.s3.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name) ?? [];
    expect(inA).toContain(bucket);
    expect(inB).not.toContain(bucket);
  }, 60_000);
});

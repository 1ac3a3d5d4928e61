/**
 * Shared helpers of the integration tests that run the real CLI and real terraform against the emulator
 * (demo.test.ts, promote*.test.ts). Nothing here mocks anything: commands are child processes,
 * AWS is read through the SDK with the credentials of an assumed deploy role, as terraform gets them.
 *
 *   const vars = isolatedVars(emu, { PROMOTE_HOME: ..., ... });   // clean env: no caller PROMOTE_ or AWS_ variables
 *   const r = await promote(["plan", "dev"], vars);                 // { code, out, err, refusal }
 *   const creds = await accountCredentials(emu.endpoint, "111111111111");
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { DeleteItemCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PATHS, PROJECT_ROOT, terraformBinary, terraformEnv } from "../../scripts/lib/toolchain";
import type { TestEmulator } from "./emulator";

export const ACCOUNTS = { dev: "111111111111", staging: "222222222222", prod: "333333333333" } as const;
export type EnvName = keyof typeof ACCOUNTS;
export const ENV_NAMES = Object.keys(ACCOUNTS) as EnvName[];
export const REGION = "us-east-1";

// ---------------------------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------------------------

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface PromoteRun extends Run {
  /** The refusal id printed by the CLI (`REFUSED <ID>:`), null when there is none. */
  readonly refusal: string | null;
  /** The command line, for failure messages. */
  readonly argv: readonly string[];
}

/** Runs a command to completion (never throws on a non-zero exit). */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolvePromise({ code: code ?? (signal ? 128 : 1), out: Buffer.concat(out).toString("utf8"), err: Buffer.concat(err).toString("utf8") }),
    );
  });
}

/** The project's terraform (binary, CLI config with its provider mirrors, no prompts) in `cwd`. */
export function terraform(cwd: string, args: readonly string[], vars: NodeJS.ProcessEnv): Promise<Run> {
  return run(terraformBinary(vars), args, { cwd, env: terraformEnv({}, vars) });
}

/** `node bin/promote.js <args>`: the CLI as a user runs it (setup --if-needed, then dist/). */
export async function promote(args: readonly string[], vars: NodeJS.ProcessEnv): Promise<PromoteRun> {
  const r = await run(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), ...args], { cwd: PROJECT_ROOT, env: vars });
  return { ...r, refusal: refusalId(`${r.out}\n${r.err}`), argv: args };
}

/** The refusal id a CLI run printed (`REFUSED PLAN-STALE: ...`). */
export function refusalId(text: string): string | null {
  return /^REFUSED ([A-Z0-9-]+):/m.exec(text)?.[1] ?? null;
}

/** Throws with the command's output when it did not exit as expected (jest shows the message). */
export function expectExit(r: Run & { argv?: readonly string[] }, code: number, what = ""): void {
  if (r.code !== code) {
    throw new Error(
      `${what || (r.argv ? `promote ${r.argv.join(" ")}` : "command")}: expected exit ${code}, got ${r.code}\n--- stdout\n${r.out.slice(-4000)}\n--- stderr\n${r.err.slice(-6000)}`,
    );
  }
}

/** Expects a refusal: exit 1 and exactly this id (ids are stable, wording is not). */
export function expectRefusal(r: PromoteRun, id: string): void {
  if (r.code !== 1 || r.refusal !== id) {
    throw new Error(`promote ${r.argv.join(" ")}: expected exit 1 refused ${id}, got exit ${r.code} refused ${r.refusal ?? "(none)"}\n--- stdout\n${r.out.slice(-3000)}\n--- stderr\n${r.err.slice(-5000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// environment and temporary folders
// ---------------------------------------------------------------------------------------------

/** Caller variables that would point a test at someone's files, accounts or tools. */
const FOREIGN = /^(PROMOTE_|CDKTF_|ACCOUNT_ID_|EPHEMERAL_ENVS$|LOCAL_|EMULATOR_|AWS_|TF_(WORKSPACE|DATA_DIR|CLI_ARGS|PLUGIN_CACHE_DIR|LOG)|TARGET$|GIT_DIR$|GIT_WORK_TREE$|GIT_INDEX_FILE$)/;

/**
 * The environment of a test's commands: the caller's, minus anything that would reach the developer's
 * files (PROMOTE_*, CDKTF_*), other accounts or envs (ACCOUNT_ID_*, EPHEMERAL_ENVS, AWS_PROFILE...) or another
 * emulator, plus
 * the emulator's contract (TARGET=local, LOCAL_ENDPOINT, LOCAL_STATE_DIR, static keys) and `extra`.
 */
export function isolatedVars(emu: Pick<TestEmulator, "env">, extra: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !FOREIGN.test(k)));
  return { ...clean, ...emu.env, ...GIT_IDENTITY, ...extra };
}

/** A fresh temporary folder; remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// git (CI has no git identity configured: every commit names its author explicitly)
// ---------------------------------------------------------------------------------------------

export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "integration-test",
  GIT_AUTHOR_EMAIL: "integration-test@localhost",
  GIT_COMMITTER_NAME: "integration-test",
  GIT_COMMITTER_EMAIL: "integration-test@localhost",
} as const;

export function git(dir: string, args: readonly string[]): string {
  return execFileSync("git", ["-C", dir, "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", ...args], {
    encoding: "utf8",
    env: { ...process.env, ...GIT_IDENTITY },
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** `git init` (an empty repository, e.g. a ledger). */
export function gitInit(dir: string): void {
  git(dir, ["init", "-q"]);
}

/** Writes files, commits them, returns the commit id. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git(dir, ["add", "--", ...Object.keys(files)]);
  git(dir, ["commit", "-q", "--allow-empty", "-m", message]);
  return git(dir, ["rev-parse", "HEAD"]);
}

/** Ledger tags of an env: `deployed/<env>/*` -> the commit each points at. */
export function ledgerTags(ledgerDir: string, env: string): Array<{ tag: string; commit: string }> {
  const out = git(ledgerDir, ["for-each-ref", "--format=%(refname:strip=2) %(*objectname)", `refs/tags/deployed/${env}/`]);
  return out === "" ? [] : out.split("\n").map((l) => ({ tag: l.split(" ")[0], commit: l.split(" ")[1] }));
}

// ---------------------------------------------------------------------------------------------
// AWS through the SDK, inside one account (the deploy role terraform assumes)
// ---------------------------------------------------------------------------------------------

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Credentials of arn:aws:iam::<account>:role/terraform-deploy (moto keeps the assumed accounts apart). */
export async function accountCredentials(endpoint: string, account: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const { Credentials: c } = await sts
    .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/terraform-deploy`, RoleSessionName: "integration-test" }))
    .finally(() => sts.destroy());
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`AssumeRole into ${account} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** SDK client options for one account on the emulator. */
export function clientConfig(endpoint: string, credentials: Credentials) {
  return { endpoint, region: REGION, credentials };
}

// ---------------------------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------------------------

export interface StateSnapshot {
  readonly serial: number | null;
  readonly lineage: string | null;
  /** Managed resource instances: address -> attributes (as the state records them). */
  readonly resources: Record<string, unknown>;
}

interface RawState {
  serial?: number;
  lineage?: string;
  resources?: Array<{ mode: string; type: string; name: string; module?: string; instances: Array<{ index_key?: string | number; attributes?: unknown }> }>;
}

/** `terraform state pull` in an initialized working directory: serial, lineage and every instance. */
export async function statePull(cwd: string, vars: NodeJS.ProcessEnv): Promise<StateSnapshot> {
  const r = await terraform(cwd, ["state", "pull"], vars);
  expectExit(r, 0, `terraform state pull in ${cwd}`);
  const text = r.out.trim();
  if (text === "") return { serial: null, lineage: null, resources: {} };
  const state = JSON.parse(text) as RawState;
  // A backend without a state object yet answers with an empty state (no lineage): no state, as the engine reads it.
  if (!state.lineage) return { serial: null, lineage: null, resources: {} };
  const resources: Record<string, unknown> = {};
  for (const res of state.resources ?? []) {
    if (res.mode !== "managed") continue;
    for (const inst of res.instances) {
      const key = inst.index_key === undefined ? "" : typeof inst.index_key === "number" ? `[${inst.index_key}]` : `[${JSON.stringify(inst.index_key)}]`;
      resources[`${res.module ? `${res.module}.` : ""}${res.type}.${res.name}${key}`] = inst.attributes;
    }
  }
  return { serial: state.serial ?? null, lineage: state.lineage, resources };
}

/** Resource addresses a synthesized cdk.tf.json declares, with literal count / for_each expanded. */
export function synthesizedAddresses(cdkTfJsonPath: string): string[] {
  const doc = JSON.parse(readFileSync(cdkTfJsonPath, "utf8")) as { resource?: Record<string, Record<string, { count?: unknown; for_each?: unknown }>> };
  const out: string[] = [];
  for (const [type, byName] of Object.entries(doc.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const base = `${type}.${name}`;
      if (body.count !== undefined) {
        if (typeof body.count !== "number") throw new Error(`${base}: count ${JSON.stringify(body.count)} is not a literal; expand it before comparing`);
        for (let i = 0; i < body.count; i++) out.push(`${base}[${i}]`);
      } else if (body.for_each !== undefined) {
        const fe = body.for_each;
        const keys = Array.isArray(fe) ? fe.map(String) : fe !== null && typeof fe === "object" ? Object.keys(fe) : null;
        if (keys === null || keys.some((k) => k.includes("${"))) throw new Error(`${base}: for_each ${JSON.stringify(fe)} is not a literal; expand it before comparing`);
        for (const k of keys) out.push(`${base}[${JSON.stringify(k)}]`);
      } else {
        out.push(base);
      }
    }
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// terraform's own state lock (the S3 backend's DynamoDB item), held by a real terraform process
// ---------------------------------------------------------------------------------------------

export interface HeldStateLock {
  /** The lock item's LockID: "<bucket>/<key>". */
  readonly lockId: string;
  /** Ends the holder (closes its stdin) and waits until the item is gone. */
  release(): Promise<void>;
}

/**
 * Holds an env's state lock the way any terraform run does: `terraform console` takes the S3 backend's
 * DynamoDB lock for as long as it runs. Resolves once the lock item exists in the env's lock table.
 */
export async function holdStateLock(
  cwd: string,
  vars: NodeJS.ProcessEnv,
  backend: { endpoint: string; credentials: Credentials; table: string; bucket: string; key: string },
  timeoutMs = 120_000,
): Promise<HeldStateLock> {
  const lockId = `${backend.bucket}/${backend.key}`;
  const ddb = new DynamoDBClient(clientConfig(backend.endpoint, backend.credentials));
  const present = async () => (await ddb.send(new GetItemCommand({ TableName: backend.table, Key: { LockID: { S: lockId } }, ConsistentRead: true }))).Item !== undefined;
  const child = spawn(terraformBinary(vars), ["console", "-no-color"], { cwd, env: terraformEnv({}, vars), stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString("utf8")));
  child.stderr.on("data", (b: Buffer) => (output += b.toString("utf8")));
  const exited = new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await present())) {
    if (done || Date.now() > deadline) {
      child.kill("SIGTERM");
      ddb.destroy();
      throw new Error(`terraform console did not take the state lock ${lockId} (exited: ${done})\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    lockId,
    release: async () => {
      try {
        await releaseLock();
      } finally {
        ddb.destroy();
      }
    },
  };

  async function releaseLock(): Promise<void> {
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<number>((r) => (timer = setTimeout(() => r(-1), 60_000)))]);
    clearTimeout(timer);
    if (code === -1) child.kill("SIGKILL");
    const until = Date.now() + 30_000;
    while (await present()) {
      if (Date.now() > until) {
        // Never leave a stale lock behind for the next test: remove it (its holder is gone).
        await ddb.send(new DeleteItemCommand({ TableName: backend.table, Key: { LockID: { S: lockId } } }));
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SSM (no Node SDK client for it in the project: the project venv's boto3, which moto brings)
// ---------------------------------------------------------------------------------------------

const SSM_GET = `
import json, os, sys, boto3
ep, account, name = sys.argv[1:4]
c = boto3.client("sts", endpoint_url=ep, region_name="${REGION}", aws_access_key_id="test", aws_secret_access_key="test")
k = c.assume_role(RoleArn=f"arn:aws:iam::{account}:role/terraform-deploy", RoleSessionName="integration-test")["Credentials"]
ssm = boto3.client("ssm", endpoint_url=ep, region_name="${REGION}", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"], aws_session_token=k["SessionToken"])
try:
    print(json.dumps(ssm.get_parameter(Name=name)["Parameter"]["Value"]))
except ssm.exceptions.ParameterNotFound:
    print("null")
`;

/** An SSM parameter's value in one account (through its deploy role), null when it does not exist. */
export async function ssmParameter(endpoint: string, account: string, name: string): Promise<string | null> {
  const r = await run(PATHS.venvPython, ["-c", SSM_GET, endpoint, account, name], { cwd: PROJECT_ROOT, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
  expectExit(r, 0, `boto3 ssm get_parameter ${name} in ${account}`);
  return JSON.parse(r.out.trim()) as string | null;
}

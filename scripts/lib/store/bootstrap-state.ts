/**
 * Applying an env's bootstrap stack, whose backend is the state bucket it creates itself.
 *
 *   the bucket holds the bootstrap state   init + apply against S3 (the whole team shares one state;
 *                                          a second run changes nothing)
 *   it does not (the account's first run)  apply with a local backend override (`statePath`, outside
 *                                          cdktf.out), then `init -migrate-state -force-copy` into the
 *                                          bucket it just created, check the object is there, and remove
 *                                          the local copy
 *
 * The override is a terraform override file beside the synthesized stack (it replaces the backend
 * block); it exists only during the first run. A local state left by an interrupted first run (or by a
 * version of bootstrap that kept its state locally) is picked up and moved the same way.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { s3BackendSettings, stateLockId } from "../engine/core/backend-settings";
import { AwsClients, describeAwsError, httpStatus } from "./aws";
import { StoreError } from "./errors";

/** The override file that points the stack at its local state during the first run. */
export const LOCAL_OVERRIDE_FILE = "bootstrap_backend_override.tf.json";

export interface TerraformRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface BootstrapApplyOptions {
  /** The synthesized bootstrap stack's folder (holds cdk.tf.json). */
  readonly cwd: string;
  /** Where the first run keeps its state before moving it (the stack's `statePath`). */
  readonly statePath: string;
  /**
   * Runs terraform in cwd; throws on a non-zero exit (the engine's runner and error handling). `release`
   * frees exactly a lock id the run was refused although it was its own (runLocking).
   */
  readonly terraform: (args: string[], release?: (id: string) => Promise<boolean>) => Promise<TerraformRun>;
  readonly log?: (line: string) => void;
}

export interface BootstrapApplyResult {
  /** Resources created or changed by this run. */
  readonly changed: number;
  /** Resources the stack manages after the run. */
  readonly resources: number;
  /** Whether this run moved the state from the local file into the bucket. */
  readonly moved: boolean;
  /** s3://bucket/key of the bootstrap state. */
  readonly stateUrl: string;
}

function backendOf(cwd: string) {
  const file = join(cwd, "cdk.tf.json");
  return s3BackendSettings(JSON.parse(readFileSync(file, "utf8")), file);
}

function backendClients(b: ReturnType<typeof s3BackendSettings>, endpoint: string | null): AwsClients {
  return new AwsClients({
    region: b.region,
    endpoint,
    baseCredentials: b.accessKey && b.secretKey ? { accessKeyId: b.accessKey, secretAccessKey: b.secretKey } : null,
    roleArn: b.roleArn,
    sessionName: b.sessionName ?? "promote-bootstrap",
    timeouts: { connectMs: 3000, requestMs: 15000, attempts: 3 },
  });
}

/** Whether the S3 backend of the synthesized stack holds a state object (HeadObject, as the backend's role). */
export async function backendHasState(cwd: string): Promise<boolean> {
  const b = backendOf(cwd);
  const clients = backendClients(b, b.endpoints.s3);
  try {
    const s3 = await clients.s3();
    const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
    await s3.send(new HeadObjectCommand({ Bucket: b.bucket, Key: b.key }), { abortSignal: AbortSignal.timeout(60_000) });
    return true;
  } catch (e) {
    const status = httpStatus(e);
    // 404: no object (or no bucket yet); 403 on a bucket that does not exist yet in this account.
    if (status === 404 || status === 403) return false;
    throw new StoreError(`could not read s3://${b.bucket}/${b.key}: ${describeAwsError(e)}`);
  } finally {
    clients.destroy();
  }
}

/**
 * Deletes the S3 backend's DynamoDB lock item of the synthesized stack when the lock it holds is exactly
 * `id` (a conditional delete of the item as read); whether it did. What `terraform force-unlock` does,
 * without needing the backend initialized in cwd: an `init -migrate-state` refused its own destination
 * lock leaves the folder initialized for the old (local) backend.
 */
export async function releaseBackendLock(cwd: string, id: string): Promise<boolean> {
  const b = backendOf(cwd);
  if (b.lockTable === null) return false;
  const clients = backendClients(b, b.endpoints.dynamodb ?? b.endpoints.s3);
  const lockId = stateLockId(b);
  try {
    const ddb = await clients.dynamodb();
    const { DeleteItemCommand, GetItemCommand } = await import("@aws-sdk/client-dynamodb");
    const item = (await ddb.send(new GetItemCommand({ TableName: b.lockTable, Key: { LockID: { S: lockId } }, ConsistentRead: true }))).Item;
    const info = item?.Info?.S;
    if (info === undefined) return false;
    let held: unknown;
    try {
      held = (JSON.parse(info) as { ID?: unknown }).ID;
    } catch {
      return false;
    }
    if (held !== id) return false;
    await ddb.send(
      new DeleteItemCommand({ TableName: b.lockTable, Key: { LockID: { S: lockId } }, ConditionExpression: "Info = :info", ExpressionAttributeValues: { ":info": { S: info } } }),
    );
    return true;
  } catch (e) {
    if ((e as { name?: string }).name === "ConditionalCheckFailedException") return false;
    throw new StoreError(`could not release the state lock ${id} in ${b.lockTable}: ${describeAwsError(e)}`);
  } finally {
    clients.destroy();
  }
}

const countChanged = (stdout: string): number => {
  const m = /(\d+) added, (\d+) changed, (\d+) destroyed/.exec(stdout);
  return m ? Number(m[1]) + Number(m[2]) : 0;
};

export async function applyBootstrapStack(opts: BootstrapApplyOptions): Promise<BootstrapApplyResult> {
  const log = opts.log ?? (() => undefined);
  const b = backendOf(opts.cwd);
  const stateUrl = `s3://${b.bucket}/${b.key}`;
  const override = join(opts.cwd, LOCAL_OVERRIDE_FILE);
  rmSync(override, { force: true });
  const inBucket = await backendHasState(opts.cwd);
  const apply = ["apply", "-input=false", "-no-color", "-auto-approve", "-lock=true"];

  if (inBucket) {
    if (existsSync(opts.statePath)) log(`bootstrap state is in ${stateUrl}; ignoring the stale local copy ${opts.statePath}\n`);
    await opts.terraform(["init", "-input=false", "-no-color", "-reconfigure"]);
    const applied = await opts.terraform(apply);
    return { changed: countChanged(applied.stdout), resources: await countResources(opts), moved: false, stateUrl };
  }

  // First run: the bucket the backend needs is what this apply creates.
  log(`bootstrap state not in ${stateUrl} yet: applying with local state ${opts.statePath}, then moving it there\n`);
  writeFileSync(override, `${JSON.stringify({ terraform: { backend: { local: { path: opts.statePath } } } }, null, 2)}\n`);
  let applied: TerraformRun;
  try {
    await opts.terraform(["init", "-input=false", "-no-color", "-reconfigure"]);
    applied = await opts.terraform(apply);
  } finally {
    rmSync(override, { force: true });
  }
  // Its lock on the destination (the bucket's state) may be one it was refused although it took it.
  await opts.terraform(["init", "-input=false", "-no-color", "-migrate-state", "-force-copy"], (id) => releaseBackendLock(opts.cwd, id));
  if (!(await backendHasState(opts.cwd))) throw new StoreError(`terraform init -migrate-state reported success, but ${stateUrl} does not exist; the local state ${opts.statePath} is kept`);
  rmSync(opts.statePath, { force: true });
  rmSync(`${opts.statePath}.backup`, { force: true });
  return { changed: countChanged(applied.stdout), resources: await countResources(opts), moved: true, stateUrl };
}

/** Resources in the stack's state (`terraform state list`, against whatever backend is initialized). */
async function countResources(opts: BootstrapApplyOptions): Promise<number> {
  const r = await opts.terraform(["state", "list", "-no-color"]);
  return r.stdout.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("data.")).length;
}

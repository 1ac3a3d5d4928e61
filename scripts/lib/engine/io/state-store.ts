/**
 * Removing a destroyed env's state from its S3 backend: every version of the state object (the bucket is
 * versioned: deleting the current version alone would leave the history, secrets included, behind) and
 * terraform's digest item `<bucket>/<key>-md5` in the lock table. The settings are read from the
 * synthesized stack's `terraform.backend.s3` (bucket, key, region, lock table, endpoints, keys, role), so
 * the same code reaches real AWS and the emulator, and assumes the backend's role like terraform does.
 *
 * The AWS SDK is loaded only when state is removed (`promote env destroy`), not on every CLI start.
 */
import { EngineError } from "../core/errors";
import { unfollowablePage, versionMarkers } from "../../store/s3";

export { digestLockId, s3BackendSettings, type S3BackendSettings } from "../core/backend-settings";
import { digestLockId, type S3BackendSettings } from "../core/backend-settings";

/** The objects that make up one state: the state itself and the S3-native lock file (use_lockfile). */
export const stateObjectKeys = (key: string): string[] => [key, `${key}.tflock`];

export interface RemovedState {
  /** Object versions and delete markers removed. */
  readonly versions: number;
  /** Whether the digest item existed (and was removed). */
  readonly digestItem: boolean;
}

interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Credentials as terraform gets them: the static keys (or the usual chain), then the backend's role. */
async function backendCredentials(b: S3BackendSettings): Promise<Creds | undefined> {
  const base = b.accessKey && b.secretKey ? { accessKeyId: b.accessKey, secretAccessKey: b.secretKey } : undefined;
  if (b.roleArn === null) return base;
  const { AssumeRoleCommand, STSClient } = await import("@aws-sdk/client-sts");
  const sts = new STSClient({ region: b.region, ...(b.endpoints.sts ? { endpoint: b.endpoints.sts } : {}), ...(base ? { credentials: base } : {}) });
  const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: b.roleArn, RoleSessionName: (b.sessionName ?? "promote-env-destroy").slice(0, 64) }));
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new EngineError(`AssumeRole ${b.roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/**
 * Deletes every version (and delete marker) of the state object and its lock file, then terraform's
 * digest item. Verifies nothing is left; throws an EngineError naming what could not be removed.
 */
export async function removeState(b: S3BackendSettings): Promise<RemovedState> {
  const credentials = await backendCredentials(b);
  const { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } = await import("@aws-sdk/client-s3");
  const s3 = new S3Client({ region: b.region, forcePathStyle: b.usePathStyle, ...(b.endpoints.s3 ? { endpoint: b.endpoints.s3 } : {}), ...(credentials ? { credentials } : {}) });
  const keys = new Set(stateObjectKeys(b.key));
  const listAll = async (): Promise<Array<{ Key: string; VersionId: string }>> => {
    const found: Array<{ Key: string; VersionId: string }> = [];
    const seen = new Set<string>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: b.bucket, Prefix: b.key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        // Prefix also matches "<key>-other": only the state's own objects are removed.
        if (v.Key !== undefined && keys.has(v.Key)) found.push({ Key: v.Key, VersionId: v.VersionId ?? "null" });
      }
      if (!page.IsTruncated) return found;
      // Without new markers the next page would be one listed already: stop, naming it, rather than loop.
      const stuck = unfollowablePage(seen, versionMarkers(page));
      if (stuck) {
        throw new EngineError(`ListObjectVersions s3://${b.bucket}/${b.key}: a truncated page without new markers (expected NextKeyMarker, found ${stuck}): the listing cannot be completed`);
      }
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
  };
  const versions = await listAll();
  for (let i = 0; i < versions.length; i += 1000) {
    const batch = versions.slice(i, i + 1000);
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b.bucket, Delete: { Objects: batch, Quiet: true } }));
    if (r.Errors && r.Errors.length > 0) {
      const first = r.Errors[0];
      throw new EngineError(`could not delete ${r.Errors.length} version(s) of s3://${b.bucket}/${b.key}: ${first.Key} ${first.VersionId}: ${first.Code} ${first.Message}`);
    }
  }
  const left = await listAll();
  if (left.length > 0) throw new EngineError(`s3://${b.bucket}/${b.key}: ${left.length} version(s) still there after deleting ${versions.length}`);

  let digestItem = false;
  if (b.lockTable !== null) {
    const { DeleteItemCommand, DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const ddb = new DynamoDBClient({ region: b.region, ...(b.endpoints.dynamodb ? { endpoint: b.endpoints.dynamodb } : {}), ...(credentials ? { credentials } : {}) });
    const r = await ddb.send(new DeleteItemCommand({ TableName: b.lockTable, Key: { LockID: { S: digestLockId(b) } }, ReturnValues: "ALL_OLD" }));
    digestItem = r.Attributes !== undefined;
  }
  return { versions: versions.length, digestItem };
}

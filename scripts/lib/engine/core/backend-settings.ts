/**
 * What the S3 backend block of a synthesized stack says (bucket, key, region, lock table, endpoints,
 * keys, role). Pure: the engine's state removal (io/state-store.ts) and the store's bootstrap
 * (scripts/lib/store/bootstrap-state.ts) read it.
 */
import { EngineError } from "./errors";

/** What the S3 backend block of a synthesized cdk.tf.json says, as far as state removal needs it. */
export interface S3BackendSettings {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly lockTable: string | null;
  readonly endpoints: { readonly s3: string | null; readonly dynamodb: string | null; readonly sts: string | null };
  /** Static keys (the emulator's); null: the SDK's usual credential chain (CI's OIDC session). */
  readonly accessKey: string | null;
  readonly secretKey: string | null;
  /** The role terraform assumes for the backend; null: none. */
  readonly roleArn: string | null;
  readonly sessionName: string | null;
  readonly usePathStyle: boolean;
}

/** Reads `terraform.backend.s3` of a synthesized stack; throws naming what is missing. */
export function s3BackendSettings(cdkTfJson: unknown, source: string): S3BackendSettings {
  const backend = (cdkTfJson as { terraform?: { backend?: Record<string, Record<string, unknown>> } })?.terraform?.backend;
  const s3 = backend?.s3;
  if (!s3) throw new EngineError(`${source}: expected an S3 backend (terraform.backend.s3), but found ${backend ? Object.keys(backend).join(", ") || "none" : "none"}`);
  const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  const need = (name: string): string => {
    const v = str(s3[name]);
    if (v === null) throw new EngineError(`${source}: terraform.backend.s3.${name} is missing`);
    return v;
  };
  const endpoints = (s3.endpoints ?? {}) as Record<string, unknown>;
  const role = (s3.assume_role ?? {}) as Record<string, unknown>;
  return {
    bucket: need("bucket"),
    key: need("key"),
    region: need("region"),
    lockTable: str(s3.dynamodb_table),
    // The endpoints block, or the older flat arguments.
    endpoints: {
      s3: str(endpoints.s3) ?? str(s3.endpoint),
      dynamodb: str(endpoints.dynamodb) ?? str(s3.dynamodb_endpoint),
      sts: str(endpoints.sts) ?? str(s3.sts_endpoint),
    },
    accessKey: str(s3.access_key),
    secretKey: str(s3.secret_key),
    roleArn: str(role.role_arn) ?? str(s3.role_arn),
    sessionName: str(role.session_name),
    usePathStyle: s3.use_path_style === true || s3.force_path_style === true,
  };
}

/** terraform's lock item of a state in the S3 backend's lock table (LockID `<bucket>/<key>`). */
export const stateLockId = (b: Pick<S3BackendSettings, "bucket" | "key">): string => `${b.bucket}/${b.key}`;

/** terraform's digest item of a state object in the lock table. */
export const digestLockId = (b: Pick<S3BackendSettings, "bucket" | "key">): string => `${stateLockId(b)}-md5`;

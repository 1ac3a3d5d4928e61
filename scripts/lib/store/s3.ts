/**
 * The S3 calls the store makes, each bounded (the connection's timeouts and an overall deadline) and
 * always with ExpectedBucketOwner = the env's account: S3 answers 403 for a bucket of another account
 * instead of serving it. Failures of the system (timeouts, refused connections, 5xx) are StoreErrors.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { AwsClients, describeAwsError, httpStatus } from "./aws";
import { StoreError } from "./errors";

/** One object version as listed. */
export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly lastModified: Date | null;
}

/** Thrown by putCreateOnly when the key exists (412) or a concurrent write of it is in flight (409). */
export class KeyExists extends Error {
  constructor(readonly key: string) {
    super(`${key} exists`);
    this.name = "KeyExists";
  }
}

/** Thrown by putIfMatch when the object changed since it was read (412), a concurrent write is in flight (409), or it is gone (404). */
export class KeyChanged extends Error {
  constructor(readonly key: string) {
    super(`${key} changed since it was read`);
    this.name = "KeyChanged";
  }
}

export interface PutOptions {
  readonly contentType?: string;
  /** The KMS key ARN (SSE-KMS); null: the bucket's default encryption. */
  readonly kmsKeyArn: string | null;
}

/** An env's store bucket, reached as the connection's role, owned by `accountId`. */
export class StoreBucket {
  constructor(
    readonly clients: AwsClients,
    readonly bucket: string,
    readonly accountId: string,
  ) {}

  private async client(): Promise<S3Client> {
    return this.clients.s3();
  }

  /** Bounded call: the SDK's own timeouts per attempt, and one deadline over all attempts. */
  async call<T>(what: string, send: (s3: S3Client, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const t = this.clients.connection.timeouts;
    const s3 = await this.client();
    const deadline = AbortSignal.timeout(t.attempts * (t.requestMs + t.connectMs) + 1000);
    try {
      return await send(s3, deadline);
    } catch (e) {
      if (httpStatus(e) !== null) throw e; // an answer: the caller decides what it means
      throw new StoreError(`store s3://${this.bucket} unreachable (${what}): ${describeAwsError(e)}`);
    }
  }

  /** HeadBucket with and without the expected owner: "ok", "foreign" (403 only with it), "missing", or throws. */
  async ownership(): Promise<"ok" | "foreign" | "missing" | "denied"> {
    const { HeadBucketCommand } = await import("@aws-sdk/client-s3");
    const head = (owner: string | undefined) =>
      this.call("HeadBucket", (s3, abortSignal) => s3.send(new HeadBucketCommand({ Bucket: this.bucket, ExpectedBucketOwner: owner }), { abortSignal })).then(
        () => 200,
        (e) => {
          const status = httpStatus(e);
          if (status === null) throw e;
          return status;
        },
      );
    const withOwner = await head(this.accountId);
    if (withOwner === 200) return "ok";
    if (withOwner === 404) return "missing";
    if (withOwner !== 403) throw new StoreError(`HeadBucket s3://${this.bucket}: HTTP ${withOwner}`);
    const without = await head(undefined);
    return without === 200 ? "foreign" : "denied";
  }

  /** Writes `key` only if it does not exist (If-None-Match: *); returns its version id; KeyExists otherwise. */
  putCreateOnly(key: string, body: Uint8Array | string, opts: PutOptions): Promise<string> {
    return this.putObject(key, body, opts, { ifNoneMatch: "*" });
  }

  /**
   * Writes a new version of `key` only if its current one still has the ETag `etag` (If-Match): a
   * read-modify-write that loses to a concurrent writer fails instead of overwriting it. Returns the
   * version id; KeyChanged otherwise.
   */
  putIfMatch(key: string, body: Uint8Array | string, etag: string, opts: PutOptions): Promise<string> {
    return this.putObject(key, body, opts, { ifMatch: etag });
  }

  /** Writes `key` (a new version when it exists: the bucket is versioned); returns its version id. */
  put(key: string, body: Uint8Array | string, opts: PutOptions): Promise<string> {
    return this.putObject(key, body, opts, {});
  }

  private async putObject(key: string, body: Uint8Array | string, opts: PutOptions, condition: { ifNoneMatch?: "*"; ifMatch?: string }): Promise<string> {
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    try {
      const r = await this.call(`PutObject ${key}`, (s3, abortSignal) =>
        s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ...(condition.ifNoneMatch ? { IfNoneMatch: condition.ifNoneMatch } : {}),
            ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
            ContentType: opts.contentType ?? "application/json",
            ExpectedBucketOwner: this.accountId,
            ChecksumAlgorithm: "SHA256",
            ...(opts.kmsKeyArn ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: opts.kmsKeyArn } : {}),
          }),
          { abortSignal },
        ),
      );
      return r.VersionId ?? "null";
    } catch (e) {
      const status = httpStatus(e);
      if (condition.ifNoneMatch && (status === 412 || status === 409)) throw new KeyExists(key);
      if (condition.ifMatch && (status === 412 || status === 409 || status === 404)) throw new KeyChanged(key);
      if (e instanceof StoreError) throw e;
      throw new StoreError(`PutObject s3://${this.bucket}/${key}: ${describeAwsError(e)}`);
    }
  }

  /** The object (a given version, or the latest) and its ETag (what putIfMatch compares); null when there is none (404, or the latest is a delete marker). */
  async get(key: string, versionId?: string): Promise<{ body: Buffer; versionId: string; etag: string | null; sse: string | null; kmsKeyId: string | null } | null> {
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    try {
      return await this.call(`GetObject ${key}`, async (s3, abortSignal) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId, ExpectedBucketOwner: this.accountId }), { abortSignal });
        const body = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
        return { body, versionId: r.VersionId ?? "null", etag: r.ETag ?? null, sse: r.ServerSideEncryption ?? null, kmsKeyId: r.SSEKMSKeyId ?? null };
      });
    } catch (e) {
      const status = httpStatus(e);
      if (status === 404 || (status === 405 && versionId === undefined)) return null;
      if (e instanceof StoreError) throw e;
      throw new StoreError(`GetObject s3://${this.bucket}/${key}${versionId ? `?versionId=${versionId}` : ""}: ${describeAwsError(e)}`);
    }
  }

  /** Keys under `prefix` (latest versions that are not delete markers), in key order. */
  async listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const keys: string[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    try {
      for (;;) {
        const page = await this.call(`ListObjectsV2 ${prefix}`, (s3, abortSignal) =>
          s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, StartAfter: token ? undefined : startAfter, ExpectedBucketOwner: this.accountId }), { abortSignal }),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        if (!page.IsTruncated) return keys.sort();
        // A truncated page without a new token would end in a partial list taken for the whole, or loop.
        const stuck = unfollowablePage(seen, page.NextContinuationToken);
        if (stuck) {
          throw new StoreError(`ListObjectsV2 s3://${this.bucket}/${prefix}: a truncated page without a new continuation token (expected NextContinuationToken, found ${stuck}): the listing cannot be completed`);
        }
        token = page.NextContinuationToken;
      }
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`ListObjectsV2 s3://${this.bucket}/${prefix}: ${describeAwsError(e)}`);
    }
  }

  /** Every version and delete marker under `prefix` (what an overwrite or a delete leaves behind). */
  async listVersions(prefix: string): Promise<ObjectVersion[]> {
    const { ListObjectVersionsCommand } = await import("@aws-sdk/client-s3");
    const found: ObjectVersion[] = [];
    const seen = new Set<string>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.call(`ListObjectVersions ${prefix}`, (s3, abortSignal) =>
          s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker, ExpectedBucketOwner: this.accountId }), { abortSignal }),
        );
        for (const v of page.Versions ?? []) {
          if (v.Key !== undefined) found.push({ key: v.Key, versionId: v.VersionId ?? "null", isLatest: v.IsLatest === true, deleteMarker: false, lastModified: v.LastModified ?? null });
        }
        for (const m of page.DeleteMarkers ?? []) {
          if (m.Key !== undefined) found.push({ key: m.Key, versionId: m.VersionId ?? "null", isLatest: m.IsLatest === true, deleteMarker: true, lastModified: m.LastModified ?? null });
        }
        if (!page.IsTruncated) return found;
        const stuck = unfollowablePage(seen, versionMarkers(page));
        if (stuck) {
          throw new StoreError(`ListObjectVersions s3://${this.bucket}/${prefix}: a truncated page without new markers (expected NextKeyMarker, found ${stuck}): the listing cannot be completed`);
        }
        keyMarker = page.NextKeyMarker;
        versionMarker = page.NextVersionIdMarker;
      }
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(`ListObjectVersions s3://${this.bucket}/${prefix}: ${describeAwsError(e)}`);
    }
  }
}

/**
 * Why a truncated listing page cannot be followed, or null when it can: it names no next page ("none"),
 * an empty one, or one an earlier page of the same listing already named (the pages cycle: followed, they
 * would be listed forever). `seen` holds the markers followed so far; a followable one is added to it.
 */
export function unfollowablePage(seen: Set<string>, next: string | undefined): string | null {
  if (next === undefined) return "none";
  if (next === "") return "an empty one";
  if (seen.has(next)) return `one an earlier page gave (${JSON.stringify(next.replace(/\u0000/g, " "))}: the pages cycle)`;
  seen.add(next);
  return null;
}

/** A ListObjectVersions page's next markers as one value for unfollowablePage (undefined without a key marker). */
export function versionMarkers(page: { NextKeyMarker?: string; NextVersionIdMarker?: string }): string | undefined {
  return page.NextKeyMarker === undefined ? undefined : `${page.NextKeyMarker}\u0000${page.NextVersionIdMarker ?? ""}`;
}

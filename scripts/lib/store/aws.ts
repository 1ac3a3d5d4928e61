/**
 * How the store reaches an environment's account: the SDK clients (S3, DynamoDB, STS, KMS) with the
 * target's endpoint (real AWS or the emulator, from stacks/target.ts: the only place that knows an
 * emulator exists), credentials of an assumed role in the env's account, and bounded timeouts on every
 * call (connect, request, attempts), so an unreachable store is an error in seconds, never a hang.
 *
 * The SDK is loaded only when a store is opened, not on every CLI start.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { targetFromEnv } from "../../../stacks/target";
import { StoreError } from "./errors";

/** Bounded waits of every store call. */
export interface Timeouts {
  /** TCP connect, milliseconds. @default 3000 */
  readonly connectMs: number;
  /** One request (connect to last byte), milliseconds. @default 15000 */
  readonly requestMs: number;
  /** Attempts per call (the SDK's retries of throttling and 5xx included). @default 3 */
  readonly attempts: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 3000, requestMs: 15000, attempts: 3 };

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where and as whom: one role in one account. */
export interface Connection {
  readonly region: string;
  /** The emulator's URL; null: AWS's own endpoints. */
  readonly endpoint: string | null;
  /** Static keys (the emulator's); null: the SDK's usual chain (CI's OIDC session, a profile). */
  readonly baseCredentials: Credentials | null;
  /** The role assumed in the env's account; null: use the base credentials as they are. */
  readonly roleArn: string | null;
  readonly sessionName: string;
  readonly timeouts: Timeouts;
}

/** A connection for `roleArn` from TARGET / LOCAL_ENDPOINT (as the stacks read them). */
export function connectionFromEnv(opts: {
  readonly region: string;
  readonly roleArn: string | null;
  readonly sessionName: string;
  readonly vars?: NodeJS.ProcessEnv;
  readonly timeouts?: Partial<Timeouts>;
}): Connection {
  const target = targetFromEnv(opts.vars ?? process.env);
  const keys = target.providerSettings;
  return {
    region: opts.region,
    endpoint: target.endpoint,
    baseCredentials: keys.accessKey && keys.secretKey ? { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey } : null,
    roleArn: opts.roleArn,
    sessionName: opts.sessionName.replace(/[^\w+=,.@-]/g, "-").slice(0, 64),
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
  };
}

/** The settings every client of a connection shares. */
function clientConfig(c: Connection, credentials: Credentials | undefined) {
  return {
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: c.timeouts.attempts,
    requestHandler: { connectionTimeout: c.timeouts.connectMs, requestTimeout: c.timeouts.requestMs },
  };
}

/** What an SDK error says, in one line (name, HTTP status, message). */
export function describeAwsError(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`;
}

/** The HTTP status of an SDK error, or null (a timeout, a refused connection). */
export function httpStatus(e: unknown): number | null {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? null;
}

/** Clients of one connection, with the role assumed once (credentials cached for the session's life). */
export class AwsClients {
  private credentials: Promise<Credentials | undefined> | null = null;
  private s3Client: S3Client | null = null;
  private ddbClient: DynamoDBClient | null = null;

  constructor(readonly connection: Connection) {}

  /** The assumed role's credentials (AssumeRole once). */
  creds(): Promise<Credentials | undefined> {
    this.credentials ??= this.assume();
    return this.credentials;
  }

  private async assume(): Promise<Credentials | undefined> {
    const c = this.connection;
    const base = c.baseCredentials ?? undefined;
    if (c.roleArn === null) return base;
    const { AssumeRoleCommand, STSClient } = await import("@aws-sdk/client-sts");
    const sts = new STSClient(clientConfig(c, base));
    try {
      const { Credentials: r } = await sts.send(new AssumeRoleCommand({ RoleArn: c.roleArn, RoleSessionName: c.sessionName, DurationSeconds: 3600 }));
      if (!r?.AccessKeyId || !r.SecretAccessKey) throw new StoreError(`AssumeRole ${c.roleArn} returned no credentials`);
      return { accessKeyId: r.AccessKeyId, secretAccessKey: r.SecretAccessKey, sessionToken: r.SessionToken };
    } catch (e) {
      this.credentials = null; // the next call tries again
      if (e instanceof StoreError) throw e;
      throw new StoreError(`could not assume ${c.roleArn}${c.endpoint ? ` at ${c.endpoint}` : ""}: ${describeAwsError(e)}`);
    } finally {
      sts.destroy();
    }
  }

  async s3(): Promise<S3Client> {
    if (this.s3Client === null) {
      const credentials = await this.creds();
      const { S3Client: Client } = await import("@aws-sdk/client-s3");
      this.s3Client = new Client({ ...clientConfig(this.connection, credentials), forcePathStyle: this.connection.endpoint !== null });
    }
    return this.s3Client;
  }

  async dynamodb(): Promise<DynamoDBClient> {
    if (this.ddbClient === null) {
      const credentials = await this.creds();
      const { DynamoDBClient: Client } = await import("@aws-sdk/client-dynamodb");
      this.ddbClient = new Client(clientConfig(this.connection, credentials));
    }
    return this.ddbClient;
  }

  /** Closes the clients' sockets (a CLI run ends without waiting for keep-alive). */
  destroy(): void {
    this.s3Client?.destroy();
    this.ddbClient?.destroy();
    this.s3Client = null;
    this.ddbClient = null;
  }
}

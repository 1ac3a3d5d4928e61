/**
 * Items of the env's own DynamoDB lock table (the one terraform's S3 backend uses), under keys of their
 * own beside terraform's `LockID` items:
 *
 *   promote-lock/<env>     the env's lease: one plan-or-apply per env across every machine. Holder,
 *                          command, host, since, a random token and a lease expiry that a live holder
 *                          renews; a dead holder's lease runs out and the next acquire takes it over.
 *   promote-cidr/<cidr>    an ephemeral env's CIDR claim (in the base env's table): conditional puts, so
 *                          two machines never hand out the same CIDR.
 *
 * Every write is conditional; every call is bounded by the connection's timeouts. Lease times are the
 * writer's clock (epoch ms): machines are assumed to agree to well within a lease.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AwsClients, describeAwsError } from "./aws";
import { StoreError, storeRefusal } from "./errors";
import { unfollowablePage } from "./s3";

export const LOCK_KEY_PREFIX = "promote-lock/";
export const CIDR_KEY_PREFIX = "promote-cidr/";

export interface LeaseHolder {
  /** Who: a person or a CI job. */
  readonly holder: string;
  /** The command line, e.g. `promote apply prod`. */
  readonly command: string;
  readonly host: string;
  /** ISO time the lease was taken. */
  readonly since: string;
  /** Epoch ms the lease runs out unless renewed. */
  readonly expiresAt: number;
}

export interface Lease extends LeaseHolder {
  readonly env: string;
  /** Secret of this holder: renew and release check it. */
  readonly token: string;
}

function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string }).name === "ConditionalCheckFailedException";
}

/** Bounded DynamoDB call: a StoreError for anything but a failed condition (which the caller handles). */
async function send<T>(clients: AwsClients, what: string, fn: (ddb: DynamoDBClient, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const t = clients.connection.timeouts;
  const ddb = await clients.dynamodb();
  try {
    return await fn(ddb, AbortSignal.timeout(t.attempts * (t.requestMs + t.connectMs) + 1000));
  } catch (e) {
    if (isConditionFailure(e)) throw e;
    throw new StoreError(`DynamoDB ${what}: ${describeAwsError(e)}`);
  }
}

const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });

function holderOf(item: Record<string, AttributeValue> | undefined): LeaseHolder | null {
  if (!item) return null;
  return {
    holder: item.holder?.S ?? "?",
    command: item.command?.S ?? "?",
    host: item.host?.S ?? "?",
    since: item.since?.S ?? "?",
    expiresAt: Number(item.expiresAt?.N ?? "0"),
  };
}

function leaseOf(env: string, item: Record<string, AttributeValue> | undefined): Lease | null {
  const h = holderOf(item);
  return h === null ? null : { ...h, env, token: item?.token?.S ?? "" };
}

export interface AcquireOptions {
  readonly holder: string;
  readonly command: string;
  /** How long the lease lasts without renewal, ms. @default 60000 */
  readonly leaseMs?: number;
  /** How long to wait for a live holder, ms (polling). @default 0 */
  readonly waitMs?: number;
  readonly pollMs?: number;
  readonly host?: string;
  readonly now?: () => number;
}

/** The env's lease in its lock table. */
export class LeaseLock {
  readonly key: string;

  constructor(
    readonly clients: AwsClients,
    readonly table: string,
    readonly env: string,
  ) {
    this.key = `${LOCK_KEY_PREFIX}${env}`;
  }

  /** The current holder (expired or not), null when nobody holds it. */
  async holder(): Promise<LeaseHolder | null> {
    const { GetItemCommand } = await import("@aws-sdk/client-dynamodb");
    const r = await send(this.clients, `GetItem ${this.key}`, (ddb, abortSignal) => ddb.send(new GetItemCommand({ TableName: this.table, Key: { LockID: S(this.key) }, ConsistentRead: true }), { abortSignal }));
    return holderOf(r.Item);
  }

  /**
   * Takes the lease when nobody holds it or the holder's lease ran out; refuses ENV-LOCKED naming the
   * live holder (after waiting up to waitMs).
   */
  async acquire(opts: AcquireOptions): Promise<Lease> {
    const { PutItemCommand } = await import("@aws-sdk/client-dynamodb");
    const now = opts.now ?? Date.now;
    const leaseMs = opts.leaseMs ?? 60_000;
    const deadline = now() + (opts.waitMs ?? 0);
    for (;;) {
      const t = now();
      const lease: Lease = { env: this.env, holder: opts.holder, command: opts.command, host: opts.host ?? hostname(), since: new Date(t).toISOString(), expiresAt: t + leaseMs, token: randomUUID() };
      try {
        await send(this.clients, `PutItem ${this.key}`, (ddb, abortSignal) =>
          ddb.send(
            new PutItemCommand({
              TableName: this.table,
              Item: { LockID: S(this.key), env: S(this.env), holder: S(lease.holder), command: S(lease.command), host: S(lease.host), since: S(lease.since), expiresAt: N(lease.expiresAt), token: S(lease.token) },
              ConditionExpression: "attribute_not_exists(LockID) OR expiresAt < :now",
              ExpressionAttributeValues: { ":now": N(t) },
            }),
            { abortSignal },
          ),
        );
        return lease;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      const current = await this.holder();
      if (current !== null && current.expiresAt >= now() && now() >= deadline) {
        throw storeRefusal(
          "ENV-LOCKED",
          this.env,
          `no live holder of ${this.env}'s lease`,
          `${current.holder} running \`${current.command}\` on ${current.host} since ${current.since}, lease until ${new Date(current.expiresAt).toISOString()}`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }

  /** Extends a lease this holder still holds; false when it was lost (expired and taken, or broken). */
  async renew(lease: Lease, leaseMs = 60_000, now: () => number = Date.now): Promise<boolean> {
    const { UpdateItemCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      await send(this.clients, `UpdateItem ${this.key}`, (ddb, abortSignal) =>
        ddb.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { LockID: S(this.key) },
            UpdateExpression: "SET expiresAt = :exp",
            ConditionExpression: "#t = :token",
            ExpressionAttributeNames: { "#t": "token" },
            ExpressionAttributeValues: { ":exp": N(now() + leaseMs), ":token": S(lease.token) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Gives the lease back; false when this holder no longer held it. */
  async release(lease: Lease): Promise<boolean> {
    const { DeleteItemCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      await send(this.clients, `DeleteItem ${this.key}`, (ddb, abortSignal) =>
        ddb.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { LockID: S(this.key) },
            ConditionExpression: "#t = :token",
            ExpressionAttributeNames: { "#t": "token" },
            ExpressionAttributeValues: { ":token": S(lease.token) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** The current lease with its token (expired or not), null when nobody holds it: what `break` is given. */
  async read(): Promise<Lease | null> {
    const { GetItemCommand } = await import("@aws-sdk/client-dynamodb");
    const r = await send(this.clients, `GetItem ${this.key}`, (ddb, abortSignal) => ddb.send(new GetItemCommand({ TableName: this.table, Key: { LockID: S(this.key) }, ConsistentRead: true }), { abortSignal }));
    return leaseOf(this.env, r.Item);
  }

  /**
   * Breaks on purpose (`promote unlock <env>`) exactly the lease that was read: a conditional delete on
   * its token and expiry, so a lease renewed by a live holder, released, or taken by another run since
   * it was read is left alone. True when that lease was removed, false when the lease changed (or is gone).
   */
  async break(seen: Lease): Promise<boolean> {
    const { DeleteItemCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      await send(this.clients, `DeleteItem ${this.key}`, (ddb, abortSignal) =>
        ddb.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { LockID: S(this.key) },
            ConditionExpression: "#t = :token AND expiresAt = :exp",
            ExpressionAttributeNames: { "#t": "token" },
            ExpressionAttributeValues: { ":token": S(seen.token), ":exp": N(seen.expiresAt) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * Runs fn holding the lease, renewed every leaseMs/3 while fn runs; released after. `signal` of fn is
   * aborted when a renewal finds the lease lost (fn should stop before changing anything more).
   */
  async withLease<T>(opts: AcquireOptions, fn: (lease: Lease, signal: AbortSignal) => Promise<T>): Promise<T> {
    const leaseMs = opts.leaseMs ?? 60_000;
    const lease = await this.acquire(opts);
    const lost = new AbortController();
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing.then(async () => {
        if (lost.signal.aborted) return;
        const ok = await this.renew(lease, leaseMs, opts.now).catch(() => false);
        if (!ok) lost.abort(new StoreError(`the lease of ${this.env} was lost (expired and taken over, or broken)`));
      });
    }, Math.max(100, Math.floor(leaseMs / 3)));
    try {
      return await fn(lease, lost.signal);
    } finally {
      clearInterval(timer);
      await renewing;
      if (!lost.signal.aborted) await this.release(lease);
    }
  }
}

export interface CidrClaim {
  readonly cidr: string;
  /** The ephemeral env that holds it. */
  readonly owner: string;
  readonly by: string;
  readonly since: string;
}

/** Ephemeral CIDR claims in the base env's lock table (conditional writes). */
export class CidrClaims {
  constructor(
    readonly clients: AwsClients,
    readonly table: string,
  ) {}

  key(cidr: string): string {
    return `${CIDR_KEY_PREFIX}${cidr}`;
  }

  /** Claims `cidr` for `owner` (again, when it is already owner's); false when another env holds it. */
  async claim(cidr: string, owner: string, by: string, now: Date = new Date()): Promise<boolean> {
    const { PutItemCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      await send(this.clients, `PutItem ${this.key(cidr)}`, (ddb, abortSignal) =>
        ddb.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { LockID: S(this.key(cidr)), cidr: S(cidr), owner: S(owner), by: S(by), since: S(now.toISOString()) },
            ConditionExpression: "attribute_not_exists(LockID) OR #o = :owner",
            ExpressionAttributeNames: { "#o": "owner" },
            ExpressionAttributeValues: { ":owner": S(owner) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * The first CIDR of `candidates` that `owner` holds already or can claim; refuses EPHEMERAL-CIDR-TAKEN
   * when every one is someone else's.
   */
  async claimFirstFree(candidates: readonly string[], owner: string, by: string): Promise<string> {
    const held = (await this.list()).find((c) => c.owner === owner);
    if (held !== undefined) return held.cidr;
    for (const cidr of candidates) if (await this.claim(cidr, owner, by)) return cidr;
    throw storeRefusal("EPHEMERAL-CIDR-TAKEN", owner, `a free CIDR among ${candidates.length} candidates`, `all ${candidates.length} claimed`);
  }

  /** Gives a claim back; false when `owner` did not hold it. */
  async release(cidr: string, owner: string): Promise<boolean> {
    const { DeleteItemCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      await send(this.clients, `DeleteItem ${this.key(cidr)}`, (ddb, abortSignal) =>
        ddb.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { LockID: S(this.key(cidr)) },
            ConditionExpression: "#o = :owner",
            ExpressionAttributeNames: { "#o": "owner" },
            ExpressionAttributeValues: { ":owner": S(owner) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Every claim, in CIDR order (a scan of the claim keys; the table holds a handful of items). */
  async list(): Promise<CidrClaim[]> {
    const { ScanCommand } = await import("@aws-sdk/client-dynamodb");
    const out: CidrClaim[] = [];
    const seen = new Set<string>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await send(this.clients, "Scan claims", (ddb, abortSignal) =>
        ddb.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            FilterExpression: "begins_with(LockID, :p)",
            ExpressionAttributeValues: { ":p": S(CIDR_KEY_PREFIX) },
            ExclusiveStartKey: start,
          }),
          { abortSignal },
        ),
      );
      for (const i of page.Items ?? []) out.push({ cidr: i.cidr?.S ?? "", owner: i.owner?.S ?? "", by: i.by?.S ?? "", since: i.since?.S ?? "" });
      start = page.LastEvaluatedKey;
      // A key an earlier page gave would scan the same pages forever (no key: the scan is complete).
      const stuck = start === undefined ? null : unfollowablePage(seen, JSON.stringify(start));
      if (stuck) throw new StoreError(`DynamoDB Scan claims of ${this.table}: expected a new LastEvaluatedKey, found ${stuck}: the scan cannot be completed`);
    } while (start !== undefined);
    return out.sort((a, b) => a.cidr.localeCompare(b.cidr, undefined, { numeric: true }));
  }
}

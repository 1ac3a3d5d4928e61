/**
 * An exclusive lock file holding its owner's pid, host, command and start time. Created atomically
 * (link of a fully written temp file). A lock whose pid is dead on this host is stale and taken over
 * (one taker at a time, serialized by a mkdir); a live one is waited for up to `waitMs`, then reported.
 */
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { EngineError } from "../core/errors";

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
  readonly token: string;
}

export interface LockOptions {
  /** What holds the lock, shown to whoever waits ("promote apply prod"). */
  readonly command: string;
  /** How long to wait for a live holder; 0 refuses at once. @default 0 */
  readonly waitMs?: number;
  /** @default 250 */
  readonly pollMs?: number;
  /** Called once when we start waiting for a live holder. */
  readonly onWait?: (holder: LockHolder) => void;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** The stale holder taken over, if any. */
  readonly tookOverFrom: LockHolder | null;
  release(): void;
}

export type LockResult = { readonly ok: true; readonly lock: HeldLock } | { readonly ok: false; readonly holder: LockHolder | null };

/** Whether a pid is alive on this host (EPERM: alive, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): LockHolder | null | "absent" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One attempt: acquired, or the live holder (null: unreadable lock file). */
function tryAcquire(path: string, me: LockHolder): LockResult & { tookOverFrom?: LockHolder } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let tookOverFrom: LockHolder | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const tmp = `${path}.${me.pid}.${me.token}.tmp`;
    writeFileSync(tmp, JSON.stringify(me), { mode: 0o600 });
    try {
      linkSync(tmp, path);
      return { ok: true, lock: makeLock(path, me, tookOverFrom) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      unlinkSync(tmp);
    }
    const holder = readHolder(path);
    if (holder === "absent") continue;
    const stale = holder === null ? ageMs(path) > 5_000 : holder.host === me.host && !pidAlive(holder.pid);
    if (!stale) return { ok: false, holder };
    // Take over a stale lock: one taker at a time.
    const takeover = `${path}.takeover`;
    try {
      mkdirSync(takeover);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (ageMs(takeover) > 10_000) rmdirSync(takeover);
      return { ok: false, holder };
    }
    try {
      const again = readHolder(path);
      if (again !== "absent" && JSON.stringify(again) === JSON.stringify(holder)) {
        unlinkSync(path);
        tookOverFrom = holder;
      }
    } finally {
      rmdirSync(takeover);
    }
  }
  return { ok: false, holder: null };
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function makeLock(path: string, holder: LockHolder, tookOverFrom: LockHolder | null): HeldLock {
  let released = false;
  return {
    path,
    holder,
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      const current = readHolder(path);
      if (current !== "absent" && current !== null && current.token === holder.token) unlinkSync(path);
    },
  };
}

/** Acquires the lock, waiting up to waitMs for a live holder. */
export async function acquireLock(path: string, options: LockOptions): Promise<LockResult> {
  const me: LockHolder = { pid: process.pid, host: hostname(), command: options.command, since: new Date().toISOString(), token: randomBytes(8).toString("hex") };
  const deadline = Date.now() + (options.waitMs ?? 0);
  let warned = false;
  for (;;) {
    const result = tryAcquire(path, me);
    if (result.ok) return result;
    if (Date.now() >= deadline) return result;
    if (!warned && result.holder && options.onWait) options.onWait(result.holder);
    warned = true;
    await sleep(Math.min(options.pollMs ?? 250, Math.max(1, deadline - Date.now())));
  }
}

/** Runs fn under the lock; an EngineError when it cannot be had within waitMs. */
export async function withLock<T>(path: string, options: LockOptions, fn: () => T | Promise<T>): Promise<T> {
  const got = await acquireLock(path, options);
  if (!got.ok) throw new EngineError(`could not lock ${path}: held by ${describeHolder(got.holder)}`);
  try {
    return await fn();
  } finally {
    got.lock.release();
  }
}

export function describeHolder(holder: LockHolder | null): string {
  return holder === null ? "an unreadable lock file" : `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.since})`;
}

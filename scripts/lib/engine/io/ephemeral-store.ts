/**
 * The ephemeral envs' registry in their base env's store (PROMOTE_STORE=s3, the default), so every machine
 * sees the same registry and two never hand out one CIDR:
 *
 *   s3://<base store bucket>/ephemeral/<name>.json   the entry (entrySchema), SSE-KMS with the base env's
 *        key. A new one is written create-only (If-None-Match: *), every change with If-Match on the ETag
 *        it was read with: a writer that lost a race reads again and decides again (decideClaim). The
 *        bucket never deletes: a destroyed env's last version says "destroyed", and is read as absent.
 *   promote-cidr/<cidr> items of the base env's lock table   the CIDR claims (store/lease-lock.ts
 *        CidrClaims): conditional puts; a claim that loses a race tries the next free block.
 *
 * Order, so that no step leaves two envs on one CIDR: create claims the CIDR, then writes the entry; destroy
 * marks the entry destroying, destroys, writes it destroyed, then releases the claim. A create that died
 * after its claim leaves the claim (and perhaps a "creating" entry): a create of the same name, from any
 * machine, resumes it with that CIDR; a destroy releases it.
 */
import { EPHEMERAL, freeCidrs, type EnvConfig } from "../../../../envs";
import type { CidrClaims } from "../../store";
import { KeyChanged, KeyExists, type StoreBucket } from "../../store/s3";
import { byName, claimedAgain, decideClaim, entrySchema, liveEntry, newEntry, presentEntry, withStatus, type EphemeralEntry } from "../core/ephemeral";
import { EngineError, RefusalError, refusal } from "../core/errors";
import { fixFor } from "../core/rules";
import type { Claimed, ClaimRequest, Registry } from "./ephemeral-registry";
import { openStore, storeCall } from "./s3-store";

export const ENTRY_PREFIX = "ephemeral/";
/** Rounds of read-decide-write a step tries while other machines keep changing the same entry. */
const ROUNDS = 8;

/** What one round decides: write this entry (then return result), or stop (done) without writing. */
type Step<T> = { readonly write: EphemeralEntry; readonly result: T } | { readonly done: T };

interface Read {
  readonly entry: EphemeralEntry;
  readonly etag: string;
}

/** What the registry uses of the base env's store: its bucket (entries), its lock table (claims), its key. */
export interface RegistryPorts {
  readonly bucket: Pick<StoreBucket, "get" | "putCreateOnly" | "putIfMatch" | "listKeys">;
  readonly claims: Pick<CidrClaims, "claim" | "claimFirstFree" | "release" | "list">;
  readonly kmsKeyArn: string;
}

/** The base env's store as opened by the engine (one connection per process, closed by closeStores). */
async function openPorts(base: EnvConfig, vars: NodeJS.ProcessEnv): Promise<RegistryPorts> {
  const store = await openStore(base, vars);
  const { CidrClaims } = await import("../../store");
  return { bucket: store.bundles.bucket, claims: new CidrClaims(store.clients, base.stateBackend.lockTable), kmsKeyArn: store.kmsKeyArn };
}

export class StoreRegistry implements Registry {
  private opened: Promise<RegistryPorts> | null = null;

  constructor(
    private readonly base: EnvConfig,
    vars: NodeJS.ProcessEnv,
    /** The store's bucket and lock table: the base env's, opened on first use (tests give stand-ins). */
    private readonly ports: () => Promise<RegistryPorts> = () => openPorts(base, vars),
  ) {}

  get where(): string {
    return `s3://${this.base.store.bucket}/${ENTRY_PREFIX} (${this.base.name}'s store, account ${this.base.account.id})`;
  }

  private port(): Promise<RegistryPorts> {
    this.opened ??= this.ports();
    return this.opened;
  }

  private async claims(): Promise<RegistryPorts["claims"]> {
    return (await this.port()).claims;
  }

  key(name: string): string {
    return `${ENTRY_PREFIX}${name}.json`;
  }

  /** The entry's latest version and its ETag; null when it was never written. */
  private async get(name: string): Promise<Read | null> {
    const got = await (await this.port()).bucket.get(this.key(name));
    if (got === null) return null;
    let json: unknown;
    try {
      json = JSON.parse(got.body.toString("utf8"));
    } catch (e) {
      throw new EngineError(`s3://${this.base.store.bucket}/${this.key(name)} is not JSON: ${(e as Error).message}`);
    }
    const r = entrySchema.safeParse(json);
    if (!r.success || r.data.name !== name) {
      throw new EngineError(`s3://${this.base.store.bucket}/${this.key(name)} does not match the registry schema: ${r.success ? `it names ${r.data.name}` : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    if (got.etag === null) throw new EngineError(`s3://${this.base.store.bucket}/${this.key(name)} was served without an ETag`);
    return { entry: r.data, etag: got.etag };
  }

  /** Writes `entry` over `prev` (create-only when there was none); false when another writer came first. */
  private async put(entry: EphemeralEntry, prev: Read | null): Promise<boolean> {
    const s = await this.port();
    const body = `${JSON.stringify(entrySchema.parse(entry), null, 2)}\n`;
    try {
      if (prev === null) await s.bucket.putCreateOnly(this.key(entry.name), body, { kmsKeyArn: s.kmsKeyArn });
      else await s.bucket.putIfMatch(this.key(entry.name), body, prev.etag, { kmsKeyArn: s.kmsKeyArn });
      return true;
    } catch (e) {
      if (e instanceof KeyExists || e instanceof KeyChanged) return false;
      throw e;
    }
  }

  /** Reads, lets `step` decide, writes; again while another writer keeps winning. `step` returns a value to stop without writing. */
  private async change<T>(name: string, what: string, step: (cur: Read | null) => Promise<Step<T>>): Promise<T> {
    for (let round = 1; round <= ROUNDS; round++) {
      const cur = await this.get(name);
      const next = await step(cur);
      if ("done" in next) return next.done;
      if (await this.put(next.write, cur)) return next.result;
    }
    throw new EngineError(`${what} ${name}: the entry s3://${this.base.store.bucket}/${this.key(name)} changed under every one of ${ROUNDS} attempts (other machines writing it); try again`);
  }

  read(name: string): Promise<EphemeralEntry | null> {
    return storeCall(async () => presentEntry((await this.get(name))?.entry ?? null));
  }

  list(): Promise<EphemeralEntry[]> {
    return storeCall(async () => {
      const keys = await (await this.port()).bucket.listKeys(ENTRY_PREFIX);
      const names = keys.map((k) => /^ephemeral\/([^/]+)\.json$/.exec(k)?.[1]).filter((n): n is string => n !== undefined && EPHEMERAL.namePattern.test(n));
      const entries: EphemeralEntry[] = [];
      for (const name of names) {
        const e = presentEntry((await this.get(name))?.entry ?? null);
        if (e !== null) entries.push(e);
      }
      return entries.sort(byName);
    });
  }

  claim(r: ClaimRequest): Promise<Claimed> {
    return storeCall(async () => {
      const claims = await this.claims();
      // The CIDR this attempt claimed for a new entry (released when another machine's entry won with another one).
      let mine: string | null = null;
      return this.change<Claimed>(r.name, "env create", async (cur) => {
        const existing = presentEntry(cur?.entry ?? null);
        if (existing !== null && mine !== null && mine !== existing.cidr) await claims.release(mine, r.name);
        if (existing !== null) mine = null;
        const decision = decideClaim(existing, r);
        if (existing !== null) {
          // The entry's CIDR is its name's claim: taken again (a no-op for its owner) before anything is applied.
          if (!(await claims.claim(existing.cidr, r.name, r.by))) {
            const owner = (await claims.list()).find((c) => c.cidr === existing.cidr)?.owner ?? "?";
            throw new RefusalError(refusal("EPHEMERAL-CIDR-TAKEN", `${existing.cidr} (${r.name}'s entry) claimed by ${r.name}`, `claimed by ${owner}`, fixFor("EPHEMERAL-CIDR-TAKEN", r.name)));
          }
          const entry = claimedAgain(existing, r);
          return { write: entry, result: { entry, mode: decision === "update" ? "updated" : "resumed" } };
        }
        // No entry: the CIDR the name already holds (a create that died before its entry), else the first free one.
        const all = await claims.list();
        const held = all.find((c) => c.owner === r.name)?.cidr ?? null;
        const cidr = mine ?? held ?? (await this.claimFree(claims, r, all.map((c) => c.cidr)));
        mine = held === null ? cidr : null;
        const entry = newEntry(r, cidr);
        return { write: entry, result: { entry, mode: held === null ? "created" : "resumed" } };
      });
    });
  }

  /** The first free block that this name wins (a lost race moves on to the next); EPHEMERAL-CIDR-TAKEN when none is left. */
  private async claimFree(claims: RegistryPorts["claims"], r: ClaimRequest, claimed: readonly string[]): Promise<string> {
    const free = freeCidrs(r.longLived, claimed);
    if (free.length === 0) {
      throw new RefusalError(refusal("EPHEMERAL-CIDR-TAKEN", `a free /${EPHEMERAL.prefixLength} of ${EPHEMERAL.cidrPool}`, `every block claimed (${claimed.length} claims in ${this.base.stateBackend.lockTable})`, fixFor("EPHEMERAL-CIDR-TAKEN", r.name)));
    }
    return claims.claimFirstFree(free, r.name, r.by);
  }

  markLive(claimed: EphemeralEntry, commit: string, now: Date): Promise<EphemeralEntry> {
    return storeCall(() =>
      this.change<EphemeralEntry>(claimed.name, "env create", async (cur) => {
        // A destroy that began meanwhile stays (destroying, or destroyed: never brought back).
        const live = liveEntry(cur?.entry ?? claimed, commit, now);
        return cur !== null && cur.entry.status === "destroyed" ? { done: cur.entry } : { write: live, result: live };
      }),
    );
  }

  beginDestroy(name: string, now: Date): Promise<{ entry: EphemeralEntry | null; held: string | null }> {
    return storeCall(async () => {
      const claims = await this.claims();
      return this.change<{ entry: EphemeralEntry | null; held: string | null }>(name, "env destroy", async (cur) => {
        const entry = presentEntry(cur?.entry ?? null);
        if (entry !== null) return { write: withStatus(entry, "destroying", now), result: { entry, held: entry.cidr } };
        return { done: { entry: null, held: (await claims.list()).find((c) => c.owner === name)?.cidr ?? null } };
      });
    });
  }

  finishDestroy(name: string, now: Date): Promise<void> {
    return storeCall(async () => {
      await this.change<void>(name, "env destroy", async (cur) => {
        const entry = presentEntry(cur?.entry ?? null);
        return entry === null ? { done: undefined } : { write: withStatus(entry, "destroyed", now), result: undefined };
      });
      // Only now is its CIDR free: the entry no longer holds it.
      const claims = await this.claims();
      for (const c of await claims.list()) if (c.owner === name) await claims.release(c.cidr, name);
    });
  }
}

/**
 * The registry in the base env's store (io/ephemeral-store.ts StoreRegistry), its algorithm without a
 * network: stand-ins for the store bucket (create-only and If-Match writes, an ETag per version) and for the
 * lock table's CIDR claims (the real CidrClaims.claimFirstFree over conditional puts kept in memory), every
 * call delayed by a seeded random jitter so that machines interleave. Two registries (two machines) create
 * at once: never one CIDR for two names, one entry per name, every entry's CIDR its name's claim; a dead
 * create is resumed with its CIDR, a destroy writes the entry destroyed and then gives the claim back.
 * The same against the emulator, with real conditional writes: __tests__/integration/ephemeral.test.ts.
 */
import { EPHEMERAL, loadEnvironments } from "../../envs";
import { RefusalError } from "../../scripts/lib/engine/core/errors";
import type { ClaimRequest } from "../../scripts/lib/engine/io/ephemeral-registry";
import { StoreRegistry, type RegistryPorts } from "../../scripts/lib/engine/io/ephemeral-store";
import type { AwsClients } from "../../scripts/lib/store/aws";
import { CidrClaims, type CidrClaim } from "../../scripts/lib/store/lease-lock";
import { KeyChanged, KeyExists } from "../../scripts/lib/store/s3";

const longLived = loadEnvironments(undefined, { ...process.env, EPHEMERAL_ENVS: "" });
const dev = longLived.find((e) => e.name === EPHEMERAL.baseEnv)!;

/** A seeded jitter (0-2 ms), so a failing interleaving can be replayed. */
function jitter(seed: number): () => Promise<void> {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return new Promise((r) => setTimeout(r, x % 3));
  };
}

/** The store bucket: one latest version per key, its ETag a counter; conditional writes as S3 answers them. */
class FakeBucket {
  readonly objects = new Map<string, { body: Buffer; etag: string }>();
  private n = 0;
  constructor(private readonly wait: () => Promise<void>) {}

  async get(key: string) {
    await this.wait();
    const o = this.objects.get(key);
    return o === undefined ? null : { body: o.body, versionId: o.etag, etag: o.etag, sse: "aws:kms", kmsKeyId: "k" };
  }
  async putCreateOnly(key: string, body: Uint8Array | string): Promise<string> {
    await this.wait();
    if (this.objects.has(key)) throw new KeyExists(key);
    return this.store(key, body);
  }
  async putIfMatch(key: string, body: Uint8Array | string, etag: string): Promise<string> {
    await this.wait();
    if (this.objects.get(key)?.etag !== etag) throw new KeyChanged(key);
    return this.store(key, body);
  }
  async listKeys(prefix: string): Promise<string[]> {
    await this.wait();
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  private store(key: string, body: Uint8Array | string): string {
    const etag = `"${++this.n}"`;
    this.objects.set(key, { body: Buffer.from(body), etag });
    return etag;
  }
}

/** CidrClaims with its items in memory: the same conditions (absent or the same owner), claimFirstFree unchanged. */
class FakeClaims extends CidrClaims {
  readonly items = new Map<string, CidrClaim>();
  constructor(private readonly wait: () => Promise<void>) {
    super({} as AwsClients, "lock-table");
  }
  override async claim(cidr: string, owner: string, by: string): Promise<boolean> {
    await this.wait();
    const cur = this.items.get(cidr);
    if (cur !== undefined && cur.owner !== owner) return false;
    this.items.set(cidr, { cidr, owner, by, since: "t" });
    return true;
  }
  override async release(cidr: string, owner: string): Promise<boolean> {
    await this.wait();
    if (this.items.get(cidr)?.owner !== owner) return false;
    this.items.delete(cidr);
    return true;
  }
  override async list(): Promise<CidrClaim[]> {
    await this.wait();
    return [...this.items.values()].map((c) => ({ ...c }));
  }
}

function world(seed = 1) {
  const wait = jitter(seed);
  const bucket = new FakeBucket(wait);
  const claims = new FakeClaims(wait);
  const ports: RegistryPorts = { bucket, claims, kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k" };
  /** A machine: its own registry over the shared store. */
  const machine = () => new StoreRegistry(dev, {}, async () => ports);
  const entry = (name: string) => {
    const o = bucket.objects.get(`ephemeral/${name}.json`);
    return o === undefined ? undefined : (JSON.parse(o.body.toString("utf8")) as { cidr: string; status: string });
  };
  return { bucket, claims, machine, entry };
}

const NOW = new Date("2030-01-10T12:00:00Z");
const ask = (name: string, over: Partial<ClaimRequest> = {}): ClaimRequest => ({ name, by: "alice", commit: "c".repeat(40), ttlHours: 72, update: false, now: NOW, longLived, ...over });

const refusalOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "accepted",
    (e) => (e instanceof RefusalError ? `${e.refusal.id}: ${e.refusal.found}` : `error: ${(e as Error).message}`),
  );

describe("StoreRegistry: two machines on one store", () => {
  it.each(Array.from({ length: 25 }, (_, i) => [i + 1]))("never gives one CIDR to two names, however the calls interleave (seed %i)", async (seed) => {
    const w = world(seed);
    const [a, b] = [w.machine(), w.machine()];
    const names = (from: number) => Array.from({ length: 7 }, (_, i) => `pr-${from + 2 * i}`);
    const got = await Promise.all([...names(11).map((n) => a.claim(ask(n))), ...names(12).map((n) => b.claim(ask(n, { by: "bob" }))), a.claim(ask("pr-30")), b.claim(ask("pr-30", { by: "bob" }))]);

    // one entry per name; distinct names on distinct CIDRs; every entry's CIDR is its name's one claim
    const byName = new Map<string, Set<string>>();
    for (const g of got) byName.set(g.entry.name, (byName.get(g.entry.name) ?? new Set()).add(g.entry.cidr));
    expect([...byName.values()].map((s) => s.size)).toEqual(Array(15).fill(1));
    const cidrs = [...byName.values()].map((s) => [...s][0]);
    expect(new Set(cidrs).size).toBe(15);
    const claims = [...w.claims.items.values()];
    expect(claims.map((c) => c.owner).sort()).toEqual([...byName.keys()].sort());
    for (const c of claims) expect([c.owner, w.entry(c.owner)?.cidr, w.entry(c.owner)?.status]).toEqual([c.owner, c.cidr, "creating"]);
    // the one name both asked for: created at most once, the other resumed it
    const modes30 = got.filter((g) => g.entry.name === "pr-30").map((g) => g.mode);
    expect(modes30.filter((m) => m === "created").length).toBeLessThanOrEqual(1);
    expect(got.filter((g) => g.entry.name !== "pr-30").every((g) => g.mode === "created")).toBe(true);
  });

  it("resumes a dead create from another machine with its CIDR (entry, or a bare claim), refuses a live one, updates it with --update", async () => {
    const w = world();
    const [a, b] = [w.machine(), w.machine()];
    const first = await a.claim(ask("pr-1"));
    expect(first).toMatchObject({ mode: "created", entry: { cidr: "10.64.0.0/18", status: "creating", createdBy: "alice" } });
    expect(await b.claim(ask("pr-1", { by: "bob", commit: "d".repeat(40) }))).toMatchObject({ mode: "resumed", entry: { cidr: "10.64.0.0/18", createdBy: "alice", commit: "d".repeat(40) } });
    // a create that died between its claim and its entry
    expect(await w.claims.claim("10.64.192.0/18", "pr-2", "alice")).toBe(true);
    expect(await b.claim(ask("pr-2", { by: "bob" }))).toMatchObject({ mode: "resumed", entry: { cidr: "10.64.192.0/18", createdBy: "bob" } });
    expect((await a.claim(ask("pr-3"))).entry.cidr).toBe("10.64.64.0/18");

    const live = await a.markLive(first.entry, "e".repeat(40), NOW);
    expect(live).toMatchObject({ status: "live", commit: "e".repeat(40) });
    expect(await refusalOf(b.claim(ask("pr-1", { by: "bob" })))).toMatch(/^EPHEMERAL-EXISTS: pr-1 live \(10\.64\.0\.0\/18, created .* by alice\)/);
    expect(await b.claim(ask("pr-1", { by: "bob", update: true }))).toMatchObject({ mode: "updated", entry: { status: "live", cidr: "10.64.0.0/18" } });
    expect((await b.list()).map((e) => `${e.name} ${e.status} ${e.cidr}`)).toEqual(["pr-1 live 10.64.0.0/18", "pr-2 creating 10.64.192.0/18", "pr-3 creating 10.64.64.0/18"]);
  });

  it("destroys from another machine: destroying (a create refuses it), then destroyed and the claim given back; a later create writes over it", async () => {
    const w = world();
    const [a, b] = [w.machine(), w.machine()];
    const created = await a.claim(ask("pr-1"));
    await a.markLive(created.entry, "e".repeat(40), NOW);
    expect(await b.beginDestroy("pr-1", NOW)).toMatchObject({ entry: { status: "live" }, held: "10.64.0.0/18" });
    expect(w.entry("pr-1")?.status).toBe("destroying");
    expect(await refusalOf(a.claim(ask("pr-1", { update: true })))).toMatch(/^EPHEMERAL-EXISTS: pr-1 destroying/);
    // a create's apply that ends meanwhile leaves it destroying
    expect((await a.markLive(created.entry, "f".repeat(40), NOW)).status).toBe("destroying");
    await b.finishDestroy("pr-1", NOW);
    expect(w.entry("pr-1")?.status).toBe("destroyed");
    expect(w.claims.items.size).toBe(0);
    expect(await a.read("pr-1")).toBeNull();
    expect(await a.list()).toEqual([]);
    // never brought back by a late markLive; a new create takes it over (the pool's first block again)
    expect((await a.markLive(created.entry, "f".repeat(40), NOW)).status).toBe("destroyed");
    expect(await b.claim(ask("pr-1", { by: "bob" }))).toMatchObject({ mode: "created", entry: { status: "creating", createdBy: "bob", cidr: "10.64.0.0/18" } });
  });

  it("a destroy of a create that died before its entry finds its claim and gives it back", async () => {
    const w = world();
    const b = w.machine();
    expect(await w.claims.claim("10.64.128.0/18", "pr-7", "alice")).toBe(true);
    expect(await b.beginDestroy("pr-7", NOW)).toEqual({ entry: null, held: "10.64.128.0/18" });
    await b.finishDestroy("pr-7", NOW);
    expect(w.claims.items.size).toBe(0);
    expect(w.entry("pr-7")).toBeUndefined();
  });

  it("refuses EPHEMERAL-CIDR-TAKEN when every block of the pool is claimed, and writes no entry", async () => {
    const w = world();
    const a = w.machine();
    for (let i = 0; i < 64; i++) await w.claims.claim(`10.${64 + Math.floor(i / 4)}.${(i % 4) * 64}.0/18`, `pr-${100 + i}`, "x");
    expect(await refusalOf(a.claim(ask("pr-1")))).toMatch(/^EPHEMERAL-CIDR-TAKEN: every block claimed \(64 claims/);
    expect(w.entry("pr-1")).toBeUndefined();
  });
});

/**
 * Ephemeral envs without terraform: the local registry (schema, atomic writes, order, its lock keeping two
 * creates — even in two processes — off one CIDR), the claim decision both registries take (decideClaim:
 * new, resume, update, EPHEMERAL-EXISTS) and the entry's transitions, the Registry interface over the local
 * folder and which registry a setting chooses, the TTL decision, the list, the backend settings read from a
 * synthesized stack, and the CLI's refusals and usage errors. The store's registry (dev's store, conditional
 * writes, two machines) runs against the emulator: __tests__/integration/ephemeral.test.ts.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EPHEMERAL, loadEnvironments } from "../../envs";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { decideClaim, destroySpecs, dueForReap, formatEphemeralList, formatHours, liveEntry, nameProblem, newEntry, presentEntry, ttlState, withStatus, type EphemeralEntry } from "../../scripts/lib/engine/core/ephemeral";
import { claimEntry, EphemeralRegistry, LocalRegistry, registryOf, type Registry } from "../../scripts/lib/engine/io/ephemeral-registry";
import { StoreRegistry } from "../../scripts/lib/engine/io/ephemeral-store";
import { EngineError, RefusalError } from "../../scripts/lib/engine/core/errors";
import { digestLockId, s3BackendSettings, stateObjectKeys } from "../../scripts/lib/engine/io/state-store";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { main } from "../../scripts/promote";

const longLived = loadEnvironments(undefined, { ...process.env, EPHEMERAL_ENVS: "" });
const NOW = new Date("2030-01-10T12:00:00Z");

function entry(over: Partial<EphemeralEntry> = {}): EphemeralEntry {
  return {
    schemaVersion: 1,
    name: "pr-1",
    cidr: "10.64.0.0/18",
    createdAt: "2030-01-10T00:00:00.000Z",
    ttlHours: 72,
    createdBy: "alice",
    commit: "0123456789abcdef0123456789abcdef01234567",
    status: "live",
    updatedAt: "2030-01-10T00:00:00.000Z",
    ...over,
  };
}

let dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "engine-ephemeral-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const claim = (reg: EphemeralRegistry, name: string, over: { update?: boolean; now?: Date } = {}) =>
  claimEntry(reg, { name, by: "alice", commit: "c".repeat(40), ttlHours: EPHEMERAL.ttlHours, update: over.update ?? false, now: over.now ?? NOW, longLived });

describe("the registry (<PROMOTE_HOME>/_ephemeral/<name>.json)", () => {
  it("writes, reads and lists entries in PR-number order; removes them", () => {
    const reg = new EphemeralRegistry(join(temp(), "_ephemeral"));
    expect(reg.list()).toEqual([]);
    expect(reg.read("pr-1")).toBeNull();
    for (const n of [10, 2, 1]) reg.write(entry({ name: `pr-${n}`, cidr: `10.64.${n}.0/18` }));
    expect(reg.list().map((e) => e.name)).toEqual(["pr-1", "pr-2", "pr-10"]);
    expect(reg.read("pr-2")).toEqual(entry({ name: "pr-2", cidr: "10.64.2.0/18" }));
    reg.remove("pr-2");
    expect(reg.list().map((e) => e.name)).toEqual(["pr-1", "pr-10"]);
  });

  it("reports an unreadable or off-schema entry as an error naming the file (never half-read)", () => {
    const dir = join(temp(), "_ephemeral");
    mkdirSync(dir);
    writeFileSync(join(dir, "pr-3.json"), "{not json");
    expect(() => new EphemeralRegistry(dir).read("pr-3")).toThrow(/pr-3\.json is not JSON/);
    writeFileSync(join(dir, "pr-3.json"), JSON.stringify({ ...entry({ name: "pr-3" }), status: "gone" }));
    expect(() => new EphemeralRegistry(dir).list()).toThrow(EngineError);
    expect(() => new EphemeralRegistry(dir).list()).toThrow(/pr-3\.json does not match the registry schema: status/);
  });

  it("refuses to write an entry that does not match its schema", () => {
    const reg = new EphemeralRegistry(join(temp(), "_ephemeral"));
    expect(() => reg.write(entry({ name: "feature-x" }))).toThrow();
    expect(reg.list()).toEqual([]);
  });
});

describe("claimEntry: a name and a CIDR, under the registry lock", () => {
  it("gives a new env the pool's first free block (status creating), the next one the next block", () => {
    const reg = new EphemeralRegistry(join(temp(), "_ephemeral"));
    const a = claim(reg, "pr-1");
    const b = claim(reg, "pr-2");
    expect(a).toMatchObject({ mode: "created", entry: { name: "pr-1", cidr: "10.64.0.0/18", status: "creating", ttlHours: 72, createdBy: "alice", createdAt: NOW.toISOString() } });
    expect(b.entry.cidr).toBe("10.64.64.0/18");
    // a destroyed one's block is free again
    reg.remove("pr-1");
    expect(claim(reg, "pr-3").entry.cidr).toBe("10.64.0.0/18");
  });

  describe("EPHEMERAL-EXISTS: an ephemeral env the registry already has", () => {
    it("refuses a live one, and one being destroyed (even with --update), naming its status and CIDR", () => {
      const reg = new EphemeralRegistry(join(temp(), "_ephemeral"));
      reg.write(entry({ name: "pr-1", status: "live" }));
      reg.write(entry({ name: "pr-2", cidr: "10.64.64.0/18", status: "destroying" }));
      const refusedId = (fn: () => unknown) => {
        try {
          fn();
        } catch (e) {
          return e instanceof RefusalError ? `${e.refusal.id}: ${e.refusal.found}` : String(e);
        }
        return "accepted";
      };
      expect(refusedId(() => claim(reg, "pr-1"))).toMatch(/^EPHEMERAL-EXISTS: pr-1 live \(10\.64\.0\.0\/18/);
      expect(refusedId(() => claim(reg, "pr-2", { update: true }))).toMatch(/^EPHEMERAL-EXISTS: pr-2 destroying/);
      expect(reg.read("pr-1")).toEqual(entry({ name: "pr-1" })); // untouched
    });

    it("accepts a failed create's entry (resumed, same CIDR) and, with --update, a live one (new commit)", () => {
      const reg = new EphemeralRegistry(join(temp(), "_ephemeral"));
      reg.write(entry({ name: "pr-1", status: "creating", cidr: "10.64.128.0/18" }));
      reg.write(entry({ name: "pr-2", status: "live", cidr: "10.64.64.0/18" }));
      expect(claim(reg, "pr-1")).toMatchObject({ mode: "resumed", entry: { cidr: "10.64.128.0/18", status: "creating", commit: "c".repeat(40) } });
      expect(claim(reg, "pr-2", { update: true })).toMatchObject({ mode: "updated", entry: { cidr: "10.64.64.0/18", status: "live", createdAt: "2030-01-10T00:00:00.000Z" } });
    });
  });

  it("never gives one CIDR twice when two processes create at once", async () => {
    const dir = join(temp(), "_ephemeral");
    const script = `
      require(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/engine/ts-hook.js"))});
      const { claimEntry, EphemeralRegistry } = require(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/engine/io/ephemeral-registry.ts"))});
      const { loadEnvironments } = require(${JSON.stringify(join(PROJECT_ROOT, "envs"))});
      const longLived = loadEnvironments(undefined, { EPHEMERAL_ENVS: "" });
      const reg = new EphemeralRegistry(process.argv[1]);
      (async () => {
        for (const n of process.argv.slice(2)) {
          await reg.withLock("test", () => claimEntry(reg, { name: "pr-" + n, by: "t", commit: "c", ttlHours: 1, update: false, now: new Date(), longLived }));
        }
      })().catch((e) => { console.error(e); process.exit(1); });
    `;
    const runner = (names: number[]) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ["-e", script, dir, ...names.map(String)], { stdio: ["ignore", "ignore", "inherit"] });
        child.on("close", (c) => resolve(c ?? 1));
      });
    const codes = await Promise.all([runner([1, 3, 5, 7, 9, 11]), runner([2, 4, 6, 8, 10, 12])]);
    expect(codes).toEqual([0, 0]);
    const cidrs = new EphemeralRegistry(dir).list().map((e) => e.cidr);
    expect(cidrs).toHaveLength(12);
    expect(new Set(cidrs).size).toBe(12);
  }, 60_000);
});

describe("decideClaim: what a create does with the entry it finds (both registries)", () => {
  const refusal = (fn: () => unknown): string => {
    try {
      return String(fn());
    } catch (e) {
      return e instanceof RefusalError ? `${e.refusal.id}: ${e.refusal.found}` : `error: ${(e as Error).message}`;
    }
  };

  it("new for none or a destroyed one; resume for a creating one (whoever started it); update for a live one with --update", () => {
    expect(decideClaim(null, { name: "pr-1", update: false })).toBe("new");
    expect(decideClaim(entry({ status: "destroyed" }), { name: "pr-1", update: false })).toBe("new");
    expect(decideClaim(entry({ status: "creating", createdBy: "someone-else" }), { name: "pr-1", update: false })).toBe("resume");
    expect(decideClaim(entry({ status: "creating" }), { name: "pr-1", update: true })).toBe("resume");
    expect(decideClaim(entry({ status: "live" }), { name: "pr-1", update: true })).toBe("update");
  });

  it("refuses EPHEMERAL-EXISTS for a live one without --update and for one being destroyed", () => {
    expect(refusal(() => decideClaim(entry({ status: "live" }), { name: "pr-1", update: false }))).toMatch(/^EPHEMERAL-EXISTS: pr-1 live \(10\.64\.0\.0\/18, created 2030-01-10T00:00:00\.000Z by alice\)/);
    expect(refusal(() => decideClaim(entry({ status: "destroying" }), { name: "pr-1", update: true }))).toMatch(/^EPHEMERAL-EXISTS: pr-1 destroying/);
  });

  it("builds a new entry (creating), a live one (unless a destroy began or ended), a destroying one", () => {
    const ask = { name: "pr-4", by: "bob", commit: "d".repeat(40), ttlHours: 6, update: false, now: NOW };
    expect(newEntry(ask, "10.64.64.0/18")).toEqual({ schemaVersion: 1, name: "pr-4", cidr: "10.64.64.0/18", createdAt: NOW.toISOString(), ttlHours: 6, createdBy: "bob", commit: "d".repeat(40), status: "creating", updatedAt: NOW.toISOString() });
    expect(() => newEntry({ ...ask, name: "dev" }, "10.64.0.0/18")).toThrow();
    const later = new Date("2030-01-10T13:00:00Z");
    expect(liveEntry(entry({ status: "creating" }), "e".repeat(40), later)).toEqual(entry({ status: "live", commit: "e".repeat(40), updatedAt: later.toISOString() }));
    expect(liveEntry(entry({ status: "destroying" }), "e".repeat(40), later).status).toBe("destroying");
    expect(liveEntry(entry({ status: "destroyed" }), "e".repeat(40), later).status).toBe("destroyed");
    expect(withStatus(entry(), "destroying", later)).toEqual(entry({ status: "destroying", updatedAt: later.toISOString() }));
    expect(presentEntry(entry({ status: "destroyed" }))).toBeNull();
    expect(presentEntry(entry({ status: "destroying" }))).toEqual(entry({ status: "destroying" }));
  });

  it("synthesizes a destroy with the registry's envs, and the name on the CIDR it holds (or a free one without an entry or claim)", () => {
    const live = [{ name: "pr-2", cidr: "10.64.0.0/18" }];
    expect(destroySpecs(longLived, [...live, { name: "pr-1", cidr: "10.64.64.0/18" }], "pr-1", "10.64.64.0/18")).toEqual([...live, { name: "pr-1", cidr: "10.64.64.0/18" }]);
    expect(destroySpecs(longLived, live, "pr-1", "10.64.192.0/18")).toEqual([...live, { name: "pr-1", cidr: "10.64.192.0/18" }]);
    expect(destroySpecs(longLived, live, "pr-1", null)).toEqual([...live, { name: "pr-1", cidr: "10.64.64.0/18" }]);
  });
});

describe("the Registry interface over the local folder (PROMOTE_STORE=local)", () => {
  const ask = (name: string, over: { update?: boolean } = {}) => ({ name, by: "alice", commit: "c".repeat(40), ttlHours: EPHEMERAL.ttlHours, update: over.update ?? false, now: NOW, longLived });

  it("claims, marks live, refuses a second create, destroys (destroying, then gone) and frees the CIDR", async () => {
    const reg: Registry = new LocalRegistry(new EphemeralRegistry(join(temp(), "_ephemeral")));
    const a = await reg.claim(ask("pr-1"));
    expect(a).toMatchObject({ mode: "created", entry: { cidr: "10.64.0.0/18", status: "creating" } });
    expect((await reg.claim(ask("pr-1"))).mode).toBe("resumed");
    const live = await reg.markLive(a.entry, "f".repeat(40), NOW);
    expect(live).toMatchObject({ status: "live", commit: "f".repeat(40), cidr: "10.64.0.0/18" });
    await expect(reg.claim(ask("pr-1"))).rejects.toThrow(RefusalError);
    expect((await reg.claim(ask("pr-2"))).entry.cidr).toBe("10.64.64.0/18");
    expect(await reg.beginDestroy("pr-1", NOW)).toEqual({ entry: live, held: "10.64.0.0/18" });
    expect((await reg.read("pr-1"))?.status).toBe("destroying");
    await expect(reg.claim(ask("pr-1", { update: true }))).rejects.toThrow(/destroying/);
    await reg.finishDestroy("pr-1", NOW);
    expect(await reg.read("pr-1")).toBeNull();
    expect((await reg.list()).map((e) => e.name)).toEqual(["pr-2"]);
    expect((await reg.claim(ask("pr-3"))).entry.cidr).toBe("10.64.0.0/18");
    expect(await reg.beginDestroy("pr-9", NOW)).toEqual({ entry: null, held: null });
  });

  it("is the local folder with PROMOTE_STORE=local, and dev's store otherwise (nothing is reached by choosing it)", () => {
    const home = temp();
    const local = registryOf(defaultContext({ ...process.env, PROMOTE_STORE: "local", PROMOTE_HOME: home, EPHEMERAL_ENVS: "" }));
    expect(local).toBeInstanceOf(LocalRegistry);
    expect(local.where).toBe(join(home, "_ephemeral"));
    const dev = longLived.find((e) => e.name === "dev")!;
    for (const setting of [undefined, "", "s3"]) {
      const store = registryOf(defaultContext({ ...process.env, PROMOTE_STORE: setting, PROMOTE_HOME: home, EPHEMERAL_ENVS: "" }));
      expect(store).toBeInstanceOf(StoreRegistry);
      expect(store.where).toBe(`s3://${dev.store.bucket}/ephemeral/ (dev's store, account ${dev.account.id})`);
    }
  });
});

describe("the TTL decision", () => {
  it("counts age and time left from createdAt; expired at (and after) the TTL", () => {
    expect(ttlState(entry(), NOW)).toEqual({ ageHours: 12, leftHours: 60, expired: false });
    expect(ttlState(entry(), new Date("2030-01-13T00:00:00Z")).expired).toBe(true);
    expect(ttlState(entry(), new Date("2030-01-12T23:59:00Z")).expired).toBe(false);
  });

  it("reaps every entry past its own TTL, whatever its status; none before", () => {
    const es = [
      entry({ name: "pr-1", ttlHours: 6 }),
      entry({ name: "pr-2", ttlHours: 72 }),
      entry({ name: "pr-3", ttlHours: 1, status: "creating" }),
      entry({ name: "pr-4", ttlHours: 2, status: "destroying" }),
    ];
    expect(dueForReap(es, NOW).map((e) => e.name)).toEqual(["pr-1", "pr-3", "pr-4"]);
    expect(dueForReap(es, new Date("2030-01-10T00:30:00Z"))).toEqual([]);
  });
});

describe("the list (promote env list)", () => {
  it("formats durations", () => {
    expect(formatHours(0.7)).toBe("42m");
    expect(formatHours(5 + 7 / 60)).toBe("5h 07m");
    expect(formatHours(76.5)).toBe("3d 04h");
    expect(formatHours(-2.5)).toBe("2h 30m");
  });

  it("shows name, status, CIDR, age and time left (or how long ago it expired), by PR number", () => {
    const text = formatEphemeralList(
      [entry({ name: "pr-12", cidr: "10.64.64.0/18", status: "creating", createdBy: "bob", ttlHours: 6 }), entry({ name: "pr-3" })],
      NOW,
    );
    expect(text.split("\n")).toEqual([
      "NAME   STATUS    CIDR           AGE      TTL LEFT            CREATED BY  COMMIT",
      "pr-3   live      10.64.0.0/18   12h 00m  2d 12h              alice       0123456789ab",
      "pr-12  creating  10.64.64.0/18  12h 00m  expired 6h 00m ago  bob         0123456789ab",
      "",
    ]);
    expect(formatEphemeralList([], NOW)).toBe("no ephemeral environments\n");
  });
});

describe("names", () => {
  it("accepts pr-<number> only", () => {
    expect(nameProblem("pr-12")).toBeNull();
    for (const bad of ["pr-0", "pr-", "PR-1", "feature-x", "pr-1/../dev", "dev"]) expect(nameProblem(bad)).toMatch(/named pr-<number>/);
  });
});

describe("the S3 backend of a synthesized stack (what destroy removes)", () => {
  const emulatorStack = {
    terraform: {
      backend: {
        s3: {
          bucket: "tfstate-dev-111111111111",
          key: "ephemeral/pr-1/terraform.tfstate",
          region: "us-east-1",
          dynamodb_table: "tfstate-lock-dev",
          encrypt: true,
          assume_role: { role_arn: "arn:aws:iam::111111111111:role/terraform-deploy", session_name: "terraform-pr-1" },
          access_key: "test",
          secret_key: "test",
          endpoints: { s3: "http://127.0.0.1:4599", dynamodb: "http://127.0.0.1:4599", sts: "http://127.0.0.1:4599", iam: "http://127.0.0.1:4599" },
          use_path_style: true,
        },
      },
    },
  };

  it("reads bucket, key, region, lock table, endpoints, keys and role (emulator)", () => {
    expect(s3BackendSettings(emulatorStack, "x")).toEqual({
      bucket: "tfstate-dev-111111111111",
      key: "ephemeral/pr-1/terraform.tfstate",
      region: "us-east-1",
      lockTable: "tfstate-lock-dev",
      endpoints: { s3: "http://127.0.0.1:4599", dynamodb: "http://127.0.0.1:4599", sts: "http://127.0.0.1:4599" },
      accessKey: "test",
      secretKey: "test",
      roleArn: "arn:aws:iam::111111111111:role/terraform-deploy",
      sessionName: "terraform-pr-1",
      usePathStyle: true,
    });
  });

  it("on real AWS: no endpoints, no keys (the usual credential chain), the role still assumed", () => {
    const s3 = { ...emulatorStack.terraform.backend.s3 } as Record<string, unknown>;
    for (const k of ["access_key", "secret_key", "endpoints", "use_path_style"]) delete s3[k];
    expect(s3BackendSettings({ terraform: { backend: { s3 } } }, "x")).toMatchObject({ endpoints: { s3: null, dynamodb: null, sts: null }, accessKey: null, secretKey: null, roleArn: "arn:aws:iam::111111111111:role/terraform-deploy", usePathStyle: false });
  });

  it("refuses a stack without an S3 backend or without a key", () => {
    expect(() => s3BackendSettings({ terraform: { backend: { local: { path: "x" } } } }, "stack")).toThrow(/stack: expected an S3 backend \(terraform\.backend\.s3\), but found local/);
    const s3 = { ...emulatorStack.terraform.backend.s3 } as Record<string, unknown>;
    delete s3.key;
    expect(() => s3BackendSettings({ terraform: { backend: { s3 } } }, "stack")).toThrow(/terraform\.backend\.s3\.key is missing/);
  });

  it("names terraform's digest item and the state's objects", () => {
    expect(digestLockId({ bucket: "b", key: "ephemeral/pr-1/terraform.tfstate" })).toBe("b/ephemeral/pr-1/terraform.tfstate-md5");
    expect(stateObjectKeys("ephemeral/pr-1/terraform.tfstate")).toEqual(["ephemeral/pr-1/terraform.tfstate", "ephemeral/pr-1/terraform.tfstate.tflock"]);
  });
});

describe("promote env (CLI, nothing reaches terraform)", () => {
  const cli = async (argv: string[], home: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx = defaultContext({ ...process.env, PROMOTE_USER: "alice", EPHEMERAL_ENVS: "" }, { out: (t) => out.push(t), err: (t) => err.push(t) }, { plansDir: home, auditDir: join(home, "_audit"), locksDir: join(home, "_locks") });
    const code = await main(argv, ctx);
    return { code, out: out.join(""), err: err.join("") };
  };

  it("lists the registry, judged at --now", async () => {
    const home = temp();
    new EphemeralRegistry(join(home, "_ephemeral")).write(entry());
    const r = await cli(["env", "list", "--now", "2030-01-12T00:00:00Z"], home);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^pr-1\s+live\s+10\.64\.0\.0\/18\s+2d 00h\s+1d 00h\s+alice/m);
  });

  it("refuses a second create of a live env (exit 1, EPHEMERAL-EXISTS, audited), before anything runs", async () => {
    const home = temp();
    new EphemeralRegistry(join(home, "_ephemeral")).write(entry());
    const r = await cli(["env", "create", "pr-1"], home);
    expect(r.code).toBe(1);
    expect(r.err).toContain("REFUSED EPHEMERAL-EXISTS");
    expect(r.err).toContain("promote env destroy pr-1");
  });

  it("rejects a malformed name, an unknown subcommand and a bad --now as usage errors (exit 2)", async () => {
    const home = temp();
    for (const argv of [["env", "create", "feature-x"], ["env", "destroy", "pr-0"], ["env", "frobnicate", "pr-1"], ["env", "list", "--now", "yesterday"], ["env", "list", "pr-1"], ["env", "destroy", "pr-1", "--ttl", "3h"]]) {
      const r = await cli(argv, home);
      expect([argv.join(" "), r.code]).toEqual([argv.join(" "), 2]);
    }
  });

  it("reaps nothing when nothing is past its TTL (exit 0)", async () => {
    const home = temp();
    new EphemeralRegistry(join(home, "_ephemeral")).write(entry());
    const r = await cli(["env", "reap", "--now", "2030-01-11T00:00:00Z"], home);
    expect(r.code).toBe(0);
    expect(r.out).toContain("nothing to reap at 2030-01-11T00:00:00.000Z");
  });
});

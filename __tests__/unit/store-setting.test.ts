/** PROMOTE_STORE: one setting selects the store; a value it does not know stops every command before anything is read or written. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { bundleStore } from "../../scripts/lib/engine/io/context";
import { S3EngineStore, storeKind } from "../../scripts/lib/engine/io/s3-store";
import { LocalBundleStore } from "../../scripts/lib/engine/io/store";
import { main } from "../../scripts/promote";

describe("PROMOTE_STORE", () => {
  it("is s3 when unset or empty (the default on every target), local only when asked", () => {
    expect(storeKind({})).toBe("s3");
    expect(storeKind({ PROMOTE_STORE: "" })).toBe("s3");
    expect(storeKind({ PROMOTE_STORE: "local" })).toBe("local");
    expect(storeKind({ PROMOTE_STORE: "s3" })).toBe("s3");
    const ctx = (v: string | undefined) => defaultContext({ ...process.env, PROMOTE_STORE: v, PROMOTE_HOME: "/nonexistent-home" });
    expect(bundleStore(ctx(undefined))).toBeInstanceOf(S3EngineStore);
    expect(bundleStore(ctx("s3"))).toBeInstanceOf(S3EngineStore);
    expect(bundleStore(ctx("local"))).toBeInstanceOf(LocalBundleStore);
  });

  it.each(["S3", "s3 ", "dynamodb", "local,s3"])("refuses %j naming what it expects and what it found", (v) => {
    expect(() => storeKind({ PROMOTE_STORE: v })).toThrow(`PROMOTE_STORE must be "s3" (each env's store in its own account, the default) or "local" (the PROMOTE_HOME folder, one machine), but ${JSON.stringify(v)} was given`);
  });

  it("a bad value stops a command with exit 2 before it writes anything (no audit record, no bundle)", async () => {
    const home = mkdtempSync(join(tmpdir(), "store-setting-"));
    try {
      const err: string[] = [];
      const ctx = defaultContext({ ...process.env, PROMOTE_STORE: "s4", PROMOTE_HOME: home, PROMOTE_USER: "alice" }, { out: () => undefined, err: (t) => err.push(t) });
      expect(await main(["plan", "dev"], ctx)).toBe(2);
      expect(err.join("")).toContain('PROMOTE_STORE must be "s3"');
      expect(err.join("")).toContain('but "s4" was given');
      expect(existsSync(join(home, "_audit")) ? readdirSync(join(home, "_audit")) : []).toEqual([]);
      expect(existsSync(join(home, "dev"))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

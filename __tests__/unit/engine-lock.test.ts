import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { acquireLock, pidAlive, withLock } from "../../scripts/lib/engine/io/lock";
import { tempDir } from "../helpers/engine-fixtures";

/** A pid that is certainly dead: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("env lock (ENV-LOCKED)", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it("is exclusive: a second taker is refused while the first holds it", async () => {
    const path = join(dir, "prod.lock");
    const first = await acquireLock(path, { command: "promote apply prod" });
    expect(first.ok).toBe(true);
    const second = await acquireLock(path, { command: "promote plan prod" });
    expect(second).toMatchObject({ ok: false, holder: { pid: process.pid, command: "promote apply prod" } });
    if (first.ok) first.lock.release();
    expect(existsSync(path)).toBe(false);
    const third = await acquireLock(path, { command: "promote plan prod" });
    expect(third.ok).toBe(true);
    if (third.ok) third.lock.release();
  });

  it("records pid, host, command and start time", async () => {
    const path = join(dir, "prod.lock");
    const got = await acquireLock(path, { command: "promote plan prod" });
    const holder = JSON.parse(readFileSync(path, "utf8"));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), command: "promote plan prod" });
    if (got.ok) got.lock.release();
  });

  it("takes over a stale lock left by a dead pid", async () => {
    const path = join(dir, "prod.lock");
    const pid = deadPid();
    expect(pidAlive(pid)).toBe(false);
    writeFileSync(path, JSON.stringify({ pid, host: hostname(), command: "promote apply prod", since: "2030-01-01T00:00:00Z", token: "old" }));
    const got = await acquireLock(path, { command: "promote plan prod" });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.lock.tookOverFrom).toMatchObject({ pid, token: "old" });
    expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
    got.lock.release();
  });

  it("refuses a lock held by a live process (another pid)", async () => {
    const path = join(dir, "prod.lock");
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      writeFileSync(path, JSON.stringify({ pid: child.pid, host: hostname(), command: "promote apply prod", since: "2030-01-01T00:00:00Z", token: "live" }));
      const got = await acquireLock(path, { command: "promote plan prod" });
      expect(got).toMatchObject({ ok: false, holder: { pid: child.pid } });
    } finally {
      child.kill();
    }
  });

  it("treats a lock from another host as live (its pid cannot be checked here)", async () => {
    const path = join(dir, "prod.lock");
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: "other-host", command: "x", since: "2030-01-01T00:00:00Z", token: "t" }));
    expect((await acquireLock(path, { command: "y" })).ok).toBe(false);
  });

  it("waits for a live holder and then takes the lock, telling whoever waits", async () => {
    const path = join(dir, "prod.lock");
    const first = await acquireLock(path, { command: "promote apply prod" });
    if (!first.ok) throw new Error("setup");
    setTimeout(() => first.lock.release(), 300);
    const waited: string[] = [];
    const second = await acquireLock(path, { command: "promote apply prod", waitMs: 5000, pollMs: 50, onWait: (h) => waited.push(h.command) });
    expect(second.ok).toBe(true);
    expect(waited).toEqual(["promote apply prod"]);
    if (second.ok) second.lock.release();
  });

  it("gives up after waitMs", async () => {
    const path = join(dir, "prod.lock");
    const first = await acquireLock(path, { command: "a" });
    const t0 = Date.now();
    const second = await acquireLock(path, { command: "b", waitMs: 200, pollMs: 50 });
    expect(second.ok).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    if (first.ok) first.lock.release();
  });

  it("serializes concurrent takers: never two holders at once", async () => {
    const path = join(dir, "prod.lock");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(path, { command: "t", waitMs: 10_000, pollMs: 5 }, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 10));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it("release never removes a lock someone else took over", async () => {
    const path = join(dir, "prod.lock");
    const got = await acquireLock(path, { command: "a" });
    if (!got.ok) throw new Error("setup");
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), command: "b", since: "x", token: "someone-else" }));
    got.lock.release();
    expect(existsSync(path)).toBe(true);
  });
});

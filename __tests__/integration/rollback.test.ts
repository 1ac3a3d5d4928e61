/**
 * `promote rollback` for real, on prod (approval and four eyes required, gated on staging): release A
 * and release B are applied through plan / approve / apply; staging's record of A is then removed, so
 * only prod's own ledger has A. `promote rollback prod` plans A from a temporary worktree while the
 * checkout stays at B; the bundle is reviewed, approved by someone else and applied; a second rollback
 * plan to the same tag shows no changes.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../../scripts/lib/engine/core/schemas";
import { withEmulator } from "../helpers/emulator";
import { auditRecords } from "../helpers/store-records";
import { expectExit, standinWorld, type StandinWorld } from "../helpers/standin";

const bundleOf = (w: StandinWorld, out: string): { dir: string; m: Manifest } => {
  const dir = /Bundle:\s+(\S+)/.exec(out)?.[1];
  if (!dir) throw new Error(`no bundle in the output:\n${out}`);
  return { dir, m: JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest };
};

async function release(w: StandinWorld): Promise<Manifest> {
  const plan = await w.promote(["plan", "prod"], "alice");
  expectExit(plan, 0);
  const { m } = bundleOf(w, plan.out);
  expectExit(await w.promote(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", w.keys["bob@example.com"]], "bob"), 0);
  expectExit(await w.promote(["apply", "prod", m.id], "alice"), 0);
  return m;
}

describe("promote rollback (emulator)", () => {
  const emu = withEmulator();
  let w: StandinWorld;
  afterAll(() => w?.cleanup());

  it("plans a release prod ran before from a worktree, goes through approve and apply, and a second plan is empty", async () => {
    // GIVEN prod applied A, then B (each applied in staging first: the gate)
    w = await standinWorld(emu(), "prod");
    const a = w.commit({ version: "a" });
    const stagingA = await w.recordApply("staging", a);
    await release(w);
    const b = w.commit({ version: "b", subnet: true });
    await w.recordApply("staging", b);
    await release(w);
    // staging forgets A: only prod's own ledger has it now
    execFileSync("git", ["-C", w.checkout, "tag", "-d", stagingA]);
    const ledger = await w.promote(["ledger", "prod"]);
    const [tagA] = ledger.out.trim().split("\n").map((l) => l.split(/\s+/)[2]);

    // WHEN rolling back (default target: the release before the current one)
    const rb = await w.promote(["rollback", "prod"], "alice");
    expectExit(rb, 0);
    const { dir, m } = bundleOf(w, rb.out);
    expect(m.rollback).toEqual({ toTag: tagA, toCommit: a, fromCommit: b });
    expect(m.git.commit).toBe(a);
    expect(m.counts).toMatchObject({ destroy: 1, change: 1 });
    expect(rb.out).toContain(`ROLLBACK:    to ${tagA}`);
    expect(rb.out).toContain("What this rollback cannot revert: nothing found");
    expect(rb.out).toContain(`Next: npx promote review prod ${m.id}`);
    // the worktree is gone, the checkout is still at B
    expect(execFileSync("git", ["-C", w.checkout, "worktree", "list"], { encoding: "utf8" }).trim().split("\n")).toHaveLength(1);
    expect(execFileSync("git", ["-C", w.checkout, "rev-parse", "HEAD"], { encoding: "utf8" }).trim()).toBe(b);

    // THEN the same path as any bundle: approval required, four eyes, then apply of that plan
    const unapproved = await w.promote(["apply", "prod", m.id], "alice");
    expectExit(unapproved, 1);
    expect(unapproved.err).toContain("REFUSED APPROVALS-TOO-FEW");
    expect((await w.promote(["review", "prod", m.id], "bob")).out).toContain(`Plan SHA-256 being approved: ${m.plan.sha256}`);
    expectExit(await w.promote(["approve", "prod", m.id, "--sha256", m.plan.sha256, "--key", w.keys["bob@example.com"]], "bob"), 0);
    const applied = await w.promote(["apply", "prod", m.id], "alice");
    expectExit(applied, 0);
    const appliedJson = JSON.parse(readFileSync(join(dir, "applied.json"), "utf8"));
    expect(appliedJson.status).toBe("succeeded");
    const after = (await w.promote(["ledger", "prod"])).out.trim().split("\n");
    expect(after).toHaveLength(3);
    expect(after[2]).toContain(a);

    // and a second rollback plan to the same release has nothing left to change
    const again = await w.promote(["rollback", "prod", "--to", tagA], "alice");
    expectExit(again, 0);
    expect(bundleOf(w, again.out).m.counts).toEqual({ add: 0, change: 0, destroy: 0, replace: 0 });
    expect((await auditRecords(w.vars, "prod")).filter((r) => r.command === "rollback").map((r) => r.result)).toEqual(["ok", "ok"]);
  }, 720_000);

  it("doctor: prod now runs a commit staging's ledger does not have (exit 1, commit-not-promoted)", async () => {
    const r = await w.promote(["doctor", "--no-drift"]);
    expectExit(r, 1);
    expect(r.out).toMatch(/DIVERGED prod vs staging: commit-not-promoted: prod runs [0-9a-f]{40}/);
    expect(r.out).toContain("database.multiAz: dev=false staging=true prod=true");
  }, 60_000);

  it("refuses a --to that is not a ledger tag (ROLLBACK-TARGET-UNKNOWN)", async () => {
    const r = await w.promote(["rollback", "prod", "--to", "deployed/prod/19990101T000000Z"]);
    expectExit(r, 1);
    expect(r.err).toContain("REFUSED ROLLBACK-TARGET-UNKNOWN");
  }, 60_000);
});

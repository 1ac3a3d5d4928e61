/**
 * The pure parts behind the commands that read bundles through the store (rollback, doctor) and behind
 * `promote unlock <env>` (naming the lease it breaks), and the CLI's answer when there is no lease to break.
 */
import { appliedTools } from "../../scripts/lib/engine/commands/doctor";
import { applyFailedAfter } from "../../scripts/lib/engine/commands/rollback";
import type { LedgerEntry } from "../../scripts/lib/engine/core/facts";
import { describeLease, humanDuration } from "../../scripts/lib/engine/core/lease";
import { fixFor } from "../../scripts/lib/engine/core/rules";
import { storeFix } from "../../scripts/lib/store/errors";
import { COMMIT, manifest, manifestText, OTHER_COMMIT, PLAN_SHA } from "../helpers/engine-fixtures";

const applied = (status: string, startedAt = "2030-01-01T11:00:00.000Z", ledgerTag: string | null = null) =>
  JSON.stringify({ schemaVersion: 1, status, planSha256: PLAN_SHA, appliedBy: "alice", startedAt, finishedAt: null, stateAfter: null, ledgerTag });
const tag = (commit: string, at: string, name = `deployed/prod/${at.replace(/[-:]/g, "").replace(/\.\d+/, "")}`): LedgerEntry => ({ env: "prod", tag: name, commit, at });

describe("rollback: did the env's newest apply fail after its last release (applyFailedAfter)", () => {
  const last = tag(COMMIT, "2030-01-01T10:00:00.000Z");
  it("a failed, interrupted or started apply after the last tag: yes", () => {
    for (const s of ["failed", "interrupted", "started", "incident"]) expect(applyFailedAfter(applied(s, "2030-01-01T11:00:00.000Z"), last)).toBe(true);
  });
  it("one before the last tag (the release that came after it succeeded): no", () => {
    expect(applyFailedAfter(applied("failed", "2030-01-01T09:00:00.000Z"), last)).toBe(false);
  });
  it("a succeeded apply: no; an unreadable record: yes; no release at all: any failure counts", () => {
    expect(applyFailedAfter(applied("succeeded"), last)).toBe(false);
    expect(applyFailedAfter("{", last)).toBe(true);
    expect(applyFailedAfter(applied("failed", "1999-01-01T00:00:00.000Z"), undefined)).toBe(true);
  });
});

describe("doctor: the tools of the env's succeeded applies (appliedTools)", () => {
  const m1 = manifestText(manifest({ id: "b1", git: { commit: COMMIT, dirty: false }, lockFile: { sha256: "1".repeat(64) } }));
  const m2 = manifestText(manifest({ id: "b2", git: { commit: OTHER_COMMIT, dirty: false }, lockFile: { sha256: "2".repeat(64) } }));
  const m3 = manifestText(manifest({ id: "b3", git: { commit: COMMIT, dirty: false }, lockFile: { sha256: "3".repeat(64) }, terraform: { binary: "terraform", version: "1.12.0", providers: {} } }));

  it("by commit, the newest succeeded apply of each; the last tag's own apply as the env's tools", () => {
    const last = tag(COMMIT, "2030-01-01T10:00:00.000Z", "deployed/prod/t1");
    const r = appliedTools(
      [
        { id: "b1", manifestText: m1, appliedText: applied("succeeded", undefined, "deployed/prod/t1") },
        { id: "b2", manifestText: m2, appliedText: applied("succeeded", undefined, "deployed/prod/t2") },
        { id: "b3", manifestText: m3, appliedText: applied("succeeded", undefined, "deployed/prod/t3") },
      ],
      last,
    );
    expect(Object.fromEntries(Object.entries(r.toolsByCommit).map(([c, t]) => [c, t.source]))).toEqual({ [COMMIT]: "bundle b3", [OTHER_COMMIT]: "bundle b2" });
    expect(r.lastTools).toEqual({ terraform: "1.11.4", providers: { "registry.terraform.io/hashicorp/aws": "5.100.0" }, lockSha256: "1".repeat(64), source: "bundle b1" });
  });
  it("skips failed applies, unreadable records and missing manifests; without the tag's apply, the last commit's tools", () => {
    const r = appliedTools(
      [
        { id: "b1", manifestText: m1, appliedText: applied("succeeded", undefined, "deployed/prod/old") },
        { id: "b2", manifestText: m2, appliedText: applied("failed") },
        { id: "b3", manifestText: null, appliedText: applied("succeeded") },
        { id: "b4", manifestText: m3, appliedText: "{" },
      ],
      tag(COMMIT, "2030-01-01T10:00:00.000Z", "deployed/prod/elsewhere"),
    );
    expect(Object.keys(r.toolsByCommit)).toEqual([COMMIT]);
    expect(r.lastTools?.source).toBe("bundle b1");
  });
  it("nothing applied or no release: no tools (doctor then reads the working directory)", () => {
    expect(appliedTools([], tag(COMMIT, "2030-01-01T10:00:00.000Z")).lastTools).toBeNull();
    expect(appliedTools([{ id: "b1", manifestText: m1, appliedText: applied("succeeded") }], null).lastTools).toBeNull();
  });
});

describe("unlock <env>: naming the lease it breaks (describeLease)", () => {
  const now = Date.parse("2030-01-01T12:00:00.000Z");
  const lease = { holder: "ci-runner-7", command: "promote apply dev", host: "runner-7.example", since: "2030-01-01T11:00:00.000Z", expiresAt: now + 40_000 };
  it("holder, command, host, since, and when the lease runs out", () => {
    expect(describeLease(lease, now)).toBe("ci-runner-7 running `promote apply dev` on runner-7.example since 2030-01-01T11:00:00.000Z, lease until 2030-01-01T12:00:40.000Z (runs out in 40 s)");
  });
  it("says when it already ran out, and when no expiry was recorded", () => {
    expect(describeLease({ ...lease, expiresAt: now - 3 * 3600_000 - 120_000 }, now)).toContain("(ran out 3 h 2 min ago)");
    expect(describeLease({ ...lease, expiresAt: 0 }, now)).toContain("lease until ? (no expiry recorded)");
  });
  it("humanDuration: seconds, minutes, hours", () => {
    expect([0, 999, 59_000, 60_000, 61_000, 3600_000, 3660_000, -5].map(humanDuration)).toEqual(["0 s", "0 s", "59 s", "1 min", "1 min 1 s", "1 h", "1 h 1 min", "0 s"]);
  });
  it("ENV-LOCKED (the lease) names the recovery that exists: promote unlock <env>, and --wait", () => {
    expect(storeFix("ENV-LOCKED", "dev")).toContain("`promote unlock dev`");
    expect(storeFix("ENV-LOCKED", "dev")).toContain("--wait");
    expect(fixFor("LEASE-CHANGED", "dev")).toContain("promote unlock dev");
    expect(fixFor("LEASE-NOT-HELD", "dev")).toContain("promote unlock dev <lock id>");
  });
});

describe("unlock <env> with PROMOTE_STORE=local: no lease to break, the lock id is needed (exit 2)", () => {
  it("is a usage error naming both", async () => {
    const { main } = await import("../../scripts/promote");
    const { defaultContext } = await import("../../scripts/lib/engine/commands");
    const err: string[] = [];
    const ctx = defaultContext({ ...process.env, PROMOTE_STORE: "local" }, { out: () => undefined, err: (t) => err.push(t) }, { plansDir: "/nonexistent-promote-test" });
    expect(await main(["unlock", "dev"], ctx)).toBe(2);
    expect(err.join("")).toContain("unlock needs the lock id");
    expect(err.join("")).toContain("PROMOTE_STORE=local has no lease");
  });
});

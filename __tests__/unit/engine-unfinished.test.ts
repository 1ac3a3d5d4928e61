/** APPLY-UNFINISHED: an earlier apply that recorded no outcome stops the next plan or apply. */
import { decideNoUnfinished } from "../../scripts/lib/engine/core/decisions";
import { envFacts, manifest, manifestText, PLAN_SHA, refusedWith } from "../helpers/engine-fixtures";

const applied = (status: string, ledgerTag: string | null = null) =>
  JSON.stringify({ schemaVersion: 1, status, planSha256: PLAN_SHA, appliedBy: "alice", startedAt: "2030-01-01T11:00:00.000Z", finishedAt: null, stateAfter: null, ledgerTag });

describe("APPLY-UNFINISHED: every earlier apply recorded its outcome", () => {
  const m = manifestText();
  it("refuses when an apply started and recorded nothing, naming the bundle and the recovery", () => {
    const d = decideNoUnfinished(envFacts(), [{ id: "b1", manifestText: m, appliedText: applied("started") }]);
    refusedWith(d, "APPLY-UNFINISHED");
    if (!d.ok) {
      expect(d.found).toContain("b1: apply started by alice");
      expect(d.fix).toContain("promote complete prod b1");
    }
  });
  it("refuses a clean bundle that succeeded without a ledger tag", () =>
    refusedWith(decideNoUnfinished(envFacts(), [{ id: "b2", manifestText: m, appliedText: applied("succeeded") }]), "APPLY-UNFINISHED"));
  it("refuses an unreadable applied.json", () => refusedWith(decideNoUnfinished(envFacts(), [{ id: "b3", manifestText: m, appliedText: "{" }]), "APPLY-UNFINISHED"));
  it("accepts recorded outcomes: tagged, failed, interrupted, incident, a dirty bundle never tagged, never applied", () => {
    const dirty = manifestText(manifest({ git: { commit: "a".repeat(40), dirty: true } }));
    expect(
      decideNoUnfinished(envFacts(), [
        { id: "a", manifestText: m, appliedText: applied("succeeded", "deployed/prod/x") },
        { id: "b", manifestText: m, appliedText: applied("failed") },
        { id: "c", manifestText: m, appliedText: applied("interrupted") },
        { id: "d", manifestText: m, appliedText: applied("incident") },
        { id: "e", manifestText: dirty, appliedText: applied("succeeded") },
        { id: "f", manifestText: m, appliedText: null },
      ]),
    ).toEqual({ ok: true });
  });
});

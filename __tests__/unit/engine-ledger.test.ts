import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { decidePlan } from "../../scripts/lib/engine/core/decisions";
import { Ledger, stamp } from "../../scripts/lib/engine/io/ledger";
import { envFacts, gitRepo, tempDir } from "../helpers/engine-fixtures";

const rec = { bundleId: "b1", planSha256: "f".repeat(64), appliedBy: "carol", approvedBy: "bob" };

describe("ledger: deployed/<env>/<stamp> tags in a git repository", () => {
  let dir: string;
  let cleanup: () => void;
  let ledgerDir: string;
  let sourceDir: string;
  let sourceHead: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    ledgerDir = join(dir, "ledger");
    sourceDir = join(dir, "source");
    mkdirSync(ledgerDir);
    mkdirSync(sourceDir);
    gitRepo(ledgerDir);
    sourceHead = gitRepo(sourceDir);
  });
  afterEach(() => cleanup());

  it("is empty before any apply", () => {
    const ledger = new Ledger(ledgerDir, sourceDir);
    expect(ledger.entries("staging")).toEqual([]);
    expect(ledger.last("prod")).toBeNull();
  });

  it("records an apply as an annotated tag on the applied commit, fetching the commit from the checkout", () => {
    const ledger = new Ledger(ledgerDir, sourceDir);
    const tag = ledger.record("staging", sourceHead, rec, new Date("2030-01-01T10:00:00Z"));
    expect(tag).toBe("deployed/staging/20300101T100000Z");
    expect(ledger.entries("staging")).toEqual([{ env: "staging", tag, commit: sourceHead, at: expect.stringMatching(/^2030-01-01T10:00:00/) }]);
    const message = execFileSync("git", ["-C", ledgerDir, "tag", "-l", "--format=%(contents)", tag], { encoding: "utf8" });
    expect(message).toContain('"appliedBy": "carol"');
    expect(message).toContain('"approvedBy": "bob"');
  });

  it("keeps envs apart and lists oldest first; the last prod tag is the last-good release", () => {
    const ledger = new Ledger(ledgerDir, sourceDir);
    ledger.record("prod", sourceHead, rec, new Date("2030-01-01T10:00:00Z"));
    ledger.record("prod", sourceHead, rec, new Date("2030-01-02T10:00:00Z"));
    ledger.record("staging", sourceHead, rec, new Date("2030-01-03T10:00:00Z"));
    expect(ledger.entries("prod").map((e) => e.tag)).toEqual(["deployed/prod/20300101T100000Z", "deployed/prod/20300102T100000Z"]);
    expect(ledger.last("prod")?.tag).toBe("deployed/prod/20300102T100000Z");
    expect(ledger.entries("dev")).toEqual([]);
  });

  it("never overwrites a tag: two applies in one second get distinct names", () => {
    const ledger = new Ledger(ledgerDir, sourceDir);
    const at = new Date("2030-01-01T10:00:00Z");
    expect(ledger.record("dev", sourceHead, rec, at)).toBe("deployed/dev/20300101T100000Z");
    expect(ledger.record("dev", sourceHead, rec, at)).toBe("deployed/dev/20300101T100000Z-2");
  });

  it("opens the promotion gate for exactly the commits the previous env applied", () => {
    const ledger = new Ledger(ledgerDir, sourceDir);
    const prod = envFacts();
    const gate = (commit: string) => decidePlan({ env: prod, checkout: { commit, dirtyPaths: [] }, previousEnvApplies: ledger.entries("staging") });
    expect(gate(sourceHead)).toMatchObject({ ok: false, id: "PROMOTION-GATE" });
    ledger.record("dev", sourceHead, rec);
    expect(gate(sourceHead)).toMatchObject({ ok: false, id: "PROMOTION-GATE" });
    ledger.record("staging", sourceHead, rec);
    expect(gate(sourceHead)).toEqual({ ok: true });
    expect(gate("c".repeat(40))).toMatchObject({ ok: false, id: "PROMOTION-GATE" });
  });

  it("stamps are tag-safe UTC times", () => expect(stamp(new Date("2030-12-31T23:59:58.123Z"))).toBe("20301231T235958Z"));
});

import { readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, GENESIS_HASH, recordHash, verifyAuditText } from "../../scripts/lib/engine/io/audit";
import { RefusalError } from "../../scripts/lib/engine/core/errors";
import { tempDir } from "../helpers/engine-fixtures";

describe("audit log: append-only, hash-chained", () => {
  let dir: string;
  let cleanup: () => void;
  let log: AuditLog;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    log = new AuditLog(join(dir, "audit", "prod.jsonl"), "prod");
    await log.append({ env: "prod", command: "plan", result: "ok", by: "alice", commit: "a".repeat(40), planSha256: "f".repeat(64) });
    await log.append({ env: "prod", command: "approve", result: "ok", by: "bob", approver: "bob" });
    await log.append({ env: "prod", command: "apply", result: "refused", by: "carol", refusalId: "PLAN-STALE" });
  });
  afterEach(() => cleanup());

  it("chains each record to the previous one's hash", () => {
    const [a, b, c] = log.records();
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(b.prevHash).toBe(a.hash);
    expect(c.prevHash).toBe(b.hash);
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(log.verify()).toEqual({ ok: true, count: 3, lastHash: c.hash });
  });

  it("records who, when, env, command, result and the refusal id", () => {
    const c = log.records()[2];
    expect(c).toMatchObject({ env: "prod", command: "apply", result: "refused", by: "carol", refusalId: "PLAN-STALE" });
    expect(Date.parse(c.at)).not.toBeNaN();
  });

  it("detects one edited field (tamper one line)", () => {
    const text = readFileSync(log.path, "utf8").replace('"by":"bob"', '"by":"mallory"');
    writeFileSync(log.path, text);
    expect(log.verify()).toMatchObject({ ok: false, line: 2 });
    expect(log.brokenRefusal()).toMatchObject({ ok: false, id: "AUDIT-LOG-BROKEN" });
  });

  it("detects an edit whose hash was recomputed (the next record's prevHash no longer matches)", () => {
    const lines = readFileSync(log.path, "utf8").split("\n");
    const rec = JSON.parse(lines[0]);
    rec.by = "mallory";
    const { hash: _h, ...rest } = rec;
    rec.hash = recordHash(rest);
    lines[0] = JSON.stringify(rec);
    writeFileSync(log.path, lines.join("\n"));
    expect(log.verify()).toMatchObject({ ok: false, line: 2 });
  });

  it("detects a removed middle line", () => {
    const lines = readFileSync(log.path, "utf8").split("\n");
    lines.splice(1, 1);
    writeFileSync(log.path, lines.join("\n"));
    expect(log.verify()).toMatchObject({ ok: false, line: 2 });
  });

  it("detects a removed last line through the head file", () => {
    const lines = readFileSync(log.path, "utf8").split("\n");
    lines.splice(2, 1);
    writeFileSync(log.path, lines.join("\n"));
    expect(log.verify()).toMatchObject({ ok: false });
  });

  it("detects a deleted head file and a deleted log", () => {
    unlinkSync(log.headPath);
    expect(log.verify().ok).toBe(false);
  });

  it("refuses to append to a broken log (AUDIT-LOG-BROKEN) and leaves it as it was", async () => {
    writeFileSync(log.path, readFileSync(log.path, "utf8").replace('"carol"', '"dave"'));
    const before = readFileSync(log.path, "utf8");
    await expect(log.append({ env: "prod", command: "plan", result: "ok", by: "x" })).rejects.toThrow(RefusalError);
    await expect(log.append({ env: "prod", command: "plan", result: "ok", by: "x" })).rejects.toMatchObject({ refusal: { id: "AUDIT-LOG-BROKEN" } });
    expect(readFileSync(log.path, "utf8")).toBe(before);
  });

  it("keeps the chain intact under concurrent appends", async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append({ env: "prod", command: "plan", result: "ok", by: `u${i}` })));
    expect(log.verify()).toMatchObject({ ok: true, count: 13 });
  });

  it("writes the log owner-only", () => {
    expect(statSync(log.path).mode & 0o077).toBe(0);
  });
});

describe("verifyAuditText", () => {
  it("accepts an empty log without head", () => expect(verifyAuditText(null, null)).toEqual({ ok: true, count: 0, lastHash: GENESIS_HASH }));
  it("refuses a partial last line", () => expect(verifyAuditText('{"seq":1', '{"seq":1,"hash":"' + "0".repeat(64) + '"}')).toMatchObject({ ok: false, line: 1 }));
  it("refuses a line that is not JSON", () => expect(verifyAuditText("hello\n", null)).toMatchObject({ ok: false, line: 1, reason: "not JSON" }));
});

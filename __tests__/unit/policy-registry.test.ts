/**
 * The policy registry and evaluator: the pinned list of ids, every rule documented in RULES.md,
 * fail closed (a throwing or misbehaving rule, an unreadable plan), exceptions with recorded
 * reasons, the approval decision and the CLI formatter.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ALL_IDS,
  RULES,
  blocksApproval,
  evaluatePolicies,
  formatFindings,
  formatFindingsMarkdown,
  parseExceptions,
  protectsStateful,
} from "../../scripts/lib/policy";
import type { Finding, PolicyRule } from "../../scripts/lib/policy";
import { runPolicyCli } from "../../scripts/lib/policy/cli";
import { envConfig, findings, loadPlan } from "../fixtures/plans/plans";

const prod = envConfig("prod");
const dev = envConfig("dev");

describe("the policy registry", () => {
  it("pins the full list of ids, in the order they run", () => {
    expect(ALL_IDS).toEqual([
      "POLICY-STATEFUL-DESTROY",
      "POLICY-DB-DELETION-PROTECTION",
      "POLICY-ENV-TAG",
      "POLICY-OPEN-INGRESS",
      "POLICY-ENCRYPTION-AT-REST",
      "POLICY-INSTANCE-TYPE",
      "POLICY-PLAINTEXT-SECRET",
      "POLICY-RULE-ERROR",
      "POLICY-PLAN-UNREADABLE",
      "POLICY-EXCEPTION-INVALID",
      "POLICY-EXCEPTION-UNUSED",
    ]);
  });

  it("gives every rule an id, a level, info, explanation, fix and check", () => {
    for (const r of RULES) {
      expect(r.id).toMatch(/^POLICY-[A-Z0-9-]+$/);
      expect(["error", "warning"]).toContain(r.level);
      for (const text of [r.info, r.explanation, r.fix]) expect(text.length).toBeGreaterThan(20);
      expect(typeof r.check).toBe("function");
    }
  });

  it("documents every id, and only those, in RULES.md", () => {
    const md = readFileSync(join(__dirname, "../../scripts/lib/policy/RULES.md"), "utf8");
    const documented = [...md.matchAll(/^\| `(POLICY-[A-Z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ALL_IDS].sort());
  });
});

describe("POLICY-RULE-ERROR: a rule that cannot decide refuses the plan (fail closed)", () => {
  const throwing: PolicyRule = { ...RULES[0], id: "POLICY-TEST-THROWS", check: () => { throw new TypeError("cannot read properties of undefined"); } };
  const silent: PolicyRule = { ...RULES[0], id: "POLICY-TEST-SILENT", check: () => undefined as never };
  const emptyFail: PolicyRule = { ...RULES[0], id: "POLICY-TEST-EMPTY", check: () => ({ status: "fail", violations: [] }) };

  it("refuses when a rule throws, naming the rule and the error", () => {
    const f = evaluatePolicies(loadPlan("prod-compliant"), prod, { rules: [throwing, ...RULES] });
    expect(f).toEqual([
      expect.objectContaining({ id: "POLICY-RULE-ERROR", level: "error", attribute: "POLICY-TEST-THROWS", found: expect.stringContaining("cannot read properties") }),
    ]);
    expect(blocksApproval(f)).toBe(true);
  });

  it("refuses when a rule returns no result, or fails without naming a violation", () => {
    const f = evaluatePolicies(loadPlan("prod-compliant"), prod, { rules: [silent, emptyFail] });
    expect(f.map((x) => [x.id, x.attribute])).toEqual([
      ["POLICY-RULE-ERROR", "POLICY-TEST-SILENT"],
      ["POLICY-RULE-ERROR", "POLICY-TEST-EMPTY"],
    ]);
  });

  it("refuses a resource change the real rules cannot read (no actions list) instead of passing it", () => {
    const plan = loadPlan("prod-compliant");
    delete plan.resource_changes[0].change.actions;
    const f = evaluatePolicies(plan, prod);
    // lib/plan refuses the document before any rule runs (it was one POLICY-RULE-ERROR per rule before the one plan model).
    expect(f.map((x) => x.id)).toEqual(["POLICY-PLAN-UNREADABLE"]);
    expect(f[0].found).toMatch(/resource_changes\[0\]\.change\.actions is missing/);
    expect(blocksApproval(f)).toBe(true);
  });

  it("accepts a plan when every rule runs to a result", () => {
    expect(evaluatePolicies(loadPlan("prod-compliant"), prod)).toEqual([]);
  });
});

describe("POLICY-PLAN-UNREADABLE: only a terraform show -json document is evaluated", () => {
  it.each([
    ["nothing", undefined],
    ["a string", "{}"],
    ["no format_version", { resource_changes: [] }],
    ["resource_changes not a list", { format_version: "1.2", resource_changes: {} }],
  ])("refuses %s", (_name, doc) => {
    const f = evaluatePolicies(doc, prod);
    expect(f.map((x) => x.id)).toEqual(["POLICY-PLAN-UNREADABLE"]);
    expect(blocksApproval(f)).toBe(true);
  });

  it("accepts a plan without resource_changes (terraform omits the list when nothing is managed)", () => {
    expect(evaluatePolicies({ format_version: "1.2" }, prod)).toEqual([]);
  });
});

describe("POLICY-EXCEPTION-INVALID: an exception needs a known rule, an address and a reason", () => {
  it("refuses an exception without a reason, or for an unknown rule, and does not apply it", () => {
    const f = findings(loadPlan("replace-database"), prod, {
      exceptions: [
        { rule: "POLICY-STATEFUL-DESTROY", address: "aws_db_instance.db", reason: " " },
        { rule: "POLICY-NOT-A-RULE", address: "aws_s3_bucket.old_logs", reason: "a long enough reason" },
      ],
    });
    expect(f.filter((x) => x.id === "POLICY-EXCEPTION-INVALID")).toHaveLength(2);
    expect(f.filter((x) => x.id === "POLICY-STATEFUL-DESTROY" && !x.waived)).toHaveLength(2);
  });

  it("refuses malformed entries of the exceptions file, each named with its index", () => {
    const parsed = parseExceptions({ exceptions: [{ rule: "POLICY-STATEFUL-DESTROY", address: "aws_s3_bucket.x" }, { rule: "x" }] });
    expect(parsed.exceptions).toEqual([]);
    expect(parsed.problems).toEqual([expect.stringContaining("exceptions[0]: reason"), expect.stringContaining("exceptions[1]")]);
    const f = evaluatePolicies(loadPlan("prod-compliant"), prod, { exceptionProblems: parsed.problems });
    expect(f.map((x) => x.id)).toEqual(["POLICY-EXCEPTION-INVALID", "POLICY-EXCEPTION-INVALID"]);
    expect(parseExceptions([]).problems).toEqual([expect.stringContaining('expected { "exceptions"')]);
  });

  it("accepts a well-formed file", () => {
    const parsed = parseExceptions({
      exceptions: [{ rule: "POLICY-STATEFUL-DESTROY", address: "aws_s3_bucket.old_logs", reason: "retired bucket, retention ended", env: "prod" }],
    });
    expect(parsed).toEqual({ exceptions: [expect.objectContaining({ env: "prod" })], problems: [] });
  });
});

describe("POLICY-EXCEPTION-UNUSED: an exception that matches nothing is reported", () => {
  const stale = { rule: "POLICY-STATEFUL-DESTROY", address: "aws_s3_bucket.gone", reason: "removed last quarter, see #17" };

  it("refuses silence about a stale exception: a warning that blocks nothing", () => {
    const f = findings(loadPlan("prod-compliant"), prod, { exceptions: [stale] });
    expect(f).toEqual([expect.objectContaining({ id: "POLICY-EXCEPTION-UNUSED", level: "warning", address: "aws_s3_bucket.gone" })]);
    expect(blocksApproval(f)).toBe(false);
  });

  it("accepts an exception scoped to another env without reporting it", () => {
    expect(findings(loadPlan("prod-compliant"), prod, { exceptions: [{ ...stale, env: "staging" }] })).toEqual([]);
  });
});

describe("blocksApproval and protectsStateful", () => {
  const f = (level: "error" | "warning", waived?: string): Finding => ({
    id: "POLICY-X", level, address: "a.b", attribute: "c", expected: "e", found: "f", info: "i", fix: "x",
    ...(waived ? { waived: { reason: waived } } : {}),
  });

  it("blocks on an error that is not waived, and on nothing else", () => {
    expect(blocksApproval([f("warning"), f("error", "reviewed in #1")])).toBe(false);
    expect(blocksApproval([f("warning"), f("error")])).toBe(true);
    expect(blocksApproval([])).toBe(false);
  });

  it("derives protection from the env config's delivery.protectStateful", () => {
    expect([protectsStateful(dev), protectsStateful(envConfig("staging")), protectsStateful(prod)]).toEqual([false, true, true]);
    expect(protectsStateful({ ...dev, delivery: { ...dev.delivery, protectStateful: true } })).toBe(true);
    expect(protectsStateful({ ...prod, delivery: { ...prod.delivery, protectStateful: false } })).toBe(false);
  });
});

describe("formatFindings", () => {
  it("prints errors first with expected, found and fix, waived findings with their reason, and a verdict", () => {
    const f = evaluatePolicies(loadPlan("replace-database"), prod, {
      exceptions: [{ rule: "POLICY-STATEFUL-DESTROY", address: "aws_s3_bucket.old_logs", reason: "retired bucket, retention ended" }],
    });
    const text = formatFindings(f);
    expect(text).toMatch(/^ERROR\s+POLICY-STATEFUL-DESTROY {2}aws_db_instance\.db {2}\(identifier\)$/m);
    expect(text).toMatch(/^waived\s+POLICY-STATEFUL-DESTROY {2}aws_s3_bucket\.old_logs/m);
    expect(text).toContain("waived:   retired bucket, retention ended");
    expect(text.trim().split("\n").pop()).toBe("policy: 1 error(s) block approval; 0 warning(s), 1 waived by recorded exception(s)");
    expect(formatFindings([])).toBe("policy: passed; 0 warning(s), 0 waived by recorded exception(s)\n");
  });

  it("renders a Markdown table for job summaries", () => {
    const md = formatFindingsMarkdown(evaluatePolicies(loadPlan("open-ssh"), prod));
    expect(md).toContain("**Policy: 2 error(s) block approval**");
    expect(md).toContain("| ERROR | `POLICY-OPEN-INGRESS` | `aws_security_group_rule.app_admin_ssh` |");
  });
});

describe("the policy command (scripts/lib/policy/cli.ts)", () => {
  const input = (name: string) => () => JSON.stringify(loadPlan(name));

  it("refuses a plan with an error-level finding (exit 1) and prints it", () => {
    const r = runPolicyCli(["--env", "prod", "--exceptions", "/nonexistent/policy-exceptions.json"], input("open-ssh"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("POLICY-OPEN-INGRESS");
  });

  it("refuses unreadable input as POLICY-PLAN-UNREADABLE, and an unknown env as exit 2", () => {
    expect(runPolicyCli(["--env", "prod"], () => "not json")).toMatchObject({ code: 1, out: expect.stringContaining("POLICY-PLAN-UNREADABLE") });
    expect(runPolicyCli(["--env", "nowhere"], input("prod-compliant"))).toMatchObject({ code: 2, out: expect.stringContaining("unknown environment") });
  });

  it("accepts a compliant plan (exit 0), in Markdown for a job summary", () => {
    const r = runPolicyCli(["--env", "prod", "--markdown"], input("prod-compliant"));
    expect(r).toEqual({ code: 0, out: "### Policy: prod\n\n**Policy: passed**\n" });
  });
});

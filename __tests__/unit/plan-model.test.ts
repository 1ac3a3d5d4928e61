/**
 * The one model of `terraform show -json` (scripts/lib/plan/model.ts): what it accepts, what it refuses
 * (each with a named error that never carries a value of the plan), and its readers.
 */
import {
  actionOf,
  configAddress,
  configReferences,
  managedChanges,
  parsePlan,
  parsePlanText,
  PlanJsonError,
  priorResources,
  referencedResources,
  resultingResources,
} from "../../scripts/lib/plan";

const SECRET = "hunter2-do-not-print";

const plan = () => ({
  format_version: "1.2",
  terraform_version: "1.11.4",
  errored: false,
  complete: true,
  a_field_from_a_later_terraform: { whatever: 1 },
  resource_changes: [
    {
      address: "module.db.aws_db_instance.main[0]",
      module_address: "module.db",
      mode: "managed",
      type: "aws_db_instance",
      name: "main",
      index: 0,
      provider_name: "registry.terraform.io/hashicorp/aws",
      change: {
        actions: ["delete", "create"],
        before: { password: SECRET },
        after: { password: SECRET },
        after_unknown: { id: true },
        before_sensitive: { password: true },
        after_sensitive: { password: true },
        replace_paths: [["identifier"]],
        importing: null,
      },
      action_reason: "replace_because_cannot_update",
    },
    { address: "data.aws_region.r", mode: "data", type: "aws_region", name: "r", change: { actions: ["read"], before: null, after: {} } },
    { address: "aws_vpc.gone", mode: "managed", type: "aws_vpc", name: "gone", change: { actions: ["delete"], before: {}, after: null } },
  ],
  prior_state: { format_version: "1.0", values: { root_module: { resources: [{ address: "aws_vpc.gone", type: "aws_vpc", mode: "managed", values: {} }], child_modules: [{ resources: [{ address: "module.db.aws_db_instance.main[0]" }] }] } } },
  configuration: {
    root_module: {
      module_calls: {
        db: { module: { resources: [{ address: "aws_db_instance.main", mode: "managed", type: "aws_db_instance", name: "main", expressions: { vpc_security_group_ids: { references: ["aws_security_group.db.id", "aws_security_group.db"] } } }] } },
      },
    },
  },
});

const refused = (doc: unknown): PlanJsonError => {
  try {
    parsePlan(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanJsonError);
    expect((e as Error).message).not.toContain(SECRET);
    return e as PlanJsonError;
  }
  throw new Error("parsePlan accepted the document");
};

describe("parsePlan: one parse of terraform show -json", () => {
  it("accepts a plan, keeps fields it does not model, and types the changes", () => {
    const p = parsePlan(plan());
    expect((p as Record<string, unknown>).a_field_from_a_later_terraform).toEqual({ whatever: 1 });
    expect(managedChanges(p).map((rc) => rc.address)).toEqual(["module.db.aws_db_instance.main[0]", "aws_vpc.gone"]);
    expect(resultingResources(p).map((rc) => rc.address)).toEqual(["module.db.aws_db_instance.main[0]"]);
    expect(managedChanges(p).map((rc) => actionOf(rc.change.actions))).toEqual(["replace", "delete"]);
    expect(priorResources(p).map((r) => r.address)).toEqual(["aws_vpc.gone", "module.db.aws_db_instance.main[0]"]);
  });

  it("parses a document once: parsing the result again returns it", () => {
    const p = parsePlan(plan());
    expect(parsePlan(p)).toBe(p);
  });

  it("accepts a plan without resource_changes when it plans no resource (terraform omits the empty list)", () => {
    expect(parsePlan({ format_version: "1.2" }).resource_changes).toBeUndefined();
    expect(parsePlan({ format_version: "1.2", planned_values: { root_module: {} } }).resource_changes).toBeUndefined();
  });

  it("refuses an errored plan", () => {
    const e = refused({ ...plan(), errored: true });
    expect(e.code).toBe("PLAN-JSON-ERRORED");
    expect(e.message).toMatch(/errored is true/);
  });

  it.each([
    ["no format_version", { resource_changes: [] }, /format_version is missing/],
    ["another major format", { format_version: "2.0" }, /expected 1\.x/],
    ["planned resources but no resource_changes", { format_version: "1.2", planned_values: { root_module: { child_modules: [{ resources: [{ address: "aws_vpc.a" }] }] } } }, /resource_changes is missing/],
  ])("refuses an incomplete plan: %s", (_name, doc, message) => {
    const e = refused(doc);
    expect(e.code).toBe("PLAN-JSON-INCOMPLETE");
    expect(e.message).toMatch(message);
  });

  it.each([
    ["not an object", "{}", /a string, expected an object/],
    ["null", null, /a null/],
    ["resource_changes not a list", { format_version: "1.2", resource_changes: {} }, /resource_changes is not a list \(found object\)/],
    ["a change without actions", { format_version: "1.2", resource_changes: [{ address: "a.b", type: "a", change: { before: SECRET } }] }, /resource_changes\[0\]\.change\.actions is missing/],
    ["an unknown action", { format_version: "1.2", resource_changes: [{ address: "a.b", type: "a", change: { actions: [SECRET] } }] }, /actions\[0\] is not one of no-op, create/],
    ["a change without address", { format_version: "1.2", resource_changes: [{ type: "a", change: { actions: ["create"] } }] }, /address is missing/],
    ["errored not a boolean", { format_version: "1.2", errored: "yes" }, /errored is not a boolean/],
  ])("refuses a malformed plan: %s", (_name, doc, message) => {
    const e = refused(doc);
    expect(e.code).toBe("PLAN-JSON-INVALID");
    expect(e.message).toMatch(message);
  });

  it("refuses text that is not JSON without quoting it", () => {
    expect(() => parsePlanText(`{"password": "${SECRET}"`)).toThrow(PlanJsonError);
    try {
      parsePlanText(`{"password": "${SECRET}"`);
    } catch (e) {
      expect((e as PlanJsonError).code).toBe("PLAN-JSON-UNREADABLE");
      expect((e as Error).message).not.toContain(SECRET);
    }
  });
});

describe("the readers", () => {
  it("names the six actions, a replace in either order", () => {
    expect([["create"], ["update"], ["delete"], ["delete", "create"], ["create", "delete"], ["read"], ["no-op"], ["forget"]].map(actionOf)).toEqual([
      "create", "update", "delete", "replace", "replace", "read", "no-op", "forget",
    ]);
  });

  it("finds a module resource's configuration and its references", () => {
    const p = parsePlan(plan());
    const db = managedChanges(p)[0];
    expect(configAddress(db)).toBe("module.db.aws_db_instance.main");
    const refs = configReferences(p).get("module.db.aws_db_instance.main");
    expect(refs?.vpc_security_group_ids).toEqual(["module.db.aws_security_group.db.id", "module.db.aws_security_group.db"]);
    expect([...referencedResources({ references: ["aws_security_group.db.id"] }, "aws_security_group", "module.db.")]).toEqual(["module.db.aws_security_group.db"]);
  });
});

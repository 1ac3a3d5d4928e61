import { actionOf, redact, REDACTED, renderChanges, summarizePlan, type PlanJson } from "../../scripts/lib/engine/core/summary";

/** A crafted `terraform show -json` document: secrets in every place terraform puts them. */
const SECRETS = ["S3cr3t-pw-XYZ", "old-db-pass", "new-db-pass", "ssm-value-secret", "NESTEDSECRET", "output-secret-123", "rnd-string-secret", "elem-secret"];

const plan: PlanJson = {
  format_version: "1.2",
  terraform_version: "1.11.4",
  resource_changes: [
    {
      address: "aws_vpc.main",
      type: "aws_vpc",
      mode: "managed",
      change: { actions: ["no-op"], before: { cidr_block: "10.0.0.0/16" }, after: { cidr_block: "10.0.0.0/16" } },
    },
    {
      address: "random_password.db",
      type: "random_password",
      mode: "managed",
      change: { actions: ["create"], before: null, after: { length: 24, result: "S3cr3t-pw-XYZ" }, after_unknown: {}, after_sensitive: { result: true } },
    },
    {
      address: "random_string.suffix",
      type: "random_string",
      mode: "managed",
      // not marked sensitive by the provider: redacted by type
      change: { actions: ["create"], before: null, after: { length: 8, id: "rnd-string-secret" }, after_unknown: {}, after_sensitive: {} },
    },
    {
      address: "aws_db_instance.main",
      type: "aws_db_instance",
      mode: "managed",
      change: {
        actions: ["update"],
        before: { instance_class: "db.t3.small", password: "old-db-pass", allocated_storage: 20 },
        after: { instance_class: "db.t3.medium", password: "new-db-pass", allocated_storage: 20 },
        after_unknown: {},
        before_sensitive: { password: true },
        after_sensitive: { password: true },
      },
    },
    {
      address: "aws_ssm_parameter.flag",
      type: "aws_ssm_parameter",
      mode: "managed",
      change: { actions: ["update"], before: { name: "/prod/x", value: "a" }, after: { name: "/prod/x", value: "ssm-value-secret" }, after_unknown: {}, before_sensitive: {}, after_sensitive: {} },
    },
    {
      address: "aws_lb.front",
      type: "aws_lb",
      mode: "managed",
      change: {
        actions: ["update"],
        before: { settings: { nested: { inner: "old" }, list: ["x"] } },
        after: { settings: { nested: { inner: "NESTEDSECRET" }, list: ["elem-secret"] } },
        after_unknown: {},
        before_sensitive: { settings: { nested: { inner: true }, list: [true] } },
        after_sensitive: { settings: { nested: { inner: true }, list: [true] } },
      },
    },
    {
      address: "aws_elasticache_replication_group.cache",
      type: "aws_elasticache_replication_group",
      mode: "managed",
      change: { actions: ["delete", "create"], before: { node_type: "cache.t3.micro" }, after: { node_type: "cache.t3.small" }, after_unknown: { id: true }, replace_paths: [["node_type"]] },
    },
    {
      address: "aws_s3_bucket.logs",
      type: "aws_s3_bucket",
      mode: "managed",
      change: { actions: ["delete"], before: { bucket: "logs" }, after: null },
    },
    {
      address: "aws_security_group.old",
      type: "aws_security_group",
      mode: "managed",
      change: { actions: ["delete"], before: { name: "old" }, after: null },
    },
    {
      address: "data.aws_caller_identity.me",
      type: "aws_caller_identity",
      mode: "data",
      change: { actions: ["read"], before: null, after: {} },
    },
  ],
  output_changes: {
    db_password: { actions: ["create"], before: null, after: "output-secret-123", after_unknown: false, after_sensitive: true },
    vpc_id: { actions: ["create"], before: null, after: "vpc-123", after_unknown: false, after_sensitive: false },
  },
};

describe("summarizePlan", () => {
  const summary = summarizePlan(plan);
  const text = renderChanges(summary);

  it("counts like terraform (a replace is an add and a destroy) and counts replaces apart", () => {
    expect(summary.counts).toEqual({ add: 3, change: 3, destroy: 3, replace: 1 });
  });

  it("lists destructive addresses with stateful ones flagged", () => {
    expect(summary.destructive).toEqual([
      { address: "aws_elasticache_replication_group.cache", type: "aws_elasticache_replication_group", action: "replace", stateful: true },
      { address: "aws_s3_bucket.logs", type: "aws_s3_bucket", action: "delete", stateful: true },
      { address: "aws_security_group.old", type: "aws_security_group", action: "delete", stateful: false },
    ]);
  });

  it("never prints a sensitive value", () => {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it("shows that a sensitive value changes, without its value", () => {
    expect(text).toContain(`~ password: "${REDACTED}" -> "${REDACTED}"`);
  });

  it("shows ordinary values", () => {
    expect(text).toContain('~ instance_class: "db.t3.small" -> "db.t3.medium"');
    expect(text).toContain("vpc-123");
  });

  it("puts destructive changes first, flags stateful data loss, and names what forces a replacement", () => {
    expect(text.indexOf("DESTRUCTIVE CHANGES (3)")).toBeLessThan(text.indexOf("Other changes"));
    expect(text).toMatch(/-\/\+ aws_elasticache_replication_group\.cache {3}!! STATEFUL/);
    expect(text).toContain("# forces replacement: node_type");
    expect(text).not.toMatch(/aws_security_group\.old.*STATEFUL/);
  });

  it("leaves out no-ops and data sources", () => {
    expect(text).not.toContain("aws_vpc.main");
    expect(text).not.toContain("data.aws_caller_identity");
  });

  it("says so when nothing is destructive", () => {
    expect(renderChanges(summarizePlan({ resource_changes: [] }))).toContain("Destructive changes: none.");
  });
});

describe("redact", () => {
  it("replaces a whole value marked sensitive at the top", () => expect(redact({ a: 1 }, true)).toBe(REDACTED));
  it("replaces nested marked values and keeps the rest", () =>
    expect(redact({ a: "x", b: { c: "s" }, d: ["p", "q"] }, { b: { c: true }, d: [false, true] })).toEqual({ a: "x", b: { c: REDACTED }, d: ["p", REDACTED] }));
  it("redacts secret-looking attribute names even when unmarked", () => expect(redact({ master_password: "p", token: "t", name: "n" }, {})).toEqual({ master_password: REDACTED, token: REDACTED, name: "n" }));
  it("redacts everything of a secret type", () => expect(redact({ length: 3 }, {}, true)).toBe(REDACTED));
  it("redacts a top-level `value` (an SSM parameter's) but shows a tag's or a database parameter's value, unless marked", () =>
    expect(
      redact(
        { value: "v", tag: [{ key: "Name", value: "prod-app" }], parameter: [{ name: "log_connections", value: "1" }, { name: "x", value: "y", password: "p" }] },
        { parameter: [{}, { value: true }] },
      ),
    ).toEqual({ value: REDACTED, tag: [{ key: "Name", value: "prod-app" }], parameter: [{ name: "log_connections", value: "1" }, { name: "x", value: REDACTED, password: REDACTED }] }));
});

describe("actionOf", () => {
  it.each([
    [["create"], "create"],
    [["delete", "create"], "replace"],
    [["create", "delete"], "replace"],
    [["update"], "update"],
    [["delete"], "delete"],
    [["no-op"], "no-op"],
    [["forget"], "forget"],
  ])("%j is %s", (actions, action) => expect(actionOf(actions)).toBe(action));
});

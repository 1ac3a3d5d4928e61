/**
 * The pure parts of drift, rollback and doctor: reading a refresh-only plan's resource_drift (redacted),
 * choosing the rollback target, listing what a rollback plan cannot revert, the config diff between envs
 * and the divergence decision.
 */
import { ENVIRONMENTS } from "../../envs";
import { diffConfigs, divergence, flattenConfig, lockProviders, renderConfigDiff, type EnvStatus, type Toolset } from "../../scripts/lib/engine/commands/doctor";
import { diffPaths, parseDrift, renderDrift } from "../../scripts/lib/engine/commands/drift";
import type { LedgerEntry } from "../../scripts/lib/engine/core/facts";
import { chooseRollbackTarget, irreversible, renderIrreversible } from "../../scripts/lib/engine/commands/rollback";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

describe("drift: parseDrift reads resource_drift of a refresh-only plan", () => {
  const plan = {
    format_version: "1.2",
    resource_drift: [
      {
        address: "aws_vpc.main",
        mode: "managed",
        type: "aws_vpc",
        change: {
          actions: ["update"],
          before: { cidr_block: "10.0.0.0/16", tags: { Name: "main" }, tags_all: { Name: "main", environment: "dev" } },
          after: { cidr_block: "10.0.0.0/16", tags: { Name: "main", owner: "someone" }, tags_all: { Name: "main", environment: "dev", owner: "someone" } },
        },
      },
      {
        address: "aws_db_instance.db",
        mode: "managed",
        type: "aws_db_instance",
        change: {
          actions: ["update"],
          before: { password: "old-secret", instance_class: "db.t3.small" },
          after: { password: "new-secret", instance_class: "db.t3.small" },
          before_sensitive: { password: true },
          after_sensitive: { password: true },
        },
      },
      { address: "aws_subnet.gone", mode: "managed", type: "aws_subnet", change: { actions: ["delete"], before: { id: "subnet-1" }, after: null } },
      { address: "data.aws_caller_identity.me", mode: "data", type: "aws_caller_identity", change: { actions: ["update"], before: {}, after: { x: 1 } } },
      { address: "aws_s3_bucket.same", mode: "managed", type: "aws_s3_bucket", change: { actions: ["no-op"], before: {}, after: {} } },
    ],
  };

  it("lists changed and deleted managed resources with the attribute paths that differ", () => {
    const d = parseDrift(plan);
    expect(d.map((r) => [r.address, r.action])).toEqual([
      ["aws_vpc.main", "update"],
      ["aws_db_instance.db", "update"],
      ["aws_subnet.gone", "delete"],
    ]);
    expect(d[0].attributes).toEqual([
      { path: "tags.owner", state: "(absent)", actual: '"someone"' },
      { path: "tags_all.owner", state: "(absent)", actual: '"someone"' },
    ]);
  });

  it("never shows a sensitive value, but says that it changed", () => {
    const d = parseDrift(plan);
    expect(d[1].attributes).toEqual([{ path: "(sensitive attribute)", state: "(sensitive)", actual: "(sensitive)" }]);
    expect(JSON.stringify(d)).not.toMatch(/old-secret|new-secret/);
    expect(renderDrift({ env: "dev", commit: A, resources: d, noState: false })).not.toMatch(/secret"/);
  });

  it("is empty for a plan without resource_drift, and throws on a malformed one", () => {
    expect(parseDrift({ format_version: "1.2" })).toEqual([]);
    expect(() => parseDrift({ resource_drift: "nope" })).toThrow(/not a list/);
  });

  it("diffs nested lists by index and reports a changed list length whole", () => {
    expect(diffPaths({ a: [{ b: 1 }] }, { a: [{ b: 2 }] })).toEqual([{ path: "a[0].b", state: "1", actual: "2" }]);
    expect(diffPaths({ a: [1] }, { a: [1, 2] })).toEqual([{ path: "a", state: "[1]", actual: "[1,2]" }]);
  });

  it("renders the report (no drift, no state, drift)", () => {
    expect(renderDrift({ env: "dev", commit: A, resources: [], noState: false })).toContain("no drift");
    expect(renderDrift({ env: "dev", commit: A, resources: [], noState: true })).toContain("no state");
    const text = renderDrift({ env: "dev", commit: A, resources: parseDrift(plan), noState: false });
    expect(text).toContain("DRIFT in 3 resource(s)");
    expect(text).toContain("tags.owner: state (absent), actual \"someone\"");
    expect(text).toContain("- deleted  aws_subnet.gone");
  });
});

describe("rollback: the default target", () => {
  const e = (commit: string, n: number): LedgerEntry => ({ env: "prod", tag: `deployed/prod/2030010${n}T000000Z`, commit, at: `2030-01-0${n}T00:00:00Z` });
  it("is the newest release whose commit is not the current one", () => {
    expect(chooseRollbackTarget([e(A, 1), e(B, 2), e(C, 3)], false)?.tag).toBe("deployed/prod/20300102T000000Z");
    expect(chooseRollbackTarget([e(A, 1), e(B, 2), e(B, 3)], false)?.commit).toBe(A);
  });
  it("is the last good (current) release when the latest apply failed after it", () => {
    expect(chooseRollbackTarget([e(A, 1), e(B, 2)], true)?.commit).toBe(B);
  });
  it("is none without an earlier release", () => {
    expect(chooseRollbackTarget([], false)).toBeNull();
    expect(chooseRollbackTarget([e(A, 1), e(A, 2)], false)).toBeNull();
  });
});

describe("rollback: what a plan cannot revert", () => {
  const rc = (address: string, type: string, actions: string[], before: object | null = {}, after: object | null = {}) => ({
    address,
    type,
    mode: "managed",
    change: { actions, before, after },
  });
  const plan = {
    resource_changes: [
      rc("aws_db_instance.db", "aws_db_instance", ["update"], { engine_version: "16.4" }, { engine_version: "15.8" }),
      rc("aws_s3_bucket.logs", "aws_s3_bucket", ["create"], null),
      rc("aws_elasticache_replication_group.cache", "aws_elasticache_replication_group", ["delete", "create"]),
      rc("aws_dynamodb_table.t", "aws_dynamodb_table", ["delete"], {}, null),
      rc("aws_security_group.app", "aws_security_group", ["create", "delete"]),
      rc("aws_secretsmanager_secret.s", "aws_secretsmanager_secret", ["no-op"]),
      rc("aws_vpc.main", "aws_vpc", ["update"]),
    ],
  };
  it("names lost data, empty re-creations, new identities, version downgrades and kept data", () => {
    const items = irreversible(plan);
    expect(items.map((i) => [i.address, i.kind])).toEqual([
      ["aws_db_instance.db", "version-downgrade"],
      ["aws_s3_bucket.logs", "recreated-empty"],
      ["aws_elasticache_replication_group.cache", "data-lost"],
      ["aws_dynamodb_table.t", "data-lost"],
      ["aws_security_group.app", "new-identity"],
      ["aws_secretsmanager_secret.s", "data-kept"],
    ]);
    const text = renderIrreversible(items);
    expect(text).toContain("WHAT THIS ROLLBACK CANNOT REVERT (6)");
    expect(text).toContain("aws_s3_bucket.logs: created empty");
    expect(text).toContain("data written since the release stays in: aws_secretsmanager_secret.s");
  });
  it("says so when nothing stateful is touched", () => {
    expect(irreversible({ resource_changes: [rc("aws_vpc.main", "aws_vpc", ["update"])] })).toEqual([]);
    expect(renderIrreversible([])).toContain("nothing found");
  });
});

describe("doctor: config diff", () => {
  it("flattens nested objects to paths, arrays as whole values", () => {
    expect(flattenConfig({ a: { b: 1, c: [1, 2] }, d: null, e: {} })).toEqual({ "a.b": "1", "a.c": "[1,2]", d: "null", e: "{}" });
  });
  it("lists only fields that differ, with every env's value", () => {
    const d = diffConfigs([
      { name: "dev", config: { database: { multiAz: false, engine: "pg" }, edge: null } },
      { name: "staging", config: { database: { multiAz: true, engine: "pg" }, edge: null } },
      { name: "prod", config: { database: { multiAz: true, engine: "pg" }, edge: { waf: true } } },
    ]);
    expect(d.map(renderConfigDiff)).toEqual(["database.multiAz: dev=false staging=true prod=true", "edge: dev=null staging=null prod=(absent)", "edge.waf: dev=(absent) staging=(absent) prod=true"]);
  });
  it("over the real envs: database.multiAz differs, the region does not", () => {
    const d = diffConfigs(ENVIRONMENTS.map((c) => ({ name: c.name, config: c })));
    const paths = d.map((x) => x.path);
    expect(paths).toContain("database.multiAz");
    expect(paths).toContain("account.id");
    expect(paths).not.toContain("region");
  });
  it("reads provider versions from a lock file", () => {
    const lock = `provider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.100.0"\n  constraints = "5.100.0"\n  hashes = [\n    "h1:x",\n  ]\n}\n\nprovider "registry.terraform.io/hashicorp/random" {\n  version = "3.9.0"\n}\n`;
    expect(lockProviders(lock)).toEqual({ "registry.terraform.io/hashicorp/aws": "5.100.0", "registry.terraform.io/hashicorp/random": "3.9.0" });
  });
});

describe("doctor: divergence between an env and the env it promotes from", () => {
  const tools = (aws = "5.100.0", lock = "l1", tf = "1.11.4"): Toolset => ({ terraform: tf, providers: { "registry.terraform.io/hashicorp/aws": aws }, lockSha256: lock, source: "bundle x" });
  const status = (env: string, promotesFrom: string | null, commits: string[], byCommit: Record<string, Toolset> = {}): EnvStatus => ({
    env,
    promotesFrom,
    last: commits.length ? { env, tag: `deployed/${env}/x`, commit: commits[commits.length - 1], at: "2030-01-01T00:00:00Z" } : null,
    appliedCommits: commits,
    tools: byCommit[commits[commits.length - 1]] ?? tools(),
    toolsByCommit: byCommit,
  });

  it("none when prod runs a commit staging applied, with the same providers and lock file", () => {
    expect(divergence([status("dev", null, [A, B]), status("staging", "dev", [A, B], { [B]: tools() }), status("prod", "staging", [A], { [A]: tools() })].map((s) => (s.env === "staging" ? { ...s, toolsByCommit: { [A]: tools(), [B]: tools() } } : s)))).toEqual([]);
  });
  it("blocks when prod runs a commit staging never had", () => {
    const d = divergence([status("staging", null, [A]), status("prod", "staging", [A, C])]);
    expect(d).toEqual([expect.objectContaining({ env: "prod", from: "staging", kind: "commit-not-promoted", blocking: true })]);
    expect(d[0].detail).toContain(C);
  });
  it("blocks on provider or lock-file skew for the same commit; terraform CLI skew is a note", () => {
    const d = divergence([status("staging", null, [A], { [A]: tools("5.100.0", "l1", "1.11.4") }), status("prod", "staging", [A], { [A]: tools("5.99.0", "l2", "1.11.3") })]);
    expect(d.map((x) => [x.kind, x.blocking])).toEqual([
      ["provider-skew", true],
      ["lock-skew", true],
      ["terraform-skew", false],
    ]);
  });
  it("ignores an env never applied, an ungated env, and missing records to compare with", () => {
    expect(divergence([status("staging", null, [A]), status("prod", "staging", [])])).toEqual([]);
    expect(divergence([status("dev", null, [C])])).toEqual([]);
    expect(divergence([status("staging", null, [A]), status("prod", "staging", [A], { [A]: tools("9") })])).toEqual([]);
  });
});

describe("CLI usage of policy, drift, rollback and doctor", () => {
  it("prints help for each, and refuses bad arguments with exit 2", async () => {
    const { main } = await import("../../scripts/promote");
    const { defaultContext } = await import("../../scripts/lib/engine/commands");
    const out: string[] = [];
    const err: string[] = [];
    const ctx = defaultContext(process.env, { out: (t) => out.push(t), err: (t) => err.push(t) }, { plansDir: "/nonexistent-promote-test" });
    for (const c of ["policy", "drift", "rollback", "doctor"]) expect(await main([c, "--help"], ctx)).toBe(0);
    expect(out.join("")).toContain("Exit codes: 0 no drift, 3 drift found");
    expect(await main(["doctor", "prod"], ctx)).toBe(2);
    expect(await main(["drift"], ctx)).toBe(2);
    expect(await main(["rollback", "prod", "--to"], ctx)).toBe(2);
    expect(await main(["drift", "prod", "--to", "x"], ctx)).toBe(2);
    expect(err.join("")).toContain("drift does not take --to");
  });
});

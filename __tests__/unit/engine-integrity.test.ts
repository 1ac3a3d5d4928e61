import { spawnSync } from "node:child_process";
/**
 * Issue 11, the pure parts: identity validation and comparison, the terraform version check, the dirty
 * bundle check, the runner's bounds and its reading of terraform's lock info, the synth stamp's reuse rule.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sameIdentity, validateComment, validateIdentity } from "../../scripts/lib/engine/core/identity";
import { decideApply, decideApprove } from "../../scripts/lib/engine/core/decisions";
import { resolvePaths } from "../../scripts/lib/engine/io/paths";
import { PLAN_INPUTS, planInputs, STAMP_FILE, SYNTH_FILE, synthReason, synthVarsDigest } from "../../scripts/lib/engine/io/synth";
import { classifyFailure, failure, lockAge, parseLockInfo, runTerraform, timeoutSeconds, timeoutVariable } from "../../scripts/lib/engine/io/terraform";
import { applyFacts, approveFacts, manifest, manifestText, refusedWith, tempDir } from "../helpers/engine-fixtures";
import { sha256 } from "../../scripts/lib/engine/core/hash";

describe("IDENTITY-INVALID: names are validated before anything changes", () => {
  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["alice\u200b", "U+200B"],
    ["\u202eecila", "U+202E"],
    ["bob\nmallory", "U+000A"],
    ["x".repeat(101), "101 characters"],
    ["<>", '"<" or ">"'],
    ["al<ice", '"<" or ">"'],
    ["...", "no letter or digit"],
    ["alice\u00a0smith", "U+00A0"],
  ])("refuses %j (%s)", (name, problem) => {
    const v = validateIdentity(name);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problem).toContain(problem);
  });
  it.each(["alice", "Alice Smith", "José", "李雷", "alice <alice@example.com>", "alice@example.com", "o'brien"])("accepts %j", (name) =>
    expect(validateIdentity(name)).toEqual({ ok: true, value: name }),
  );
  it("refuses a comment that is too long or holds control characters; accepts a plain one", () => {
    expect(validateComment("y".repeat(501)).ok).toBe(false);
    expect(validateComment("ok\u0000").ok).toBe(false);
    expect(validateComment("ok\u202e").ok).toBe(false);
    expect(validateComment("looks good, ship it")).toEqual({ ok: true, value: "looks good, ship it" });
    expect(validateComment(undefined)).toEqual({ ok: true, value: "" });
  });
});

describe("FOUR-EYES: names are compared as a reader reads them", () => {
  it.each(["ALICE", "  alice ", "\uff41lice", "\u0430lice", "Alice <alice@example.com>", "alice  "])(
    "%j is alice",
    (alias) => expect(sameIdentity(alias, "alice")).toBe(true),
  );
  it.each(["bob", "alice2", "alicia"])("%j is not alice", (other) => expect(sameIdentity(other, "alice")).toBe(false));
  it("refuses approval by the author under another spelling", () => {
    refusedWith(decideApprove(approveFacts({ approver: "\u0410LICE" })), "FOUR-EYES");
    refusedWith(decideApprove(approveFacts({ approver: "Alice <a@x>" })), "FOUR-EYES");
  });
});

describe("TERRAFORM-VERSION-MISMATCH: the terraform that applies is the one that planned", () => {
  const providers = { "registry.terraform.io/hashicorp/aws": "5.100.0" };
  it("refuses another terraform version, naming both", () => {
    const d = decideApply(applyFacts({ terraformNow: { version: "1.10.5", providers } }));
    refusedWith(d, "TERRAFORM-VERSION-MISMATCH");
    if (!d.ok) {
      expect(d.expected).toContain("1.11.4");
      expect(d.found).toContain("1.10.5");
    }
  });
  it("refuses other provider versions", () =>
    refusedWith(decideApply(applyFacts({ terraformNow: { version: "1.11.4", providers: { "registry.terraform.io/hashicorp/aws": "5.99.0" } } })), "TERRAFORM-VERSION-MISMATCH"));
  it("accepts the same versions", () => expect(decideApply(applyFacts({ terraformNow: { version: "1.11.4", providers } }))).toEqual({ ok: true }));
});

describe("BUNDLE-DIRTY: a gated env applies only bundles of committed code", () => {
  const dirty = manifestText(manifest({ git: { commit: "a".repeat(40), dirty: true } }));
  it("refuses a dirty bundle in a gated env", () => refusedWith(decideApply(applyFacts({ manifestText: dirty })), "BUNDLE-DIRTY"));
  it("an ungated env may apply it (it never enters the ledger)", () => {
    const d = decideApply(applyFacts({ manifestText: dirty, env: { ...applyFacts().env, delivery: { ...applyFacts().env.delivery, promotesFrom: null } } }));
    expect(d.ok || d.id !== "BUNDLE-DIRTY").toBe(true);
  });
});

describe("the terraform runner's bounds and state-lock reading", () => {
  it("bounds every subcommand, configurable, with defaults a slow real apply does not hit", () => {
    expect(timeoutSeconds("apply", {})).toBeGreaterThanOrEqual(4 * 3600);
    expect(timeoutSeconds("plan", {})).toBeGreaterThanOrEqual(1800);
    expect(timeoutSeconds("plan", { PROMOTE_TIMEOUT_PLAN: "30" })).toBe(30);
    expect(timeoutVariable("force-unlock")).toBe("PROMOTE_TIMEOUT_FORCE_UNLOCK");
    expect(() => timeoutSeconds("plan", { PROMOTE_TIMEOUT_PLAN: "soon" })).toThrow(/PROMOTE_TIMEOUT_PLAN must be a number of seconds/);
  });

  it("ends a run past its bound with TERRAFORM-TIMEOUT and its process group", async () => {
    const t = tempDir();
    try {
      const fake = join(t.dir, "tf");
      writeFileSync(fake, "#!/bin/sh\nsleep 30 &\nwait\n", { mode: 0o755 });
      const started = Date.now();
      await expect(runTerraform(["plan"], { cwd: t.dir, vars: { ...process.env, TERRAFORM_BINARY_NAME: fake, PROMOTE_TIMEOUT_PLAN: "1", PROMOTE_TIMEOUT_GRACE: "1" } })).rejects.toThrow(
        /^TERRAFORM-TIMEOUT: terraform plan did not finish within 1 s \(PROMOTE_TIMEOUT_PLAN\)/,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      t.cleanup();
    }
  }, 30_000);

  it("ends a run when its caller aborts (TERRAFORM-INTERRUPTED)", async () => {
    const t = tempDir();
    try {
      const fake = join(t.dir, "tf");
      writeFileSync(fake, "#!/bin/sh\nsleep 30\n", { mode: 0o755 });
      const ac = new AbortController();
      const run = runTerraform(["plan"], { cwd: t.dir, vars: { ...process.env, TERRAFORM_BINARY_NAME: fake, PROMOTE_TIMEOUT_GRACE: "1" }, signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      await expect(run).rejects.toThrow(/^TERRAFORM-INTERRUPTED/);
    } finally {
      t.cleanup();
    }
  }, 30_000);

  it("leaves nothing running when its caller aborts after the run ended: the engine exits when its work is done", () => {
    const t = tempDir();
    try {
      const fake = join(t.dir, "tf");
      writeFileSync(fake, "#!/bin/sh\necho ok\n", { mode: 0o755 });
      // GIVEN a finished run WHEN its caller aborts the reads it no longer needs (plan does) THEN the
      // process exits at once (a kill timer started by the late abort kept it alive for grace + 10 s).
      const runner = join(__dirname, "../../scripts/lib/engine/io/terraform.ts");
      const code = `const { runTerraform } = require(${JSON.stringify(runner)});
        (async () => {
          const ac = new AbortController();
          const r = await runTerraform(["state", "pull"], { cwd: ${JSON.stringify(t.dir)}, vars: { ...process.env, TERRAFORM_BINARY_NAME: ${JSON.stringify(fake)} }, signal: ac.signal });
          ac.abort();
          process.stdout.write("code " + r.code);
        })();`;
      const hook = join(__dirname, "../../scripts/lib/engine/ts-hook.js");
      const run = spawnSync(process.execPath, ["-r", hook, "-e", code], { encoding: "utf8", timeout: 20_000 });
      expect(run.stdout).toBe("code 0");
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);
    } finally {
      t.cleanup();
    }
  }, 30_000);

  const LOCKED = `Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error StatusCode: 400, ConditionalCheckFailedException
Lock Info:
  ID:        5b0e1c2a-8d1f-4c3e-9a7b-1f2e3d4c5b6a
  Path:      tfstate-dev/env/dev/terraform.tfstate
  Operation: OperationTypeApply
  Who:       ghost@gone-host
  Version:   1.11.4
  Created:   2030-01-01 11:50:00.123456789 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written`;

  it("reads who holds the state lock, since when", () => {
    expect(parseLockInfo(LOCKED)).toEqual({
      id: "5b0e1c2a-8d1f-4c3e-9a7b-1f2e3d4c5b6a",
      path: "tfstate-dev/env/dev/terraform.tfstate",
      operation: "OperationTypeApply",
      who: "ghost@gone-host",
      version: "1.11.4",
      created: "2030-01-01 11:50:00.123456789 +0000 UTC",
    });
    expect(lockAge("2030-01-01 11:50:00.123456789 +0000 UTC", new Date("2030-01-01T12:00:00Z"))).toBe("10 min");
    expect(parseLockInfo("Error: something else")).toBeNull();
  });

  it("a held lock is STATE-LOCKED; an unreachable lock table is an error naming the endpoint", () => {
    expect(classifyFailure({ code: 1, stdout: "", stderr: LOCKED })).toBe("STATE-LOCKED");
    const down = { code: 1, stdout: "", stderr: 'Error: Error acquiring the state lock\n\nError message: operation error DynamoDB: PutItem, exceeded maximum number of attempts, 5, https response error: Post "http://127.0.0.1:4566/": dial tcp 127.0.0.1:4566: connect: connection refused' };
    expect(classifyFailure(down)).toBeNull();
    expect(failure("plan", down).message).toMatch(/^ENDPOINT-UNREACHABLE: terraform plan could not reach http:\/\/127\.0\.0\.1:4566/);
  });
});

describe("synth reuse: only the synth of the checkout's commit from a clean tree", () => {
  it("the inputs that count include policy exceptions and the engine; a custom synth counts every path", () => {
    expect(PLAN_INPUTS).toEqual(expect.arrayContaining(["policy-exceptions.json", "scripts", "envs", "stacks", "constructs", "main.ts"]));
    expect(planInputs({})).toBe(PLAN_INPUTS);
    expect(planInputs({ PROMOTE_SYNTH_COMMAND: "node synth.js" })).toEqual([]);
  });

  it("a stack synthesized from uncommitted changes (or stamped without saying) is synthesized again", () => {
    const t = tempDir();
    try {
      const paths = resolvePaths({ PROMOTE_CHECKOUT_DIR: t.dir, CDKTF_OUTDIR: join(t.dir, "out"), PROMOTE_HOME: join(t.dir, "plans") });
      const dir = join(t.dir, "out", "stacks", "dev");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, SYNTH_FILE), "{}");
      const commit = "c".repeat(40);
      const stamp = (extra: object) => writeFileSync(join(dir, STAMP_FILE), JSON.stringify({ commit, varsDigest: synthVarsDigest({}), sha256: sha256("{}"), ...extra }));
      stamp({ dirty: true });
      expect(synthReason(paths, "dev", commit, false, {})).toMatch(/uncommitted/);
      stamp({});
      expect(synthReason(paths, "dev", commit, false, {})).toMatch(/uncommitted/);
      stamp({ dirty: false });
      expect(synthReason(paths, "dev", commit, false, {})).toBeNull();
      // drift reads any synth
      stamp({ dirty: true });
      expect(synthReason(paths, "dev", commit, false, {}, true)).toBeNull();
    } finally {
      t.cleanup();
    }
  });
});

/** Facts, manifests and approvals for the engine's unit tests: valid by default, overridden per case. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplyFacts, ApproveFacts, EnvFacts, PlanFacts } from "../../scripts/lib/engine/core/facts";
import { sha256 } from "../../scripts/lib/engine/core/hash";
import type { Decision } from "../../scripts/lib/engine/core/errors";
import type { Approval, Manifest } from "../../scripts/lib/engine/core/schemas";

export const COMMIT = "a".repeat(40);
export const OTHER_COMMIT = "b".repeat(40);
export const PLAN_SHA = sha256("plan bytes");
export const SYNTH_SHA = sha256("cdk.tf.json bytes");
export const LOCK_SHA = sha256("lock file bytes");
export const SUMMARY_SHA = sha256("summary");
export const NOW = new Date("2030-01-01T12:00:00.000Z");

/** policy.json as `promote plan` writes it, for env; no findings unless given. */
export function policyText(env = "prod", findings: unknown[] = []): string {
  return `${JSON.stringify({ schemaVersion: 1, env, exceptionsFile: null, findings }, null, 2)}\n`;
}
export const POLICY_TEXT = policyText();
export const POLICY_SHA = sha256(POLICY_TEXT);

export function envFacts(overrides: Partial<Omit<EnvFacts, "delivery">> & { delivery?: Partial<EnvFacts["delivery"]> } = {}): EnvFacts {
  return {
    name: "prod",
    accountId: "333333333333",
    stateBackend: { bucket: "tfstate-prod-333333333333", key: "env/prod/terraform.tfstate", lockTable: "tfstate-lock-prod" },
    ...overrides,
    delivery: { promotesFrom: "staging", requireApproval: true, fourEyes: true, autoApply: false, planTtlHours: 24, ...overrides.delivery },
  };
}

export function manifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    schemaVersion: 1,
    id: "20300101T110000Z-aaaaaaaaaa-0001",
    env: "prod",
    stack: "prod",
    git: { commit: COMMIT, dirty: false },
    synth: { file: "cdk.tf.json", sha256: SYNTH_SHA },
    plan: { file: "plan.tfplan", sha256: PLAN_SHA, bytes: 10 },
    lockFile: { sha256: LOCK_SHA },
    terraform: { binary: "terraform", version: "1.11.4", providers: { "registry.terraform.io/hashicorp/aws": "5.100.0" } },
    backend: { type: "s3", bucket: "tfstate-prod-333333333333", key: "env/prod/terraform.tfstate", lockTable: "tfstate-lock-prod", region: "us-east-1" },
    account: "333333333333",
    priorState: { serial: 7, lineage: "lineage-1" },
    counts: { add: 1, change: 0, destroy: 0, replace: 0 },
    destructive: [],
    summarySha256: SUMMARY_SHA,
    createdAt: "2030-01-01T11:00:00.000Z",
    expiresAt: "2030-01-02T11:00:00.000Z",
    createdBy: "alice",
    auto: false,
    policy: { file: "policy.json", sha256: POLICY_SHA, errors: 0, warnings: 0, waived: 0 },
    speculative: false,
    rollback: null,
    ...overrides,
  };
}

export const manifestText = (m: Manifest = manifest()): string => `${JSON.stringify(m, null, 2)}\n`;

export function approval(mText: string = manifestText(), overrides: Partial<Approval> = {}): Approval {
  const m = JSON.parse(mText) as Manifest;
  return {
    schemaVersion: 1,
    env: m.env,
    bundleId: m.id,
    planSha256: m.plan.sha256,
    manifestSha256: sha256(mText),
    approvedBy: "bob",
    approvedAt: "2030-01-01T11:30:00.000Z",
    comment: null,
    ...overrides,
  };
}

const parses = (text: string | null): boolean => {
  try {
    return (JSON.parse(text ?? "") as { plan?: unknown }).plan !== undefined;
  } catch {
    return false;
  }
};

/** Facts for an apply that passes every check; override what a case needs. */
export function applyFacts(overrides: Partial<ApplyFacts> = {}): ApplyFacts {
  const mText = overrides.manifestText ?? manifestText();
  return {
    env: envFacts(),
    manifestText: mText,
    planFileSha256: PLAN_SHA,
    approvalText: JSON.stringify(approval(parses(mText) ? (mText as string) : manifestText())),
    appliedText: null,
    policyText: POLICY_TEXT,
    now: NOW,
    checkout: { commit: COMMIT, synthSha256: SYNTH_SHA, lockFileSha256: LOCK_SHA, synthCommit: COMMIT },
    previousEnvApplies: [{ env: "staging", tag: "deployed/staging/20300101T100000Z", commit: COMMIT, at: "2030-01-01T10:00:00Z" }],
    ownApplies: [],
    stateNow: { serial: 7, lineage: "lineage-1" },
    ...overrides,
  };
}

export function approveFacts(overrides: Partial<ApproveFacts> = {}): ApproveFacts {
  return {
    env: envFacts(),
    manifestText: manifestText(),
    planFileSha256: PLAN_SHA,
    summaryFileSha256: SUMMARY_SHA,
    approvalText: null,
    appliedText: null,
    policyText: POLICY_TEXT,
    now: NOW,
    givenSha256: PLAN_SHA,
    approver: "bob",
    ...overrides,
  };
}

export function planFacts(overrides: Partial<PlanFacts> = {}): PlanFacts {
  return {
    env: envFacts(),
    checkout: { commit: COMMIT, dirtyPaths: [] },
    previousEnvApplies: [{ env: "staging", tag: "deployed/staging/20300101T100000Z", commit: COMMIT, at: "2030-01-01T10:00:00Z" }],
    ...overrides,
  };
}

/** A temporary folder removed by the returned cleanup. */
export function tempDir(prefix = "promote-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A git repository with one commit; returns its head. */
export function gitRepo(dir: string): string {
  const run = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
  run("init", "-q");
  run("commit", "-q", "--allow-empty", "-m", "first");
  return run("rev-parse", "HEAD");
}

/** Asserts a refusal with this id that names what was expected, what was found and the fix. */
export const refusedWith = (d: Decision, id: string): void => {
  expect(d).toMatchObject({ ok: false, id });
  if (d.ok) return;
  expect(d.expected.length).toBeGreaterThan(0);
  expect(d.found.length).toBeGreaterThan(0);
  expect(d.fix.length).toBeGreaterThan(0);
};

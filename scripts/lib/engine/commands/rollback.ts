/**
 * `promote rollback <env> [--to <ledger tag>]`: plans the env back to a release it ran before. The
 * release's commit is checked out into a temporary git worktree (removed afterwards), synthesized into
 * the env's usual working directory and planned into a normal bundle whose manifest says
 * `rollback: { toTag, toCommit, fromCommit }`. The bundle then goes through the same review, approve and
 * apply path as any other; two rules read the rollback explicitly (RULES.md): the commit check compares
 * the working directory's synth stamp with the rollback commit (not the checkout's HEAD), and the
 * promotion gate accepts a commit that is in this env's own ledger.
 *
 * A plan reverts configuration, not data: the summary lists what the rollback cannot revert (a replaced
 * or destroyed stateful resource's data, a deleted bucket's objects, a replaced resource's identity, data
 * written since the release).
 *
 * Default target: the env's last good release before the current one, i.e. the newest ledger entry whose
 * commit differs from the env's last successful apply; when the env's latest apply failed (its newest
 * applied.json is failed or started, after the last tag), the last successful apply itself. The applied
 * records are read through the store (with the shared store, the env's: another home's apply counts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { PROJECT_ROOT } from "../../toolchain";
import { audited, envConfig, ledgerOf, newestAppliedRecord, withEnvLock, type EngineContext } from "../io/context";
import { planLocked, type PlanResult } from "./plan";
import { RefusalError, refusal } from "../core/errors";
import type { LedgerEntry } from "../core/facts";
import { git, whoAmI } from "../io/git";
import { TAG_PREFIX } from "../io/ledger";
import { fixFor } from "../core/rules";
import { appliedSchema, parseWith } from "../core/schemas";
import { actionOf, beforeOf, afterOf, managedChanges, type Plan } from "../../plan";
import { isStateful, replaceGivesNewIdentity } from "../../plan/catalogue";

// ---------------------------------------------------------------------------------------------
// Pure parts: the target, and what a plan cannot revert
// ---------------------------------------------------------------------------------------------

/**
 * The release a rollback returns to by default, or null when there is none: the newest entry whose
 * commit is not the env's current one; or the current one itself when the latest apply failed after it.
 */
export function chooseRollbackTarget(entries: readonly LedgerEntry[], latestApplyFailed: boolean): LedgerEntry | null {
  const current = entries[entries.length - 1];
  if (current === undefined) return null;
  if (latestApplyFailed) return current;
  for (let i = entries.length - 2; i >= 0; i--) if (entries[i].commit !== current.commit) return entries[i];
  return null;
}

export interface Irreversible {
  readonly address: string;
  readonly type: string;
  /** data-lost, recreated-empty, new-identity, data-kept, version-downgrade */
  readonly kind: "data-lost" | "recreated-empty" | "new-identity" | "data-kept" | "version-downgrade" | "secret-value";
  readonly note: string;
}

/** What applying this rollback plan cannot put back as it was. Pure, from `terraform show -json`. */
export function irreversible(plan: Plan): Irreversible[] {
  const out: Irreversible[] = [];
  for (const rc of managedChanges(plan)) {
    const action = actionOf(rc.change.actions);
    const stateful = isStateful(rc.type);
    const item = (kind: Irreversible["kind"], note: string) => out.push({ address: rc.address, type: rc.type, kind, note });
    if (stateful && (action === "delete" || action === "replace")) {
      item("data-lost", action === "replace"
        ? "replaced: the new one starts empty; the data in the current one is lost (take a snapshot / copy first)"
        : "destroyed: its data is lost (take a snapshot / copy first)");
    } else if (stateful && action === "create") {
      item("recreated-empty", "created empty: the data it held before the later change removed it is not restored (restore from a backup)");
    } else if (action === "replace" && replaceGivesNewIdentity(rc.type)) {
      item("new-identity", "replaced: it gets a new id/ARN; anything outside terraform that refers to the current one must be updated");
    }
    // Issue 14: write-only and AWS-managed secret values were never in a state, so no plan can restore them.
    const before = beforeOf(rc);
    const after = afterOf(rc);
    const wasWriteOnly = before.secret_string_wo_version != null || before.manage_master_user_password === true;
    const staysWriteOnly = after.secret_string_wo_version != null || after.manage_master_user_password === true;
    if (wasWriteOnly && !staysWriteOnly && action !== "delete") {
      item("secret-value", "its secret goes back to a persisted argument: a new value is generated (the current one is in no state) and is stored in plan files and the state again; the value before the write-only release is gone");
    }
    if (stateful && (action === "update" || action === "no-op")) {
      const b = before.engine_version;
      const a = after.engine_version;
      if (action === "update" && typeof a === "string" && typeof b === "string" && a !== b) {
        item("version-downgrade", `engine_version ${b} -> ${a}: a downgrade is usually refused by AWS; data written by the newer version stays`);
      } else {
        item("data-kept", "data written since the release stays (rows, objects, items, secrets, schema migrations are not rolled back)");
      }
    }
  }
  return out;
}

/** The summary section about it (part of summary.txt, so the approval covers it). */
export function renderIrreversible(items: readonly Irreversible[]): string {
  if (items.length === 0) return "What this rollback cannot revert: nothing found in the plan (no stateful resource is touched or kept).\n";
  const lines = [`WHAT THIS ROLLBACK CANNOT REVERT (${items.length}):`];
  const kept = items.filter((i) => i.kind === "data-kept");
  for (const i of items.filter((x) => x.kind !== "data-kept")) lines.push(`  ! ${i.address}: ${i.note}`);
  if (kept.length > 0) {
    lines.push(`  . data written since the release stays in: ${kept.map((i) => i.address).join(", ")}`);
    lines.push("    (a plan reverts configuration, never data: rows, objects, items, secrets, schema migrations)");
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

export interface RollbackOptions {
  readonly env: string;
  /** A ledger tag (deployed/<env>/<stamp>). @default the env's last good release before the current one */
  readonly to?: string;
  readonly by?: string;
  readonly ttlHours?: number;
  readonly waitSeconds?: number;
  readonly synth?: "auto" | "always" | "never";
}

export interface RollbackResult extends PlanResult {
  readonly target: LedgerEntry;
  readonly irreversible: readonly Irreversible[];
}

/**
 * Whether the env's newest apply attempt (its newest bundle's applied record) failed or never finished
 * after the env's last ledger tag `last`. Pure: an unreadable record counts as failed; a succeeded one
 * does not; any other status counts when it started after the last tag (or there is none).
 */
export function applyFailedAfter(appliedText: string, last: LedgerEntry | undefined): boolean {
  const a = parseWith(appliedSchema, appliedText);
  if (!a.ok) return true;
  if (a.value.status === "succeeded") return false;
  return last === undefined || Date.parse(a.value.startedAt) > Date.parse(last.at);
}

/**
 * Whether the env's newest apply attempt failed (or never finished) after its last ledger tag: the newest
 * applied record through the store (with the shared store, from the env's store: another home's apply counts).
 */
export async function latestApplyFailed(ctx: EngineContext, env: string, last: LedgerEntry | undefined): Promise<boolean> {
  const newest = await newestAppliedRecord(ctx, env);
  return newest !== null && applyFailedAfter(newest.appliedText, last);
}

async function resolveTarget(ctx: EngineContext, cfg: EnvConfig, to: string | undefined, entries: readonly LedgerEntry[]): Promise<LedgerEntry> {
  const unknown = (found: string) =>
    new RefusalError(refusal("ROLLBACK-TARGET-UNKNOWN", to ? `a ledger tag ${TAG_PREFIX}/<env>/<stamp>` : `an earlier successful apply of "${cfg.name}"`, found, fixFor("ROLLBACK-TARGET-UNKNOWN", cfg.name)));
  if (to === undefined) {
    const t = chooseRollbackTarget(entries, await latestApplyFailed(ctx, cfg.name, entries[entries.length - 1]));
    if (t === null) throw unknown(entries.length === 0 ? "no successful apply recorded" : `every recorded apply is of the current commit ${entries[entries.length - 1].commit}`);
    return t;
  }
  const m = new RegExp(`^(?:refs/tags/)?${TAG_PREFIX}/([a-z0-9-]+)/`).exec(to);
  const tagEnv = m?.[1];
  const pool = tagEnv === undefined ? [] : tagEnv === cfg.name ? entries : ledgerOf(ctx).entries(tagEnv);
  const found = pool.find((e) => e.tag === to.replace(/^refs\/tags\//, ""));
  if (!found) throw unknown(`"${to}" is not a ledger tag${tagEnv ? ` of ${tagEnv}` : ""}`);
  return found;
}

/** Runs body with the commit checked out in a temporary worktree of the checkout; always removed. */
async function withWorktree<T>(ctx: EngineContext, commit: string, body: (dir: string) => Promise<T>): Promise<T> {
  const repo = ctx.paths.checkoutDir;
  try {
    git(repo, ["cat-file", "-e", `${commit}^{commit}`]);
  } catch {
    git(repo, ["fetch", "--quiet", "--no-tags", ctx.paths.ledgerDir, commit]);
  }
  const dir = mkdtempSync(join(tmpdir(), "promote-rollback-"));
  git(repo, ["worktree", "add", "--detach", "--quiet", dir, commit]);
  try {
    return await body(dir);
  } finally {
    try {
      git(repo, ["worktree", "remove", "--force", dir]);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git(repo, ["worktree", "prune"]);
    }
  }
}

export async function rollback(ctx: EngineContext, o: RollbackOptions): Promise<RollbackResult> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "rollback", by, (info) =>
    withEnvLock(ctx, cfg.name, `promote rollback ${cfg.name}`, o.waitSeconds ?? 0, async () => {
      const entries = ledgerOf(ctx).entries(cfg.name);
      const target = await resolveTarget(ctx, cfg, o.to, entries);
      const fromCommit = entries[entries.length - 1]?.commit ?? null;
      ctx.io.err(`rollback ${cfg.name} to ${target.tag} (commit ${target.commit}), from ${fromCommit ?? "(nothing recorded)"}\n`);
      let items: Irreversible[] = [];
      // The release's code resolves its packages from this project's node_modules (a worktree has none).
      const nodePath = [join(PROJECT_ROOT, "node_modules"), ctx.vars.NODE_PATH].filter(Boolean).join(delimiter);
      const planCtx: EngineContext = { ...ctx, vars: { ...ctx.vars, NODE_PATH: nodePath } };
      const result = await withWorktree(ctx, target.commit, (dir) =>
        planLocked(planCtx, cfg, { env: cfg.name, by, synth: o.synth, ttlHours: o.ttlHours }, by, info, {
          auto: false,
          speculative: false,
          rollback: { toTag: target.tag, toCommit: target.commit, fromCommit },
          codeDir: dir,
          notes: (planJson) => renderIrreversible((items = irreversible(planJson))),
        }),
      );
      const c = result.manifest.counts;
      return {
        value: { ...result, target, irreversible: items },
        detail: `to ${target.tag} (${target.commit.slice(0, 12)}): +${c.add} ~${c.change} -${c.destroy} (${c.replace} replaced); ${items.filter((i) => i.kind !== "data-kept").length} irreversible`,
      };
    }),
  );
}

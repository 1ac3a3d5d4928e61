/**
 * `promote drift <env>`: does the env's real infrastructure still match its state? A refresh-only plan
 * (`terraform plan -refresh-only -detailed-exitcode -lock=true`) against the env's own backend, read
 * from its `resource_drift`: every resource changed or deleted outside terraform, with the attributes
 * that differ (sensitive values redacted as in the plan summary). Nothing is written to the state.
 *
 * Exit codes of the command: 0 no drift, 3 drift found (the command worked; distinct from 1 refused and
 * 2 error). Every run leaves an audit record (`drift`, ok, with the drifted addresses).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { tfInit, tfPlanToFile, tfShowJson, tfStatePull } from "../io/workdir";
import { EngineError } from "../core/errors";
import { dirtyPaths, headCommit, whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { actionOf, managedDrift, parsePlan, parsePlanText, type Action, type Json, type Plan } from "../../plan";
import { REDACTED, redactChange } from "../core/summary";
import { SYNTH_FILE, synthesize, synthReason } from "../io/synth";
import { sha256File } from "../io/files";

/** One attribute that differs between the state and the real object. */
export interface DriftedAttribute {
  /** Path such as tags.owner or ingress[0].cidr_blocks. */
  readonly path: string;
  /** In the state (what terraform last wrote), redacted. */
  readonly state: string;
  /** Now, in the real infrastructure, redacted. */
  readonly actual: string;
}

export interface DriftedResource {
  readonly address: string;
  readonly type: string;
  /** update: changed outside terraform; delete: deleted outside terraform. */
  readonly action: Action;
  readonly attributes: readonly DriftedAttribute[];
}

export interface DriftReport {
  readonly env: string;
  readonly commit: string;
  readonly resources: readonly DriftedResource[];
  /** The env has no state yet (never applied): nothing can drift. */
  readonly noState: boolean;
}

const showValue = (v: Json | undefined): string => {
  if (v === undefined) return "(absent)";
  const t = JSON.stringify(v);
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
};

const isObj = (v: Json | undefined): v is { [k: string]: Json } => v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);

/** Leaf paths whose values differ between a and b (both already redacted). */
export function diffPaths(a: Json | undefined, b: Json | undefined, path = ""): DriftedAttribute[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((x, i) => diffPaths(x, b[i], `${path}[${i}]`));
  }
  return [{ path: path || "(resource)", state: showValue(a), actual: showValue(b) }];
}

/**
 * The drifted resources of a refresh-only plan's `terraform show -json`: `resource_drift` entries of
 * managed resources whose action is not a no-op. Pure; sensitive and secret-looking values are redacted
 * before they are compared, so a changed secret shows as `(sensitive)` on both sides.
 */
export function parseDrift(planJson: unknown): DriftedResource[] {
  return driftOf(parsePlan(planJson));
}

/** The drifted resources of a parsed plan (lib/plan). */
export function driftOf(plan: Plan): DriftedResource[] {
  const out: DriftedResource[] = [];
  for (const e of managedDrift(plan)) {
    const action = actionOf(e.change.actions);
    if (action === "no-op" || action === "read") continue;
    const { before, after } = redactChange(e.type, e.change);
    let attributes = action === "delete" ? [] : diffPaths(before, after);
    // A sensitive value that changed is redacted on both sides: say that it changed, never to what.
    if (action !== "delete" && attributes.length === 0 && JSON.stringify(e.change.before) !== JSON.stringify(e.change.after)) {
      attributes = [{ path: "(sensitive attribute)", state: REDACTED, actual: REDACTED }];
    }
    out.push({ address: e.address, type: e.type, action, attributes });
  }
  return out;
}

/** The report as text. */
export function renderDrift(r: DriftReport): string {
  if (r.noState) return `${r.env}: no state yet (never applied): no drift\n`;
  if (r.resources.length === 0) return `${r.env}: no drift (the real infrastructure matches the state)\n`;
  const lines = [`${r.env}: DRIFT in ${r.resources.length} resource(s) (changed outside terraform):`];
  for (const d of r.resources) {
    lines.push(`  ${d.action === "delete" ? "- deleted" : "~ changed"}  ${d.address}`);
    for (const a of d.attributes) lines.push(`      ${a.path}: state ${a.state}, actual ${a.actual}`);
  }
  lines.push("Fix: `promote plan` puts the code's values back; or change the code to what is there and plan that.");
  return `${lines.join("\n")}\n`;
}

export interface DriftOptions {
  readonly env: string;
  readonly by?: string;
  /** auto (default): only when the stack is missing or was made for other synth variables. */
  readonly synth?: "auto" | "always" | "never";
  readonly waitSeconds?: number;
  /** Print the report (doctor collects it instead). @default true */
  readonly print?: boolean;
}

export async function drift(ctx: EngineContext, o: DriftOptions): Promise<DriftReport> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "drift", by, (info) =>
    withEnvLock(ctx, cfg.name, `promote drift ${cfg.name}`, o.waitSeconds ?? 0, async () => {
      const report = await driftLocked(ctx, cfg, o);
      info.commit = report.commit;
      if (o.print !== false) ctx.io.out(renderDrift(report));
      const detail = report.noState
        ? "no state"
        : report.resources.length === 0
          ? "no drift"
          : `drift: ${report.resources.length} resource(s): ${report.resources.map((r) => r.address).join(", ")}`;
      return { value: report, detail: detail.slice(0, 450) };
    }),
  );
}

async function driftLocked(ctx: EngineContext, cfg: EnvConfig, o: DriftOptions): Promise<DriftReport> {
  const env = cfg.name;
  const paths = ctx.paths;
  const commit = headCommit(paths.checkoutDir);
  const cwd = stackDir(paths, env);
  const dirty = dirtyPaths(paths.checkoutDir).length > 0;
  // auto: only a missing stack (or one made for other synth variables) is synthesized; a stack of another
  // commit is fine for a refresh-only plan, and re-synthesizing it would void a pending bundle.
  const reason = o.synth === "always" ? "--synth always" : o.synth === "never" ? null : synthReason(paths, env, commit, dirty, ctx.vars, true);
  if (reason !== null) {
    ctx.io.err(`synth (${reason})...\n`);
    await synthesize(paths, env, commit, ctx.vars, (t) => ctx.io.err(t));
  }
  if (sha256File(join(cwd, SYNTH_FILE)) === null) throw new EngineError(`no ${join(cwd, SYNTH_FILE)}: run synth or drop --synth never`);
  await tfInit(ctx, cwd, false);
  if ((await tfStatePull(ctx, cwd)) === null) return { env, commit, resources: [], noState: true };
  const tmp = mkdtempSync(join(tmpdir(), `promote-drift-${env}-`));
  try {
    const planFile = join(tmp, "refresh.tfplan");
    if (!(await tfPlanToFile(ctx, cwd, env, planFile, "refresh-only")).changes) return { env, commit, resources: [], noState: false };
    const show = await tfShowJson(ctx, cwd, planFile);
    let resources: DriftedResource[];
    try {
      resources = driftOf(parsePlanText(show));
    } catch (e) {
      throw new EngineError(`could not read the refresh-only plan: ${(e as Error).message}`);
    }
    return { env, commit, resources, noState: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

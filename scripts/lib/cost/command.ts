/**
 * `npx promote cost <env> [bundle] [--from-synth]`: the env's estimated monthly cost against its budget
 * (envs/<env>.ts budget.monthlyUsd), and what the bundle's plan changes.
 *
 *   bundle (default: the newest)  the plan as `terraform show -json` reads it in the env's stack: cost
 *                                 after apply, cost before (the state planned from), per-resource change
 *   --from-synth                  the synthesized stack (cdktf.out/stacks/<env>/cdk.tf.json): no terraform
 *
 * Exit 0 within budget; 1 when the estimate is over budget (an OVER BUDGET line says by how much: a
 * requirement of the env's config is not met, so CI can stop on it); 2 when it cannot estimate.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEnvironment, type EnvConfig } from "../../../envs";
import { readBundle } from "../engine/io/bundle";
import { bundleDirOrRefuse } from "../engine/io/context";
import { initializeToShow } from "../engine/io/fresh-home";
import type { EngineContext } from "../engine/commands";
import { decideReview } from "../engine/core/decisions";
import { EngineError, EXIT, RefusalError } from "../engine/core/errors";
import { envFacts } from "../engine/core/facts";
import { sha256File } from "../engine/io/files";
import { stackDir } from "../engine/io/paths";
import { headCommit } from "../engine/io/git";
import { synthesize } from "../engine/io/synth";
import { manifestSchema, parseWith } from "../engine/core/schemas";
import { showPlanJson } from "../engine/io/plan-show";
import { checkBudget, estimateMonthlyCost, estimatePlanDelta, resourcesFromSynth, type CostDelta } from "./estimate";
import { formatBudget, formatDelta, formatEstimate } from "./format";

export interface CostOptions {
  readonly env: string;
  /** The bundle id. @default - the env's newest bundle */
  readonly bundle?: string;
  /** Estimate from the synthesized stack instead of a bundle's plan. @default false */
  readonly fromSynth?: boolean;
}

function envConfig(ctx: EngineContext, name: string): EnvConfig {
  try {
    return getEnvironment(name, ctx.environments());
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
}

/**
 * The bundle's folder, checked like `promote review` checks it (this env's, plan file intact): the local
 * store's, or (shared store) the bundle fetched from the env's store into the local cache
 * (BUNDLE-NOT-FOUND, BUNDLE-INCOMPLETE as for review).
 */
export async function verifiedBundleDir(ctx: EngineContext, cfg: EnvConfig, id: string | undefined): Promise<string> {
  const dir = await bundleDirOrRefuse(ctx, cfg.name, id);
  const decision = decideReview({ env: envFacts(cfg), ...readBundle(dir), summaryFileSha256: sha256File(join(dir, "summary.txt")), now: ctx.now() });
  if (!decision.ok) throw new RefusalError(decision);
  return dir;
}

/** The plan of a verified bundle, as JSON in memory, with its cost before and after. */
export async function bundleCostDelta(ctx: EngineContext, env: string, dir: string): Promise<{ ok: true; delta: CostDelta } | { ok: false; reason: string }> {
  const shown = await showPlanJson(stackDir(ctx.paths, env), dir, ctx.vars);
  if (!shown.ok) return shown;
  return { ok: true, delta: estimatePlanDelta(shown.plan) };
}

export async function cost(ctx: EngineContext, o: CostOptions): Promise<number> {
  const cfg = envConfig(ctx, o.env);
  const budget = cfg.budget.monthlyUsd;
  if (o.fromSynth) {
    if (o.bundle !== undefined) throw new EngineError("--from-synth estimates the synthesized stack: give no bundle id");
    // Synthesized afresh from the checkout into a scratch folder: a stale cdktf.out would price old code,
    // and the env's own stack folder may belong to a bundle waiting to be applied.
    const scratch = mkdtempSync(join(tmpdir(), "promote-cost-"));
    let estimate;
    try {
      await synthesize({ ...ctx.paths, outDir: scratch }, cfg.name, headCommit(ctx.paths.checkoutDir), ctx.vars, () => undefined);
      const file = join(stackDir({ ...ctx.paths, outDir: scratch }, cfg.name), "cdk.tf.json");
      estimate = estimateMonthlyCost(resourcesFromSynth(JSON.parse(readFileSync(file, "utf8"))));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    ctx.io.out(`Estimated monthly cost of ${cfg.name} as synthesized from the checkout (${ctx.paths.checkoutDir}; on-demand ${cfg.region} list prices, scripts/lib/cost/prices.json):\n\n`);
    ctx.io.out(formatEstimate(estimate));
    const check = checkBudget(estimate, budget);
    ctx.io.out(`\n${formatBudget(cfg.name, check)}`);
    return check.over ? EXIT.refused : EXIT.ok;
  }
  const dir = await verifiedBundleDir(ctx, cfg, o.bundle);
  const manifestText = readFileSync(join(dir, "manifest.json"), "utf8");
  const manifest = parseWith(manifestSchema, manifestText);
  const id = dir.split("/").slice(-1)[0];
  // Another home planned it (shared store) and this machine never initialized the stack: as apply does.
  await initializeToShow(ctx, cfg.name, manifestText);
  const result = await bundleCostDelta(ctx, cfg.name, dir);
  if (!result.ok) {
    throw new EngineError(`cannot read the plan of ${cfg.name}/${id}: ${result.reason}`, `estimate the synthesized stack instead: npx promote cost ${cfg.name} --from-synth`);
  }
  const { delta } = result;
  ctx.io.out(
    `Estimated monthly cost of ${cfg.name} once bundle ${id} is applied${manifest.ok ? ` (plan SHA-256 ${manifest.value.plan.sha256})` : ""}; on-demand ${cfg.region} list prices, scripts/lib/cost/prices.json:\n\n`,
  );
  ctx.io.out(formatEstimate(delta.after));
  ctx.io.out(`\n${formatDelta(delta)}`);
  const check = checkBudget(delta.after, budget);
  ctx.io.out(`\n${formatBudget(cfg.name, check)}`);
  return check.over ? EXIT.refused : EXIT.ok;
}

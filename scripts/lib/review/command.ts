/**
 * `npx promote review <env> [bundle] --html [--out FILE]`: the text review (engine.review: the same checks
 * and output), then the HTML page of the same bundle, written to FILE (default <bundle>/review.html).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { getEnvironment } from "../../../envs";
import { estimatePlanDelta } from "../cost/estimate";
import { initializeToShow } from "../engine/io/fresh-home";
import * as engine from "../engine/commands";
import { EngineError } from "../engine/core/errors";
import { stackDir } from "../engine/io/paths";
import { appliedSchema, approvalSchema, parseWith } from "../engine/core/schemas";
import { summarizePlan } from "../engine/core/summary";
import { renderReviewHtml, type ReviewPageData } from "./html";
import { showPlanJson } from "../engine/io/plan-show";
import { readPolicyFile } from "./source";

export interface ReviewHtmlOptions {
  readonly env: string;
  readonly bundle?: string;
  /** Where to write the page. @default <bundle>/review.html */
  readonly out?: string;
}

const readOrNull = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : null);

export async function reviewHtml(ctx: engine.EngineContext, o: ReviewHtmlOptions): Promise<string> {
  // The folder review checked: the bundle's own, or (shared store) its copy fetched from the store.
  const { manifest, dir } = await engine.reviewBundle(ctx, { env: o.env, bundle: o.bundle });
  const cfg = getEnvironment(o.env, ctx.environments());
  if (!existsSync(dir)) throw new EngineError(`bundle ${cfg.name}/${manifest.id} disappeared while reviewing`);

  const approval = readOrNull(join(dir, "approval.json"));
  const applied = readOrNull(join(dir, "applied.json"));
  const a = approval === null ? null : parseWith(approvalSchema, approval);
  const ap = applied === null ? null : parseWith(appliedSchema, applied);

  // Another home planned it (shared store) and this machine never initialized the stack: as apply does.
  await initializeToShow(ctx, cfg.name, readOrNull(join(dir, "manifest.json")));
  const shown = await showPlanJson(stackDir(ctx.paths, cfg.name), dir, ctx.vars);
  const data: ReviewPageData = {
    manifest,
    summary: shown.ok ? summarizePlan(shown.plan) : null,
    planUnavailable: shown.ok ? undefined : shown.reason,
    summaryText: readOrNull(join(dir, "summary.txt")),
    status: {
      expired: ctx.now().getTime() >= Date.parse(manifest.expiresAt),
      approval: a === null ? null : a.ok ? `by ${a.value.approvedBy} at ${a.value.approvedAt}` : "UNREADABLE approval.json",
      applied: ap === null ? null : ap.ok ? `${ap.value.status} by ${ap.value.appliedBy} at ${ap.value.startedAt}` : "UNREADABLE applied.json",
      requireApproval: cfg.delivery.requireApproval,
    },
    policy: readPolicyFile(dir),
    cost: shown.ok ? { delta: estimatePlanDelta(shown.plan), budgetUsd: cfg.budget.monthlyUsd } : { unavailable: shown.reason },
    generatedAt: ctx.now().toISOString(),
  };
  const out = o.out ? resolve(o.out) : join(dir, "review.html");
  const tmp = join(dirname(out), `.review-${process.pid}.html.tmp`);
  writeFileSync(tmp, renderReviewHtml(data), { mode: 0o644 });
  renameSync(tmp, out);
  ctx.io.out(`\nReview page: ${out}\n  open ${pathToFileURL(out).href}\n`);
  if (!shown.ok) ctx.io.err(`warning: the page shows summary.txt only: ${shown.reason}\n`);
  return out;
}

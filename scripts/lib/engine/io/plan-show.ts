/**
 * A bundle's plan as JSON, for the readers beside the engine (the cost command, the HTML review page):
 * `terraform show -json <bundle>/plan.tfplan`, run in the env's synthesized stack (the working directory
 * the plan was made in, initialized), parsed by lib/plan. The JSON holds every secret value of the plan
 * in clear, so it is kept in memory only: never written to disk, never printed, and a failure reports
 * only terraform's first error line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parsePlanText, PlanJsonError, type Plan } from "../../plan";
import { runTerraform } from "./terraform";

export const PLAN_FILE = "plan.tfplan";

export type PlanJsonResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly reason: string };

/** `terraform show -json <bundle>/plan.tfplan` in stackDir: the plan parsed by lib/plan, or why not (never the output). */
export async function showPlanJson(stackDir: string, bundleDir: string, vars: NodeJS.ProcessEnv): Promise<PlanJsonResult> {
  if (!existsSync(join(stackDir, ".terraform"))) {
    return { ok: false, reason: `${stackDir} is not initialized (no .terraform): run \`npx promote plan\` there, or terraform init, first` };
  }
  const r = await runTerraform(["show", "-json", "-no-color", join(bundleDir, PLAN_FILE)], { cwd: stackDir, vars });
  if (r.code !== 0) {
    // Only terraform's first error line: the plan's values never reach a message.
    const first = r.stderr.split("\n").find((l) => /error/i.test(l))?.trim().slice(0, 200) ?? "";
    return { ok: false, reason: `terraform show -json exited ${r.code}${first ? `: ${first}` : ""}` };
  }
  try {
    return { ok: true, plan: parsePlanText(r.stdout) };
  } catch (e) {
    if (e instanceof PlanJsonError) return { ok: false, reason: `terraform show -json: ${e.message}` };
    throw e;
  }
}

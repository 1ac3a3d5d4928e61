/**
 * What the cost command and the HTML review page read from a bundle besides its manifest:
 *
 * - the plan as JSON: `terraform show -json plan.tfplan`, run in the env's synthesized stack (the
 *   working directory the plan was made in, initialized). The JSON holds every secret value of the
 *   plan in clear, so it is kept in memory only: never written to disk, never printed.
 * - the policy findings: policy.json when the engine wrote one, else none.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { runTerraform } from "../engine/io/terraform";

export const PLAN_FILE = "plan.tfplan";
export const POLICY_FILE = "policy.json";

export type PlanJsonResult = { readonly ok: true; readonly plan: Record<string, unknown> } | { readonly ok: false; readonly reason: string };

/** `terraform show -json <bundle>/plan.tfplan` in stackDir: the parsed plan, or why not (never the output). */
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
    const plan = JSON.parse(r.stdout) as unknown;
    if (plan === null || typeof plan !== "object" || Array.isArray(plan)) return { ok: false, reason: "terraform show -json printed no JSON object" };
    return { ok: true, plan: plan as Record<string, unknown> };
  } catch {
    return { ok: false, reason: "terraform show -json printed unreadable JSON" };
  }
}

const findingSchema = z.object({
  id: z.string().min(1),
  level: z.enum(["error", "warning"]),
  address: z.string(),
  attribute: z.string(),
  expected: z.string(),
  found: z.string(),
  info: z.string().optional(),
  fix: z.string().optional(),
  waived: z.object({ reason: z.string() }).optional(),
});

export type PolicyFinding = z.infer<typeof findingSchema>;

/** policy.json as the page shows it: absent, unreadable (why), or its findings. */
export type PolicyView = { readonly state: "absent" } | { readonly state: "unreadable"; readonly reason: string } | { readonly state: "present"; readonly findings: readonly PolicyFinding[] };

/** Reads policy.json's findings: `{ "findings": [...] }` (the engine's file) or a bare list of findings. */
export function parsePolicyFile(text: string | null): PolicyView {
  if (text === null) return { state: "absent" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { state: "unreadable", reason: `not JSON (${(e as Error).message})` };
  }
  const list = Array.isArray(json) ? json : json !== null && typeof json === "object" ? (json as { findings?: unknown }).findings : undefined;
  const parsed = z.array(findingSchema).safeParse(list);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { state: "unreadable", reason: `findings: ${i.path.join(".") || "(root)"}: ${i.message}` };
  }
  return { state: "present", findings: parsed.data };
}

export function readPolicyFile(bundleDir: string): PolicyView {
  const path = join(bundleDir, POLICY_FILE);
  return parsePolicyFile(existsSync(path) ? readFileSync(path, "utf8") : null);
}

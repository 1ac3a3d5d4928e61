/**
 * What the HTML review page reads from a bundle besides its manifest and its plan (the plan as JSON is
 * engine/io/plan-show.ts, shared with the cost command): the policy findings, policy.json when the
 * engine wrote one, else none.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const POLICY_FILE = "policy.json";

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

/**
 * Recorded exceptions: a reviewed decision to accept one finding of one rule on one resource, with
 * its reason. Kept in a file beside the code (policy-exceptions.json) so the decision is reviewed
 * like code and the reason is copied into the findings, the plan summary and the audit record.
 *
 *   { "exceptions": [
 *       { "rule": "POLICY-STATEFUL-DESTROY", "address": "aws_s3_bucket.old_logs",
 *         "reason": "logs moved to the log-storage bucket in #123; retention period is over", "env": "prod" } ] }
 *
 * A CLI flag (`--allow <rule>:<address> --reason "..."`) builds the same objects.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { PolicyException } from "./types";

export const POLICY_EXCEPTIONS_FILE = "policy-exceptions.json";

const exceptionSchema = z
  .object({
    rule: z.string().regex(/^POLICY-[A-Z0-9-]+$/, "a rule id such as POLICY-STATEFUL-DESTROY"),
    address: z.string().min(1, "a resource address from the plan"),
    reason: z.string().trim().min(10, "a reason of at least 10 characters"),
    env: z.string().optional(),
  })
  .strict();

const fileSchema = z.object({ exceptions: z.array(z.unknown()) }).strict();

/** Entries as found: valid ones, and a message per invalid one (the evaluator reports those). */
export interface ParsedExceptions {
  readonly exceptions: PolicyException[];
  readonly problems: string[];
}

/** Reads the exceptions document (already JSON-parsed); never throws. */
export function parseExceptions(doc: unknown, source = POLICY_EXCEPTIONS_FILE): ParsedExceptions {
  const file = fileSchema.safeParse(doc);
  if (!file.success) return { exceptions: [], problems: [`${source}: expected { "exceptions": [ ... ] }`] };
  const exceptions: PolicyException[] = [];
  const problems: string[] = [];
  file.data.exceptions.forEach((entry, i) => {
    const r = exceptionSchema.safeParse(entry);
    if (r.success) exceptions.push(r.data);
    else problems.push(`${source}: exceptions[${i}]: ${r.error.issues.map((x) => `${x.path.join(".") || "(entry)"} ${x.message}`).join("; ")}`);
  });
  return { exceptions, problems };
}

/** Reads the exceptions file; a missing file is no exceptions, an unreadable one a problem. */
export function readExceptions(file: string): ParsedExceptions {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { exceptions: [], problems: [] };
    return { exceptions: [], problems: [`${file}: ${(e as Error).message}`] };
  }
  try {
    return parseExceptions(JSON.parse(text), file);
  } catch (e) {
    return { exceptions: [], problems: [`${file}: not JSON: ${(e as Error).message}`] };
  }
}

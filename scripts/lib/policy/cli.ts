/**
 * The policies as a command, for CI and for anyone holding a plan JSON:
 *
 *   terraform -chdir=cdktf.out/stacks/prod show -json plans/prod/<id>/plan.tfplan \
 *     | node dist/scripts/lib/policy/cli.js --env prod [--exceptions policy-exceptions.json] [--markdown]
 *
 * Reads the plan JSON from stdin (or --plan <file>), prints the findings (text, or Markdown for
 * $GITHUB_STEP_SUMMARY). Exit 0: nothing blocks approval; 1: an error-level finding blocks it;
 * 2: the command itself could not run (unknown env, unreadable input).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getEnvironment } from "../../../envs";
import { helpText, parseCommandLine, UsageError, type CommandSpec } from "../cli/args";
import { PROJECT_ROOT } from "../toolchain";
import { blocksApproval, evaluatePolicies } from "./evaluate";
import { POLICY_EXCEPTIONS_FILE, readExceptions } from "./exceptions";
import { formatFindings, formatFindingsMarkdown } from "./format";

export const POLICY_CLI = {
  usage: "node dist/scripts/lib/policy/cli.js",
  description: "Evaluates the policies on a plan JSON (terraform show -json), read from stdin or --plan.\nExit 0: nothing blocks approval; 1: an error-level finding blocks it; 2: the command could not run.",
  options: {
    env: { type: "string", value: "ENV", required: true, help: "the environment the plan is for (its config decides the rules)" },
    plan: { type: "string", value: "FILE", help: "read the plan JSON from FILE (default stdin)" },
    exceptions: { type: "string", value: "FILE", help: `the waivers (default ${POLICY_EXCEPTIONS_FILE} of the project)` },
    markdown: { type: "boolean", help: "print a Markdown table (for $GITHUB_STEP_SUMMARY)" },
  },
} as const satisfies CommandSpec;

export interface CliResult {
  readonly code: 0 | 1 | 2;
  readonly out: string;
}

/** The whole command as a function of its arguments and input text. */
export function runPolicyCli(argv: readonly string[], readInput: (file: string | null) => string): CliResult {
  let values;
  try {
    const parsed = parseCommandLine(POLICY_CLI, argv);
    if (parsed.help) return { code: 0, out: helpText(POLICY_CLI) };
    values = parsed.values;
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, out: `policy: ${e.message}\n${e.usage}\n` };
    throw e;
  }
  const envName = values.env;
  try {
    const env = getEnvironment(envName);
    const { exceptions, problems } = readExceptions(values.exceptions ?? join(PROJECT_ROOT, POLICY_EXCEPTIONS_FILE));
    let plan: unknown;
    try {
      plan = JSON.parse(readInput(values.plan ?? null));
    } catch (e) {
      plan = undefined; // the evaluator reports POLICY-PLAN-UNREADABLE
      if (!(e instanceof SyntaxError)) throw e;
    }
    const findings = evaluatePolicies(plan, env, { exceptions, exceptionProblems: problems });
    const out = values.markdown ? `### Policy: ${env.name}\n\n${formatFindingsMarkdown(findings)}` : formatFindings(findings);
    return { code: blocksApproval(findings) ? 1 : 0, out };
  } catch (e) {
    return { code: 2, out: `policy: ${(e as Error).message}\n` };
  }
}

if (require.main === module) {
  const r = runPolicyCli(process.argv.slice(2), (file) => readFileSync(file ?? 0, "utf8"));
  process.stdout.write(r.out);
  process.exitCode = r.code;
}

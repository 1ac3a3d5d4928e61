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
import { PROJECT_ROOT } from "../toolchain";
import { blocksApproval, evaluatePolicies } from "./evaluate";
import { POLICY_EXCEPTIONS_FILE, readExceptions } from "./exceptions";
import { formatFindings, formatFindingsMarkdown } from "./format";

export interface CliResult {
  readonly code: 0 | 1 | 2;
  readonly out: string;
}

/** The whole command as a function of its arguments and input text. */
export function runPolicyCli(argv: readonly string[], readInput: (file: string | null) => string): CliResult {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
  };
  const envName = arg("--env");
  if (!envName) return { code: 2, out: "usage: policy --env <env> [--plan <file>] [--exceptions <file>] [--markdown]\n" };
  try {
    const env = getEnvironment(envName);
    const { exceptions, problems } = readExceptions(arg("--exceptions") ?? join(PROJECT_ROOT, POLICY_EXCEPTIONS_FILE));
    let plan: unknown;
    try {
      plan = JSON.parse(readInput(arg("--plan") ?? null));
    } catch (e) {
      plan = undefined; // the evaluator reports POLICY-PLAN-UNREADABLE
      if (!(e instanceof SyntaxError)) throw e;
    }
    const findings = evaluatePolicies(plan, env, { exceptions, exceptionProblems: problems });
    const out = argv.includes("--markdown") ? `### Policy: ${env.name}\n\n${formatFindingsMarkdown(findings)}` : formatFindings(findings);
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

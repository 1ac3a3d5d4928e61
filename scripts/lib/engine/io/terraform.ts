/**
 * The terraform runner: the project's binary (TERRAFORM_BINARY_NAME via terraformBinary()), the
 * project's CLI config and no checkpoint (terraformEnv()), never a prompt. Output is captured and,
 * where harmless (init, apply), streamed; plan and show output is never streamed (it can hold values).
 */
import { spawn } from "node:child_process";
import { EngineError } from "../core/errors";
import type { StateIdentity } from "../core/facts";
import { terraformBinary, terraformEnv } from "../../toolchain";

export interface TfResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TfOptions {
  readonly cwd: string;
  /** Write output to this sink as it comes. */
  readonly echo?: (chunk: string) => void;
  readonly vars?: NodeJS.ProcessEnv;
}

export function runTerraform(args: readonly string[], options: TfOptions): Promise<TfResult> {
  const vars = options.vars ?? process.env;
  const binary = terraformBinary(vars);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: terraformEnv({}, vars), stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => {
      out.push(b);
      options.echo?.(b.toString("utf8"));
    });
    child.stderr.on("data", (b: Buffer) => {
      err.push(b);
      options.echo?.(b.toString("utf8"));
    });
    child.on("error", (e) => reject(new EngineError(`could not run ${binary} ${args[0]}: ${e.message}`)));
    child.on("close", (code, signal) =>
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
}

/** Why terraform refused, when it is a refusal rather than a crash. */
export function classifyFailure(result: TfResult): "PLAN-STALE" | "STATE-LOCKED" | null {
  const text = `${result.stdout}\n${result.stderr}`;
  if (/Saved plan is stale/i.test(text)) return "PLAN-STALE";
  if (/Error acquiring the state lock/i.test(text)) return "STATE-LOCKED";
  return null;
}

export function failure(what: string, result: TfResult): EngineError {
  const tail = `${result.stderr}\n${result.stdout}`.trim().split("\n").slice(-25).join("\n");
  return new EngineError(`terraform ${what} failed (exit ${result.code})`, tail);
}

/** `terraform state pull`: the state's serial and lineage, null when there is no state yet. */
export function parseStatePull(stdout: string): StateIdentity | null {
  const text = stdout.trim();
  if (text === "") return null;
  const json = JSON.parse(text) as { serial?: unknown; lineage?: unknown };
  if (typeof json.serial !== "number" || typeof json.lineage !== "string") throw new Error("state has no serial/lineage");
  // A backend without a state object yet answers with an empty state (no lineage): no state.
  if (json.lineage === "") return null;
  return { serial: json.serial, lineage: json.lineage };
}

/** `terraform version -json`: the version and the providers selected in this working directory. */
export function parseVersion(stdout: string): { version: string; providers: Record<string, string> } {
  const json = JSON.parse(stdout) as { terraform_version?: string; provider_selections?: Record<string, string> };
  return { version: json.terraform_version ?? "unknown", providers: json.provider_selections ?? {} };
}

/** The backend block of a synthesized cdk.tf.json. */
export function backendOf(cdkTfJson: unknown): { type: string; bucket: string | null; key: string | null; lockTable: string | null; region: string | null } {
  const backend = ((cdkTfJson as { terraform?: { backend?: Record<string, Record<string, unknown>> } }).terraform?.backend ?? {}) as Record<string, Record<string, unknown>>;
  const [type, config] = Object.entries(backend)[0] ?? ["local", {}];
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return { type, bucket: str(config.bucket), key: str(config.key), lockTable: str(config.dynamodb_table), region: str(config.region) };
}

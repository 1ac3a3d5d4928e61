/**
 * The terraform runner: the project's binary (TERRAFORM_BINARY_NAME via terraformBinary()), the
 * project's CLI config and no checkpoint (terraformEnv()), never a prompt. Output is captured and,
 * where harmless (init, apply), streamed; plan and show output is never streamed (it can hold values).
 *
 * Every run is bounded and never outlives the engine:
 * - terraform runs under a small guard process that leads its own process group. The guard forwards
 *   terraform's output and watches the engine: when the engine dies (even by SIGKILL) it interrupts
 *   terraform the way Ctrl-C does (terraform finishes what is in flight, writes the state, releases the
 *   state lock), and after a grace period kills the whole group, providers included. terraform never
 *   writes into a pipe whose reader is gone (that kills it abruptly, lock held).
 * - each subcommand has a bound (PROMOTE_TIMEOUT_<INIT|PLAN|APPLY|SHOW|STATE|VERSION|UNLOCK>, seconds;
 *   defaults far above what a slow real run takes). A run past its bound, or interrupted by the engine
 *   (interruptTerraform(): SIGINT/SIGTERM to the CLI), is ended the same way and rejects with a named
 *   error (TERRAFORM-TIMEOUT, TERRAFORM-INTERRUPTED) so the caller's cleanup and audit still run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineError } from "../core/errors";
import type { StateIdentity } from "../core/facts";
import { terraformBinary, terraformEnv } from "../../toolchain";

export interface TfResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * The state lock ids this run tried to take (plan, apply and `init -migrate-state`, which locks the
   * destination: from terraform's own INFO log of its
   * backend, "Attempting to lock remote state ... tf_backend.lock.id=<id>"). A STATE-LOCKED whose held lock is one
   * of these is this run's own lock, left behind when terraform's lock request was retried after the
   * first attempt had in fact succeeded (see ownLockLeftBehind).
   */
  readonly attemptedLockIds?: readonly string[];
}

/** Whether a run takes the state lock (plan, apply; init only to migrate state): the engine reads its backend log for the lock ids. */
const takesLock = (args: readonly string[]): boolean => args[0] === "plan" || args[0] === "apply" || (args[0] === "init" && args.includes("-migrate-state"));

/** The lock ids a terraform INFO log says its backend tried to take. */
export function attemptedLockIds(log: string): string[] {
  const ids = new Set<string>();
  for (const line of log.split("\n")) {
    // terraform 1.11: "backend-s3: Attempting to lock remote state (DynamoDB only)...: tf_backend.lock.id=<id> ..."
    if (!/Attempting to lock remote state|Locking remote state/.test(line)) continue;
    const id = /tf_backend\.lock\.id=([0-9a-f-]{36})/.exec(line)?.[1];
    if (id) ids.add(id);
  }
  return [...ids];
}

/**
 * The held lock of a STATE-LOCKED run when it is the run's own (its id one this very run tried to take):
 * nobody else can hold a lock with that id, and the run has ended, so releasing it is safe. null for
 * a lock held by anyone else (or when the run's lock ids are unknown).
 */
export function ownLockLeftBehind(run: TfResult): string | null {
  const held = parseLockInfo(`${run.stdout}\n${run.stderr}`)?.id ?? null;
  return held !== null && (run.attemptedLockIds ?? []).includes(held) ? held : null;
}

export interface TfOptions {
  readonly cwd: string;
  /** Write output to this sink as it comes. */
  readonly echo?: (chunk: string) => void;
  readonly vars?: NodeJS.ProcessEnv;
  /** Seconds before the run is ended. @default the subcommand's bound (timeoutSeconds()) */
  readonly timeoutSeconds?: number;
  /** Ends the run (as an interrupt) when aborted: a caller's cleanup of runs it no longer waits for. */
  readonly signal?: AbortSignal;
  /**
   * The guard writes terraform's outcome here (JSON: code, signal, interrupted, at) when terraform ends,
   * also after the engine died: `promote complete` reads it to learn how an orphaned apply ended.
   */
  readonly exitFile?: string;
}

/** What the guard wrote when terraform ended. */
export interface TfExitRecord {
  readonly code: number | null;
  readonly signal: string | null;
  /** The guard interrupted terraform (the engine died, timed out or was interrupted). */
  readonly interrupted: boolean;
  readonly at: string;
}

/** Default bounds per subcommand, seconds: far above a slow real run (an RDS or CloudFront apply). */
export const DEFAULT_TIMEOUTS: Readonly<Record<string, number>> = {
  init: 900,
  plan: 3600,
  apply: 6 * 3600,
  show: 600,
  state: 600,
  version: 120,
  "force-unlock": 300,
  other: 3600,
};
/** Seconds between the interrupt and the kill of terraform's process group. @default 120 */
export const DEFAULT_GRACE_SECONDS = 120;

/** The variable that bounds a subcommand: PROMOTE_TIMEOUT_PLAN, PROMOTE_TIMEOUT_FORCE_UNLOCK... */
export const timeoutVariable = (subcommand: string): string =>
  `PROMOTE_TIMEOUT_${(subcommand in DEFAULT_TIMEOUTS ? subcommand : "other").toUpperCase().replace(/-/g, "_")}`;

/** A positive number of seconds from a variable, the default when unset; an error naming it when invalid. */
export function secondsFrom(vars: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = vars[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new EngineError(`${name} must be a number of seconds more than 0, but "${raw}" was given`);
  return n;
}

/** The bound of one terraform subcommand (seconds). */
export function timeoutSeconds(subcommand: string, vars: NodeJS.ProcessEnv): number {
  return secondsFrom(vars, timeoutVariable(subcommand), DEFAULT_TIMEOUTS[subcommand] ?? DEFAULT_TIMEOUTS.other);
}

/**
 * The guard (run as `node -e`): argv = [enginePid, graceSeconds, binary, ...args]. It starts terraform
 * in its own process group, forwards its output (ignoring a closed pipe), exits with its code, and on
 * SIGTERM/SIGINT or the engine's death interrupts terraform, then kills the group after the grace.
 */
const GUARD = String.raw`
const { spawn } = require("node:child_process");
const { writeFileSync, renameSync } = require("node:fs");
const [enginePid, grace, exitFile, bin, ...args] = process.argv.slice(1);
for (const s of [process.stdout, process.stderr]) s.on("error", () => {});
const parent = process.ppid;
const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
child.stdout.on("data", (b) => { try { process.stdout.write(b); } catch {} });
child.stderr.on("data", (b) => { try { process.stderr.write(b); } catch {} });
child.on("error", (e) => { try { process.stderr.write("promote-guard: could not run " + bin + ": " + e.message + "\n"); } catch {} process.exit(127); });
let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  try { process.stderr.write("promote-guard: " + why + ": interrupting terraform\n"); } catch {}
  try { child.kill("SIGINT"); } catch {}
  setTimeout(() => { try { process.kill(-process.pid, "SIGKILL"); } catch {} }, Number(grace) * 1000).unref();
}
process.on("SIGTERM", () => stop("ended by the engine"));
process.on("SIGINT", () => stop("interrupted"));
process.on("SIGHUP", () => stop("hang-up"));
const alive = () => { try { process.kill(Number(enginePid), 0); return process.ppid === parent; } catch (e) { return e.code === "EPERM"; } };
const watch = setInterval(() => { if (!alive()) stop("the engine (pid " + enginePid + ") is gone"); }, 200);
child.on("close", (code, signal) => {
  clearInterval(watch);
  if (exitFile) {
    try {
      writeFileSync(exitFile + ".tmp", JSON.stringify({ code, signal, interrupted: stopping, at: new Date().toISOString() }));
      renameSync(exitFile + ".tmp", exitFile);
    } catch {}
  }
  process.exitCode = code === null ? (signal === "SIGINT" ? 130 : 137) : code;
});
`;

/** Guards of running terraform processes, so an interrupt of the engine ends them. */
const running = new Set<{ stop(reason: "interrupted"): void }>();

/** Ends every running terraform (SIGINT to the CLI): each run rejects with TERRAFORM-INTERRUPTED. */
export function interruptTerraform(): number {
  for (const r of running) r.stop("interrupted");
  return running.size;
}

export function runTerraform(args: readonly string[], options: TfOptions): Promise<TfResult> {
  const vars = options.vars ?? process.env;
  const binary = terraformBinary(vars);
  const subcommand = args[0] ?? "other";
  const limit = options.timeoutSeconds ?? timeoutSeconds(subcommand, vars);
  const grace = secondsFrom(vars, "PROMOTE_TIMEOUT_GRACE", DEFAULT_GRACE_SECONDS);
  // For a run that takes the state lock: terraform's core INFO log in a private file, read for the lock
  // ids it tried (never when the caller asked for terraform's logs itself).
  const logDir = takesLock(args) && !vars.TF_LOG && !vars.TF_LOG_CORE && !vars.TF_LOG_PATH ? mkdtempSync(join(tmpdir(), "promote-tflog-")) : null;
  const logVars = logDir ? { TF_LOG_CORE: "INFO", TF_LOG_PATH: join(logDir, "terraform.log") } : {};
  const lockIdsLogged = (): string[] | undefined => {
    if (!logDir) return undefined;
    try {
      return attemptedLockIds(readFileSync(join(logDir, "terraform.log"), "utf8"));
    } catch {
      return [];
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  };
  return new Promise((resolvePromise, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["-e", GUARD, "--", String(process.pid), String(grace), options.exitFile ?? "", binary, ...args], {
      cwd: options.cwd,
      env: { ...terraformEnv({}, vars), ...logVars },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let ended: "timeout" | "interrupted" | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    // Set once the run is over: a later stop (an abort of a read the caller no longer needs) must not
    // start a kill timer that nothing clears, which kept the engine alive (grace + 10) s after its work.
    let finished = false;
    const handle = {
      stop(reason: "timeout" | "interrupted") {
        if (ended !== null || finished) return;
        ended = reason;
        try {
          child.kill("SIGTERM");
        } catch {
          // gone already
        }
        // The guard kills the group after the grace; this is the backstop should the guard be stuck.
        killTimer = setTimeout(() => {
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {
            // gone already
          }
        }, (grace + 10) * 1000);
      },
    };
    running.add(handle);
    if (options.signal?.aborted) handle.stop("interrupted");
    const onAbort = () => handle.stop("interrupted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      finished = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", onAbort);
      running.delete(handle);
    };
    const timer = setTimeout(() => handle.stop("timeout"), limit * 1000);
    child.stdout?.on("data", (b: Buffer) => {
      out.push(b);
      options.echo?.(b.toString("utf8"));
    });
    child.stderr?.on("data", (b: Buffer) => {
      err.push(b);
      options.echo?.(b.toString("utf8"));
    });
    child.on("error", (e) => {
      settle();
      lockIdsLogged();
      reject(new EngineError(`could not run ${binary} ${subcommand}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      settle();
      const lockIds = lockIdsLogged();
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 127 && /promote-guard: could not run/.test(stderr)) {
        reject(new EngineError(`could not run ${binary} ${subcommand}: ${stderr.trim().split("\n").slice(-1)[0]}`));
        return;
      }
      if (ended === "timeout") {
        reject(new EngineError(`TERRAFORM-TIMEOUT: terraform ${subcommand} did not finish within ${limit} s (${timeoutVariable(subcommand)}); it was interrupted and its process group ended`, tail(stdout, stderr)));
        return;
      }
      if (ended === "interrupted") {
        reject(new EngineError(`TERRAFORM-INTERRUPTED: terraform ${subcommand} was interrupted (the engine received a signal); its process group was ended`, tail(stdout, stderr)));
        return;
      }
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr, ...(lockIds ? { attemptedLockIds: lockIds } : {}) });
    });
  });
}

/** The guard's record of how terraform ended, or null when there is none (the guard was killed too). */
export function readExitRecord(path: string): TfExitRecord | null {
  try {
    const j = JSON.parse(readFileSync(path, "utf8")) as Partial<TfExitRecord>;
    return { code: typeof j.code === "number" ? j.code : null, signal: typeof j.signal === "string" ? j.signal : null, interrupted: j.interrupted === true, at: String(j.at ?? "") };
  } catch {
    return null;
  }
}

const tail = (stdout: string, stderr: string): string => `${stderr}\n${stdout}`.trim().split("\n").slice(-25).join("\n");

/** Why terraform refused, when it is a refusal rather than a crash. */
export function classifyFailure(result: TfResult): "PLAN-STALE" | "STATE-LOCKED" | null {
  const text = `${result.stdout}\n${result.stderr}`;
  if (/Saved plan is stale/i.test(text)) return "PLAN-STALE";
  // Held by someone (terraform prints who); an unreachable lock table is an error, not a refusal.
  if (/Error acquiring the state lock/i.test(text) && (/Lock Info:/.test(text) || /ConditionalCheckFailed/i.test(text))) return "STATE-LOCKED";
  return null;
}

/** Output of a run that could not reach an endpoint (the emulator or AWS stopped answering). */
const UNREACHABLE = /connection refused|dial tcp|no such host|i\/o timeout|connection reset by peer|exceeded maximum number of attempts/i;

export function failure(what: string, result: TfResult): EngineError {
  const text = `${result.stdout}\n${result.stderr}`;
  const endpoint = /(https?:\/\/[^\s"/]+)/.exec(text.split("\n").find((l) => UNREACHABLE.test(l)) ?? "")?.[1];
  if (UNREACHABLE.test(text)) {
    return new EngineError(`ENDPOINT-UNREACHABLE: terraform ${what} could not reach ${endpoint ?? "an endpoint"} (exit ${result.code}); check that the emulator or AWS answers`, tail(result.stdout, result.stderr));
  }
  return new EngineError(`terraform ${what} failed (exit ${result.code})`, tail(result.stdout, result.stderr));
}

/** terraform's "Lock Info" block of a state-lock error: who holds the lock, since when. */
export interface StateLockInfo {
  readonly id: string | null;
  readonly path: string | null;
  readonly operation: string | null;
  readonly who: string | null;
  readonly version: string | null;
  readonly created: string | null;
}

/** Parses the Lock Info terraform prints when it cannot take the state lock (null when absent). */
export function parseLockInfo(text: string): StateLockInfo | null {
  const block = /Lock Info:\s*\n([\s\S]*?)(?:\n\s*\n|$)/.exec(text)?.[1];
  if (!block) return null;
  const field = (name: string): string | null => new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, "m").exec(block)?.[1]?.trim() || null;
  return { id: field("ID"), path: field("Path"), operation: field("Operation"), who: field("Who"), version: field("Version"), created: field("Created") };
}

/** "12 min" style age of a lock created at terraform's "2026-12-01 20:30:00.123 +0000 UTC", or null. */
export function lockAge(created: string | null, now: Date): string | null {
  if (!created) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*([+-]\d{2}):?(\d{2})/.exec(created);
  if (!m) return null;
  const at = Date.parse(`${m[1]}T${m[2].replace(/(\.\d{3})\d+/, "$1")}${m[3]}:${m[4]}`);
  if (Number.isNaN(at)) return null;
  const s = Math.max(0, Math.round((now.getTime() - at) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
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

/** The few git facts the engine reads, and who is running it. Every git call is bounded (PROMOTE_TIMEOUT_GIT). */
import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";
import { EngineError } from "../core/errors";

/** Seconds one git command may take. @default 120 */
export const DEFAULT_GIT_TIMEOUT_SECONDS = 120;

function gitTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.PROMOTE_TIMEOUT_GIT;
  if (raw === undefined || raw.trim() === "") return DEFAULT_GIT_TIMEOUT_SECONDS * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new EngineError(`PROMOTE_TIMEOUT_GIT must be a number of seconds more than 0, but "${raw}" was given`);
  return n * 1000;
}

export function git(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const timeout = gitTimeoutMs(env);
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], timeout, killSignal: "SIGKILL" }).trim();
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message: string; code?: string; signal?: string };
    if (err.code === "ETIMEDOUT" || err.signal === "SIGKILL") {
      throw new EngineError(`GIT-TIMEOUT: git ${args.join(" ")} did not finish within ${timeout / 1000} s in ${dir} (PROMOTE_TIMEOUT_GIT)`);
    }
    throw new EngineError(`git ${args.join(" ")} failed in ${dir}`, String(err.stderr ?? err.message).trim());
  }
}

/** The checked-out commit (full id). */
export function headCommit(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  return git(dir, ["rev-parse", "--verify", "HEAD^{commit}"], env);
}

/** Paths with uncommitted changes (staged, unstaged or untracked), limited to `paths` when given. */
export function dirtyPaths(dir: string, paths: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  const out = git(dir, ["status", "--porcelain", "--untracked-files=all", "--", ...paths], env);
  return out === "" ? [] : out.split("\n").map((l) => l.slice(3));
}

/** Where the acting name came from, for messages. */
export type IdentitySource = "--by" | "PROMOTE_USER" | "git config user.name" | "the OS user";

/**
 * Who is acting, and where the name came from: --by, else PROMOTE_USER, else git config user.name, else
 * the OS user. The first one given is used as it is (trimmed), never skipped for being odd: the caller
 * validates it (core/identity.ts) and refuses a bad one (IDENTITY-INVALID) rather than silently using
 * the next.
 */
export function whoAmIWithSource(by: string | undefined, dir: string, vars: NodeJS.ProcessEnv = process.env): { name: string; source: IdentitySource } {
  if (by !== undefined) return { name: by.trim(), source: "--by" };
  if (vars.PROMOTE_USER !== undefined && vars.PROMOTE_USER !== "") return { name: vars.PROMOTE_USER.trim(), source: "PROMOTE_USER" };
  try {
    const name = execFileSync("git", ["-C", dir, "config", "user.name"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: gitTimeoutMs(vars) }).trim();
    if (name) return { name, source: "git config user.name" };
  } catch {
    // not configured: fall through
  }
  return { name: userInfo().username, source: "the OS user" };
}

/** Who is acting (see whoAmIWithSource). */
export function whoAmI(by: string | undefined, dir: string, vars: NodeJS.ProcessEnv = process.env): string {
  return whoAmIWithSource(by, dir, vars).name;
}

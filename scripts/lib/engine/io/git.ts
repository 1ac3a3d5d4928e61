/** The few git facts the engine reads, and who is running it. */
import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";
import { EngineError } from "../core/errors";

export function git(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message: string };
    throw new EngineError(`git ${args.join(" ")} failed in ${dir}`, String(err.stderr ?? err.message).trim());
  }
}

/** The checked-out commit (full id). */
export function headCommit(dir: string): string {
  return git(dir, ["rev-parse", "--verify", "HEAD^{commit}"]);
}

/** Paths with uncommitted changes (staged, unstaged or untracked), limited to `paths` when given. */
export function dirtyPaths(dir: string, paths: readonly string[] = []): string[] {
  const out = git(dir, ["status", "--porcelain", "--untracked-files=all", "--", ...paths]);
  return out === "" ? [] : out.split("\n").map((l) => l.slice(3));
}

/**
 * Who is acting: --by, else PROMOTE_USER, else git config user.name, else the OS user.
 */
export function whoAmI(by: string | undefined, dir: string, vars: NodeJS.ProcessEnv = process.env): string {
  if (by && by.trim()) return by.trim();
  if (vars.PROMOTE_USER && vars.PROMOTE_USER.trim()) return vars.PROMOTE_USER.trim();
  try {
    const name = execFileSync("git", ["-C", dir, "config", "user.name"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (name) return name;
  } catch {
    // not configured: fall through
  }
  return userInfo().username;
}

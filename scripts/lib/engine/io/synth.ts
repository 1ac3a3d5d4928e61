/**
 * Synthesis for one environment, only when needed. The app is synthesized into a private temporary
 * folder and only this env's stack files are moved into <outDir>/stacks/<env>/ (file by file, each
 * by rename), so another env's working directory is never rewritten under a running plan or apply.
 * A stamp beside the stack records the commit, whether the plan inputs had uncommitted changes, and the
 * synth-relevant variables it was made from; a stack is reused only when its stamp says it is the synth
 * of the checkout's commit from a clean tree (a speculative plan's synth of uncommitted code is never
 * reused by a normal plan). Synth is bounded (PROMOTE_TIMEOUT_SYNTH) and ends its process group.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EngineError } from "../core/errors";
import { canonicalJson, sha256 } from "../core/hash";
import { sha256File } from "./files";
import { dirtyPaths } from "./git";
import { stackDir, type EnginePaths } from "./paths";
import { secondsFrom } from "./terraform";
import { PROJECT_ROOT } from "../../toolchain";

export const SYNTH_FILE = "cdk.tf.json";
export const STAMP_FILE = ".promote-synth.json";
/**
 * What the project's synth reads, and what changes what a plan may do (policy exceptions; the engine
 * itself, which holds this list and the policies): uncommitted changes to any of them make a gated plan
 * refuse (WORKTREE-DIRTY) and mark a bundle dirty.
 */
export const PLAN_INPUTS: readonly string[] = [
  "main.ts", "envs", "constructs", "stacks", "package.json", "package-lock.json", "scripts/toolchain.json", "cdktf.json", "tsconfig.json",
  "policy-exceptions.json", "scripts", "bin",
];

/**
 * The paths whose uncommitted changes count, for this checkout: the list above for the project's own
 * synth; every path (the empty list) when PROMOTE_SYNTH_COMMAND runs a synth whose inputs are unknown.
 */
export function planInputs(vars: NodeJS.ProcessEnv): readonly string[] {
  return vars.PROMOTE_SYNTH_COMMAND ? [] : PLAN_INPUTS;
}

/** Seconds a synth may take (PROMOTE_TIMEOUT_SYNTH). @default 1800 */
export const DEFAULT_SYNTH_TIMEOUT_SECONDS = 1800;

/** Files of a stack folder that synth never writes. */
const KEEP = new Set([".terraform", ".terraform.lock.hcl", STAMP_FILE]);

/** Variables that can change what synth writes (their digest, never their values, is stamped). */
export function synthVarsDigest(vars: NodeJS.ProcessEnv): string {
  const relevant = Object.entries(vars)
    .filter(([k]) => /^(TARGET|LOCAL_.*|ACCOUNT_ID_.*|EPHEMERAL_ENVS|CDKTF_.*|STACK_.*)$/.test(k) && k !== "CDKTF_OUTDIR")
    .sort(([a], [b]) => a.localeCompare(b));
  return sha256(canonicalJson(relevant));
}

interface Stamp {
  commit: string;
  /** The plan inputs had uncommitted changes when synth ran (absent: an older stamp, never reused). */
  dirty?: boolean;
  varsDigest: string;
  sha256: string;
}

/**
 * Why this env needs a synth, or null when its stack is current. `anyCommit`: a stack synthesized from
 * another commit (or a dirty checkout) is good enough (drift reads the state and the real objects, not the
 * configuration), so a pending bundle's working directory is not rewritten.
 */
export function synthReason(paths: EnginePaths, env: string, commit: string, dirty: boolean, vars: NodeJS.ProcessEnv, anyCommit = false): string | null {
  const dir = stackDir(paths, env);
  const digest = sha256File(join(dir, SYNTH_FILE));
  if (digest === null) return "no synthesized stack yet";
  if (dirty && !anyCommit) return "the checkout has uncommitted changes";
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(join(dir, STAMP_FILE), "utf8")) as Stamp;
  } catch {
    return "the stack was not synthesized by promote";
  }
  if (stamp.commit !== commit && !anyCommit) return `synthesized from ${stamp.commit.slice(0, 12)}, checkout is ${commit.slice(0, 12)}`;
  if (stamp.dirty !== false && !anyCommit) return "the stack was synthesized from uncommitted changes (or its stamp does not say it was not)";
  if (stamp.varsDigest !== synthVarsDigest(vars)) return "synth variables (TARGET, LOCAL_*, ACCOUNT_ID_*...) changed";
  if (stamp.sha256 !== digest) return `${SYNTH_FILE} was changed after synth`;
  return null;
}

/** Whether a stack folder's synth was made from uncommitted changes (true when unknown). */
export function synthStampDirty(dir: string): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP_FILE), "utf8")) as Partial<Stamp>;
    return stamp.dirty !== false;
  } catch {
    return true;
  }
}

/** The commit a stack folder was synthesized from (its stamp), or null when unknown. */
export function synthStampCommit(dir: string): string | null {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP_FILE), "utf8")) as Partial<Stamp>;
    return typeof stamp.commit === "string" ? stamp.commit : null;
  } catch {
    return null;
  }
}

/** Runs the app's synth into a temporary folder and moves this env's stack into place. */
export async function synthesize(paths: EnginePaths, env: string, commit: string, vars: NodeJS.ProcessEnv, log: (s: string) => void): Promise<string> {
  mkdirSync(paths.outDir, { recursive: true });
  const inputs = planInputs(vars);
  const dirtyBefore = dirtyPaths(paths.checkoutDir, inputs, vars).length > 0;
  const limit = secondsFrom(vars, "PROMOTE_TIMEOUT_SYNTH", DEFAULT_SYNTH_TIMEOUT_SECONDS);
  const tmp = join(paths.outDir, `.synth-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const childVars = { ...vars, CDKTF_OUTDIR: tmp };
    const custom = vars.PROMOTE_SYNTH_COMMAND;
    // The project's own checkout synthesizes precompiled (setup rebuilds dist/ first when a source is
    // newer); another checkout (a test's temporary one) runs its main.ts through the transpile hook.
    const node = JSON.stringify(process.execPath);
    const [cmd, args, shell] = custom
      ? [custom, [] as string[], true]
      : resolve(paths.checkoutDir) === resolve(PROJECT_ROOT)
        ? [`${node} scripts/setup.mjs --if-needed --quiet && ${node} dist/main.js`, [] as string[], true]
        : [process.execPath, ["-r", join(PROJECT_ROOT, "scripts", "lib", "engine", "ts-hook.js"), "main.ts"], false];
    let timedOut = false;
    const code = await new Promise<number>((resolveCode, reject) => {
      const child = spawn(cmd, args, { cwd: paths.checkoutDir, env: childVars, shell, stdio: ["ignore", "pipe", "pipe"], detached: true });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone already
        }
      }, limit * 1000);
      child.stdout.on("data", (b: Buffer) => log(b.toString("utf8")));
      child.stderr.on("data", (b: Buffer) => log(b.toString("utf8")));
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (c) => {
        clearTimeout(timer);
        resolveCode(c ?? 1);
      });
    });
    if (timedOut) throw new EngineError(`SYNTH-TIMEOUT: synth did not finish within ${limit} s (PROMOTE_TIMEOUT_SYNTH): ${custom ?? "node main.ts"} in ${paths.checkoutDir}`);
    if (code !== 0) throw new EngineError(`synth failed (exit ${code}): ${custom ?? "node main.ts"} in ${paths.checkoutDir}`);
    const src = join(tmp, "stacks", env);
    if (!existsSync(join(src, SYNTH_FILE))) throw new EngineError(`synth wrote no stack "${env}" (${join("stacks", env, SYNTH_FILE)} missing)`);
    const dest = stackDir(paths, env);
    mkdirSync(dest, { recursive: true });
    for (const name of readdirSync(dest)) if (!KEEP.has(name) && !name.startsWith(".apply-")) rmSync(join(dest, name), { recursive: true, force: true });
    moveTree(src, dest);
    const digest = sha256File(join(dest, SYNTH_FILE)) as string;
    const dirty = dirtyBefore || dirtyPaths(paths.checkoutDir, inputs, vars).length > 0;
    const stamp: Stamp = { commit, dirty, varsDigest: synthVarsDigest(vars), sha256: digest };
    writeFileSync(join(dest, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    return digest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function moveTree(src: string, dest: string): void {
  for (const name of readdirSync(src)) {
    const from = join(src, name);
    const to = join(dest, name);
    if (statSync(from).isDirectory()) {
      mkdirSync(to, { recursive: true });
      moveTree(from, to);
    } else {
      const part = `${to}.${process.pid}.part`;
      copyFileSync(from, part);
      renameSync(part, to);
    }
  }
}

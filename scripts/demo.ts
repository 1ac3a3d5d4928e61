/**
 * `npm start`: the local promotion demo on the embedded emulator. One commit goes dev → staging → prod
 * through the real `promote` CLI and real terraform, against moto in three isolated accounts:
 *
 *   emulator up → bootstrap the three state backends → dev plan + auto-apply → staging plan + apply →
 *   prod plan saved → review (with its SHA-256) → a hand-written unsigned approval.json refused →
 *   approval signed by a throwaway approver the demo's allowed_signers names, not the author → apply of exactly that file → ledger and audit → a second prod plan shows no changes →
 *   a tampered bundle is refused → emulator down, time per step.
 *
 * Everything it writes lives in .local/demo/<run>/ (bundles, audit logs, ledger repo, synth output);
 * the developer's plans/, cdktf.out/ and git tags are never touched. Options (DEMO_CLI, `--help`):
 *   --keep          leave the emulator running at the end (prints how to reach it)
 *   --workdir DIR   write under DIR instead of .local/demo/<run>
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { helpText, parseCommandLine, UsageError, type CommandSpec } from "./lib/cli/args";
import { SYNTH_INPUTS } from "./lib/engine/commands";
import { makeThrowawayApprovers } from "./lib/engine/io/signatures";
import { startEmulator, stopEmulator, type EmulatorHandle } from "./lib/emulator";
import { PROJECT_ROOT } from "./lib/toolchain";

const AUTHOR = "alice (platform engineer)";
/** prod's approver: a principal of the demo's own allowed_signers, with a throwaway key made for the run. */
const APPROVER = "bob@example.com";

const mkdirP = (dir: string): string => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
};
const ENVS = ["dev", "staging", "prod"] as const;

interface StepTime {
  readonly name: string;
  readonly seconds: number;
}

class DemoFailure extends Error {}

const started = Date.now();
const times: StepTime[] = [];
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

/** Bold on a terminal; plain text in a log or a pipe. */
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

let stepNo = 0;
const TOTAL_STEPS = 12;

/** Runs one step, printing which step and env it is on and the elapsed time. */
async function step<T>(name: string, env: string, body: () => Promise<T>): Promise<T> {
  stepNo += 1;
  process.stdout.write(`\n${bold(`━━ step ${stepNo}/${TOTAL_STEPS} · ${env.padEnd(7)} · ${elapsed()} ━━ ${name}`)}\n`);
  const t0 = Date.now();
  const value = await body();
  times.push({ name: `${env.padEnd(7)} ${name}`, seconds: (Date.now() - t0) / 1000 });
  return value;
}

/** `npx promote ...` as a user would run it; output streamed, indented. Resolves with the exit code. */
function promote(args: string[], vars: NodeJS.ProcessEnv, opts: { expect?: number; quiet?: boolean } = {}): Promise<{ code: number; out: string }> {
  const expect = opts.expect ?? 0;
  process.stdout.write(`$ npx promote ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), ...args], { cwd: PROJECT_ROOT, env: vars, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const show = (b: Buffer) => {
      const text = b.toString("utf8");
      out += text;
      if (!opts.quiet) process.stdout.write(text.replace(/^(?=.)/gm, "  │ "));
    };
    child.stdout.on("data", show);
    child.stderr.on("data", show);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== expect) {
        if (opts.quiet) process.stdout.write(out.replace(/^(?=.)/gm, "  │ "));
        reject(new DemoFailure(`npx promote ${args.join(" ")} exited ${code}, expected ${expect}`));
      } else {
        resolveRun({ code: code ?? -1, out });
      }
    });
  });
}

/** The newest bundle of an env (ids sort by time). */
function newestBundle(plansDir: string, env: string): { id: string; dir: string; manifest: { plan: { sha256: string }; counts: Record<string, number> } } {
  const dir = join(plansDir, env);
  const ids = readdirSync(dir).filter((d) => !d.startsWith(".")).sort();
  const id = ids[ids.length - 1];
  if (!id) throw new DemoFailure(`no bundle of ${env} in ${dir}`);
  return { id, dir: join(dir, id), manifest: JSON.parse(readFileSync(join(dir, id, "manifest.json"), "utf8")) };
}

function git(args: string[], cwd: string): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new DemoFailure(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The demo promotes a commit: it refuses to start on uncommitted changes to what synth reads. */
function checkCheckout(): string {
  if (!existsSync(join(PROJECT_ROOT, ".git"))) {
    throw new DemoFailure(`the demo promotes a git commit, but ${PROJECT_ROOT} is not a git checkout (expected a clone of the repository)`);
  }
  const dirty = git(["status", "--porcelain", "--", ...SYNTH_INPUTS], PROJECT_ROOT);
  if (dirty) {
    throw new DemoFailure(
      `the demo promotes the checked-out commit, but these synth inputs have uncommitted changes:\n${dirty}\ncommit or stash them, then run npm start again`,
    );
  }
  return git(["rev-parse", "HEAD"], PROJECT_ROOT);
}

export const DEMO_CLI = {
  usage: "npm start --",
  description: "The local promotion demo: one commit dev -> staging -> prod on the embedded emulator (moto).",
  options: {
    keep: { type: "boolean", help: "leave the emulator running at the end (prints how to reach it)" },
    workdir: { type: "string", value: "DIR", help: "write under DIR instead of .local/demo/<run>" },
  },
} as const satisfies CommandSpec;

async function main(argv: string[]): Promise<number> {
  const { values, help } = parseCommandLine(DEMO_CLI, argv);
  if (help) {
    process.stdout.write(helpText(DEMO_CLI));
    return 0;
  }
  const opts = { keep: values.keep, workdir: values.workdir === undefined ? undefined : resolve(values.workdir) };
  const commit = checkCheckout();
  const run = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const work = opts.workdir ?? join(PROJECT_ROOT, ".local", "demo", run);
  const plansDir = join(work, "plans");
  const ledgerDir = join(work, "ledger");
  mkdirSync(ledgerDir, { recursive: true });
  git(["init", "-q"], ledgerDir);
  process.stdout.write(
    `Local promotion demo: commit ${commit.slice(0, 12)} → dev → staging → prod on the embedded emulator (moto)\n` +
      `workspace: ${work}\nauthor: ${AUTHOR}; prod approver: ${APPROVER}\n`,
  );

  let emulator: EmulatorHandle | undefined;
  try {
    emulator = await step("start the emulator", "local", async () => {
      const e = await startEmulator({ stateDir: join(work, "emulator"), env: { ...process.env, EMULATOR_STATE_DIR: "" } });
      process.stdout.write(`moto ${e.moto ?? ""} at ${e.endpoint} (pid ${e.pid}); patches: ${(e.patches ?? []).join(", ")}\n`);
      return e;
    });
    const vars: NodeJS.ProcessEnv = {
      ...process.env,
      ...emulator.env,
      PROMOTE_HOME: plansDir,
      PROMOTE_LEDGER_DIR: ledgerDir,
      CDKTF_OUTDIR: join(work, "cdktf.out"),
      PROMOTE_USER: AUTHOR,
      PROMOTE_USER_EMAIL: "alice@example.com",
      FORCE_COLOR: "0",
    };
    // prod requires signed approvals: the demo names its own throwaway approvers (keys made here, in the
    // run's folder; never the user's), honoured only against this emulator (TARGET=local on loopback).
    const approvers = makeThrowawayApprovers(mkdirP(join(work, "approver-keys")), ["alice@example.com", APPROVER]);
    vars.PROMOTE_DEMO_ALLOWED_SIGNERS = approvers.allowedSigners;

    await step("bootstrap the three state backends (one per account), in parallel", "all", async () => {
      await Promise.all(ENVS.map((env) => promote(["bootstrap", env], vars, { quiet: true })));
      for (const env of ENVS) process.stdout.write(`  │ ${env}: state bucket and lock table created in its own account\n`);
    });

    await step("plan + auto-apply (allowed by dev's config)", "dev", () => promote(["apply", "dev", "--auto"], vars));
    await step("plan (gate: dev applied this commit)", "staging", () => promote(["plan", "staging"], vars));
    await step("apply the saved plan", "staging", () => promote(["apply", "staging"], vars));
    await step("plan saved for review", "prod", () => promote(["plan", "prod"], vars));
    const reviewed = newestBundle(plansDir, "prod");
    await step("review: summary, destructive changes first, and the SHA-256 to approve", "prod", () => promote(["review", "prod", reviewed.id], vars));
    await step("a hand-written approval.json (a typed name, no signature) is refused", "prod", async () => {
      const file = join(reviewed.dir, "approval.json");
      const manifestSha256 = createHash("sha256").update(readFileSync(join(reviewed.dir, "manifest.json"))).digest("hex");
      writeFileSync(file, `${JSON.stringify({ schemaVersion: 1, env: "prod", bundleId: reviewed.id, planSha256: reviewed.manifest.plan.sha256, manifestSha256, approvedBy: "bob", approvedAt: new Date().toISOString(), comment: null }, null, 2)}\n`);
      const r = await promote(["apply", "prod", reviewed.id], vars, { expect: 1 });
      rmSync(file);
      if (!r.out.includes("APPROVAL-UNSIGNED")) throw new DemoFailure("the hand-written approval was refused, but not as APPROVAL-UNSIGNED");
    });
    await step(`approval signed by ${APPROVER} (SSH key, bound to that SHA-256)`, "prod", () =>
      promote(["approve", "prod", reviewed.id, "--sha256", reviewed.manifest.plan.sha256, "--key", approvers.keys[APPROVER]], vars),
    );
    await step("apply exactly the approved plan file (no re-plan)", "prod", () => promote(["apply", "prod", reviewed.id], vars));

    await step("the ledger (deployed/<env>/* tags) and the audit logs", "all", async () => {
      for (const env of ENVS) await promote(["ledger", env], vars);
      for (const env of ENVS) await promote(["audit", "verify", env], vars);
      const audit = readFileSync(join(plansDir, "_audit", "prod.jsonl"), "utf8").trim().split("\n");
      process.stdout.write(`  │ last records of prod's audit log:\n`);
      for (const line of audit.slice(-3)) {
        const r = JSON.parse(line);
        process.stdout.write(`  │   #${r.seq} ${r.at} ${r.command} by ${r.by}: ${r.result}${r.approver ? ` (approver ${r.approver})` : ""} ${r.planSha256 ? `plan ${r.planSha256.slice(0, 16)}…` : ""}\n`);
      }
    });

    const second = await step("a second plan: prod matches the code, no changes", "prod", async () => {
      await promote(["plan", "prod"], vars, { quiet: true });
      const b = newestBundle(plansDir, "prod");
      const { add, change, destroy } = b.manifest.counts;
      process.stdout.write(`  │ ${b.id}: +${add} ~${change} -${destroy}\n`);
      if (add + change + destroy !== 0) throw new DemoFailure(`the second prod plan should show no changes, but shows +${add} ~${change} -${destroy}`);
      return b;
    });

    await step("a tampered bundle is refused (one byte of the plan file flipped)", "prod", async () => {
      const file = join(second.dir, "plan.tfplan");
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(file, bytes);
      const r = await promote(["apply", "prod", second.id], vars, { expect: 1 });
      if (!r.out.includes("PLAN-HASH-MISMATCH")) throw new DemoFailure("the tampered bundle was refused, but not as PLAN-HASH-MISMATCH");
    });
  } finally {
    if (emulator && !opts.keep) await stopEmulator({ stateDir: join(work, "emulator"), port: emulator.port, env: { ...process.env, EMULATOR_STATE_DIR: "" } });
  }

  const total = (Date.now() - started) / 1000;
  process.stdout.write(`\n${bold(`done in ${total.toFixed(0)} s`)} — time per step:\n`);
  for (const t of times) process.stdout.write(`  ${t.seconds.toFixed(1).padStart(6)} s  ${t.name}\n`);
  if (opts.keep && emulator) {
    process.stdout.write(`\nthe emulator is still running at ${emulator.endpoint}; stop it with: node dist/scripts/emulator.js stop --state-dir ${join(work, "emulator")}\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      if (e instanceof UsageError) {
        process.stderr.write(`error: ${e.message}\n${e.usage}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = e instanceof DemoFailure ? 1 : 2;
    },
  );
}

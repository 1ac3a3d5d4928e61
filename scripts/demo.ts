/**
 * `npm start`: the local promotion demo on the embedded emulator. One commit goes dev → staging → prod
 * through the real `promote` CLI and real terraform, against moto in three isolated accounts, on the
 * shared store (each env's S3 store in its own account, the default): three homes that share nothing
 * but the emulator (and the ledger repository, standing for the pushed tags), each with its own
 * PROMOTE_HOME (only a cache of the store) and synth output:
 *
 *   A, the CI runner: bootstraps the three envs (state backend and store), plans + auto-applies dev,
 *     plans and applies staging, plans prod;
 *   B, the approver's laptop: lists prod's bundles in the store, reviews the plan (summary, destructive
 *     changes first, SHA-256) and signs the approval with a throwaway key of an approver the demo's
 *     allowed_signers names (not the author);
 *   C, the production apply job (never synthesized): applies exactly that signed bundle; A's apply of the
 *     same bundle is then refused BUNDLE-ALREADY-APPLIED;
 *   A plans prod again (no changes); on that bundle an attacker who can write prod's store bucket puts a
 *   hand-written approval.json (a typed name, no signature): C's apply is refused APPROVAL-UNSIGNED; then
 *   writes one flipped byte over its plan file (a new object version): C's apply is refused
 *   BUNDLE-INCOMPLETE; the ledger, and the audit chains verified from the store with prod's last records
 *   read there → emulator down, time per step.
 *
 * Everything it writes lives in .local/demo/<run>/ (the homes, the ledger repo, the throwaway approver
 * keys, the emulator's files); the developer's plans/, cdktf.out/, git tags and keys are never touched.
 * Options (DEMO_CLI, `--help`):
 *   --keep          leave the emulator running at the end (prints how to reach it)
 *   --workdir DIR   write under DIR instead of .local/demo/<run>
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { getEnvironment } from "../envs";
import { helpText, parseCommandLine, UsageError, type CommandSpec } from "./lib/cli/args";
import { SYNTH_INPUTS } from "./lib/engine/commands";
import { makeThrowawayApprovers } from "./lib/engine/io/signatures";
import { startEmulator, stopEmulator, type EmulatorHandle } from "./lib/emulator";
import { openEnvStore, type EnvStore } from "./lib/store";
import { PROJECT_ROOT } from "./lib/toolchain";

/** Who pushed the commit and planned it (through the CI runner, home A). */
export const AUTHOR = "alice (via the CI runner)";
/** prod's approver: a principal of the demo's own allowed_signers, with a throwaway key made for the run. */
export const APPROVER = "bob@example.com";
/** Who applies prod (home C): the production apply job. */
export const APPLIER = "production apply job";

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
const TOTAL_STEPS = 14;

/** Runs one step, printing which step and env it is on and the elapsed time. */
async function step<T>(name: string, env: string, body: () => Promise<T>): Promise<T> {
  stepNo += 1;
  process.stdout.write(`\n${bold(`━━ step ${stepNo}/${TOTAL_STEPS} · ${env.padEnd(7)} · ${elapsed()} ━━ ${name}`)}\n`);
  const t0 = Date.now();
  const value = await body();
  times.push({ name: `${env.padEnd(7)} ${name}`, seconds: (Date.now() - t0) / 1000 });
  return value;
}

const say = (text: string) => process.stdout.write(`  │ ${text}\n`);

/** One machine: its own PROMOTE_HOME (a cache of the store) and synth output; the store and the ledger are shared. */
interface Home {
  readonly name: string;
  readonly dir: string;
  readonly vars: NodeJS.ProcessEnv;
}

/** `npx promote ...` as a user runs it on `home`; output streamed, indented. Resolves with the exit code, all output and stdout alone. */
function promote(home: Home, args: string[], opts: { expect?: number; quiet?: boolean } = {}): Promise<{ code: number; out: string; stdout: string }> {
  const expect = opts.expect ?? 0;
  process.stdout.write(`[${home.name}] $ npx promote ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), ...args], { cwd: PROJECT_ROOT, env: home.vars, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    const show = (b: Buffer) => {
      const text = b.toString("utf8");
      out += text;
      if (!opts.quiet) process.stdout.write(text.replace(/^(?=.)/gm, "  │ "));
    };
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
      show(b);
    });
    child.stderr.on("data", show);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== expect) {
        if (opts.quiet) process.stdout.write(out.replace(/^(?=.)/gm, "  │ "));
        reject(new DemoFailure(`[${home.name}] npx promote ${args.join(" ")} exited ${code}, expected ${expect}`));
      } else {
        resolveRun({ code: code ?? -1, out, stdout });
      }
    });
  });
}

/** The bundle a `promote plan` made, as it prints it (`Bundle: <cache dir>/<id>`, `Plan SHA-256: <hex>`). */
function plannedBundle(out: string): { id: string; sha256: string } {
  const dir = /^Bundle:\s+(\S+)$/m.exec(out)?.[1];
  const sha256 = /^Plan SHA-256: ([0-9a-f]{64})$/m.exec(out)?.[1];
  if (dir === undefined || sha256 === undefined) throw new DemoFailure(`the plan printed no "Bundle:" and "Plan SHA-256:" lines:\n${out.slice(-2000)}`);
  return { id: dir.split("/").slice(-1)[0], sha256 };
}

/** A refusal the demo expects: exit 1 and `REFUSED <id>` (never a refusal for another reason). */
async function refused(home: Home, args: string[], id: string): Promise<string> {
  const r = await promote(home, args, { expect: 1 });
  const got = /^REFUSED ([A-Z0-9-]+):/m.exec(r.out)?.[1] ?? "(none)";
  if (got !== id) throw new DemoFailure(`[${home.name}] npx promote ${args.join(" ")} was refused ${got}, expected ${id}`);
  return r.out;
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

/** The caller's variables without the engine's own (PROMOTE_*, CDKTF_*): a shell's PROMOTE_STORE or PROMOTE_HOME never reaches the demo. */
function callerVars(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PROMOTE_|CDKTF_)/.test(k) || k.startsWith("PROMOTE_TIMEOUT_")));
}

export const DEMO_CLI = {
  usage: "npm start --",
  description: "The local promotion demo: one commit dev -> staging -> prod on the embedded emulator (moto), on each env's store, from three homes.",
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
  const ledgerDir = join(work, "ledger");
  mkdirSync(ledgerDir, { recursive: true });
  git(["init", "-q"], ledgerDir);
  const prodCfg = getEnvironment("prod");
  process.stdout.write(
    `Local promotion demo: commit ${commit.slice(0, 12)} → dev → staging → prod on the embedded emulator (moto), on each env's store\n` +
      `workspace: ${work}\nauthor: ${AUTHOR}; prod approver: ${APPROVER}; prod applier: ${APPLIER}\n` +
      `homes (nothing shared but the emulator and the ledger repo): A = CI runner, B = approver's laptop, C = production apply job\n`,
  );

  let emulator: EmulatorHandle | undefined;
  try {
    emulator = await step("start the emulator", "local", async () => {
      const e = await startEmulator({ stateDir: join(work, "emulator"), env: { ...process.env, EMULATOR_STATE_DIR: "" } });
      process.stdout.write(`moto ${e.moto ?? ""} at ${e.endpoint} (pid ${e.pid}); patches: ${(e.patches ?? []).join(", ")}\n`);
      return e;
    });
    // prod requires signed approvals: the demo names its own throwaway approvers (keys made here, in the
    // run's folder; never the user's), honoured only against this emulator (TARGET=local on loopback).
    // The allowed_signers file stands for the config every home reads.
    const approvers = makeThrowawayApprovers(mkdirP(join(work, "approver-keys")), ["alice@example.com", APPROVER]);
    const shared: NodeJS.ProcessEnv = {
      ...callerVars(),
      ...emulator.env,
      PROMOTE_STORE: "s3",
      PROMOTE_LEDGER_DIR: ledgerDir,
      PROMOTE_DEMO_ALLOWED_SIGNERS: approvers.allowedSigners,
      FORCE_COLOR: "0",
    };
    const home = (key: string, name: string, user: Record<string, string>): Home => {
      const dir = mkdirP(join(work, `home-${key}`));
      return { name, dir, vars: { ...shared, PROMOTE_HOME: join(dir, "plans"), CDKTF_OUTDIR: join(dir, "cdktf.out"), ...user } };
    };
    const A = home("a", "A: CI runner", { PROMOTE_USER: AUTHOR, PROMOTE_USER_EMAIL: "alice@example.com" });
    const B = home("b", "B: approver's laptop", { PROMOTE_USER: "bob (laptop)", PROMOTE_USER_EMAIL: APPROVER });
    const C = home("c", "C: production apply job", { PROMOTE_USER: APPLIER });
    /** prod's store, opened with the project's store library (what the attacker and the audit reader use). */
    const withProdStore = async <T>(fn: (store: EnvStore) => Promise<T>): Promise<T> => {
      const store = await openEnvStore(prodCfg, { vars: shared, sessionName: "demo" });
      try {
        return await fn(store);
      } finally {
        store.close();
      }
    };

    await step("home A bootstraps the three envs (state backend, store, roles; one account each), in parallel", "all", async () => {
      await Promise.all(ENVS.map((env) => promote(A, ["bootstrap", env], { quiet: true })));
      for (const env of ENVS) say(`${env}: state bucket, lock table and store (bucket + KMS key) created in its own account`);
    });

    await step("home A: plan + auto-apply (allowed by dev's config)", "dev", () => promote(A, ["apply", "dev", "--auto"]));
    await step("home A: plan (gate: dev applied this commit)", "staging", () => promote(A, ["plan", "staging"]));
    await step("home A: apply the saved plan", "staging", () => promote(A, ["apply", "staging"]));
    const reviewed = await step("home A: plan saved to prod's store for review", "prod", async () => plannedBundle((await promote(A, ["plan", "prod"])).stdout));

    await step("home B lists prod's bundles in the store and reviews the plan: summary, destructive changes first, the SHA-256", "prod", async () => {
      if (existsSync(join(B.vars.PROMOTE_HOME as string, "prod", reviewed.id))) throw new DemoFailure(`home B already has a copy of ${reviewed.id}`);
      say(`home B has no copy of ${reviewed.id}: what follows is fetched from prod's store (every file checked against its commit marker)`);
      const listed = await promote(B, ["bundles", "prod"]);
      if (!listed.out.includes(reviewed.id)) throw new DemoFailure(`home B's list of prod's bundles does not show ${reviewed.id}`);
      const r = await promote(B, ["review", "prod", reviewed.id]);
      if (!r.out.includes(`Plan SHA-256 being approved: ${reviewed.sha256}`)) throw new DemoFailure(`home B's review does not show the SHA-256 home A planned (${reviewed.sha256})`);
    });
    await step(`home B: approval signed by ${APPROVER} (SSH key, bound to that SHA-256), stored in prod's store`, "prod", () =>
      promote(B, ["approve", "prod", reviewed.id, "--sha256", reviewed.sha256, "--key", approvers.keys[APPROVER]]),
    );
    await step("home C (never synthesized) applies exactly the signed plan file (no re-plan)", "prod", async () => {
      if (existsSync(join(C.vars.CDKTF_OUTDIR as string, "stacks", "prod"))) throw new DemoFailure("home C has a synthesized prod stack already");
      const r = await promote(C, ["apply", "prod", reviewed.id]);
      if (!r.out.includes(`Applied prod/${reviewed.id} (plan SHA-256 ${reviewed.sha256})`)) throw new DemoFailure(`home C's apply does not report applying ${reviewed.id}`);
    });
    await step("home A applies the same bundle: refused BUNDLE-ALREADY-APPLIED (the store's create-only claim)", "prod", () => refused(A, ["apply", "prod", reviewed.id], "BUNDLE-ALREADY-APPLIED"));

    const second = await step("home A: a second plan, prod matches the code: no changes", "prod", async () => {
      const b = plannedBundle((await promote(A, ["plan", "prod"], { quiet: true })).stdout);
      const manifest = await withProdStore(async (s) => JSON.parse((await s.bundles.readFile(b.id, "manifest.json")).toString("utf8")) as { counts: Record<string, number> });
      const { add, change, destroy } = manifest.counts;
      say(`${b.id} (in prod's store): +${add} ~${change} -${destroy}`);
      if (add + change + destroy !== 0) throw new DemoFailure(`the second prod plan should show no changes, but shows +${add} ~${change} -${destroy}`);
      return b;
    });

    await step("an attacker who can write prod's store bucket puts a hand-written approval.json (a typed name, no signature) on that bundle; home C's apply is refused", "prod", async () => {
      const key = `bundles/${second.id}/approval.json`;
      await withProdStore(async (s) => {
        const manifestSha256 = createHash("sha256").update(await s.bundles.readFile(second.id, "manifest.json")).digest("hex");
        const forged = { schemaVersion: 1, env: "prod", bundleId: second.id, planSha256: second.sha256, manifestSha256, approvedBy: "bob", approvedAt: new Date().toISOString(), comment: null };
        await s.bundles.bucket.put(key, `${JSON.stringify(forged, null, 2)}\n`, { kmsKeyArn: s.kmsKeyArn });
      });
      say(`written: s3://${prodCfg.store.bucket}/${key} (approvals in the store are create-only and never removed: this one stays)`);
      await refused(C, ["apply", "prod", second.id], "APPROVAL-UNSIGNED");
    });

    await step("the attacker writes one flipped byte over that bundle's plan file (a new object version); home C's apply is refused", "prod", async () => {
      const key = `bundles/${second.id}/plan.tfplan`;
      await withProdStore(async (s) => {
        const bytes = Buffer.from(await s.bundles.readFile(second.id, "plan.tfplan"));
        bytes[bytes.length - 1] ^= 0xff;
        const versionId = await s.bundles.bucket.put(key, bytes, { kmsKeyArn: s.kmsKeyArn, contentType: "application/octet-stream" });
        say(`written: s3://${prodCfg.store.bucket}/${key} version ${versionId} (the commit marker names the first version)`);
      });
      const out = await refused(C, ["apply", "prod", second.id], "BUNDLE-INCOMPLETE");
      if (!out.includes("written over")) throw new DemoFailure("the tampered bundle was refused BUNDLE-INCOMPLETE, but not for the plan file written over");
    });

    await step("the ledger (deployed/<env>/* tags), the audit chains verified from the store, prod's last records", "all", async () => {
      for (const env of ENVS) await promote(A, ["ledger", env]);
      for (const env of ENVS) await promote(B, ["audit", "verify", env]);
      const records = await withProdStore(async (s) => {
        const v = await s.audit.verify();
        if (!v.ok) throw new DemoFailure(`prod's audit log in the store is broken at record ${v.seq}: ${v.reason}`);
        return s.audit.records();
      });
      say(`the last ${Math.min(records.length, 10)} of ${records.length} records of prod's audit log (s3://${prodCfg.store.bucket}/audit/prod/, read with the store library):`);
      for (const r of records.slice(-10)) {
        const outcome = r.result === "refused" ? `refused ${r.refusalId}` : r.result;
        say(`  #${r.seq} ${r.at} ${r.command} by ${r.by}: ${outcome}${r.bundleId ? ` bundle ${r.bundleId}` : ""}${r.approver ? ` (approver ${r.approver})` : ""}`);
      }
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

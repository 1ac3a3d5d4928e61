/**
 * `npm run bench`: prints the project's speed figures. Nothing here asserts a limit; the targets are
 * printed beside the figures so a reader sees where they stand.
 *
 *   synth          median wall time of `node dist/main.js` (all envs) and of 50 generated envs,
 *                  and their ratio to the `node -e 0` floor                    target: 3 envs <= 1 s
 *   local target   bootstrap time, apply time per env on the emulator, resources applied / synthesized
 *                                                                              target: one env <= 60 s
 *   engine         `promote plan dev` of the stand-in (__tests__/fixtures/standin), end to end, against
 *                  raw `terraform plan -out` and raw `plan -out` + `show -json` of the same stack, runs
 *                  interleaved, median of BENCH_RUNS (default 5, at least 3)   target: <= 1.10 to plan + show
 *   engine-dev     the same on the real dev stack (slow: minutes per plan)
 *   demo           the whole `npm start`                                       target: < 5 min
 *
 * Sections: `npm run bench -- synth` (seconds), `-- engine` (a few minutes); with no argument synth,
 * local and engine run. engine-dev and demo run only when named: `npm run bench -- demo`.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, stopEmulator } from "./lib/emulator";
import { PROJECT_ROOT, terraformBinary, terraformEnv } from "./lib/toolchain";

const DIST = join(PROJECT_ROOT, "dist");

/** Wall time of one command in milliseconds; throws with its output when it fails. */
export function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = PROJECT_ROOT): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return ms;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function repeat(n: number, f: () => number): number[] {
  return Array.from({ length: n }, f);
}

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`).padStart(8);

/** A program that synthesizes `count` generated environments (derived from dev) with the compiled stacks. */
function generatedSynthProgram(count: number, outdir: string): string {
  return `
const { App } = require("cdktf");
const { ENVIRONMENTS, validateEnvironments } = require(${JSON.stringify(join(DIST, "envs"))});
const { EnvironmentStack } = require(${JSON.stringify(join(DIST, "stacks", "environment-stack"))});
const { targetFromEnv } = require(${JSON.stringify(join(DIST, "stacks", "target"))});
const base = ENVIRONMENTS[0];
const raw = Array.from({ length: ${count} }, (_, i) => {
  const name = "gen-" + i;
  const account = String(500000000000 + i);
  return { source: "envs/" + name, config: { ...base, name,
    account: { ...base.account, id: account },
    stateBackend: { bucket: "tfstate-" + name + "-" + account, key: "env/" + name + "/terraform.tfstate", lockTable: "tfstate-lock-" + name },
    network: { ...base.network, cidr: "10." + (64 + i) + ".0.0/16" },
    dnsZone: name + ".internal.example.com",
    delivery: { ...base.delivery, promotesFrom: null } } };
});
const app = new App({ outdir: ${JSON.stringify(outdir)} });
const target = targetFromEnv({});
for (const config of validateEnvironments(raw)) new EnvironmentStack(app, config, target);
app.synth();
`;
}

function benchSynth(): void {
  const runs = 5;
  const floor = median(repeat(runs, () => timeCommand(process.execPath, ["-e", "0"])));
  const out = mkdtempSync(join(tmpdir(), "bench-synth-"));
  try {
    const env = { ...process.env, CDKTF_OUTDIR: out, TARGET: "aws" };
    const three = median(repeat(runs, () => timeCommand(process.execPath, [join(DIST, "main.js")], env)));
    const program = join(out, "generated.js");
    writeFileSync(program, generatedSynthProgram(50, join(out, "generated")));
    const fifty = median(repeat(3, () => timeCommand(process.execPath, [program], { ...process.env, NODE_PATH: join(PROJECT_ROOT, "node_modules") })));
    console.log("synth (median wall time)");
    console.log(`  node -e 0 floor                     ${fmt(floor)}`);
    console.log(`  all envs (3 env + 3 bootstrap)      ${fmt(three)}   ${(three / floor).toFixed(1)}x floor   target <= 1 s: ${three <= 1000 ? "met" : "NOT met"}`);
    console.log(`  50 generated envs                   ${fmt(fifty)}   ${(fifty / floor).toFixed(1)}x floor   ${fmt(fifty / 50)} per env`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Runs `npx promote ...` quietly; returns its wall time in ms, or throws with its output. */
function promoteTimed(args: string[], vars: NodeJS.ProcessEnv): Promise<number> {
  return promoteRun(args, vars).then((r) => r.ms);
}

/** `npx promote <args>` (must exit 0): its wall time in ms and its output. */
function promoteRun(args: string[], vars: NodeJS.ProcessEnv): Promise<{ ms: number; out: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), ...args], { cwd: PROJECT_ROOT, env: vars });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.on("close", (code) => {
      if (code === 0) resolveRun({ ms: Number(process.hrtime.bigint() - started) / 1e6, out });
      else reject(new Error(`promote ${args.join(" ")} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

/** terraform in a stack dir with the project's CLI config; returns wall time in ms and stdout. */
function terraformTimed(args: string[], cwd: string, vars: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolveRun, reject) => {
    const child = spawn(terraformBinary(vars), args, { cwd, env: terraformEnv({}, vars) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => {
      if (code === 0) resolveRun({ ms: Number(process.hrtime.bigint() - started) / 1e6, stdout });
      else reject(new Error(`terraform ${args.join(" ")} in ${cwd} exited ${code}:\n${stderr.slice(-3000)}`));
    });
  });
}

/** Resources declared in a synthesized stack (count/for_each are not used by the stacks). */
function synthesizedResources(stackDir: string): number {
  const stack = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as { resource?: Record<string, Record<string, unknown>> };
  return Object.values(stack.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
}

/** An emulator and a scratch workspace for one bench section; always cleaned up. */
async function withLocalTarget<T>(name: string, body: (vars: NodeJS.ProcessEnv, work: string) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const stateDir = join(work, "emulator");
  const emulator = await startEmulator({ stateDir, env: { ...process.env, EMULATOR_PORT: "", EMULATOR_STATE_DIR: "" } });
  const ledger = join(work, "ledger");
  mkdirSync(ledger);
  spawnSync("git", ["init", "-q"], { cwd: ledger });
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulator.env,
    PROMOTE_HOME: join(work, "plans"),
    PROMOTE_LEDGER_DIR: ledger,
    CDKTF_OUTDIR: join(work, "cdktf.out"),
    PROMOTE_USER: "bench",
  };
  try {
    return await body(vars, work);
  } finally {
    await stopEmulator({ stateDir, port: emulator.port, env: { ...process.env, EMULATOR_STATE_DIR: "" } });
    rmSync(work, { recursive: true, force: true });
  }
}

const ENV_NAMES = ["dev", "staging", "prod"];

/** Bootstrap and apply of every env on the emulator, and how much of each stack applied. */
async function benchLocal(): Promise<void> {
  await withLocalTarget("local", async (vars) => {
    console.log("local target (moto), wall time");
    const boot = await Promise.all(ENV_NAMES.map((env) => promoteTimed(["bootstrap", env], vars)));
    ENV_NAMES.forEach((env, i) => console.log(`  bootstrap ${env.padEnd(8)}                ${fmt(boot[i])}   (three in parallel)`));
    // Synthesize once, then apply the three env stacks in parallel with raw terraform.
    timeCommand(process.execPath, [join(DIST, "main.js")], vars);
    const outDir = vars.CDKTF_OUTDIR as string;
    const results = await Promise.all(
      ENV_NAMES.map(async (env) => {
        const cwd = join(outDir, "stacks", env);
        const init = await terraformTimed(["init", "-input=false", "-no-color"], cwd, vars);
        const apply = await terraformTimed(["apply", "-input=false", "-no-color", "-auto-approve"], cwd, vars);
        const state = await terraformTimed(["state", "list"], cwd, vars);
        const applied = state.stdout.split("\n").filter((l) => l.trim() && !l.startsWith("data.")).length;
        return { env, ms: init.ms + apply.ms, applied, total: synthesizedResources(cwd) };
      }),
    );
    for (const r of results) {
      console.log(`  apply ${r.env.padEnd(8)} (init + apply)       ${fmt(r.ms)}   ${r.applied}/${r.total} resources applied   target <= 60 s: ${r.ms <= 60_000 ? "met" : "NOT met"}`);
    }
  });
}

const STANDIN = join(PROJECT_ROOT, "__tests__", "fixtures", "standin", "synth.js");

/** git in dir with a fixed identity (the bench's commits name no one). */
function git(dir: string, args: string[]): string {
  const r = spawnSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@localhost", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@localhost" },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} in ${dir} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** One commit of the stand-in's code (standin.json: its SSM parameters). */
function commitStandin(checkout: string, params: Record<string, string>): void {
  writeFileSync(join(checkout, "standin.json"), `${JSON.stringify({ params }, null, 2)}\n`);
  git(checkout, ["add", "-A"]);
  git(checkout, ["commit", "-q", "-m", `stand-in ${Object.values(params).join(" ")}`]);
}

/** A fresh git checkout of the stand-in under `work` (also the ledger) and the variables that synthesize it. */
function standinCheckout(base: NodeJS.ProcessEnv, work: string): { checkout: string; vars: NodeJS.ProcessEnv } {
  const checkout = join(work, "checkout");
  mkdirSync(checkout);
  git(checkout, ["init", "-q"]);
  writeFileSync(join(checkout, ".gitignore"), "cdktf.out/\n");
  const vars: NodeJS.ProcessEnv = { ...base, PROMOTE_CHECKOUT_DIR: checkout, PROMOTE_LEDGER_DIR: checkout, PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} ${JSON.stringify(STANDIN)}` };
  return { checkout, vars };
}

/** The figures of one engine measurement (ms, one entry per run). */
export interface EngineRuns {
  readonly engine: readonly number[];
  readonly plan: readonly number[];
  readonly show: readonly number[];
}

/** The lines `npm run bench -- engine` prints for a set of runs: medians and the two ratios. */
export function engineReport(what: string, runs: EngineRuns): string {
  const e = median(runs.engine);
  const plan = median(runs.plan);
  // plan + show per run, then the median: the pair a reviewing workflow runs back to back.
  const planShow = median(runs.plan.map((p, i) => p + runs.show[i]));
  const ratio = e / planShow;
  const all = (xs: readonly number[]) => xs.map((x) => (x / 1000).toFixed(1)).join(", ");
  return [
    `engine overhead (${what}; median of ${runs.engine.length}, runs interleaved)`,
    `  promote plan (end to end, node start to exit)  ${fmt(e)}   runs: ${all(runs.engine)} s`,
    `  terraform plan -out (raw)                      ${fmt(plan)}   runs: ${all(runs.plan)} s`,
    `  terraform plan -out + show -json (raw)         ${fmt(planShow)}`,
    `  ratio to plan -out                             ${(e / plan).toFixed(2).padStart(8)}`,
    `  ratio to plan -out + show -json                ${ratio.toFixed(2).padStart(8)}   target <= 1.10: ${ratio <= 1.1 ? "met" : "NOT met"}`,
    `  engine time beyond plan + show                 ${fmt(e - planShow)}`,
    "",
  ].join("\n");
}

/**
 * `promote plan <env>` against what any reviewing workflow must run in the same stack: a raw `terraform
 * plan -out` and `show -json` of that file. The runs alternate (engine, raw plan, raw show) so a load
 * change on the machine hits both sides; the working directory is synthesized and initialized first
 * (not measured), so both sides plan the same stack against the same state.
 */
async function measureEngine(vars: NodeJS.ProcessEnv, work: string, env: string, runs: number): Promise<EngineRuns> {
  await promoteTimed(["plan", env], vars); // synth + init of this commit, not measured
  const cwd = join(vars.CDKTF_OUTDIR as string, "stacks", env);
  const engine: number[] = [];
  const plan: number[] = [];
  const show: number[] = [];
  for (let i = 0; i < runs; i++) {
    engine.push(await promoteTimed(["plan", env], vars));
    const file = join(work, `raw-${i}.tfplan`);
    plan.push((await terraformTimed(["plan", "-input=false", "-lock=true", "-no-color", `-out=${file}`], cwd, vars)).ms);
    show.push((await terraformTimed(["show", "-json", "-no-color", file], cwd, vars)).ms);
  }
  return { engine, plan, show };
}

/** The number of runs of an engine measurement: BENCH_RUNS, at least 3. */
function engineRunCount(): number {
  const n = Number(process.env.BENCH_RUNS ?? 5);
  if (!Number.isInteger(n) || n < 3) throw new Error(`BENCH_RUNS must be an integer of at least 3 (the median of fewer says little), but "${process.env.BENCH_RUNS}" was given`);
  return n;
}

/**
 * The engine's overhead on the stand-in (__tests__/fixtures/standin/synth.js: the project's provider and
 * backend, a few SSM parameters), applied once so the plans refresh a real state and change one parameter.
 */
async function benchEngine(): Promise<void> {
  const runs = engineRunCount();
  await withLocalTarget("engine", async (base, work) => {
    const env = "dev";
    const { checkout, vars } = standinCheckout(base, work);
    const params = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, `v${i}-1`]));
    commitStandin(checkout, params);
    await promoteTimed(["bootstrap", env], vars);
    await promoteTimed(["apply", env, "--auto"], vars);
    commitStandin(checkout, { ...params, p0: "v0-2" });
    console.log(engineReport(`the stand-in, ${env}: ${Object.keys(params).length} SSM parameters applied, one changed`, await measureEngine(vars, work, env, runs)));
  });
}

/** The same on the real dev stack (every construct; a plan takes minutes here). */
async function benchEngineDev(): Promise<void> {
  const runs = engineRunCount();
  await withLocalTarget("engine-dev", async (vars, work) => {
    await promoteTimed(["bootstrap", "dev"], vars);
    console.log(engineReport("the real dev stack, no state", await measureEngine(vars, work, "dev", runs)));
  });
}

/**
 * What the shared store adds to `promote plan` and `promote apply` (issue 12; target under 1 s each): the
 * stand-in on dev, each run a new commit planned and applied once with each store, the stores
 * alternating so a load change hits both. Both stores lock and audit; the S3 store also uploads the
 * bundle (plan) and fetches it, claims it create-only and writes its outcome (apply).
 */
async function benchStore(): Promise<void> {
  const runs = engineRunCount();
  await withLocalTarget("store", async (base, work) => {
    const env = "dev";
    const { checkout, vars } = standinCheckout(base, work);
    const params = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, `v${i}-0`]));
    commitStandin(checkout, params);
    await promoteTimed(["bootstrap", env], vars);
    await promoteTimed(["apply", env, "--auto"], { ...vars, PROMOTE_STORE: "s3" }); // synth + init + first state, not measured
    const times: Record<"local" | "s3", { plan: number[]; apply: number[] }> = { local: { plan: [], apply: [] }, s3: { plan: [], apply: [] } };
    let n = 0;
    for (let i = 0; i < runs; i++) {
      for (const kind of i % 2 === 0 ? (["local", "s3"] as const) : (["s3", "local"] as const)) {
        n += 1;
        commitStandin(checkout, { ...params, p0: `v0-${n}` });
        const v = { ...vars, PROMOTE_STORE: kind };
        const planned = await promoteRun(["plan", env], v);
        const id = /^Bundle:\s+(\S+)$/m.exec(planned.out)?.[1]?.split("/").slice(-1)[0];
        if (!id) throw new Error(`no bundle id in the plan's output:\n${planned.out.slice(-2000)}`);
        times[kind].plan.push(planned.ms);
        times[kind].apply.push(await promoteTimed(["apply", env, id], v));
      }
    }
    const line = (what: "plan" | "apply") => {
      const local = median(times.local[what]);
      const s3 = median(times.s3[what]);
      const added = (s3 - local) / 1000;
      return `  ${`promote ${what}`.padEnd(14)} local ${fmt(local)}   s3 ${fmt(s3)}   the store adds ${added.toFixed(2).padStart(6)} s   target < 1 s: ${added < 1 ? "met" : "NOT met"}`;
    };
    console.log(`shared store (the stand-in, ${env}; median of ${runs} each, stores alternating)`);
    console.log(line("plan"));
    console.log(line("apply"));
    console.log("");
  });
}

/** The whole demo (`npm start`), as a user runs it. */
async function benchDemo(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "bench-demo-"));
  try {
    const ms = timeCommand(process.execPath, [join(DIST, "scripts", "demo.js"), "--workdir", work], { ...process.env, EMULATOR_PORT: "", EMULATOR_STATE_DIR: "" });
    console.log("demo (npm start)");
    console.log(`  total                                ${fmt(ms)}   target < 5 min: ${ms < 300_000 ? "met" : "NOT met"}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const SECTIONS: Record<string, () => void | Promise<void>> = { synth: benchSynth, local: benchLocal, engine: benchEngine, "engine-dev": benchEngineDev, store: benchStore, demo: benchDemo };
/** What `npm run bench` runs without an argument (the demo and the real stack's engine figures are asked for by name). */
const DEFAULT_SECTIONS = ["synth", "local", "engine", "store"];

async function main(argv: string[]): Promise<void> {
  const wanted = argv.length > 0 ? argv : DEFAULT_SECTIONS;
  for (const name of wanted) {
    const section = SECTIONS[name];
    if (!section) {
      console.error(`unknown bench section "${name}": expected one of ${Object.keys(SECTIONS).join(", ")}`);
      process.exit(2);
    }
    await section();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}

/**
 * `npm run bench`: prints the project's speed figures. Nothing here asserts a limit; the targets are
 * printed beside the figures so a reader sees where they stand.
 *
 *   synth          median wall time of `node dist/main.js` (all envs) and of 50 generated envs,
 *                  and their ratio to the `node -e 0` floor                    target: 3 envs <= 1 s
 *   local target   bootstrap time, apply time per env on the emulator, resources applied / synthesized
 *                                                                              target: one env <= 60 s
 *   engine         `promote plan <env>` wall time / raw `terraform plan -out`, median of several runs
 *                                                                              target: <= 1.10
 *   demo           the whole `npm start`                                       target: < 5 min
 *
 * Sections: `npm run bench -- synth` (seconds); with no argument every section runs (about 15 min).
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
  const started = process.hrtime.bigint();
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "promote.js"), ...args], { cwd: PROJECT_ROOT, env: vars });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.on("close", (code) => {
      if (code === 0) resolveRun(Number(process.hrtime.bigint() - started) / 1e6);
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

/** The engine's overhead: `promote plan <env>` against a raw `terraform plan -out` of the same stack. */
async function benchEngine(): Promise<void> {
  const runs = 3;
  await withLocalTarget("engine", async (vars, work) => {
    const env = "dev";
    await promoteTimed(["bootstrap", env], vars);
    await promoteTimed(["plan", env], vars); // synth + first init, not measured
    const cwd = join(vars.CDKTF_OUTDIR as string, "stacks", env);
    const engine: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      engine.push(await promoteTimed(["plan", env], vars));
      raw.push((await terraformTimed(["plan", "-input=false", "-lock=true", "-no-color", `-out=${join(work, `raw-${i}.tfplan`)}`], cwd, vars)).ms);
    }
    const e = median(engine);
    const r = median(raw);
    console.log(`engine overhead (${env}, median of ${runs})`);
    console.log(`  promote plan ${env}                     ${fmt(e)}`);
    console.log(`  terraform plan -out (raw)            ${fmt(r)}`);
    console.log(`  ratio                                ${(e / r).toFixed(2)}   target <= 1.10: ${e / r <= 1.1 ? "met" : "NOT met"}`);
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

const SECTIONS: Record<string, () => void | Promise<void>> = { synth: benchSynth, local: benchLocal, engine: benchEngine, demo: benchDemo };

async function main(argv: string[]): Promise<void> {
  const wanted = argv.length > 0 ? argv : Object.keys(SECTIONS);
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

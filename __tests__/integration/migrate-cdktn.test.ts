/**
 * The migration to CDK Terrain, run for real: `node scripts/migrate-cdktn.mjs --out <tmp>` installs cdktn
 * 0.24.0 in a scratch copy of the commit, generates the aws 5.100.0 and random 3.9.0 bindings offline from
 * the filesystem mirrors, compiles and synthesizes. This test then checks, itself (not trusting the
 * script's own comparison), for every env's stack and bootstrap stack: the same resources, data sources,
 * logical ids and attributes, outputs, providers and backend as the cdktf synth of the same commit; that
 * every synth digest changes (so bundles planned before the switch are refused at apply); that the
 * bindings are compiled once (synth runs compiled JS, no slower than cdktf's beyond a margin); and, on the
 * emulator, that a plan of the cdktn synth against state applied from the cdktf synth shows no changes.
 *
 * The plan runs on the three bootstrap stacks (state bucket with versioning, encryption, public access
 * block, policy and lifecycle, and the lock table: real stacks of the project, applied in seconds); the
 * env stacks' apply takes minutes of the AWS provider's fixed waits (RDS, ALB), so they are compared as
 * synth only.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withEmulator } from "../helpers/emulator";
import { ENV_NAMES, expectExit, isolatedVars, removeDir, run, tempDir, terraform } from "../helpers/integration";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";

const SCRIPT = join(PROJECT_ROOT, "scripts", "migrate-cdktn.mjs");
const TOOLCHAIN = JSON.parse(readFileSync(join(PROJECT_ROOT, "scripts", "toolchain.json"), "utf8"));

/** `v` without the "//" metadata keys cdktf and cdktn write, at any depth. */
function strip(v: any): any {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "//").map(([k, x]) => [k, strip(x)]));
  return v;
}
const providerAddress = (s: string) => (s.includes("/") ? s.replace(/^registry\.terraform\.io\//, "") : `hashicorp/${s}`);
const sha256 = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

describe("scripts/migrate-cdktn.mjs: cdktf → cdktn on a scratch copy, proven against the cdktf synth", () => {
  const emu = withEmulator();
  let out: string;
  let vars: NodeJS.ProcessEnv;
  let report: any;
  let migrationMs = 0;
  const ref = (stack: string) => join(out, "cdktf.out.cdktf", "stacks", stack);
  const mig = (stack: string) => join(out, "cdktf.out", "stacks", stack);
  const read = (dir: string) => JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
  const counts: Record<string, number> = {};
  const resourceCounts: Record<string, number> = {};

  beforeAll(async () => {
    out = tempDir("migrate-cdktn");
    removeDir(out); // the script creates it (it refuses a folder it did not make that is not empty)
    vars = isolatedVars(emu(), {});
    const started = Date.now();
    const r = await run(process.execPath, [SCRIPT, "--out", out, "--json"], { cwd: PROJECT_ROOT, env: vars });
    migrationMs = Date.now() - started;
    expectExit(r, 0, "migrate-cdktn --out");
    report = JSON.parse(r.out.trim().split("\n").pop() as string);
    process.stdout.write(`migrate-cdktn: ${(migrationMs / 1000).toFixed(1)} s; ${JSON.stringify(report.timingsMs)}\n`);
  }, 40 * 60_000);

  afterAll(() => removeDir(out));

  it("reports every stack identical, with the pinned versions, under Node >= 22.19", () => {
    expect(report.identical).toBe(true);
    expect(report.versions).toMatchObject({ cdktn: "0.24.0", "cdktn-cli": "0.24.0" });
    expect(report.versions.constructs).toMatch(/^10\.7\./);
    expect(report.providers).toEqual(["hashicorp/aws@5.100.0", "hashicorp/random@3.9.0"]);
    const [maj, min] = String(report.node).replace(/^v/, "").split(".").map(Number);
    expect(maj > 22 || (maj === 22 && min >= 19)).toBe(true);
    expect(report.appliedToCheckout).toBeNull();
    expect(report.stacks.map((s: any) => s.stack).sort()).toEqual(ENV_NAMES.flatMap((e) => [e, `bootstrap-${e}`]).sort());
  });

  it("switched the scratch copy's packages and imports, and installed cdktn there only", () => {
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
    expect(pkg.dependencies.cdktn).toBe(TOOLCHAIN.cdktn.cdktn);
    expect(pkg.devDependencies["cdktn-cli"]).toBe(TOOLCHAIN.cdktn["cdktn-cli"]);
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((k) => /cdktf/.test(k))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, "node_modules", "cdktn", "package.json"), "utf8")).version).toBe("0.24.0");
    expect(JSON.parse(readFileSync(join(out, "node_modules", "constructs", "package.json"), "utf8")).version).toMatch(/^10\.7\./);
    expect(existsSync(join(out, "node_modules", "cdktf"))).toBe(false);
    expect(existsSync(join(out, "node_modules", "@cdktf", "provider-aws"))).toBe(false);
    // no source of the app still imports cdktf or a prebuilt provider package
    const leftovers: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, name.name);
        if (name.isDirectory()) walk(p);
        else if (name.name.endsWith(".ts") && /(from|require\()\s*["'](cdktf|@cdktf\/provider-)/.test(readFileSync(p, "utf8"))) leftovers.push(p);
      }
    };
    for (const d of ["envs", "constructs", "stacks"]) walk(join(out, d));
    expect(leftovers).toEqual([]);
    expect(readFileSync(join(out, "main.ts"), "utf8")).toContain('from "cdktn"');
    // the project's own tree is untouched
    expect(existsSync(join(PROJECT_ROOT, "node_modules", "cdktn"))).toBe(false);
    expect(JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).dependencies.cdktf).toBeDefined();
  });

  it.each(ENV_NAMES.flatMap((e) => [[e], [`bootstrap-${e}`]]))(
    "%s: the same resources, logical ids and attributes as the cdktf synth of the same commit",
    (stack) => {
      const a = read(ref(stack));
      const b = read(mig(stack));
      const ids = (s: any, kind: "resource" | "data") => Object.entries(s[kind] ?? {}).flatMap(([t, byId]) => Object.keys(byId as object).map((id) => `${t}.${id}`)).sort();
      expect(ids(b, "resource")).toEqual(ids(a, "resource"));
      expect(ids(b, "data")).toEqual(ids(a, "data"));
      expect(ids(a, "resource").length).toBeGreaterThan(0);
      for (const kind of ["resource", "data"] as const) {
        for (const [type, byId] of Object.entries(a[kind] ?? {})) {
          for (const [id, attrs] of Object.entries(byId as Record<string, unknown>)) expect([`${type}.${id}`, strip(b[kind][type][id])]).toEqual([`${type}.${id}`, strip(attrs)]);
        }
      }
      for (const key of ["provider", "output", "locals", "variable", "module"]) expect([key, strip(b[key])]).toEqual([key, strip(a[key])]);
      expect(strip(b.terraform.backend)).toEqual(strip(a.terraform.backend));
      const req = (s: any) => Object.fromEntries(Object.entries(s.terraform.required_providers).map(([n, p]: [string, any]) => [n, { ...p, source: providerAddress(p.source) }]));
      expect(req(b)).toEqual(req(a));
      // Only metadata and the provider source's spelling may differ: nothing else at the top level.
      const rest = (s: any) => strip({ ...s, resource: undefined, data: undefined, terraform: { ...s.terraform, required_providers: undefined } });
      expect(rest(b)).toEqual(rest(a));
      // ... and the digest changes: a bundle planned before the switch is refused at apply (synth digest).
      expect(sha256(join(mig(stack), "cdk.tf.json"))).not.toBe(sha256(join(ref(stack), "cdk.tf.json")));
      counts[stack] = ids(a, "resource").length + ids(a, "data").length;
      resourceCounts[stack] = ids(a, "resource").length;
      expect(report.stacks.find((s: any) => s.stack === stack)).toMatchObject({ identical: true, resources: counts[stack] });
    },
  );

  it("compiled the generated bindings once: synth runs compiled JS and is not slowed by transpiling", async () => {
    expect(existsSync(join(out, "dist", ".gen", "providers", "aws", "vpc", "index.js"))).toBe(true);
    // the random provider's only import is its provider: the passwords are ephemeral blocks (stacks/ephemeral-blocks.ts)
    expect(existsSync(join(out, "dist", ".gen", "providers", "random", "provider", "index.js"))).toBe(true);
    // only what the code imports is compiled, not the whole provider
    const compiled = readdirSync(join(out, "dist", ".gen", "providers", "aws")).length;
    expect(compiled).toBeLessThan(readdirSync(join(out, ".gen", "providers", "aws")).length / 10);
    const time = async (cwd: string) => {
      const synthOut = tempDir("migrate-synth");
      try {
        const s = Date.now();
        expectExit(await run(process.execPath, ["dist/main.js"], { cwd, env: { ...vars, CDKTF_OUTDIR: synthOut } }), 0, `synth in ${cwd}`);
        return Date.now() - s;
      } finally {
        removeDir(synthOut);
      }
    };
    const cdktf: number[] = [];
    const cdktn: number[] = [];
    for (let i = 0; i < 3; i++) {
      cdktf.push(await time(PROJECT_ROOT));
      cdktn.push(await time(out));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1];
    process.stdout.write(`synth of every env, median of 3: cdktf ${median(cdktf)} ms, cdktn ${median(cdktn)} ms\n`);
    // the naive path (transpiling the bindings on each synth) was measured at 2.8 times cdktf's
    expect(median(cdktn)).toBeLessThan(median(cdktf) * 1.8 + 500);
  }, 5 * 60_000);

  it("a plan of the cdktn synth against the state applied from the cdktf synth shows no changes (every env's bootstrap stack)", async () => {
    const results: Record<string, string> = {};
    // The three envs are independent (own accounts, own state files): run at once, each apply waits out
    // the AWS provider's fixed S3 lifecycle delay (about 55 s) in parallel instead of one after another.
    const one = async (env: string) => {
      const stack = `bootstrap-${env}`;
      // A bootstrap stack's backend is the bucket it creates (promote bootstrap applies its first run with a
      // local backend override, then moves the state in). Here both synths get the same override, pointing
      // at one local state: the cdktf synth applies it, the cdktn synth plans against it.
      const state = join(out, `${stack}.tfstate`);
      for (const dir of [ref(stack), mig(stack)]) writeFileSync(join(dir, "backend_override.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: state } } } }));
      expectExit(await terraform(ref(stack), ["init", "-input=false", "-no-color"], vars), 0, `init (cdktf) ${stack}`);
      expectExit(await terraform(ref(stack), ["apply", "-auto-approve", "-input=false", "-no-color"], vars), 0, `apply (cdktf) ${stack}`);
      expectExit(await terraform(mig(stack), ["init", "-input=false", "-no-color"], vars), 0, `init (cdktn) ${stack}`);
      const plan = await terraform(mig(stack), ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=cdktn.tfplan"], vars);
      expectExit(plan, 0, `plan (cdktn) ${stack}: exit 0 is no changes, 2 is changes`);
      expect(plan.out).toContain("No changes.");
      const show = await terraform(mig(stack), ["show", "-json", "cdktn.tfplan"], vars);
      expectExit(show, 0, `show (cdktn) ${stack}`);
      const changes = (JSON.parse(show.out).resource_changes ?? []) as { address: string; change: { actions: string[] } }[];
      expect(changes.filter((c) => !c.address.startsWith("data.")).length).toBe(resourceCounts[stack] ?? -1);
      expect(changes.filter((c) => c.change.actions.join() !== "no-op").map((c) => c.address)).toEqual([]);
      // the same provider: terraform resolved hashicorp/aws 5.100.0 for both
      const lock = (dir: string) => readFileSync(join(dir, ".terraform.lock.hcl"), "utf8");
      expect(lock(mig(stack))).toBe(lock(ref(stack)));
      results[stack] = `no changes (${changes.length} resources, all no-op)`;
    };
    await Promise.all(ENV_NAMES.map(one));
    process.stdout.write(`plan after migration: ${JSON.stringify(results)}\nresources compared: ${JSON.stringify(counts)}\n`);
  }, 15 * 60_000);
});

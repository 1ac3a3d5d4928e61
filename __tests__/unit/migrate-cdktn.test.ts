/**
 * The source changes and the comparison of scripts/migrate-cdktn.mjs (the migration to CDK Terrain), and
 * its refusals before anything is done. The script is an ES module of Node built-ins: each case runs it in
 * a child node (as a user does) and reads the answer back as JSON. The whole migration, with cdktn
 * installed, bindings generated and a plan on the emulator, is __tests__/integration/migrate-cdktn.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";

const SCRIPT = join(PROJECT_ROOT, "scripts", "migrate-cdktn.mjs");
const TOOLCHAIN = JSON.parse(readFileSync(join(PROJECT_ROOT, "scripts", "toolchain.json"), "utf8"));

/** Calls `fn` (exported by the script) with `args` in a child node; returns its JSON result. */
function call(fn: string, ...args: unknown[]): any {
  const program = `import(${JSON.stringify(SCRIPT)}).then((m) => process.stdout.write(JSON.stringify(m[${JSON.stringify(fn)}](...${JSON.stringify(args)}))))`;
  const r = spawnSync(process.execPath, ["-e", program], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${fn} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function script(args: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: PROJECT_ROOT, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("migrate-cdktn: imports", () => {
  it.each([
    ["cdktf", "main.ts", "cdktn"],
    ["cdktf/lib/testing", "stacks/x.ts", "cdktn/lib/testing"],
    ["@cdktf/provider-aws/lib/vpc", "constructs/network.ts", "../.gen/providers/aws/vpc"],
    ["@cdktf/provider-aws/lib/provider", "stacks/providers.ts", "../.gen/providers/aws/provider"],
    ["@cdktf/provider-random/lib/password", "constructs/db/secret.ts", "../../.gen/providers/random/password"],
    ["@cdktf/provider-aws", "main.ts", "./.gen/providers/aws"],
    ["@cdktf/provider-aws/lib/s3-bucket", "main.ts", "./.gen/providers/aws/s3-bucket"],
  ])("%s seen from %s becomes %s", (spec, from, to) => {
    expect(call("migrateSpecifier", spec, from)).toBe(to);
  });

  it.each([["constructs"], ["cdktf-like"], ["@cdktf/provider-google/lib/x"], ["./cdktf"], ["zod"]])("leaves %s alone", (spec) => {
    expect(call("migrateSpecifier", spec, "main.ts")).toBeNull();
  });

  it("rewrites import, export-from, require, dynamic import and jest.mock specifiers, and nothing else", () => {
    const src = [
      'import { App, S3Backend } from "cdktf";',
      "import { Vpc } from '@cdktf/provider-aws/lib/vpc';",
      'export { Subnet } from "@cdktf/provider-aws/lib/subnet";',
      'const { Testing } = require("cdktf");',
      'const p = import("@cdktf/provider-random/lib/password");',
      'jest.mock("cdktf");',
      'const tag = { "managed-by": "cdktf" };',
      "// cdktf synth writes cdktf.out",
      'import { Construct } from "constructs";',
    ].join("\n");
    const r = call("migrateSource", src, "stacks/a.ts");
    expect(r.changes).toBe(6);
    expect(r.text.split("\n")).toEqual([
      'import { App, S3Backend } from "cdktn";',
      "import { Vpc } from '../.gen/providers/aws/vpc';",
      'export { Subnet } from "../.gen/providers/aws/subnet";',
      'const { Testing } = require("cdktn");',
      'const p = import("../.gen/providers/random/password");',
      'jest.mock("cdktn");',
      'const tag = { "managed-by": "cdktf" };', // a value, not an import: the tags (and so the plan) stay the same
      "// cdktf synth writes cdktf.out",
      'import { Construct } from "constructs";',
    ]);
  });
});

describe("migrate-cdktn: package.json and cdktf.json", () => {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));

  it("takes out cdktf, cdktf-cli and the prebuilt providers, adds cdktn, cdktn-cli and constructs 10.7 at the pinned versions", () => {
    const { pkg: out, removed } = call("migratePackageJson", pkg);
    for (const name of ["cdktf", "@cdktf/provider-aws", "@cdktf/provider-random"]) expect(out.dependencies[name]).toBeUndefined();
    expect(out.devDependencies["cdktf-cli"]).toBeUndefined();
    expect(out.dependencies.cdktn).toBe(TOOLCHAIN.cdktn.cdktn);
    expect(out.dependencies.constructs).toBe(TOOLCHAIN.cdktn.constructs);
    expect(out.dependencies.constructs).toMatch(/^10\.7\./);
    expect(out.devDependencies["cdktn-cli"]).toBe(TOOLCHAIN.cdktn["cdktn-cli"]);
    expect(TOOLCHAIN.cdktn.cdktn).toBe("0.24.0");
    expect(removed.sort()).toEqual(
      [`cdktf@${pkg.dependencies.cdktf}`, `cdktf-cli@${pkg.devDependencies["cdktf-cli"]}`, `@cdktf/provider-aws@${pkg.dependencies["@cdktf/provider-aws"]}`, `@cdktf/provider-random@${pkg.dependencies["@cdktf/provider-random"]}`].sort(),
    );
    // everything else is kept as it was
    for (const [k, v] of Object.entries(pkg.dependencies as Record<string, string>)) if (!/cdktf|constructs/.test(k)) expect(out.dependencies[k]).toBe(v);
    expect(out.scripts).toEqual(pkg.scripts);
    expect(out.engines).toEqual(pkg.engines);
  });

  it("the project itself does not depend on cdktn (the migration installs it in its scratch copy)", () => {
    const all = { ...pkg.dependencies, ...pkg.devDependencies };
    expect(Object.keys(all).filter((k) => /cdktn/.test(k))).toEqual([]);
  });

  it("lists the pinned providers in cdktf.json for cdktn get", () => {
    const cfg = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdktf.json"), "utf8"));
    const out = call("migrateCdktfJson", cfg);
    expect(out.terraformProviders).toEqual([`hashicorp/aws@${TOOLCHAIN.providers.aws.version}`, `hashicorp/random@${TOOLCHAIN.providers.random.version}`]);
    expect(out.terraformProviders).toEqual(["hashicorp/aws@5.100.0", "hashicorp/random@3.9.0"]);
    expect(out.app).toBe(cfg.app);
    expect(out.codeMakerOutput).toBe(".gen");
  });
});

describe("migrate-cdktn: comparing two synth outputs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "migrate-compare-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stack = (over: Record<string, unknown> = {}) => ({
    "//": { metadata: { version: "0.21.0", stackName: "dev" } },
    terraform: { required_providers: { aws: { source: "aws", version: "5.100.0" } }, backend: { s3: { bucket: "b" } } },
    provider: { aws: [{ region: "us-east-1" }] },
    resource: {
      aws_vpc: { network_vpc_1A2B: { "//": { metadata: { path: "dev/network/vpc" } }, cidr_block: "10.10.0.0/16", tags: { Name: "dev" } } },
      aws_subnet: { network_subnet_3C4D: { vpc_id: "${aws_vpc.network_vpc_1A2B.id}", cidr_block: "10.10.1.0/24" } },
    },
    ...over,
  });
  const write = (out: string, name: string, json: unknown) => {
    mkdirSync(join(dir, out, "stacks", name), { recursive: true });
    writeFileSync(join(dir, out, "stacks", name, "cdk.tf.json"), JSON.stringify(json, null, 2));
  };

  it("calls stacks that differ only in metadata and the provider source's spelling identical, and counts their resources", () => {
    write("a", "dev", stack());
    const b = stack({ "//": { metadata: { version: "0.24.0", stackName: "dev" } } }) as any;
    b.terraform.required_providers.aws.source = "hashicorp/aws";
    b.resource.aws_vpc.network_vpc_1A2B["//"] = { metadata: { path: "dev/network/vpc", uniqueId: "x" } };
    write("b", "dev", b);
    const r = call("compareSynths", join(dir, "a"), join(dir, "b"));
    expect(r.identical).toBe(true);
    expect(r.stacks).toHaveLength(1);
    expect(r.stacks[0].resources).toBe(2);
    expect(r.stacks[0].addresses).toEqual(["aws_subnet.network_subnet_3C4D", "aws_vpc.network_vpc_1A2B"]);
  });

  it.each([
    ["an attribute", (s: any) => (s.resource.aws_vpc.network_vpc_1A2B.cidr_block = "10.99.0.0/16"), ".resource.aws_vpc.network_vpc_1A2B.cidr_block"],
    ["a logical id", (s: any) => { s.resource.aws_subnet.network_subnet_XXXX = s.resource.aws_subnet.network_subnet_3C4D; delete s.resource.aws_subnet.network_subnet_3C4D; }, "network_subnet_3C4D: only in the cdktf synth"],
    ["a tag", (s: any) => (s.resource.aws_vpc.network_vpc_1A2B.tags.Name = "prod"), ".tags.Name"],
    ["the provider source", (s: any) => (s.terraform.required_providers.aws.source = "someone/aws"), ".terraform.required_providers.aws.source"],
    ["the backend", (s: any) => (s.terraform.backend.s3.bucket = "other"), ".terraform.backend.s3.bucket"],
    ["an added resource", (s: any) => (s.resource.aws_eip = { e: { domain: "vpc" } }), ".resource.aws_eip: only in the cdktn synth"],
  ])("finds a changed %s", (_, change, where) => {
    write("a", "dev", stack());
    const b = stack() as any;
    change(b);
    write("b", "dev", b);
    const r = call("compareSynths", join(dir, "a"), join(dir, "b"));
    expect(r.identical).toBe(false);
    expect(r.stacks[0].differences.join("\n")).toContain(where);
  });

  it("finds a stack missing on either side, and calls two empty outputs not identical", () => {
    write("a", "dev", stack());
    write("a", "prod", stack());
    write("b", "dev", stack());
    const r = call("compareSynths", join(dir, "a"), join(dir, "b"));
    expect(r.identical).toBe(false);
    expect(r.stacks.find((s: any) => s.stack === "prod").differences).toEqual(["stack only in the cdktf synth"]);
    expect(call("compareSynths", join(dir, "x"), join(dir, "y")).identical).toBe(false);
  });
});

describe("migrate-cdktn: refusals before anything changes", () => {
  it("refuses an unknown argument (exit 2) naming the ones it takes", () => {
    const r = script(["--inplace"]);
    expect(r.status).toBe(2);
    expect(r.out).toContain('unknown argument "--inplace": expected --out DIR, --in-place or --json');
  });

  it("refuses --out without a folder (exit 2)", () => {
    const r = script(["--out"]);
    expect(r.status).toBe(2);
    expect(r.out).toContain("--out needs a folder");
  });

  it("refuses a scratch folder it did not make, and leaves its files alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "migrate-foreign-"));
    try {
      writeFileSync(join(dir, "precious.txt"), "keep me");
      const r = script(["--out", dir]);
      expect(r.status).toBe(1);
      expect(r.out).toContain(`--out ${dir} exists and was not made by this script (no .cdktn-migration.json)`);
      expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep me");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses the checkout itself as the scratch folder", () => {
    const r = script(["--out", PROJECT_ROOT]);
    expect(r.status).toBe(1);
    expect(r.out).toContain("is this checkout or holds it: expected a separate scratch folder (use --in-place to migrate the checkout)");
  });
});

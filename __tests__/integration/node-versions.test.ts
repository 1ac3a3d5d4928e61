/**
 * The supported Node majors (scripts/toolchain.json node.supported: 20, 22, 24) synthesize byte-identical
 * JSON for every stack. Each node comes from `scripts/setup.mjs --node <major>`: the running node when it
 * is that major, else the pinned version fetched once from the npm registry into .local/node/ (the
 * machine's node is never touched). The same compiled dist/main.js runs under each, with the same
 * variables, into its own folder; every cdk.tf.json is then compared byte for byte.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../helpers/integration";
import { PATHS, PROJECT_ROOT } from "../../scripts/lib/toolchain";

const TOOLCHAIN = JSON.parse(readFileSync(join(PROJECT_ROOT, "scripts", "toolchain.json"), "utf8"));
const MAJORS: string[] = TOOLCHAIN.node.supported;

/** The caller's variables minus what would change synth (the real-AWS target, default accounts). */
function cleanVars(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CDKTF_|TARGET$|LOCAL_|ACCOUNT_ID_|EPHEMERAL_ENVS$|STACK_)/.test(k)));
}

describe("synth under Node 20, 22 and 24", () => {
  let root: string;
  const digests: Record<string, Record<string, string>> = {};
  const versions: Record<string, string> = {};
  const times: Record<string, number> = {};

  beforeAll(() => {
    root = tempDir("node-versions");
    const setup = spawnSync(process.execPath, [PATHS.setup, "--if-needed", "--quiet"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    if (setup.status !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  }, 10 * 60_000);
  afterAll(() => removeDir(root));

  it("the engines field and the workflows' matrix name the same majors", () => {
    expect(MAJORS).toEqual(["20", "22", "24"]);
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.engines.node).toBe("^20.19.0 || ^22.11.0 || ^24.11.0"); // the LTS lines
    for (const wf of ["deliver.yml", "pull-request.yml"]) {
      expect(readFileSync(join(PROJECT_ROOT, ".github", "workflows", wf), "utf8")).toContain('node: ["20", "22", "24"]');
    }
  });

  it.each(MAJORS.map((m) => [m]))(
    "Node %s: setup --node gives that major, and it synthesizes every stack",
    (major) => {
      const r = spawnSync(process.execPath, [PATHS.setup, "--node", major], { cwd: PROJECT_ROOT, encoding: "utf8" });
      expect([r.status, r.stderr]).toEqual([0, expect.any(String)]);
      const bin = join(r.stdout.trim(), "node");
      expect(existsSync(bin)).toBe(true);
      versions[major] = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim();
      expect(versions[major].startsWith(`v${major}.`)).toBe(true);
      if (major !== process.version.slice(1).split(".")[0]) expect(bin.startsWith(join(PROJECT_ROOT, ".local", "node"))).toBe(true);
      // idempotent: a second call answers the same folder without fetching
      const again = spawnSync(process.execPath, [PATHS.setup, "--node", major], { cwd: PROJECT_ROOT, encoding: "utf8" });
      expect(again.stdout.trim()).toBe(r.stdout.trim());
      expect(again.stderr).not.toMatch(/npm pack|fetched/);

      const out = join(root, major);
      const started = Date.now();
      const synth = spawnSync(bin, [join(PROJECT_ROOT, "dist", "main.js")], { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...cleanVars(), CDKTF_OUTDIR: out } });
      times[major] = Date.now() - started;
      expect([synth.status, synth.stderr]).toEqual([0, ""]);
      digests[major] = Object.fromEntries(
        readdirSync(join(out, "stacks"))
          .sort()
          .map((s) => [s, createHash("sha256").update(readFileSync(join(out, "stacks", s, "cdk.tf.json"))).digest("hex")]),
      );
      expect(Object.keys(digests[major]).length).toBeGreaterThanOrEqual(6);
    },
    5 * 60_000,
  );

  it("every stack's cdk.tf.json is byte-identical across them", () => {
    expect(Object.keys(digests).sort()).toEqual(MAJORS);
    for (const major of MAJORS) expect([major, digests[major]]).toEqual([major, digests[MAJORS[0]]]);
    process.stdout.write(`synth per node: ${JSON.stringify(Object.fromEntries(MAJORS.map((m) => [versions[m], `${times[m]} ms`])))}; stacks: ${JSON.stringify(digests[MAJORS[0]])}\n`);
  });

  it("refuses a major it does not support, naming the supported ones", () => {
    const r = spawnSync(process.execPath, [PATHS.setup, "--node", "18"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('setup failed: Node 18 is not one the project supports: expected one of 20, 22, 24 (scripts/toolchain.json node.pinned), found "18"');
  });

  it("refuses a NODE_<MAJOR>_BINARY that is another major", () => {
    const r = spawnSync(process.execPath, [PATHS.setup, "--node", "24"], { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, NODE_24_BINARY: process.execPath } });
    if (process.version.startsWith("v24.")) return; // the running node is that major: nothing to refuse
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`NODE_24_BINARY is "${process.execPath}", which is Node ${process.version}: expected Node 24.x`);
  });
});

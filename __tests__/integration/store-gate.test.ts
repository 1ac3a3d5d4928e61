/**
 * Issue 12, the promotion gate a tag cannot fool (PROMOTE_STORE=s3): planning staging from commit C needs
 * a succeeded apply of C in dev's store (its create-only applied record), not just a `deployed/dev/*` tag,
 * which anyone who can push tags can write. The real CLI, real terraform, the emulator; dev's and
 * staging's stores from the real bootstrap stacks; the stand-in app (one VPC per env).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ledger } from "../../scripts/lib/engine/io/ledger";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { withEmulator } from "../helpers/emulator";
import { expectExit, expectRefusal, git, gitInit, isolatedVars, ledgerTags, promote, removeDir, tempDir, type PromoteRun } from "../helpers/integration";

const SETUP_MS = 6 * 60_000;
const STEP_MS = 6 * 60_000;

// The stand-in app for dev and staging: the project's providers and S3 backend, one VPC each.
const SYNTH = `require(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/engine/ts-hook.js"))});
const root = ${JSON.stringify(PROJECT_ROOT)};
const { App, TerraformStack } = require(root + "/node_modules/cdktf");
const { Vpc } = require(root + "/node_modules/@cdktf/provider-aws/lib/vpc");
const { getEnvironment } = require(root + "/envs");
const { awsProvider, s3Backend, pinProviderVersions } = require(root + "/stacks/providers");
const { targetFromEnv } = require(root + "/stacks/target");
const code = require("./code.json");
const app = new App();
const target = targetFromEnv();
for (const name of ["dev", "staging"]) {
  const config = getEnvironment(name);
  const stack = new TerraformStack(app, config.name);
  awsProvider(stack, config, target);
  s3Backend(stack, config, target);
  pinProviderVersions(stack, ["aws"]);
  new Vpc(stack, "main", { cidrBlock: "10.79.0.0/16", tags: { Name: "gate-standin", version: code.version } });
}
app.synth();
`;

describe("the promotion gate reads dev's store (PROMOTE_STORE=s3)", () => {
  const emu = withEmulator();
  let root: string;
  let origin: string;
  let checkout: string;
  let vars: NodeJS.ProcessEnv;
  const cli = (args: readonly string[], extra: Record<string, string> = {}): Promise<PromoteRun> => promote(args, { ...vars, ...extra });
  const bundleIdOf = (r: PromoteRun): string => /^Bundle:\s+(\S+)$/m.exec(r.out)?.[1].split("/").slice(-1)[0] ?? "";

  const commitCode = (version: string): string => {
    writeFileSync(join(origin, "code.json"), `${JSON.stringify({ version })}\n`);
    git(origin, ["add", "-A"]);
    git(origin, ["commit", "-q", "-m", `stand-in ${version}`]);
    return git(origin, ["rev-parse", "HEAD"]).trim();
  };

  beforeAll(async () => {
    root = tempDir("promote-store-gate");
    const boots = await Promise.all(
      ["dev", "staging"].map((env) => promote(["bootstrap", env, "--by", "integration-test"], isolatedVars(emu(), { PROMOTE_HOME: join(root, `boot-${env}`), CDKTF_OUTDIR: join(root, `boot-out-${env}`) }))),
    );
    for (const b of boots) expectExit(b, 0);
    origin = join(root, "origin");
    mkdirSync(origin);
    gitInit(origin);
    writeFileSync(join(origin, "synth.js"), SYNTH);
    writeFileSync(join(origin, ".gitignore"), "cdktf.out/\n");
    commitCode("a");
    checkout = join(root, "checkout");
    git(root, ["clone", "-q", origin, checkout]);
    vars = isolatedVars(emu(), {
      PROMOTE_STORE: "s3",
      PROMOTE_CHECKOUT_DIR: checkout,
      PROMOTE_HOME: join(root, "plans"),
      PROMOTE_LEDGER_DIR: checkout,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} synth.js`,
      PROMOTE_USER: "alice",
    });
  }, SETUP_MS);

  afterAll(() => removeDir(root));

  it("a forged deployed/dev tag on a commit dev never applied is refused PROMOTION-GATE; the tag alone (local store) would pass; a real dev apply opens it", async () => {
    const a = git(checkout, ["rev-parse", "HEAD"]).trim();
    const devPlan = await cli(["plan", "dev"]);
    expectExit(devPlan, 0);
    expectExit(await cli(["apply", "dev", bundleIdOf(devPlan)]), 0);
    expect(ledgerTags(checkout, "dev").map((t) => t.commit)).toEqual([a]);

    // Commit b: dev never applied it; someone who can push tags writes deployed/dev/<stamp> on it.
    const b = commitCode("b");
    git(checkout, ["pull", "-q", "--ff-only"]);
    new Ledger(checkout, checkout).record("dev", b, { bundleId: "forged", planSha256: "0".repeat(64), appliedBy: "mallory", approvedBy: null });
    expect(ledgerTags(checkout, "dev").map((t) => t.commit).sort()).toEqual([a, b].sort());

    const forged = await cli(["plan", "staging"]);
    expectRefusal(forged, "PROMOTION-GATE");
    expect(forged.err).toContain("has no succeeded apply behind it in dev's store");
    expect(forged.err).toContain(`commit ${b} applied successfully in "dev"`);
    // The same tag fools the tag-only gate of the local store: the attack is real.
    const fooled = await cli(["plan", "staging"], { PROMOTE_STORE: "local" });
    expectExit(fooled, 0);

    // The commit dev did apply passes the store's gate.
    git(checkout, ["checkout", "-q", a]);
    expectExit(await cli(["plan", "staging"]), 0);
  }, STEP_MS);
});

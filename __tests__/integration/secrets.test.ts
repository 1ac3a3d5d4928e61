/**
 * Issue 14: secrets that never enter a plan file or the state, proven with real terraform on the emulator.
 *
 *   beforeAll  bootstraps dev, staging and prod; applies dev's stack as the base commit (0fd2109, today's
 *              main: random_password results in `password` / `secret_string`) synthesized from `git archive`,
 *              and measures what its no-change plan file and its state hold.
 *   its        the upgrade (`promote plan dev` + `promote apply dev` of this checkout) applies, the database
 *              switches to an AWS-managed password (never blank: RDS keeps it in its own secret), and no
 *              secret value read back from Secrets Manager is in the saved plan file (its bytes and every
 *              zip entry), `terraform show -json`, the state, cdk.tf.json, summary, manifest, review page or
 *              audit log; a second plan has no changes; a version bump rotates exactly one secret (the plan
 *              names it, never a value) and the new value is in Secrets Manager only; staging and prod:
 *              plan-level (speculative bundles of the same code): the same searches, no random_password
 *              left, the write-only gate passes; plan files stay 0600.
 *
 * The checkout planned is a temporary git copy of this checkout's synth inputs (so a version bump can
 * be committed), its ledger its own repository; everything lives in temporary folders and on this file's
 * own emulator. Figures (counts, times) are printed for the note.
 */
import { auditRecords } from "../helpers/store-records";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PATHS, PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { withEmulator } from "../helpers/emulator";
import { accountCredentials, ACCOUNTS, clientConfig, expectExit, git, isolatedVars, promote, removeDir, run, tempDir, terraform } from "../helpers/integration";

const BASE_COMMIT = "0fd2109";
const ROUND_MS = 25 * 60_000;
const STEP_MS = 10 * 60_000;
const SYNTH_INPUTS = ["main.ts", "envs", "constructs", "stacks", "package.json", "package-lock.json", "scripts/toolchain.json", "cdktf.json", "tsconfig.json"];

/** Every text a saved plan file holds: its raw bytes (latin1) and each zip entry, inflated. */
function planFileTexts(planFile: string): string[] {
  const py = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    sys.stdout.buffer.write(z.read(n))\n    sys.stdout.buffer.write(b'\\n')\n";
  const inflated = execFileSync(PATHS.venvPython, ["-c", py, planFile], { maxBuffer: 256 * 1024 * 1024 });
  return [readFileSync(planFile).toString("latin1"), inflated.toString("utf8")];
}

/** Go's JSON encoder (terraform's state and show -json) escapes <, > and & as \u003c, \u003e, \u0026. */
const goJson = (v: string) => JSON.stringify(v).slice(1, -1).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");

/** Occurrences of each value in the texts (a value inside a JSON string may be escaped: every form searched). */
function occurrences(texts: readonly string[], values: readonly string[]): number {
  let n = 0;
  for (const v of values) {
    const forms = new Set([v, JSON.stringify(v).slice(1, -1), goJson(v)]);
    for (const t of texts) for (const f of forms) n += t.split(f).length - 1;
  }
  return n;
}

interface Bundle {
  readonly dir: string;
  readonly planFile: string;
}

function latestBundle(home: string, env: string): Bundle {
  const dirs = readdirSync(join(home, env)).filter((d) => !d.startsWith(".")).sort();
  const dir = join(home, env, dirs[dirs.length - 1]);
  return { dir, planFile: join(dir, "plan.tfplan") };
}

describe("secrets never enter a plan file or the state (issue 14)", () => {
  const emu = withEmulator();
  let root: string;
  let vars: NodeJS.ProcessEnv;
  let checkout: string;
  let home: string;
  let sm: SecretsManagerClient;
  const figures: string[] = [];
  const baseValues: Record<string, string> = {};
  let baseStackDir: string;

  const stackDir = (env: string) => join(root, "cdktf.out", "stacks", env);
  const readSecret = async (id: string) => (await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? "";
  const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const r = await f();
    figures.push(`${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  };

  /** The texts a bundle of `env` left behind, each named, for the searches. */
  async function bundleArtifacts(env: string, bundle: Bundle): Promise<Record<string, string>> {
    const [raw, inflated] = planFileTexts(bundle.planFile);
    const show = await terraform(stackDir(env), ["show", "-json", bundle.planFile], vars);
    expectExit(show, 0, `terraform show -json (${env})`);
    const state = await terraform(stackDir(env), ["state", "pull"], vars);
    expectExit(state, 0, `terraform state pull (${env})`);
    const review = await promote(["review", env, readdirSync(join(home, env)).filter((d) => !d.startsWith(".")).sort().pop()!, "--html"], vars);
    expectExit(review, 0);
    const htmlFiles = readdirSync(bundle.dir).filter((f) => f.endsWith(".html"));
    return {
      "plan file (bytes)": raw,
      "plan file (zip entries)": inflated,
      "terraform show -json": show.out,
      "state pull": state.out,
      "cdk.tf.json": readFileSync(join(stackDir(env), "cdk.tf.json"), "utf8"),
      "summary.txt": readFileSync(join(bundle.dir, "summary.txt"), "utf8"),
      "manifest.json": readFileSync(join(bundle.dir, "manifest.json"), "utf8"),
      "review (out + html)": review.out + htmlFiles.map((f) => readFileSync(join(bundle.dir, f), "utf8")).join("\n"),
      "audit (the env's store)": JSON.stringify(await auditRecords(vars, env)),
    };
  }

  function expectNoValues(artifacts: Record<string, string>, values: readonly string[]): void {
    const found = Object.entries(artifacts)
      .map(([name, text]) => [name, occurrences([text], values)] as const)
      .filter(([, n]) => n > 0);
    expect(found).toEqual([]);
  }

  /** Commits the checkout's files; returns the commit. */
  function commit(message: string): string {
    git(checkout, ["add", "-A"]);
    git(checkout, ["commit", "-q", "--allow-empty", "-m", message]);
    return git(checkout, ["rev-parse", "HEAD"]);
  }

  beforeAll(async () => {
    root = tempDir("secrets");
    checkout = join(root, "checkout");
    home = join(root, "plans");
    mkdirSync(checkout);
    for (const p of SYNTH_INPUTS) cpSync(join(PROJECT_ROOT, p), join(checkout, p), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(checkout, "node_modules"));
    writeFileSync(join(checkout, ".gitignore"), "node_modules\ncdktf.out/\n");
    git(checkout, ["init", "-q"]);
    commit("this checkout's synth inputs");
    vars = isolatedVars(emu(), {
      PROMOTE_HOME: home,
      PROMOTE_LEDGER_DIR: checkout,
      PROMOTE_CHECKOUT_DIR: checkout,
      CDKTF_OUTDIR: join(root, "cdktf.out"),
      PROMOTE_USER: "integration-test",
    });
    const creds = await accountCredentials(emu().endpoint, ACCOUNTS.dev);
    sm = new SecretsManagerClient(clientConfig(emu().endpoint, creds));

    expectExit(await run(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--if-needed", "--quiet"], { cwd: PROJECT_ROOT, env: vars }), 0, "setup --if-needed");
    const boots = await Promise.all(["dev", "staging", "prod"].map((env) => promote(["bootstrap", env, "--by", "integration-test"], vars)));
    boots.forEach((r) => expectExit(r, 0));

    // Today's main: the base commit's stack, synthesized from `git archive` (no worktree of this repository).
    const base = join(root, "base");
    mkdirSync(base);
    execFileSync("sh", ["-c", `git -C "${PROJECT_ROOT}" archive ${BASE_COMMIT} ${SYNTH_INPUTS.join(" ")} | tar -x -C "${base}"`]);
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(base, "node_modules"));
    const synth = await run(process.execPath, ["-r", join(PROJECT_ROOT, "scripts", "lib", "engine", "ts-hook.js"), "main.ts"], {
      cwd: base,
      env: { ...vars, CDKTF_OUTDIR: join(base, "out") },
    });
    expectExit(synth, 0, `synth of ${BASE_COMMIT}`);
    baseStackDir = join(base, "out", "stacks", "dev");
    expectExit(await terraform(baseStackDir, ["init", "-input=false", "-no-color"], vars), 0, "terraform init (base)");
    const apply = await timed(`dev: apply of ${BASE_COMMIT} (fresh)`, () => terraform(baseStackDir, ["apply", "-auto-approve", "-input=false", "-no-color"], vars));
    expectExit(apply, 0, "terraform apply (base)");
    for (const name of ["POSTGRES_PASSWORD", "JWT_SECRET", "API_KEY"]) baseValues[name] = await readSecret(`dev/${name}`);
  }, ROUND_MS);

  afterAll(() => {
    sm?.destroy();
    if (figures.length) process.stdout.write(`\nissue 14 figures\n  ${figures.join("\n  ")}\n`);
    removeDir(root);
  });

  it("before: today's main keeps the generated values in the saved plan file and the state", async () => {
    const values = Object.values(baseValues);
    expect(values.every((v) => v.length >= 32)).toBe(true);
    const planFile = join(root, "base.tfplan");
    const plan = await timed(`dev: no-change plan of ${BASE_COMMIT}`, () => terraform(baseStackDir, ["plan", "-input=false", "-no-color", `-out=${planFile}`], vars));
    expectExit(plan, 0, "terraform plan (base)");
    const state = await terraform(baseStackDir, ["state", "pull"], vars);
    const inPlan = occurrences([planFileTexts(planFile)[1]], values);
    const inState = occurrences([state.out], values);
    figures.push(`dev before: secret values in the plan file ${inPlan}, in the state ${inState} (3 values: random_password results, secret_string x3, db password)`);
    // Each value at least as the random result and the secret_string; the database password once more.
    expect(inPlan).toBeGreaterThanOrEqual(7);
    expect(inState).toBeGreaterThanOrEqual(7);
  }, STEP_MS);

  let upgradeBundle: Bundle;
  let newValues: Record<string, string>;

  it("upgrade: promote plan + apply of this checkout on the state of today's main applies; the database password is AWS-managed, not blank", async () => {
    const plan = await timed("dev: promote plan (upgrade)", () => promote(["plan", "dev"], vars));
    expectExit(plan, 0);
    upgradeBundle = latestBundle(home, "dev");
    expect(statSync(upgradeBundle.planFile).mode & 0o777).toBe(0o600);
    const apply = await timed("dev: promote apply (upgrade)", () => promote(["apply", "dev", "--by", "integration-test"], vars));
    expectExit(apply, 0);

    // The managed secret's ARN as the state records it (the db_secret_arn output was planned as "" in
    // this switching plan, the provider not marking the block unknown: the next apply fills it).
    const pulled = JSON.parse((await terraform(stackDir("dev"), ["state", "pull"], vars)).out) as {
      resources: Array<{ type: string; instances: Array<{ attributes: { manage_master_user_password?: boolean; password?: string; master_user_secret?: Array<{ secret_arn: string }> } }> }>;
    };
    const dbState = pulled.resources.find((r) => r.type === "aws_db_instance")!.instances[0].attributes;
    expect([dbState.manage_master_user_password, dbState.password ?? ""]).toEqual([true, ""]);
    const dbSecretArn = dbState.master_user_secret![0].secret_arn;
    expect(dbSecretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:111111111111:secret:rds!db-/);
    const managed = JSON.parse(await readSecret(dbSecretArn)) as { username?: string; password?: string };
    expect(typeof managed.password).toBe("string");
    expect(managed.password!.length).toBeGreaterThan(0);
    newValues = { DB_PASSWORD: managed.password!, JWT_SECRET: await readSecret("dev/JWT_SECRET"), API_KEY: await readSecret("dev/API_KEY") };
    // New values, generated in the apply; the old random_password secret of the database is gone.
    expect(newValues.JWT_SECRET).not.toBe(baseValues.JWT_SECRET);
    expect(newValues.API_KEY).not.toBe(baseValues.API_KEY);
    expect(newValues.JWT_SECRET).toMatch(/^.{48}$/);
    const names = (await sm.send(new ListSecretsCommand({}))).SecretList?.map((s) => s.Name) ?? [];
    expect(names.filter((n) => n!.startsWith("dev/")).sort()).toEqual(["dev/API_KEY", "dev/JWT_SECRET"]);

    // The upgrade plan was made from the old state, so its file holds the old values (prior state);
    // the state after the apply holds none, old or new.
    const state = await terraform(stackDir("dev"), ["state", "pull"], vars);
    const all = [...Object.values(baseValues), ...Object.values(newValues)];
    const upgradeInPlan = occurrences([planFileTexts(upgradeBundle.planFile)[1]], Object.values(baseValues));
    figures.push(`dev upgrade plan file: ${upgradeInPlan} old values (its prior state, from today's main), 0 new`);
    expect(occurrences([state.out], all)).toBe(0);
    expect(state.out).not.toContain('"type": "random_password"');
  }, STEP_MS);

  it("no secret value read back from Secrets Manager is in the plan file, show -json, state, cdk.tf.json, summary, manifest, review or audit", async () => {
    expectNoValues(await bundleArtifacts("dev", upgradeBundle), Object.values(newValues));
  }, STEP_MS);

  it("a second plan shows no changes, and its plan file and state hold no secret value, old or new", async () => {
    const plan = await timed("dev: promote plan (no changes)", () => promote(["plan", "dev"], vars));
    expectExit(plan, 0);
    const bundle = latestBundle(home, "dev");
    const m = JSON.parse(readFileSync(join(bundle.dir, "manifest.json"), "utf8")) as { counts: Record<string, number> };
    expect(m.counts).toMatchObject({ add: 0, change: 0, destroy: 0, replace: 0 });
    const artifacts = await bundleArtifacts("dev", bundle);
    expectNoValues(artifacts, [...Object.values(baseValues), ...Object.values(newValues)]);
    figures.push(`dev after: secret values in the plan file ${occurrences([artifacts["plan file (zip entries)"]], Object.values(newValues))}, in the state ${occurrences([artifacts["state pull"]], Object.values(newValues))}`);
    expect(statSync(bundle.planFile).mode & 0o777).toBe(0o600);
  }, STEP_MS);

  it("rotation: a version bump plans an update of exactly that secret (named, no value), and the apply stores a new value", async () => {
    const devTs = join(checkout, "envs", "dev.ts");
    const text = readFileSync(devTs, "utf8");
    const bumped = text.replace(/(name: "API_KEY", [^}]*version: )1/, "$12");
    expect(bumped).not.toBe(text);
    writeFileSync(devTs, bumped);
    commit("rotate dev API_KEY");
    const plan = await timed("dev: promote plan (rotation)", () => promote(["plan", "dev"], vars));
    expectExit(plan, 0);
    const bundle = latestBundle(home, "dev");
    const show = JSON.parse((await terraform(stackDir("dev"), ["show", "-json", bundle.planFile], vars)).out) as {
      resource_changes: Array<{ address: string; type: string; change: { actions: string[]; before: Record<string, unknown>; after: Record<string, unknown> } }>;
    };
    const changed = show.resource_changes.filter((rc) => rc.change.actions.join() !== "no-op");
    expect(changed.map((rc) => [rc.address, rc.change.actions.join("+")])).toEqual([[expect.stringMatching(/^aws_secretsmanager_secret_version\.secrets_API_KEY-version_/), expect.any(String)]]);
    expect(changed[0].change.before.secret_string_wo_version).toBe(1);
    expect(changed[0].change.after.secret_string_wo_version).toBe(2);
    const summary = readFileSync(join(bundle.dir, "summary.txt"), "utf8");
    expect(summary).toContain("secrets_API_KEY-version");
    figures.push(`dev rotation plan: ${changed[0].address} ${changed[0].change.actions.join("+")}`);

    const apply = await timed("dev: promote apply (rotation)", () => promote(["apply", "dev", "--by", "integration-test"], vars));
    expectExit(apply, 0);
    const rotated = await readSecret("dev/API_KEY");
    expect(rotated).not.toBe(newValues.API_KEY);
    expect(rotated).toMatch(/^.{32}$/);
    expect(await readSecret("dev/JWT_SECRET")).toBe(newValues.JWT_SECRET);
    const artifacts = await bundleArtifacts("dev", bundle);
    expectNoValues(artifacts, [rotated, newValues.API_KEY, newValues.JWT_SECRET, newValues.DB_PASSWORD]);

    const again = await promote(["plan", "dev"], vars);
    expectExit(again, 0);
    const m = JSON.parse(readFileSync(join(latestBundle(home, "dev").dir, "manifest.json"), "utf8")) as { counts: Record<string, number> };
    expect(m.counts).toMatchObject({ add: 0, change: 0, destroy: 0, replace: 0 });
  }, STEP_MS);

  it.each(["staging", "prod"])("%s (plan level): no generated secret in plan or state, write-only and managed arguments only, the gate passes, 0600", async (env) => {
    const plan = await timed(`${env}: promote plan --speculative (fresh)`, () => promote(["plan", env, "--speculative"], vars));
    expectExit(plan, 0);
    const bundle = latestBundle(home, env);
    expect(statSync(bundle.planFile).mode & 0o777).toBe(0o600);
    const show = JSON.parse((await terraform(stackDir(env), ["show", "-json", bundle.planFile], vars)).out) as {
      resource_changes: Array<{ address: string; type: string; change: { after: Record<string, unknown>; after_unknown: Record<string, unknown> } }>;
    };
    expect(show.resource_changes.filter((rc) => rc.type === "random_password")).toEqual([]);
    for (const rc of show.resource_changes.filter((r) => r.type === "aws_secretsmanager_secret_version")) {
      expect([rc.address, rc.change.after.secret_string ?? null, rc.change.after_unknown.secret_string ?? false, rc.change.after.secret_string_wo_version]).toEqual([rc.address, null, false, 1]);
    }
    const db = show.resource_changes.find((r) => r.type === "aws_db_instance")!;
    expect([db.change.after.password ?? null, db.change.after_unknown.password ?? false, db.change.after.manage_master_user_password]).toEqual([null, false, true]);
    const policy = await promote(["policy", env, bundle.dir.split("/").pop()!], vars);
    expect(policy.out).not.toContain("POLICY-PLAINTEXT-SECRET");
    // Nothing generated yet at plan level: the searches cover dev's values (same code, other account).
    expectNoValues(await bundleArtifacts(env, bundle), [...Object.values(newValues), ...Object.values(baseValues)]);
  }, STEP_MS);
});

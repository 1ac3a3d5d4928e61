/**
 * A small stand-in project for the engine's integration tests: a temporary git checkout whose synth
 * (PROMOTE_SYNTH_COMMAND) writes one env's stack with the project's own provider and S3 backend settings
 * (stacks/providers.ts, stacks/target.ts: assume_role into the env's account, allowed_account_ids,
 * default tags, the emulator's endpoints) but only a VPC (and optionally a subnet), so a plan or an apply
 * on the emulator takes seconds instead of the full env stack's minutes.
 *
 *   const w = await standinWorld(emu(), "prod");          // temp checkout; `promote bootstrap prod` ran
 *   w.commit({ version: "a" });                             // a commit of the stand-in's code
 *   await w.promote(["plan", "prod"]);                      // the CLI in-process: { code, out, err }
 *   await w.promote(["approve", "prod", id, "--sha256", sha, "--key", w.keys["bob@example.com"]], "bob");
 *
 * Signed approvals: every world has throwaway approvers (ssh-keygen ed25519 keys in its own folder, never
 * the user's) alice@, bob@ and carol@example.com, named by the demo's allowed_signers
 * (PROMOTE_DEMO_ALLOWED_SIGNERS, honoured against the emulator only). A user "x" plans as x@example.com.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { getEnvironment } from "../../envs";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { Ledger } from "../../scripts/lib/engine/io/ledger";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { makeThrowawayApprovers } from "../../scripts/lib/engine/io/signatures";
import { storeKind } from "../../scripts/lib/engine/io/s3-store";
import { recordStoreApply } from "./store-records";
import { main } from "../../scripts/promote";
import type { TestEmulator } from "./emulator";

export interface StandinCode {
  /** The VPC's `version` tag. */
  readonly version: string;
  /** Add a subnet in the VPC. @default false */
  readonly subnet?: boolean;
}

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface StandinWorld {
  readonly root: string;
  readonly checkout: string;
  readonly env: string;
  readonly vars: NodeJS.ProcessEnv;
  /** The throwaway approvers' private key files, by principal (alice@, bob@, carol@example.com). */
  readonly keys: Readonly<Record<string, string>>;
  /** Their allowed_signers file (PROMOTE_DEMO_ALLOWED_SIGNERS). */
  readonly allowedSigners: string;
  /** Commits the stand-in's code; returns the commit id. */
  commit(code: StandinCode): string;
  /** Runs `npx promote <args>` in-process against this world (as `user`). */
  promote(args: readonly string[], user?: string): Promise<Run>;
  /** Records a successful apply of the env this one promotes from (its store's applied record and the ledger tag; the gate reads both). */
  recordApply(env: string, commit: string): Promise<string>;
  /** SDK credentials inside the env's account (assumed deploy role). */
  credentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  /** What the bootstraps of the world printed (stderr: terraform's and the engine's lines). */
  readonly bootLog: string;
  cleanup(): void;
}

/** The throwaway approvers every world has. */
export const APPROVERS = ["alice@example.com", "bob@example.com", "carol@example.com"] as const;

const SYNTH = `// The stand-in app: the project's providers and backend, one small network.
require(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/engine/ts-hook.js"))});
const root = ${JSON.stringify(PROJECT_ROOT)};
const { App, TerraformStack } = require(root + "/node_modules/cdktf");
const { Vpc } = require(root + "/node_modules/@cdktf/provider-aws/lib/vpc");
const { Subnet } = require(root + "/node_modules/@cdktf/provider-aws/lib/subnet");
const { getEnvironment } = require(root + "/envs");
const { awsProvider, s3Backend, pinProviderVersions } = require(root + "/stacks/providers");
const { targetFromEnv } = require(root + "/stacks/target");
const code = require("./code.json");
const app = new App();
const config = getEnvironment(code.env);
const target = targetFromEnv();
const stack = new TerraformStack(app, config.name);
awsProvider(stack, config, target);
s3Backend(stack, config, target);
pinProviderVersions(stack, ["aws"]);
const vpc = new Vpc(stack, "main", { cidrBlock: "10.77.0.0/16", tags: { Name: "standin", version: code.version } });
if (code.subnet) new Subnet(stack, "extra", { vpcId: vpc.id, cidrBlock: "10.77.1.0/24", tags: { Name: "standin-extra" } });
app.synth();
`;

function sh(dir: string, args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  }).trim();
}

/** A temporary checkout of the stand-in, with the env's state bucket and lock table on the emulator. */
export async function standinWorld(emu: TestEmulator, env: string): Promise<StandinWorld> {
  const root = mkdtempSync(join(tmpdir(), "promote-standin-"));
  const checkout = join(root, "checkout");
  mkdirSync(checkout);
  sh(checkout, ["init", "-q"]);
  writeFileSync(join(checkout, "synth.js"), SYNTH);
  writeFileSync(join(checkout, ".gitignore"), "cdktf.out/\n");
  const keysDir = join(root, "approver-keys");
  mkdirSync(keysDir, { mode: 0o700 });
  const approvers = makeThrowawayApprovers(keysDir, APPROVERS);
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    ...emu.env,
    PROMOTE_CHECKOUT_DIR: checkout,
    PROMOTE_HOME: join(root, "plans"),
    PROMOTE_LEDGER_DIR: checkout,
    CDKTF_OUTDIR: join(root, "cdktf.out"),
    PROMOTE_SYNTH_COMMAND: `${JSON.stringify(process.execPath)} synth.js`,
    TF_PLUGIN_CACHE_DIR: "",
    PROMOTE_DEMO_ALLOWED_SIGNERS: approvers.allowedSigners,
  };
  const cfg = getEnvironment(env);
  const base = { endpoint: emu.endpoint, region: cfg.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  const credentials = async () => {
    const { Credentials: c } = await new STSClient(base).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${cfg.account.id}:role/${cfg.account.deployRoleName}`, RoleSessionName: "standin" }),
    );
    return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
  };
  // The env's delivery baseline (state bucket, lock table, KMS key, the promotion store), by the real
  // bootstrap stack of the project (not the stand-in's synth): the engine keeps its records in that store.
  const bootOut: string[] = [];
  const bootErr: string[] = [];
  const bootVars: NodeJS.ProcessEnv = { ...process.env, ...emu.env, PROMOTE_HOME: join(root, "bootstrap-home"), CDKTF_OUTDIR: join(root, "bootstrap-out"), PROMOTE_USER: "standin-bootstrap", TF_PLUGIN_CACHE_DIR: "" };
  for (const k of ["PROMOTE_CHECKOUT_DIR", "PROMOTE_LEDGER_DIR", "PROMOTE_SYNTH_COMMAND", "PROMOTE_STORE"]) delete bootVars[k];
  // The env this one promotes from is bootstrapped too (in parallel): its store holds the applies the gate reads.
  const from = getEnvironment(env).delivery.promotesFrom;
  await Promise.all(
    [env, ...(from === null ? [] : [from])].map(async (e) => {
      const booted = await main(["bootstrap", e], defaultContext(bootVars, { out: (t) => bootOut.push(t), err: (t) => bootErr.push(t) }));
      if (booted !== 0) throw new Error(`promote bootstrap ${e} exited ${booted}\n--- out\n${bootOut.join("").slice(-2000)}\n--- err\n${bootErr.join("").slice(-4000)}`);
    }),
  );
  return {
    root,
    checkout,
    env,
    vars,
    keys: approvers.keys,
    allowedSigners: approvers.allowedSigners,
    commit(code) {
      writeFileSync(join(checkout, "code.json"), `${JSON.stringify({ env, ...code })}\n`);
      sh(checkout, ["add", "-A"]);
      sh(checkout, ["commit", "-q", "--allow-empty", "-m", `stand-in ${code.version}`]);
      return sh(checkout, ["rev-parse", "HEAD"]);
    },
    async promote(args, user = "alice") {
      const out: string[] = [];
      const err: string[] = [];
      const ctx = defaultContext({ ...vars, PROMOTE_USER: user, PROMOTE_USER_EMAIL: /^[a-z]+$/.test(user) ? `${user}@example.com` : "" }, { out: (t) => out.push(t), err: (t) => err.push(t) });
      const code = await main(args, ctx);
      return { code, out: out.join(""), err: err.join("") };
    },
    async recordApply(other, commit) {
      // What a succeeded apply of `other` leaves: its store's applied record (the gate reads it) and the ledger tag.
      const bundleId = storeKind(vars) === "s3" ? await recordStoreApply(vars, other, commit) : "test";
      return new Ledger(checkout, checkout).record(other, commit, { bundleId, planSha256: "0".repeat(64), appliedBy: "test", approvedBy: null });
    },
    credentials,
    bootLog: bootErr.join(""),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Fails with the command's output when it did not exit as expected. */
export function expectExit(r: Run, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- out\n${r.out.slice(-3000)}\n--- err\n${r.err.slice(-4000)}`);
}

/**
 * The commands behind `npx promote`: plan (and plan --speculative), review, approve, apply (and apply
 * --auto), policy, audit verify, ledger, bundles. drift, rollback and doctor live beside this file and
 * use the helpers exported below. Each gathers facts, asks a decision (decisions.ts), and only then acts. Every plan,
 * approval, apply and refusal appends an audit record; plan and apply hold the env's lock.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getEnvironment, loadEnvironments, type EnvConfig } from "../../../envs";
import { blocksApproval, countFindings, evaluatePolicies, formatFindings, formatFindingsMarkdown, POLICY_EXCEPTIONS_FILE, readExceptions, type Finding } from "../policy";
import { AuditLog, type AuditEntry } from "./audit";
import { FILES, findBundle, listBundles, newBundleId, readBundle } from "./bundle";
import { decideApply, decideApprove, decideAuto, decidePlan, decideReview } from "./decisions";
import { EngineError, RefusalError, refusal, type Decision } from "./errors";
import { envFacts, type StateIdentity } from "./facts";
import { dirtyPaths, headCommit, whoAmI } from "./git";
import { sha256, sha256File } from "./hash";
import { Ledger } from "./ledger";
import { acquireLock, describeHolder } from "./lock";
import { auditPath, envLockPath, envPlansDir, resolvePaths, stackDir, type EnginePaths } from "./paths";
import { fixFor } from "./rules";
import { appliedSchema, approvalSchema, manifestSchema, parseWith, policyFileSchema, type Applied, type Approval, type Manifest, type PolicyFile } from "./schemas";
import { parsePlanText, PlanJsonError, type Plan } from "../plan";
import { renderChanges, summarizePlan } from "./summary";
import { SYNTH_FILE, synthesize, synthReason, synthStampCommit } from "./synth";
import { backendOf, classifyFailure, failure, parseStatePull, parseVersion, runTerraform } from "./terraform";
import { terraformEnv } from "../toolchain";

/** Files whose uncommitted changes make a gated plan refuse (WORKTREE-DIRTY): what synth reads. */
export const SYNTH_INPUTS = ["main.ts", "envs", "constructs", "stacks", "package.json", "package-lock.json", "scripts/toolchain.json", "cdktf.json", "tsconfig.json"];

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface EngineContext {
  readonly paths: EnginePaths;
  readonly vars: NodeJS.ProcessEnv;
  readonly io: Io;
  readonly now: () => Date;
  readonly environments: () => EnvConfig[];
}

export function defaultContext(vars: NodeJS.ProcessEnv = process.env, io?: Io, overrides: Partial<EnginePaths> = {}): EngineContext {
  return {
    paths: resolvePaths(vars, overrides),
    vars,
    io: io ?? { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
    now: () => new Date(),
    environments: () => loadEnvironments(undefined, vars),
  };
}

// ---------------------------------------------------------------------------------------------
// Audit and lock around a command
// ---------------------------------------------------------------------------------------------

export type AuditInfo = { -readonly [K in "commit" | "bundleId" | "planSha256" | "approver"]?: string };

/** Runs a command body; appends ok / refused / error to the env's audit log (refusing a broken log). */
export async function audited<T>(ctx: EngineContext, env: string, command: string, by: string, body: (info: AuditInfo) => Promise<{ value: T; detail: string }>): Promise<T> {
  const audit = new AuditLog(auditPath(ctx.paths, env), env);
  const broken = audit.brokenRefusal();
  if (broken) throw new RefusalError(broken);
  const info: AuditInfo = {};
  let outcome: { value: T; detail: string };
  try {
    outcome = await body(info);
  } catch (e) {
    const entry: AuditEntry =
      e instanceof RefusalError
        ? { env, command, by, result: "refused", refusalId: e.refusal.id, ...info, detail: `expected ${e.refusal.expected}; found ${e.refusal.found}`.slice(0, 500) }
        : { env, command, by, result: "error", ...info, detail: (e as Error).message.slice(0, 500) };
    try {
      await audit.append(entry, ctx.now());
    } catch (appendError) {
      ctx.io.err(`warning: could not append to the audit log: ${(appendError as Error).message}\n`);
    }
    throw e;
  }
  await audit.append({ env, command, by, result: "ok", ...info, detail: outcome.detail }, ctx.now());
  return outcome.value;
}

export async function withEnvLock<T>(ctx: EngineContext, env: string, command: string, waitSeconds: number, body: () => Promise<T>): Promise<T> {
  const got = await acquireLock(envLockPath(ctx.paths, env), {
    command,
    waitMs: Math.max(0, waitSeconds) * 1000,
    onWait: (h) => ctx.io.err(`waiting up to ${waitSeconds}s for the ${env} lock, held by ${describeHolder(h)}...\n`),
  });
  if (!got.ok) {
    throw new RefusalError(refusal("ENV-LOCKED", `no other plan or apply of "${env}" running`, `held by ${describeHolder(got.holder)}`, fixFor("ENV-LOCKED", env)));
  }
  if (got.lock.tookOverFrom) ctx.io.err(`took over a stale ${env} lock from dead ${describeHolder(got.lock.tookOverFrom)}\n`);
  try {
    return await body();
  } finally {
    got.lock.release();
  }
}

export function envConfig(ctx: EngineContext, name: string): EnvConfig {
  try {
    return getEnvironment(name, ctx.environments());
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
}

export const must = (d: Decision): void => {
  if (!d.ok) throw new RefusalError(d);
};

export function ledgerOf(ctx: EngineContext): Ledger {
  return new Ledger(ctx.paths.ledgerDir, ctx.paths.checkoutDir);
}

function previousEnvApplies(ctx: EngineContext, cfg: EnvConfig) {
  return cfg.delivery.promotesFrom === null ? [] : ledgerOf(ctx).entries(cfg.delivery.promotesFrom);
}

// ---------------------------------------------------------------------------------------------
// terraform steps
// ---------------------------------------------------------------------------------------------

/**
 * What an init depends on: the stack's terraform block (backend and required providers), the provider
 * lock file and the CLI config (provider mirrors). When none changed since the last successful init of
 * this working directory, init is skipped: it is the slowest part of a command that re-plans nothing.
 */
function initInputsDigest(ctx: EngineContext, cwd: string): string | null {
  try {
    const stack = JSON.parse(readFileSync(join(cwd, SYNTH_FILE), "utf8")) as { terraform?: unknown };
    const lock = existsSync(join(cwd, ".terraform.lock.hcl")) ? readFileSync(join(cwd, ".terraform.lock.hcl"), "utf8") : "";
    const cli = terraformEnv({}, ctx.vars).TF_CLI_CONFIG_FILE ?? "";
    const cliText = cli && existsSync(cli) ? readFileSync(cli, "utf8") : "";
    return sha256(JSON.stringify([stack.terraform ?? null, lock, cliText]));
  } catch {
    return null;
  }
}

const INIT_STAMP = join(".terraform", "promote-init.sha256");

export async function tfInit(ctx: EngineContext, cwd: string, readonlyLock: boolean): Promise<void> {
  const digest = initInputsDigest(ctx, cwd);
  const stamp = join(cwd, INIT_STAMP);
  if (digest !== null && existsSync(join(cwd, ".terraform", "providers")) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) {
    ctx.io.err("terraform init: up to date (backend, providers, lock file and CLI config unchanged since the last init)\n");
    return;
  }
  const args = ["init", "-input=false", "-no-color", "-reconfigure", ...(readonlyLock ? ["-lockfile=readonly"] : [])];
  ctx.io.err(`$ terraform ${args.join(" ")}\n`);
  rmSync(stamp, { force: true });
  const r = await runTerraform(args, { cwd, vars: ctx.vars, echo: (t) => ctx.io.err(t) });
  if (r.code !== 0) throw failure("init", r);
  // Recomputed: init may have written the lock file.
  const after = initInputsDigest(ctx, cwd);
  if (after !== null) writeFileSync(stamp, after);
}

export async function tfStatePull(ctx: EngineContext, cwd: string): Promise<StateIdentity | null> {
  const r = await runTerraform(["state", "pull"], { cwd, vars: ctx.vars });
  if (r.code !== 0) throw failure("state pull", r);
  try {
    return parseStatePull(r.stdout);
  } catch (e) {
    throw new EngineError(`terraform state pull returned an unreadable state: ${(e as Error).message}`);
  }
}

export function tfRefusal(kind: "PLAN-STALE" | "STATE-LOCKED", env: string, manifest: Manifest | null): RefusalError {
  return kind === "PLAN-STALE"
    ? new RefusalError(refusal("PLAN-STALE", `state as planned (${manifest?.priorState ? `serial ${manifest.priorState.serial}` : "no state"})`, 'terraform: "Saved plan is stale" (the state changed since the plan)', fixFor("PLAN-STALE", env)))
    : new RefusalError(refusal("STATE-LOCKED", "the state lock free", "terraform: Error acquiring the state lock (another run holds it)", fixFor("STATE-LOCKED", env)));
}

// ---------------------------------------------------------------------------------------------
// plan
// ---------------------------------------------------------------------------------------------

export interface PlanOptions {
  readonly env: string;
  readonly by?: string;
  /** auto: only when the stack is missing or stale; always; never. @default auto */
  readonly synth?: "auto" | "always" | "never";
  /** Hours the bundle stays applicable, at most the env's delivery.planTtlHours. @default planTtlHours */
  readonly ttlHours?: number;
  /** Seconds to wait for the env lock. @default 0 */
  readonly waitSeconds?: number;
  /**
   * A pull request's preview: no promotion gate, no clean-tree requirement; the bundle is marked
   * speculative and can never be approved or applied (BUNDLE-SPECULATIVE). @default false
   */
  readonly speculative?: boolean;
}

/** What kind of bundle planLocked makes, and from which code. */
export interface PlanMode {
  /** Made by apply --auto. */
  readonly auto: boolean;
  readonly speculative: boolean;
  /** A rollback: the release returned to (its code is in codeDir). */
  readonly rollback: { readonly toTag: string; readonly toCommit: string; readonly fromCommit: string | null } | null;
  /** The checkout whose code is synthesized and planned. @default ctx.paths.checkoutDir */
  readonly codeDir?: string;
  /** Extra summary text from the plan JSON (a rollback's list of what it cannot revert). */
  readonly notes?: (plan: Plan) => string;
}

const NORMAL: PlanMode = { auto: false, speculative: false, rollback: null };

export interface PlanResult {
  readonly dir: string;
  readonly manifest: Manifest;
}

export async function plan(ctx: EngineContext, o: PlanOptions): Promise<PlanResult> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  const command = o.speculative ? "plan --speculative" : "plan";
  return audited(ctx, cfg.name, command, by, (info) =>
    withEnvLock(ctx, cfg.name, `promote ${command} ${cfg.name}`, o.waitSeconds ?? 0, async () => {
      const result = await planLocked(ctx, cfg, o, by, info, { ...NORMAL, speculative: o.speculative === true });
      return { value: result, detail: countsLine(result.manifest) };
    }),
  );
}

const countsLine = (m: Manifest) => `+${m.counts.add} ~${m.counts.change} -${m.counts.destroy} (${m.counts.replace} replaced)`;

export async function planLocked(ctx: EngineContext, cfg: EnvConfig, o: PlanOptions, by: string, info: AuditInfo, mode: PlanMode): Promise<PlanResult> {
  const env = cfg.name;
  const auto = mode.auto;
  // The code planned: the checkout, or a rollback's temporary worktree (same output folder).
  const paths: EnginePaths = mode.codeDir ? { ...ctx.paths, checkoutDir: mode.codeDir } : ctx.paths;
  const commit = headCommit(paths.checkoutDir);
  info.commit = commit;
  const dirtyInputs = dirtyPaths(paths.checkoutDir, SYNTH_INPUTS);
  const kind = mode.speculative ? "speculative" : mode.rollback ? "rollback" : "normal";
  must(
    decidePlan({
      env: envFacts(cfg),
      checkout: { commit, dirtyPaths: dirtyInputs },
      previousEnvApplies: previousEnvApplies(ctx, cfg),
      ownApplies: kind === "rollback" ? ledgerOf(ctx).entries(env) : [],
      kind,
    }),
  );

  const ttl = o.ttlHours ?? cfg.delivery.planTtlHours;
  if (!(ttl > 0) || ttl > cfg.delivery.planTtlHours) {
    throw new EngineError(`--ttl must be more than 0 and at most ${cfg.delivery.planTtlHours} hours (envs/${env} delivery.planTtlHours), but ${ttl} hours was given`);
  }

  // Synth when needed.
  const dirtyTree = dirtyPaths(paths.checkoutDir).length > 0;
  const reason = o.synth === "always" ? "--synth always" : o.synth === "never" ? null : synthReason(paths, env, commit, dirtyInputs.length > 0, ctx.vars);
  const cwd = stackDir(paths, env);
  if (reason !== null) {
    ctx.io.err(`synth (${reason})...\n`);
    await synthesize(paths, env, commit, ctx.vars, (t) => ctx.io.err(t));
  }
  const synthFile = join(cwd, SYNTH_FILE);
  const synthSha = sha256File(synthFile);
  if (synthSha === null) throw new EngineError(`no ${synthFile}: run synth (npm run synth) or drop --synth never`);
  const backend = backendOf(JSON.parse(readFileSync(synthFile, "utf8")));

  // init, prior state, plan into a hidden folder.
  await tfInit(ctx, cwd, false);
  const lockFileSha = sha256File(join(cwd, ".terraform.lock.hcl"));
  // The prior state is read while terraform plans (neither writes it; the env lock keeps other runs of
  // this engine out, terraform's state lock the rest).
  const priorStateRead = tfStatePull(ctx, cwd).then(
    (state) => ({ ok: true as const, state }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const createdAt = ctx.now();
  const id = newBundleId(createdAt, commit);
  info.bundleId = id;
  const envDir = envPlansDir(paths, env);
  mkdirSync(envDir, { recursive: true, mode: 0o700 });
  const tmp = join(envDir, `.tmp-${id}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const planFile = join(tmp, FILES.plan);
    const previousUmask = process.umask(0o077);
    let planRun;
    try {
      ctx.io.err(`$ terraform plan -input=false -lock=true -out=${FILES.plan}\n`);
      planRun = await runTerraform(["plan", "-input=false", "-lock=true", "-no-color", `-out=${planFile}`], { cwd, vars: ctx.vars });
    } finally {
      process.umask(previousUmask);
    }
    if (planRun.code !== 0) {
      const kind = classifyFailure(planRun);
      if (kind === "STATE-LOCKED") throw tfRefusal(kind, env, null);
      throw failure("plan", planRun);
    }
    chmodSync(planFile, 0o600);
    const prior = await priorStateRead;
    if (!prior.ok) throw prior.error;
    const priorState = prior.state;
    const planSha = sha256File(planFile) as string;
    info.planSha256 = planSha;

    const show = await runTerraform(["show", "-json", "-no-color", planFile], { cwd, vars: ctx.vars });
    if (show.code !== 0) throw failure("show -json", show);
    const planJson = readPlanJson(show.stdout);
    const summary = summarizePlan(planJson);
    const policyFile = policyOf(planJson, cfg, ctx.paths.checkoutDir);
    const policyText = `${JSON.stringify(policyFile, null, 2)}\n`;
    const policyCounts = countFindings(policyFile.findings);
    const version = await runTerraform(["version", "-json"], { cwd, vars: ctx.vars });
    if (version.code !== 0) throw failure("version", version);
    const tf = parseVersion(version.stdout);
    if (sha256File(synthFile) !== synthSha) throw new EngineError(`${synthFile} changed while planning; run the plan again`);

    const expiresAt = new Date(createdAt.getTime() + ttl * 3_600_000);
    const partial: Omit<Manifest, "summarySha256"> = {
      schemaVersion: 1,
      id,
      env,
      stack: env,
      git: { commit, dirty: dirtyTree },
      synth: { file: SYNTH_FILE, sha256: synthSha },
      plan: { file: FILES.plan, sha256: planSha, bytes: readFileSync(planFile).length },
      lockFile: { sha256: lockFileSha },
      terraform: { binary: ctx.vars.TERRAFORM_BINARY_NAME || "terraform", version: tf.version, providers: tf.providers },
      backend,
      account: cfg.account.id,
      priorState,
      counts: summary.counts,
      destructive: summary.destructive,
      createdAt: createdAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      createdBy: by,
      auto,
      policy: { file: FILES.policy, sha256: sha256(policyText), ...policyCounts },
      speculative: mode.speculative,
      rollback: mode.rollback,
    };
    const notes = mode.notes ? mode.notes(planJson) : "";
    const summaryText = `${header(partial)}\n${renderChanges(summary)}${notes ? `\n${notes}` : ""}\nPolicy findings:\n${formatFindings(policyFile.findings)}`;
    const manifest: Manifest = manifestSchema.parse({ ...partial, summarySha256: sha256(summaryText) });
    writeFileSync(join(tmp, FILES.summary), summaryText, { mode: 0o644 });
    writeFileSync(join(tmp, FILES.policy), policyText, { mode: 0o644 });
    writeFileSync(join(tmp, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
    const dir = join(envDir, id);
    renameSync(tmp, dir);
    ctx.io.out(summaryText);
    ctx.io.out(`\nBundle:      ${dir}\nPlan SHA-256: ${planSha}\n`);
    if (mode.speculative) ctx.io.out("Speculative: this bundle is for reading; it can never be approved or applied.\n");
    else if (blocksApproval(policyFile.findings)) ctx.io.out(`Policy: ${policyCounts.errors} error(s) block approval and apply (POLICY-BLOCKED); see above.\n`);
    return { dir, manifest };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** terraform show -json's output, parsed once (lib/plan); a plan it cannot read is an error naming why. */
function readPlanJson(text: string): Plan {
  try {
    return parsePlanText(text);
  } catch (e) {
    if (e instanceof PlanJsonError) throw new EngineError(`terraform show -json: ${e.message}`);
    throw e;
  }
}

/** The policy findings on a plan JSON, with the exceptions recorded in the checkout (policy-exceptions.json). */
export function policyOf(planJson: unknown, cfg: EnvConfig, checkoutDir: string): PolicyFile {
  const file = join(checkoutDir, POLICY_EXCEPTIONS_FILE);
  const { exceptions, problems } = readExceptions(file);
  const findings: Finding[] = evaluatePolicies(planJson, cfg, { exceptions, exceptionProblems: problems });
  return { schemaVersion: 1, env: cfg.name, exceptionsFile: existsSync(file) ? POLICY_EXCEPTIONS_FILE : null, findings };
}

function header(m: Omit<Manifest, "summarySha256">): string {
  const lines = [
    `Environment: ${m.env}   bundle ${m.id}`,
    ...(m.speculative ? ["SPECULATIVE: a preview (promote plan --speculative); it can never be approved or applied"] : []),
    ...(m.rollback ? [`ROLLBACK:    to ${m.rollback.toTag} (commit ${m.rollback.toCommit}); the env ran ${m.rollback.fromCommit ?? "(nothing recorded)"}`] : []),
    `Commit:      ${m.git.commit}${m.git.dirty ? "   (DIRTY TREE: uncommitted changes were present)" : ""}`,
    `Created:     ${m.createdAt} by ${m.createdBy}; expires ${m.expiresAt}`,
    `Terraform:   ${m.terraform.version}; providers ${Object.entries(m.terraform.providers).map(([k, v]) => `${k.split("/").slice(-1)[0]} ${v}`).join(", ") || "-"}`,
    `Backend:     ${m.backend.type} ${m.backend.bucket ?? "-"}/${m.backend.key ?? "-"} (lock ${m.backend.lockTable ?? "-"}); account ${m.account}`,
    `Prior state: ${m.priorState ? `serial ${m.priorState.serial}, lineage ${m.priorState.lineage}` : "none (first apply)"}`,
    `Plan SHA-256: ${m.plan.sha256}`,
  ];
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// review and approve
// ---------------------------------------------------------------------------------------------

export function bundleDirOrRefuse(ctx: EngineContext, env: string, id?: string): string {
  const dir = findBundle(ctx.paths, env, id);
  if (dir === null) {
    throw new RefusalError(refusal("BUNDLE-NOT-FOUND", id ? `bundle ${env}/${id}` : `a bundle under ${envPlansDir(ctx.paths, env)}`, "none", fixFor("BUNDLE-NOT-FOUND", env)));
  }
  return dir;
}

const parsedManifest = (text: string | null): Manifest => {
  const p = parseWith(manifestSchema, text ?? "");
  if (!p.ok) throw new Error("unreachable: the decision parsed the manifest");
  return p.value;
};

export interface ReviewOptions {
  readonly env: string;
  readonly bundle?: string;
}

export async function review(ctx: EngineContext, o: ReviewOptions): Promise<Manifest> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(undefined, ctx.paths.checkoutDir, ctx.vars);
  const dir = bundleDirOrRefuse(ctx, cfg.name, o.bundle);
  const files = readBundle(dir);
  const decision = decideReview({ env: envFacts(cfg), ...files, summaryFileSha256: sha256File(join(dir, FILES.summary)), now: ctx.now() });
  if (!decision.ok) {
    // A refusal of review is recorded like any other.
    return audited(ctx, cfg.name, "review", by, async (info) => {
      info.bundleId = dir.split("/").slice(-1)[0];
      throw new RefusalError(decision);
    });
  }
  const m = parsedManifest(files.manifestText);
  const expired = ctx.now().getTime() >= Date.parse(m.expiresAt);
  const approval = files.approvalText ? parseWith(approvalSchema, files.approvalText) : null;
  const applied = files.appliedText ? parseWith(appliedSchema, files.appliedText) : null;
  ctx.io.out(readFileSync(join(dir, FILES.summary), "utf8"));
  ctx.io.out("\n");
  ctx.io.out(`Status:   ${expired ? "EXPIRED" : `valid until ${m.expiresAt}`}\n`);
  ctx.io.out(`Approval: ${approval === null ? (cfg.delivery.requireApproval ? "none (required)" : "none (not required)") : approval.ok ? `by ${approval.value.approvedBy} at ${approval.value.approvedAt}` : "UNREADABLE"}\n`);
  ctx.io.out(`Applied:  ${applied === null ? "no" : applied.ok ? `${applied.value.status} by ${applied.value.appliedBy} at ${applied.value.startedAt}` : "UNREADABLE"}\n`);
  ctx.io.out(`Policy:   ${m.policy.errors > 0 ? `${m.policy.errors} error(s) BLOCK approval and apply (POLICY-BLOCKED)` : "passed"}; ${m.policy.warnings} warning(s), ${m.policy.waived} waived\n`);
  if (m.speculative) {
    ctx.io.out("\nSpeculative bundle: for reading only; it can never be approved or applied (BUNDLE-SPECULATIVE).\n");
    return m;
  }
  ctx.io.out(`\nPlan SHA-256 being approved: ${m.plan.sha256}\n`);
  if (approval === null && !expired && m.policy.errors === 0) {
    ctx.io.out(`To approve: npx promote approve ${cfg.name} ${m.id} --sha256 ${m.plan.sha256} --by <your name>\n`);
  }
  return m;
}

export interface ApproveOptions {
  readonly env: string;
  readonly bundle?: string;
  readonly sha256: string;
  readonly by?: string;
  readonly comment?: string;
}

export async function approve(ctx: EngineContext, o: ApproveOptions): Promise<Approval> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "approve", by, async (info) => {
    info.approver = by;
    const dir = bundleDirOrRefuse(ctx, cfg.name, o.bundle);
    info.bundleId = dir.split("/").slice(-1)[0];
    const files = readBundle(dir);
    must(
      decideApprove({
        env: envFacts(cfg),
        ...files,
        summaryFileSha256: sha256File(join(dir, FILES.summary)),
        now: ctx.now(),
        givenSha256: o.sha256,
        approver: by,
      }),
    );
    const m = parsedManifest(files.manifestText);
    info.commit = m.git.commit;
    info.planSha256 = m.plan.sha256;
    const approval: Approval = {
      schemaVersion: 1,
      env: m.env,
      bundleId: m.id,
      planSha256: m.plan.sha256,
      manifestSha256: sha256(files.manifestText as string),
      approvedBy: by,
      approvedAt: ctx.now().toISOString(),
      comment: o.comment ?? null,
    };
    try {
      writeFileSync(join(dir, FILES.approval), `${JSON.stringify(approval, null, 2)}\n`, { flag: "wx", mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new RefusalError(refusal("APPROVAL-EXISTS", "a bundle without approval", "an approval written meanwhile", fixFor("APPROVAL-EXISTS", cfg.name)));
      }
      throw e;
    }
    ctx.io.out(`Approved ${m.env}/${m.id} (plan SHA-256 ${m.plan.sha256}) by ${by}.\nNext: npx promote apply ${m.env} ${m.id}\n`);
    return { value: approval, detail: o.comment ? `comment: ${o.comment}`.slice(0, 300) : "approved" };
  });
}

// ---------------------------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------------------------

export interface ApplyOptions {
  readonly env: string;
  readonly bundle?: string;
  readonly by?: string;
  /** Plan and apply in one step (still through a saved plan file); only where delivery.autoApply. */
  readonly auto?: boolean;
  readonly waitSeconds?: number;
  readonly synth?: "auto" | "always" | "never";
}

export interface ApplyResult {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly applied: Applied;
}

export async function apply(ctx: EngineContext, o: ApplyOptions): Promise<ApplyResult> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  const command = o.auto ? "apply --auto" : "apply";
  return audited(ctx, cfg.name, command, by, (info) =>
    withEnvLock(ctx, cfg.name, `promote ${command} ${cfg.name}`, o.waitSeconds ?? 0, async () => {
      let dir: string;
      if (o.auto) {
        must(decideAuto(envFacts(cfg)));
        if (o.bundle) throw new EngineError("apply --auto makes its own bundle: give no bundle id");
        dir = (await planLocked(ctx, cfg, { env: cfg.name, by, synth: o.synth }, by, info, { ...NORMAL, auto: true })).dir;
      } else {
        dir = bundleDirOrRefuse(ctx, cfg.name, o.bundle);
      }
      const result = await applyLocked(ctx, cfg, dir, by, info);
      return { value: result, detail: `${countsLine(result.manifest)}; tag ${result.applied.ledgerTag}` };
    }),
  );
}

async function applyLocked(ctx: EngineContext, cfg: EnvConfig, dir: string, by: string, info: AuditInfo): Promise<ApplyResult> {
  const env = cfg.name;
  const cwd = stackDir(ctx.paths, env);
  info.bundleId = dir.split("/").slice(-1)[0];
  // The exact bytes terraform will apply: a private copy, hashed right before use.
  const copy = join(dir, `.apply-${process.pid}.tfplan`);
  const source = join(dir, FILES.plan);
  if (existsSync(source)) {
    copyFileSync(source, copy);
    chmodSync(copy, 0o600);
  }
  try {
    const facts = () => ({
      env: envFacts(cfg),
      ...readBundle(dir, copy),
      now: ctx.now(),
      checkout: {
        commit: headCommit(ctx.paths.checkoutDir),
        synthSha256: sha256File(join(cwd, SYNTH_FILE)),
        lockFileSha256: sha256File(join(cwd, ".terraform.lock.hcl")),
        synthCommit: synthStampCommit(cwd),
      },
      previousEnvApplies: previousEnvApplies(ctx, cfg),
      ownApplies: ledgerOf(ctx).entries(env),
    });
    const offline = facts();
    info.commit = offline.checkout.commit;
    must(decideApply(offline));
    const manifest = parsedManifest(offline.manifestText);
    info.planSha256 = manifest.plan.sha256;

    // Online: the working directory initialized with the planned providers, the state as planned.
    await tfInit(ctx, cwd, true);
    const stateNow = await tfStatePull(ctx, cwd);
    must(decideApply({ ...facts(), stateNow }));

    // Claim the bundle (a crash from here on leaves "started": it is never applied again).
    const appliedPath = join(dir, FILES.applied);
    const started: Applied = { schemaVersion: 1, status: "started", planSha256: manifest.plan.sha256, appliedBy: by, startedAt: ctx.now().toISOString(), finishedAt: null, stateAfter: null, ledgerTag: null };
    try {
      writeFileSync(appliedPath, `${JSON.stringify(started, null, 2)}\n`, { flag: "wx", mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new RefusalError(refusal("BUNDLE-ALREADY-APPLIED", "a bundle never applied", "an apply started meanwhile", fixFor("BUNDLE-ALREADY-APPLIED", env)));
      }
      throw e;
    }
    ctx.io.err(`$ terraform apply -input=false -lock=true ${FILES.plan}   (plan SHA-256 ${manifest.plan.sha256})\n`);
    const run = await runTerraform(["apply", "-input=false", "-lock=true", "-no-color", copy], { cwd, vars: ctx.vars, echo: (t) => ctx.io.out(t) });
    if (run.code !== 0) {
      const kind = classifyFailure(run);
      if (kind !== null) {
        unlinkSync(appliedPath); // terraform refused before changing anything
        throw tfRefusal(kind, env, manifest);
      }
      writeApplied(appliedPath, { ...started, status: "failed", finishedAt: ctx.now().toISOString() });
      throw failure("apply", run);
    }
    let applied: Applied = { ...started, status: "succeeded", finishedAt: ctx.now().toISOString() };
    writeApplied(appliedPath, applied);
    const stateAfter = await tfStatePull(ctx, cwd);
    const approval = readBundle(dir).approvalText;
    const approvedBy = approval ? (parseWith(approvalSchema, approval) as { ok: true; value: Approval }).value.approvedBy : null;
    const tag = ledgerOf(ctx).record(env, manifest.git.commit, { bundleId: manifest.id, planSha256: manifest.plan.sha256, appliedBy: by, approvedBy }, ctx.now());
    applied = { ...applied, stateAfter, ledgerTag: tag };
    writeApplied(appliedPath, applied);
    ctx.io.out(`\nApplied ${env}/${manifest.id} (plan SHA-256 ${manifest.plan.sha256}); state serial ${stateAfter?.serial ?? "-"}; ledger tag ${tag}\n`);
    return { dir, manifest, applied };
  } finally {
    rmSync(copy, { force: true });
  }
}

function writeApplied(path: string, applied: Applied): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(appliedSchema.parse(applied), null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// audit, ledger, bundles
// ---------------------------------------------------------------------------------------------

export function auditVerify(ctx: EngineContext, env: string): number {
  const cfg = envConfig(ctx, env);
  const log = new AuditLog(auditPath(ctx.paths, cfg.name), cfg.name);
  const broken = log.brokenRefusal();
  if (broken) throw new RefusalError(broken);
  const v = log.verify();
  const count = v.ok ? v.count : 0;
  ctx.io.out(`audit log ${log.path}: intact, ${count} record(s)${v.ok && count > 0 ? `, last hash ${v.lastHash}` : ""}\n`);
  return count;
}

export interface PolicyShowOptions {
  readonly env: string;
  readonly bundle?: string;
  /** Markdown (for $GITHUB_STEP_SUMMARY) instead of text. @default false */
  readonly markdown?: boolean;
}

/**
 * Prints a bundle's recorded policy findings (after checking the bundle is intact: policy.json is the one
 * the manifest records). Returns whether they block approval.
 */
export function showPolicy(ctx: EngineContext, o: PolicyShowOptions): { blocks: boolean; findings: Finding[] } {
  const cfg = envConfig(ctx, o.env);
  const dir = bundleDirOrRefuse(ctx, cfg.name, o.bundle);
  const files = readBundle(dir);
  must(decideReview({ env: envFacts(cfg), ...files, summaryFileSha256: sha256File(join(dir, FILES.summary)), now: ctx.now() }));
  const m = parsedManifest(files.manifestText);
  const parsed = parseWith(policyFileSchema, files.policyText ?? "");
  if (!parsed.ok) throw new RefusalError(refusal("POLICY-BLOCKED", "a policy.json matching the policy file schema", parsed.reason, fixFor("POLICY-BLOCKED", cfg.name)));
  const findings = parsed.value.findings as Finding[];
  const blocks = blocksApproval(findings);
  if (o.markdown) ctx.io.out(`### Policy: ${m.env} bundle ${m.id}${m.speculative ? " (speculative)" : ""}\n\n${formatFindingsMarkdown(findings)}`);
  else ctx.io.out(`Bundle ${m.env}/${m.id}${m.speculative ? " (speculative)" : ""}; exceptions: ${parsed.value.exceptionsFile ?? "none"}\n${formatFindings(findings)}`);
  return { blocks, findings };
}

export function showLedger(ctx: EngineContext, env: string): void {
  const cfg = envConfig(ctx, env);
  const entries = ledgerOf(ctx).entries(cfg.name);
  if (entries.length === 0) ctx.io.out(`no successful apply of ${cfg.name} recorded in ${ctx.paths.ledgerDir}\n`);
  for (const e of entries) ctx.io.out(`${e.at}  ${e.commit}  ${e.tag}\n`);
}

export function showBundles(ctx: EngineContext, env: string): void {
  const cfg = envConfig(ctx, env);
  const ids = listBundles(ctx.paths, cfg.name);
  if (ids.length === 0) ctx.io.out(`no bundles under ${envPlansDir(ctx.paths, cfg.name)}\n`);
  for (const id of ids) {
    const files = readBundle(join(envPlansDir(ctx.paths, cfg.name), id));
    const m = files.manifestText ? parseWith(manifestSchema, files.manifestText) : null;
    const status = files.appliedText ? "applied" : files.approvalText ? "approved" : m?.ok && m.value.speculative ? "preview" : m?.ok && ctx.now().getTime() >= Date.parse(m.value.expiresAt) ? "expired" : "planned";
    ctx.io.out(`${id}  ${status.padEnd(8)}  ${m?.ok ? `${m.value.plan.sha256}  ${countsLine(m.value)}` : "(manifest invalid)"}\n`);
  }
}

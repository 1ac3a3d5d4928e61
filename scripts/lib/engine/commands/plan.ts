/**
 * `promote plan <env>` (and `plan --speculative`): synthesizes when needed, plans into a hidden folder,
 * writes the bundle (plan file, manifest, summary, policy findings) and publishes it in one step.
 * planLocked is also the planning half of `apply --auto` and of `rollback`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { blocksApproval, countFindings, evaluatePolicies, formatFindings, POLICY_EXCEPTIONS_FILE, readExceptions, type Finding } from "../../policy";
import { decidePlan } from "../core/decisions";
import { EngineError, must } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256 } from "../core/hash";
import { sha256File } from "../io/files";
import { countsLine, manifestHeader } from "../core/manifest";
import { manifestSchema, type Manifest, type PolicyFile } from "../core/schemas";
import { parsePlanText, PlanJsonError, type Plan } from "../../plan";
import { renderChanges, summarizePlan } from "../core/summary";
import { FILES, newBundleId } from "../io/bundle";
import { audited, bundleStore, envConfig, gateApplies, ledgerOf, refuseUnfinished, withEnvLock, type AuditInfo, type EngineContext } from "../io/context";
import { dirtyPaths, headCommit, whoAmI } from "../io/git";
import { approversDigest } from "../core/approval-checks";
import { approvalsConfigOf, plannerEmail } from "../io/signatures";
import { envPlansDir, stackDir, type EnginePaths } from "../io/paths";
import { planInputs, SYNTH_FILE, synthesize, synthReason, synthStampDirty } from "../io/synth";
import { backendOf } from "../io/terraform";
import { planPriorState } from "../io/planfile";
import { tfInit, tfPlanToFile, tfShowJson, tfVersion } from "../io/workdir";

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

export const NORMAL: PlanMode = { auto: false, speculative: false, rollback: null };

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

export async function planLocked(ctx: EngineContext, cfg: EnvConfig, o: PlanOptions, by: string, info: AuditInfo, mode: PlanMode): Promise<PlanResult> {
  const env = cfg.name;
  const auto = mode.auto;
  // The code planned: the checkout, or a rollback's temporary worktree (same output folder).
  const paths: EnginePaths = mode.codeDir ? { ...ctx.paths, checkoutDir: mode.codeDir } : ctx.paths;
  await refuseUnfinished(ctx, cfg);
  const commit = headCommit(paths.checkoutDir, ctx.vars);
  info.commit = commit;
  const dirtyInputs = dirtyPaths(paths.checkoutDir, planInputs(ctx.vars), ctx.vars);
  const kind = mode.speculative ? "speculative" : mode.rollback ? "rollback" : "normal";
  must(
    decidePlan({
      env: envFacts(cfg),
      checkout: { commit, dirtyPaths: dirtyInputs },
      previousEnvApplies: await gateApplies(ctx, cfg, commit),
      ownApplies: kind === "rollback" ? ledgerOf(ctx).entries(env) : [],
      kind,
    }),
  );

  // Who may approve, as planned: its digest in the manifest (APPROVERS-CHANGED at apply when it differs).
  const approversSha256 = approversDigest(approvalsConfigOf(cfg.delivery.approvals, ctx.vars).approvals);
  const createdByEmail = plannerEmail(paths.checkoutDir, ctx.vars);

  const ttl = o.ttlHours ?? cfg.delivery.planTtlHours;
  if (!(ttl > 0) || ttl > cfg.delivery.planTtlHours) {
    throw new EngineError(`--ttl must be more than 0 and at most ${cfg.delivery.planTtlHours} hours (envs/${env} delivery.planTtlHours), but ${ttl} hours was given`);
  }

  // Synth when needed.
  const reason = o.synth === "always" ? "--synth always" : o.synth === "never" ? null : synthReason(paths, env, commit, dirtyInputs.length > 0, ctx.vars);
  const cwd = stackDir(paths, env);
  if (reason !== null) {
    ctx.io.err(`synth (${reason})...\n`);
    await synthesize(paths, env, commit, ctx.vars, (t) => ctx.io.err(t));
  }
  const synthFile = join(cwd, SYNTH_FILE);
  // Dirty: the inputs have uncommitted changes now, or the stack was synthesized from some (--synth never).
  const dirtyTree = dirtyInputs.length > 0 || synthStampDirty(cwd);
  const synthSha = sha256File(synthFile);
  if (synthSha === null) throw new EngineError(`no ${synthFile}: run synth (npm run synth) or drop --synth never`);
  const backend = backendOf(JSON.parse(readFileSync(synthFile, "utf8")));

  // init, then the plan into a hidden folder.
  await tfInit(ctx, cwd, false);
  const lockFileSha = sha256File(join(cwd, ".terraform.lock.hcl"));
  const createdAt = ctx.now();
  const id = newBundleId(createdAt, commit);
  info.bundleId = id;
  const envDir = envPlansDir(paths, env);
  mkdirSync(envDir, { recursive: true, mode: 0o700 });
  const tmp = join(envDir, `.tmp-${id}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const planFile = join(tmp, FILES.plan);
    await tfPlanToFile(ctx, cwd, env, planFile);
    // The state planned against: the serial and lineage terraform recorded in the plan file itself.
    const priorState = planPriorState(planFile);
    const planSha = sha256File(planFile) as string;
    info.planSha256 = planSha;

    // show and version together (neither changes anything; version only reads the working directory)
    const [shown, tf] = await Promise.all([tfShowJson(ctx, cwd, planFile), tfVersion(ctx, cwd)]);
    const planJson = readPlanJson(shown);
    const summary = summarizePlan(planJson);
    const policyFile = policyOf(planJson, cfg, ctx.paths.checkoutDir);
    const policyText = `${JSON.stringify(policyFile, null, 2)}\n`;
    const policyCounts = countFindings(policyFile.findings);
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
      createdByEmail,
      approversSha256,
      auto,
      policy: { file: FILES.policy, sha256: sha256(policyText), ...policyCounts },
      speculative: mode.speculative,
      rollback: mode.rollback,
    };
    const notes = mode.notes ? mode.notes(planJson) : "";
    const summaryText = `${manifestHeader(partial)}\n${renderChanges(summary)}${notes ? `\n${notes}` : ""}\nPolicy findings:\n${formatFindings(policyFile.findings)}`;
    const manifest: Manifest = manifestSchema.parse({ ...partial, summarySha256: sha256(summaryText) });
    writeFileSync(join(tmp, FILES.summary), summaryText, { mode: 0o644 });
    writeFileSync(join(tmp, FILES.policy), policyText, { mode: 0o644 });
    writeFileSync(join(tmp, FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
    const store = bundleStore(ctx);
    await store.publish(env, id, tmp);
    const dir = store.dir(env, id);
    ctx.io.out(summaryText);
    ctx.io.out(`\nBundle:      ${dir}\nPlan SHA-256: ${planSha}\n`);
    if (mode.speculative) ctx.io.out("Speculative: this bundle is for reading; it can never be approved or applied.\n");
    else if (blocksApproval(policyFile.findings)) ctx.io.out(`Policy: ${policyCounts.errors} error(s) block approval and apply (POLICY-BLOCKED); see above.\n`);
    if (dirtyTree && !mode.speculative) ctx.io.out("Dirty: planned from uncommitted changes; an apply of it is never recorded in the ledger.\n");
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


/**
 * `promote apply <env> [bundle]` (and `apply --auto`): applies exactly the saved plan of a bundle that
 * every check accepts, claims the bundle first (applied.json, create-only) and records the ledger tag.
 * terraform applies the engine's private copy of the plan (io/private-plan.ts), re-hashed after it ran
 * (APPLY-INCIDENT when it changed); the intent is audited before terraform runs ("started") and the
 * outcome after; bookkeeping after terraform is recoverable (APPLY-NOT-RECORDED, `promote complete`).
 */
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { decideApply, decideAuto } from "../core/decisions";
import { EngineError, must, RefusalError, refusal } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256File } from "../io/files";
import { countsLine, parsedManifest } from "../core/manifest";
import { fixFor } from "../core/rules";
import { appliedSchema, approvalSchema, manifestSchema, parseWith, type Applied, type Approval, type Manifest } from "../core/schemas";
import type { SignedApprovalInputs } from "../core/facts";
import { approvalsConfigOf, commitAuthor, readApprovalRecords, signedApprovers } from "../io/signatures";
import { FILES, readBundle } from "../io/bundle";
import { audited, auditLogOf, bundleDirOrRefuse, bundleStore, envConfig, ledgerOf, previousEnvApplies, refuseUnfinished, withEnvLock, type AuditInfo, type EngineContext } from "../io/context";
import { synthesizeWhenMissing } from "../io/fresh-home";
import { privateCopy } from "../io/private-plan";
import { classifyFailure, failure, type TfResult } from "../io/terraform";
import { headCommit, whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { SYNTH_FILE, synthStampCommit } from "../io/synth";
import type { BundleStore } from "../io/store";
import { runLocking, tfInit, tfRefusal, tfStatePull, tfVersion } from "../io/workdir";
import { NORMAL, planLocked } from "./plan";

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
        dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
      }
      const result = await applyLocked(ctx, cfg, dir, by, info);
      return { value: result, detail: `${countsLine(result.manifest)}; tag ${result.applied.ledgerTag}` };
    }),
  );
}

async function applyLocked(ctx: EngineContext, cfg: EnvConfig, dir: string, by: string, info: AuditInfo): Promise<ApplyResult> {
  const env = cfg.name;
  const cwd = stackDir(ctx.paths, env);
  const id = dir.split("/").slice(-1)[0];
  info.bundleId = id;
  await refuseUnfinished(ctx, cfg);
  const store = bundleStore(ctx);
  await synthesizeWhenMissing(ctx, env, readBundle(dir).manifestText);
  // The exact bytes terraform will apply: a private copy outside the bundle folder (io/private-plan.ts),
  // hashed right before terraform runs and again after it ran. Nothing done to the bundle after this
  // changes them; a change of the copy itself is an incident.
  const copy = privateCopy(ctx.paths, env, id, await store.read(env, id, FILES.plan));
  let keepCopy = false;
  try {
    const facts = () => ({
      env: envFacts(cfg),
      ...readBundle(dir, copy.file),
      now: ctx.now(),
      checkout: {
        commit: headCommit(ctx.paths.checkoutDir, ctx.vars),
        synthSha256: sha256File(join(cwd, SYNTH_FILE)),
        lockFileSha256: sha256File(join(cwd, ".terraform.lock.hcl")),
        synthCommit: synthStampCommit(cwd),
      },
      previousEnvApplies: previousEnvApplies(ctx, cfg),
      ownApplies: ledgerOf(ctx).entries(env),
      signed: signedInputs(ctx, cfg, dir),
    });
    const offline = facts();
    info.commit = offline.checkout.commit;
    must(decideApply(offline));
    const manifest = parsedManifest(offline.manifestText);
    info.planSha256 = manifest.plan.sha256;

    // Online: the working directory initialized with the planned providers, the same terraform, the state as planned.
    await tfInit(ctx, cwd, true);
    const terraformNow = await tfVersion(ctx, cwd);
    const stateNow = await tfStatePull(ctx, cwd);
    must(decideApply({ ...facts(), stateNow, terraformNow }));

    // Claim the bundle (a crash from here on leaves "started": it is never applied again, and the next
    // command reports it: APPLY-UNFINISHED), then record the intent before terraform runs.
    const started: Applied = { schemaVersion: 1, status: "started", planSha256: manifest.plan.sha256, appliedBy: by, startedAt: ctx.now().toISOString(), finishedAt: null, stateAfter: null, ledgerTag: null };
    if (!(await store.create(env, id, FILES.applied, `${JSON.stringify(started, null, 2)}\n`))) {
      throw new RefusalError(refusal("BUNDLE-ALREADY-APPLIED", "a bundle never applied", "an apply started meanwhile", fixFor("BUNDLE-ALREADY-APPLIED", env)));
    }
    keepCopy = true; // until the outcome is recorded: `promote complete` reads the guard's exit record beside it
    const audit = auditLogOf(ctx, env);
    await audit.append({ env, command: "apply", by, result: "started", commit: info.commit, bundleId: id, planSha256: manifest.plan.sha256, detail: `terraform apply of plan SHA-256 ${manifest.plan.sha256} (terraform ${terraformNow.version}, state ${stateNow ? `serial ${stateNow.serial}` : "none"})` }, ctx.now());

    ctx.io.err(`$ terraform apply -input=false -lock=true ${FILES.plan}   (plan SHA-256 ${manifest.plan.sha256}, the engine's private copy)\n`);
    let run: TfResult;
    try {
      // Once more only when terraform was refused its own lock (runLocking), and only with the copy's bytes still the reviewed ones.
      run = await runLocking(ctx, ["apply", "-input=false", "-lock=true", "-no-color", copy.file], { cwd, vars: ctx.vars, echo: (t) => ctx.io.out(t), exitFile: copy.exitFile }, { mayRetry: () => copy.sha256() === manifest.plan.sha256 });
    } catch (e) {
      // Timed out or interrupted: terraform was interrupted and its group ended; what it changed is unknown.
      await writeApplied(store, env, id, { ...started, status: "interrupted", finishedAt: ctx.now().toISOString() });
      keepCopy = false;
      throw e;
    }
    // The bytes terraform was given are still the reviewed ones, or this is an incident.
    const after = copy.sha256();
    if (after !== manifest.plan.sha256) {
      await writeApplied(store, env, id, { ...started, status: "incident", finishedAt: ctx.now().toISOString() });
      keepCopy = false;
      const detail = `APPLY-INCIDENT: the plan file terraform was given changed while it ran: expected SHA-256 ${manifest.plan.sha256}, found ${after ?? "(file gone)"}; terraform exit ${run.code}`;
      await audit.append({ env, command: "apply", by, result: "incident", refusalId: "APPLY-INCIDENT", commit: info.commit, bundleId: id, planSha256: manifest.plan.sha256, detail: detail.slice(0, 500) }, ctx.now());
      throw new EngineError(`${detail}. ${fixFor("APPLY-INCIDENT", env)}`);
    }
    if (run.code !== 0) {
      const kind = classifyFailure(run);
      keepCopy = false;
      if (kind !== null) {
        await store.remove(env, id, FILES.applied); // terraform refused before changing anything
        throw tfRefusal(kind, env, manifest, run, ctx.now());
      }
      await writeApplied(store, env, id, { ...started, status: "failed", finishedAt: ctx.now().toISOString() });
      throw failure("apply", run);
    }
    let applied: Applied = { ...started, status: "succeeded", finishedAt: ctx.now().toISOString() };
    // Bookkeeping: recoverable and idempotent (`promote complete`), and said so when it fails (the store
    // unreachable right after terraform applied included: the claim says "started" until it is recorded,
    // and the private copy stays with terraform's exit record beside it, which `promote complete` reads).
    let recorded = false;
    try {
      await writeApplied(store, env, id, applied);
      recorded = true;
      const stateAfter = await tfStatePull(ctx, cwd);
      applied = { ...applied, stateAfter };
      await writeApplied(store, env, id, applied);
      let tag: string | null = null;
      if (manifest.git.dirty) {
        ctx.io.out(`\nNote: ${env}/${manifest.id} was planned from uncommitted changes: not recorded in the ledger (it opens no gate).\n`);
      } else {
        const approvedBy = approversOf(cfg, dir);
        tag = ledgerOf(ctx).record(env, manifest.git.commit, { bundleId: manifest.id, planSha256: manifest.plan.sha256, appliedBy: by, approvedBy }, ctx.now());
      }
      applied = { ...applied, ledgerTag: tag };
      await writeApplied(store, env, id, applied);
      keepCopy = false;
      ctx.io.out(`\nApplied ${env}/${manifest.id} (plan SHA-256 ${manifest.plan.sha256}); state serial ${stateAfter?.serial ?? "-"}; ledger tag ${tag ?? "none (dirty bundle)"}\n`);
    } catch (e) {
      keepCopy = !recorded;
      const cause = e instanceof EngineError ? `${e.message}${e.detail ? `: ${e.detail}` : ""}` : (e as Error).message;
      throw new EngineError(`APPLY-NOT-RECORDED: terraform applied ${env}/${manifest.id}, but recording it failed (${cause.split("\n")[0].slice(0, 300)}); fix the cause, then run \`promote complete ${env} ${manifest.id}\` (safe to run again)`);
    }
    return { dir, manifest, applied };
  } finally {
    if (!keepCopy) copy.remove();
  }
}

/**
 * What the signed-approval check reads (core/checks.ts signedApprovalsValid): the approvals config that
 * counts (the checkout's, which the commit check pins to the bundle's commit), every approval record of
 * the bundle, and the author of the bundle's commit (for four eyes).
 */
function signedInputs(ctx: EngineContext, cfg: EnvConfig, dir: string): SignedApprovalInputs {
  const manifestText = readBundle(dir).manifestText;
  const parsed = manifestText === null ? null : parseWith(manifestSchema, manifestText);
  let author: SignedApprovalInputs["commitAuthor"] = null;
  if (parsed !== null && parsed.ok) {
    try {
      author = commitAuthor(ctx.paths.checkoutDir, parsed.value.git.commit);
    } catch {
      author = null; // refused by four eyes where it applies (fail closed)
    }
  }
  return { approvals: approvalsConfigOf(cfg.delivery.approvals, ctx.vars).approvals, records: readApprovalRecords(dir), commitAuthor: author };
}

/** Who approved, for the ledger: the signers (checked before terraform ran), or approval.json's name. */
function approversOf(cfg: EnvConfig, dir: string): string | null {
  if (cfg.delivery.approvals.requireSigned) return signedApprovers(dir);
  const approval = readBundle(dir).approvalText;
  return approval ? (parseWith(approvalSchema, approval) as { ok: true; value: Approval }).value.approvedBy : null;
}

function writeApplied(store: BundleStore, env: string, id: string, applied: Applied): Promise<void> {
  return store.write(env, id, FILES.applied, `${JSON.stringify(appliedSchema.parse(applied), null, 2)}\n`);
}

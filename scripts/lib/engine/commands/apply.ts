/**
 * `promote apply <env> [bundle]` (and `apply --auto`): applies exactly the saved plan of a bundle that
 * every check accepts, claims the bundle first (applied.json, create-only) and records the ledger tag.
 */
import { chmodSync, copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { decideApply, decideAuto } from "../core/decisions";
import { EngineError, must, RefusalError, refusal } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256File } from "../core/hash";
import { countsLine, parsedManifest } from "../core/manifest";
import { fixFor } from "../core/rules";
import { appliedSchema, approvalSchema, parseWith, type Applied, type Approval, type Manifest } from "../core/schemas";
import { FILES, readBundle } from "../io/bundle";
import { audited, bundleDirOrRefuse, bundleStore, envConfig, ledgerOf, previousEnvApplies, withEnvLock, type AuditInfo, type EngineContext } from "../io/context";
import { headCommit, whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { SYNTH_FILE, synthStampCommit } from "../io/synth";
import type { BundleStore } from "../io/store";
import { tfApplyFile, tfInit, tfStatePull } from "../io/workdir";
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
    const store = bundleStore(ctx);
    const id = info.bundleId as string;
    const started: Applied = { schemaVersion: 1, status: "started", planSha256: manifest.plan.sha256, appliedBy: by, startedAt: ctx.now().toISOString(), finishedAt: null, stateAfter: null, ledgerTag: null };
    if (!(await store.create(env, id, FILES.applied, `${JSON.stringify(started, null, 2)}\n`))) {
      throw new RefusalError(refusal("BUNDLE-ALREADY-APPLIED", "a bundle never applied", "an apply started meanwhile", fixFor("BUNDLE-ALREADY-APPLIED", env)));
    }
    let refusedByTerraform: boolean | null = null;
    try {
      await tfApplyFile(ctx, cwd, copy, {
        env,
        shownAs: FILES.plan,
        planSha256: manifest.plan.sha256,
        manifest,
        what: "apply",
        onFailure: (refused) => (refusedByTerraform = refused),
      });
    } catch (e) {
      // terraform refused before changing anything: the claim is withdrawn; otherwise the bundle is failed.
      if (refusedByTerraform === true) await store.remove(env, id, FILES.applied);
      else if (refusedByTerraform === false) await writeApplied(store, env, id, { ...started, status: "failed", finishedAt: ctx.now().toISOString() });
      throw e;
    }
    let applied: Applied = { ...started, status: "succeeded", finishedAt: ctx.now().toISOString() };
    await writeApplied(store, env, id, applied);
    const stateAfter = await tfStatePull(ctx, cwd);
    const approval = readBundle(dir).approvalText;
    const approvedBy = approval ? (parseWith(approvalSchema, approval) as { ok: true; value: Approval }).value.approvedBy : null;
    const tag = ledgerOf(ctx).record(env, manifest.git.commit, { bundleId: manifest.id, planSha256: manifest.plan.sha256, appliedBy: by, approvedBy }, ctx.now());
    applied = { ...applied, stateAfter, ledgerTag: tag };
    await writeApplied(store, env, id, applied);
    ctx.io.out(`\nApplied ${env}/${manifest.id} (plan SHA-256 ${manifest.plan.sha256}); state serial ${stateAfter?.serial ?? "-"}; ledger tag ${tag}\n`);
    return { dir, manifest, applied };
  } finally {
    rmSync(copy, { force: true });
  }
}

function writeApplied(store: BundleStore, env: string, id: string, applied: Applied): Promise<void> {
  return store.write(env, id, FILES.applied, `${JSON.stringify(appliedSchema.parse(applied), null, 2)}\n`);
}

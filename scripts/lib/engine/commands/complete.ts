/**
 * `promote complete <env> <bundle>`: records the outcome of an apply whose bookkeeping did not finish,
 * from the bundle's applied.json, the terraform guard's exit record and the state. Idempotent: run twice,
 * it records once.
 *
 * - succeeded, not yet in the ledger: reads the state (serial, lineage), tags the ledger (or finds the
 *   tag a previous complete made), writes applied.json. A dirty bundle is never tagged.
 * - started (the engine died): the guard's record says how terraform ended: 0 and not interrupted is
 *   "succeeded" (then as above, after checking the private copy still holds the reviewed bytes); any
 *   other end, or no record, is "interrupted" or "failed" with the state read now; never tagged.
 * - anything else (failed, interrupted, incident, or succeeded and tagged): nothing to do; says so.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EngineError, RefusalError, refusal } from "../core/errors";
import { sha256File } from "../io/files";
import { fixFor } from "../core/rules";
import { appliedSchema, approvalSchema, manifestSchema, parseWith, type Applied } from "../core/schemas";
import { signedApprovers } from "../io/signatures";
import { FILES, readBundle } from "../io/bundle";
import { audited, bundleDirOrRefuse, bundleStore, envConfig, ledgerOf, withEnvLock, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { EXIT_RECORD, leftBehind, PRIVATE_PLAN } from "../io/private-plan";
import { readExitRecord } from "../io/terraform";
import { tfInit, tfStatePull } from "../io/workdir";

export interface CompleteOptions {
  readonly env: string;
  readonly bundle: string;
  readonly by?: string;
  readonly waitSeconds?: number;
}

export async function complete(ctx: EngineContext, o: CompleteOptions): Promise<Applied | null> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "complete", by, (info) =>
    withEnvLock(ctx, cfg.name, `promote complete ${cfg.name}`, o.waitSeconds ?? 0, async () => {
      const dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
      const id = dir.split("/").slice(-1)[0];
      info.bundleId = id;
      const files = readBundle(dir);
      const m = parseWith(manifestSchema, files.manifestText ?? "");
      if (!m.ok) throw new RefusalError(refusal("BUNDLE-MANIFEST-INVALID", "a manifest.json matching the manifest schema", m.reason, fixFor("BUNDLE-MANIFEST-INVALID", cfg.name)));
      const manifest = m.value;
      info.commit = manifest.git.commit;
      info.planSha256 = manifest.plan.sha256;
      if (files.appliedText === null) {
        ctx.io.out(`${cfg.name}/${id} was never applied: nothing to complete\n`);
        return { value: null, detail: "never applied: nothing to complete" };
      }
      const parsed = parseWith(appliedSchema, files.appliedText);
      if (!parsed.ok) throw new EngineError(`${join(dir, FILES.applied)} is unreadable (${parsed.reason}): investigate by hand`);
      let applied = parsed.value;
      const leftovers = leftBehind(ctx.paths, cfg.name, id);
      const cwd = stackDir(ctx.paths, cfg.name);
      const store = bundleStore(ctx);
      const writeApplied = (a: Applied) => store.write(cfg.name, id, FILES.applied, `${JSON.stringify(appliedSchema.parse(a), null, 2)}\n`);

      if (applied.status === "started") {
        const exit = leftovers.map((d) => readExitRecord(join(d, EXIT_RECORD))).filter((r) => r !== null).slice(-1)[0] ?? null;
        const copyIntact = leftovers.every((d) => {
          const h = sha256File(join(d, PRIVATE_PLAN));
          return h === null || h === manifest.plan.sha256;
        });
        await tfInit(ctx, cwd, true);
        const stateAfter = await tfStatePull(ctx, cwd);
        const finishedAt = exit?.at || ctx.now().toISOString();
        if (!copyIntact) {
          applied = { ...applied, status: "incident", finishedAt, stateAfter };
          await writeApplied(applied);
          throw new EngineError(`APPLY-INCIDENT: the private copy of ${cfg.name}/${id}'s plan no longer holds the reviewed bytes (SHA-256 ${manifest.plan.sha256}); what was applied is unknown. ${fixFor("APPLY-INCIDENT", cfg.name)}`);
        }
        if (exit === null || exit.code !== 0 || exit.interrupted) {
          const status = exit !== null && !exit.interrupted ? "failed" : "interrupted";
          applied = { ...applied, status, finishedAt, stateAfter };
          await writeApplied(applied);
          for (const d of leftovers) rmSync(d, { recursive: true, force: true });
          const how = exit === null ? "no record of how terraform ended (its guard was killed too)" : exit.interrupted ? `terraform was interrupted (exit ${exit.code ?? exit.signal})` : `terraform failed (exit ${exit.code})`;
          ctx.io.out(`${cfg.name}/${id}: recorded as ${status}: ${how}; state now serial ${stateAfter?.serial ?? "-"}. Not in the ledger. Run \`promote plan ${cfg.name}\` to see what is left to change.\n`);
          return { value: applied, detail: `${status}: ${how}; state serial ${stateAfter?.serial ?? "-"}` };
        }
        applied = { ...applied, status: "succeeded", finishedAt, stateAfter };
        await writeApplied(applied);
      }

      if (applied.status === "succeeded" && applied.ledgerTag === null && !manifest.git.dirty) {
        const stateAfter = applied.stateAfter ?? (await (async () => {
          await tfInit(ctx, cwd, true);
          return tfStatePull(ctx, cwd);
        })());
        const ledger = ledgerOf(ctx);
        const approval = files.approvalText ? parseWith(approvalSchema, files.approvalText) : null;
        const found = ledger.tagOf(cfg.name, id);
        const tag = found ?? ledger.record(cfg.name, manifest.git.commit, { bundleId: id, planSha256: manifest.plan.sha256, appliedBy: applied.appliedBy, approvedBy: cfg.delivery.approvals.requireSigned ? signedApprovers(dir) : approval?.ok ? approval.value.approvedBy : null }, ctx.now());
        applied = { ...applied, stateAfter, ledgerTag: tag };
        await writeApplied(applied);
        for (const d of leftovers) rmSync(d, { recursive: true, force: true });
        ctx.io.out(`${cfg.name}/${id}: apply recorded; state serial ${stateAfter?.serial ?? "-"}; ledger tag ${tag}${found ? " (found, made by an earlier complete)" : ""}\n`);
        return { value: applied, detail: `recorded: tag ${tag}; state serial ${stateAfter?.serial ?? "-"}` };
      }

      for (const d of leftovers) rmSync(d, { recursive: true, force: true });
      const why = applied.status === "succeeded" ? (manifest.git.dirty ? "succeeded (a dirty bundle: never in the ledger)" : `succeeded, ledger tag ${applied.ledgerTag}`) : applied.status;
      ctx.io.out(`${cfg.name}/${id}: already recorded: ${why}; nothing to do\n`);
      return { value: applied, detail: `already recorded: ${why}` };
    }),
  );
}

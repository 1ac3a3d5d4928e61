/** `promote approve <env> [bundle] --sha256 <plan sha> --by <name>`: records approval.json (create-only). */
import { validateComment } from "../core/identity";
import { decideApprove } from "../core/decisions";
import { must, RefusalError, refusal } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256 } from "../core/hash";
import { sha256File } from "../io/files";
import { parsedManifest } from "../core/manifest";
import { fixFor } from "../core/rules";
import type { Approval } from "../core/schemas";
import { FILES, readBundle } from "../io/bundle";
import { audited, bundleDirOrRefuse, bundleStore, envConfig, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";
import { join } from "node:path";

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
    const comment = validateComment(o.comment);
    if (!comment.ok) throw new RefusalError(refusal("INPUT-INVALID", "a printable --comment of at most 500 characters", comment.problem, fixFor("INPUT-INVALID", cfg.name)));
    const dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
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
    if (!(await bundleStore(ctx).create(cfg.name, info.bundleId, FILES.approval, `${JSON.stringify(approval, null, 2)}\n`))) {
      throw new RefusalError(refusal("APPROVAL-EXISTS", "a bundle without approval", "an approval written meanwhile", fixFor("APPROVAL-EXISTS", cfg.name)));
    }
    ctx.io.out(`Approved ${m.env}/${m.id} (plan SHA-256 ${m.plan.sha256}) by ${by}.\nNext: npx promote apply ${m.env} ${m.id}\n`);
    return { value: approval, detail: o.comment ? `comment: ${o.comment}`.slice(0, 300) : "approved" };
  });
}

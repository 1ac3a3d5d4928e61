/** `promote review <env> [bundle]`: prints a bundle (after checking it is intact) and how to approve it. */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { decideReview } from "../core/decisions";
import { RefusalError } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256File } from "../io/files";
import { parsedManifest } from "../core/manifest";
import { appliedSchema, approvalSchema, parseWith, type Manifest } from "../core/schemas";
import { FILES, readBundle } from "../io/bundle";
import { audited, bundleDirOrRefuse, envConfig, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";

export interface ReviewOptions {
  readonly env: string;
  readonly bundle?: string;
}

export async function review(ctx: EngineContext, o: ReviewOptions): Promise<Manifest> {
  return (await reviewBundle(ctx, o)).manifest;
}

/**
 * `review`, also returning the folder it read: the bundle's own (local store), or its copy fetched from
 * the store into this machine's cache (the review page reads the same files review checked).
 */
export async function reviewBundle(ctx: EngineContext, o: ReviewOptions): Promise<{ manifest: Manifest; dir: string }> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(undefined, ctx.paths.checkoutDir, ctx.vars);
  const dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
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
    return { manifest: m, dir };
  }
  ctx.io.out(`\nPlan SHA-256 being approved: ${m.plan.sha256}\n`);
  if (cfg.delivery.approvals.requireSigned) {
    if (!expired && m.policy.errors === 0) {
      ctx.io.out(`To approve (signed with your SSH key; --key FILE or git's user.signingkey): npx promote approve ${cfg.name} ${m.id} --sha256 ${m.plan.sha256}\n`);
    }
  } else if (approval === null && !expired && m.policy.errors === 0) {
    ctx.io.out(`To approve: npx promote approve ${cfg.name} ${m.id} --sha256 ${m.plan.sha256} --by <your name>\n`);
  }
  return { manifest: m, dir };
}


/**
 * `promote approve <env> [bundle] --sha256 <plan sha>`: records the approval of a bundle (create-only).
 *
 * Where the env requires signed approvals (delivery.approvals.requireSigned, prod): prints the canonical
 * statement (core/approval-statement.ts), checks it could be accepted at apply (decideSigning: the signer
 * is listed with this key, four eyes, validity), signs it with `ssh-keygen -Y sign` in the approval
 * namespace (`--key`, else git's user.signingkey) and stores `<principal>.approval.json` in the bundle.
 * Elsewhere: approval.json with the `--by` name, as before.
 */
import { join } from "node:path";
import { validateComment } from "../core/identity";
import { decideSigning, statementFor } from "../core/approval-checks";
import { approvalFileName, formatSignedApproval, renderStatement } from "../core/approval-statement";
import { approvalBundleOf } from "../core/checks";
import { decideApprove } from "../core/decisions";
import { EngineError, must, RefusalError, refusal } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256 } from "../core/hash";
import { sha256File } from "../io/files";
import { parsedManifest } from "../core/manifest";
import { fixFor } from "../core/rules";
import type { Approval } from "../core/schemas";
import { FILES, readBundle } from "../io/bundle";
import { audited, bundleDirOrRefuse, bundleStore, envConfig, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";
import { approvalsConfigOf, commitAuthor, principalForKey, resolveSigningKey, signStatement, SigningError } from "../io/signatures";

export interface ApproveOptions {
  readonly env: string;
  readonly bundle?: string;
  readonly sha256: string;
  readonly by?: string;
  readonly comment?: string;
  /** Signed approvals: the SSH key to sign with (a private key file, or a .pub whose key is in ssh-agent). @default git config user.signingkey */
  readonly key?: string;
  /** Signed approvals: the principal to sign as. @default the principal the approver list names for the key */
  readonly as?: string;
  /** Signed approvals: hours the approval stays valid (never past the bundle's expiry). @default until the bundle expires */
  readonly validForHours?: number;
}

/** What approve recorded: the unsigned approval, or the signed one's statement. */
export type ApproveResult = Approval | { readonly signed: true; readonly file: string; readonly statement: string; readonly approver: string };

export async function approve(ctx: EngineContext, o: ApproveOptions): Promise<ApproveResult> {
  const cfg = envConfig(ctx, o.env);
  if (cfg.delivery.approvals.requireSigned) return approveSigned(ctx, o);
  if (o.key !== undefined || o.as !== undefined || o.validForHours !== undefined) {
    const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
    return audited(ctx, cfg.name, "approve", by, async () => {
      throw new RefusalError(refusal("INPUT-INVALID", `--by NAME (env "${cfg.name}" does not require signed approvals)`, "--key / --as / --valid-for, which only signed approvals take", fixFor("INPUT-INVALID", cfg.name)));
    });
  }
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

const asEngineError = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof SigningError) throw new EngineError(e.message, e.detail);
    throw e;
  }
};

/** A signed approval: statement printed, checked as apply will check it, signed, verified, stored. */
async function approveSigned(ctx: EngineContext, o: ApproveOptions): Promise<ApproveResult> {
  const cfg = envConfig(ctx, o.env);
  const approvals = approvalsConfigOf(cfg.delivery.approvals, ctx.vars);
  const key = asEngineError(() => resolveSigningKey({ key: o.key, dir: ctx.paths.checkoutDir, vars: ctx.vars }));
  try {
    const principal = asEngineError(() => principalForKey({ as: o.as, publicKey: key.publicKey, approvals: approvals.approvals, dir: ctx.paths.checkoutDir, vars: ctx.vars }));
    return await audited(ctx, cfg.name, "approve", principal, async (info) => {
      info.approver = principal;
      if (o.by !== undefined) {
        throw new RefusalError(refusal("INPUT-INVALID", `no --by: env "${cfg.name}" requires signed approvals (the approver is the listed principal of the signing key)`, `--by ${JSON.stringify(o.by)}`, "drop --by; sign with --key <your ssh-ed25519 key> (or git's user.signingkey)"));
      }
      if (o.comment !== undefined) {
        throw new RefusalError(refusal("INPUT-INVALID", "no --comment on a signed approval (everything that counts is in the signed statement)", `--comment ${JSON.stringify(o.comment.slice(0, 80))}`, "drop --comment"));
      }
      if (o.validForHours !== undefined && !(o.validForHours > 0)) {
        throw new RefusalError(refusal("INPUT-INVALID", "--valid-for more than 0", `${o.validForHours} hours`, "give --valid-for like 2h or 90m"));
      }
      const dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
      const id = dir.split("/").slice(-1)[0];
      info.bundleId = id;
      const files = readBundle(dir);
      // The bundle itself: this env's, intact, the hash given, not applied or expired, not blocked by policy.
      must(decideApprove({ env: envFacts(cfg), ...files, summaryFileSha256: sha256File(join(dir, FILES.summary)), now: ctx.now(), givenSha256: o.sha256, approver: principal }));
      const m = parsedManifest(files.manifestText);
      info.commit = m.git.commit;
      info.planSha256 = m.plan.sha256;
      const bundle = approvalBundleOf(m, sha256(files.manifestText as string));
      const now = ctx.now();
      const built = statementFor(bundle, principal, now, o.validForHours);
      if (!built.ok) throw new RefusalError(refusal("INPUT-INVALID", "an approval statement of well-formed values", built.reason, fixFor("INPUT-INVALID", cfg.name)));
      let author: { name: string; email: string } | null;
      try {
        author = commitAuthor(ctx.paths.checkoutDir, m.git.commit);
      } catch {
        author = null;
      }
      // Refuse here what apply would refuse (not listed with this key, four eyes, validity), before signing anything.
      must(
        decideSigning({
          env: { name: cfg.name, accountId: cfg.account.id, fourEyes: cfg.delivery.fourEyes, approvals: approvals.approvals },
          bundle,
          commitAuthor: author,
          signer: { principal, publicKey: key.publicKey },
          statement: built.value,
          now,
        }),
      );
      const file = approvalFileName(built.value.approver);
      const existing = await bundleStore(ctx).read(cfg.name, id, file);
      if (existing !== null) {
        throw new RefusalError(refusal("APPROVAL-EXISTS", `no approval by ${principal} in ${cfg.name}/${id} yet`, `${file} exists`, fixFor("APPROVAL-EXISTS", cfg.name)));
      }
      const text = renderStatement(built.value);
      ctx.io.out(`Signing this statement (namespace approval@envs-promotion) with ${key.origin} as ${principal}:\n\n${text}\n`);
      const signature = asEngineError(() => signStatement(text, key, { vars: ctx.vars }));
      if (!(await bundleStore(ctx).create(cfg.name, id, file, formatSignedApproval(text, signature)))) {
        throw new RefusalError(refusal("APPROVAL-EXISTS", `no approval by ${principal} in ${cfg.name}/${id} yet`, `${file} written meanwhile`, fixFor("APPROVAL-EXISTS", cfg.name)));
      }
      ctx.io.out(`Approved ${m.env}/${m.id} (plan SHA-256 ${m.plan.sha256}), signed by ${principal}; valid until ${built.value.notAfter}.\nStored: ${join(dir, file)}\nNext: npx promote apply ${m.env} ${m.id}\n`);
      return { value: { signed: true as const, file, statement: text, approver: principal }, detail: `signed approval by ${principal} (${approvals.source}), not-after ${built.value.notAfter}` };
    });
  } finally {
    key.dispose();
  }
}

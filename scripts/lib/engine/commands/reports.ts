/** The read-only reports: `promote audit verify <env>`, `promote ledger <env>`, `promote bundles <env>`. */
import { signedApprovers } from "../io/signatures";
import { join } from "node:path";
import { RefusalError } from "../core/errors";
import { countsLine } from "../core/manifest";
import { manifestSchema, parseWith } from "../core/schemas";
import { AuditLog } from "../io/audit";
import { listBundles, readBundle } from "../io/bundle";
import { envConfig, ledgerOf, type EngineContext } from "../io/context";
import { auditPath, envPlansDir } from "../io/paths";

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
    // approved: an approval.json, or (signed approvals) a record; whether it verifies is apply's business
    const signedBy = cfg.delivery.approvals.requireSigned ? signedApprovers(join(envPlansDir(ctx.paths, cfg.name), id)) : null;
    const status = files.appliedText ? "applied" : signedBy !== null ? "signed" : files.approvalText ? "approved" : m?.ok && m.value.speculative ? "preview" : m?.ok && ctx.now().getTime() >= Date.parse(m.value.expiresAt) ? "expired" : "planned";
    ctx.io.out(`${id}  ${status.padEnd(8)}  ${m?.ok ? `${m.value.plan.sha256}  ${countsLine(m.value)}` : "(manifest invalid)"}${signedBy !== null && !files.appliedText ? `  (signed by ${signedBy}; verified at apply)` : ""}\n`);
  }
}

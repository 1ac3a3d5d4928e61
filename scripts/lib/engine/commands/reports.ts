/** The read-only reports: `promote audit verify <env>`, `promote ledger <env>`, `promote bundles <env>`. */
import { signedApprovers } from "../io/signatures";
import { join } from "node:path";
import { EngineError, RefusalError } from "../core/errors";
import { countsLine } from "../core/manifest";
import { manifestSchema, parseWith } from "../core/schemas";
import { readBundle } from "../io/bundle";
import { auditLogOf, bundleStore, envConfig, ledgerOf, type EngineContext } from "../io/context";
import { envPlansDir } from "../io/paths";
import { S3EngineStore } from "../io/s3-store";

export async function auditVerify(ctx: EngineContext, env: string): Promise<number> {
  const cfg = envConfig(ctx, env);
  // The local file, or (PROMOTE_STORE=s3) the env's store: from any machine with a role that reads it.
  const log = auditLogOf(ctx, cfg.name);
  // Every record read (not from this home's checkpoint): the whole log's verdict.
  const v = await log.verify();
  if (!v.ok) throw new RefusalError(log.refusalOf(v));
  ctx.io.out(`audit log ${log.where}: intact, ${v.count} record(s)${v.count > 0 ? `, last hash ${v.lastHash}` : ""}\n`);
  return v.count;
}

export function showLedger(ctx: EngineContext, env: string): void {
  const cfg = envConfig(ctx, env);
  const entries = ledgerOf(ctx).entries(cfg.name);
  if (entries.length === 0) ctx.io.out(`no successful apply of ${cfg.name} recorded in ${ctx.paths.ledgerDir}\n`);
  for (const e of entries) ctx.io.out(`${e.at}  ${e.commit}  ${e.tag}\n`);
}

/** A bundle `promote bundles` could not read (a file failing its check in the store, a cached file that cannot be read). */
export interface UnreadableBundle {
  readonly id: string;
  readonly error: unknown;
}

/**
 * Lists the env's bundles, one line each. A bundle that cannot be read (tampered in the store, a file of
 * the cache that cannot be read) does not hide the others: its line says unreadable, and it is returned,
 * so the command reports each one's error and exits non-zero after the whole list. A store that fails
 * (unreachable, access denied, timing out: an EngineError) ends the listing there with its error: every
 * bundle after it would wait out the same failure.
 */
export async function showBundles(ctx: EngineContext, env: string): Promise<UnreadableBundle[]> {
  const cfg = envConfig(ctx, env);
  const store = bundleStore(ctx);
  const ids = await store.list(cfg.name);
  if (ids.length === 0) ctx.io.out(`no bundles in ${store.location(cfg.name)}\n`);
  const unreadable: UnreadableBundle[] = [];
  for (const id of ids) {
    let line: string;
    try {
      // The shared store's bundles are fetched (and verified) into the local cache first; every read below reads that copy.
      const dir = store instanceof S3EngineStore ? await store.fetch(cfg.name, id) : join(envPlansDir(ctx.paths, cfg.name), id);
      const files = readBundle(dir);
      const m = files.manifestText ? parseWith(manifestSchema, files.manifestText) : null;
      // approved: an approval.json, or (signed approvals) a record; whether it verifies is apply's business
      const signedBy = cfg.delivery.approvals.requireSigned ? signedApprovers(dir) : null;
      const status = files.appliedText ? "applied" : signedBy !== null ? "signed" : files.approvalText ? "approved" : m?.ok && m.value.speculative ? "preview" : m?.ok && ctx.now().getTime() >= Date.parse(m.value.expiresAt) ? "expired" : "planned";
      line = `${id}  ${status.padEnd(8)}  ${m?.ok ? `${m.value.plan.sha256}  ${countsLine(m.value)}` : "(manifest invalid)"}${signedBy !== null && !files.appliedText ? `  (signed by ${signedBy}; verified at apply)` : ""}\n`;
    } catch (e) {
      if (e instanceof EngineError) throw e;
      const error = e instanceof RefusalError ? e : new EngineError(`bundle ${cfg.name}/${id} could not be read: ${typeof (e as { message?: unknown })?.message === "string" ? (e as Error).message : String(e)}`);
      unreadable.push({ id, error });
      line = `${id}  unreadable  (${error instanceof RefusalError ? `REFUSED ${error.refusal.id}` : error.message.split("\n")[0]})\n`;
    }
    ctx.io.out(line);
  }
  return unreadable;
}

/**
 * `promote unlock <env> <lock id>`: removes terraform's state lock left by a holder that is gone (a
 * killed apply), by its id, as `terraform force-unlock` does, under the env's lock (no plan or apply of
 * the env runs on this machine) and audited. The id is the one STATE-LOCKED names: a lock taken since
 * by a live run has another id, and terraform refuses to remove it.
 *
 * `promote unlock <env>` (the shared store): breaks the env's lease in its lock table (the one plan or
 * apply per env across machines; ENV-LOCKED names its holder) on purpose, for a holder known to be dead.
 * It reads the lease, names it (holder, command, host, since, expiry), and deletes exactly that lease (a
 * conditional delete on its token and expiry): a lease renewed, released or taken in between is left
 * alone and refused LEASE-CHANGED; no lease is LEASE-NOT-HELD. Audited in the env's store either way.
 */
import { EngineError, RefusalError, refusal } from "../core/errors";
import { describeLease } from "../core/lease";
import { fixFor } from "../core/rules";
import type { EnvConfig } from "../../../../envs";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { openStore, storeCall, storeKind } from "../io/s3-store";
import { failure, runTerraform } from "../io/terraform";
import { tfInit } from "../io/workdir";

export interface UnlockOptions {
  readonly env: string;
  /** terraform's state lock id (STATE-LOCKED names it); none: break the env's lease in the store. */
  readonly lockId?: string;
  readonly by?: string;
}

const LOCK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function unlock(ctx: EngineContext, o: UnlockOptions): Promise<void> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  const lockId = o.lockId;
  if (lockId === undefined) return breakLease(ctx, cfg, by);
  return audited(ctx, cfg.name, "unlock", by, () =>
    withEnvLock(ctx, cfg.name, `promote unlock ${cfg.name}`, 0, async () => {
      if (!LOCK_ID.test(lockId)) {
        throw new RefusalError(refusal("INPUT-INVALID", "a state lock id (a UUID, as STATE-LOCKED names it)", JSON.stringify(lockId.slice(0, 80)), `run the command that was refused STATE-LOCKED again: its fix names the id (${fixFor("STATE-LOCKED", cfg.name)})`));
      }
      const cwd = stackDir(ctx.paths, cfg.name);
      await tfInit(ctx, cwd, false);
      ctx.io.err(`$ terraform force-unlock -force ${lockId}\n`);
      const r = await runTerraform(["force-unlock", "-force", "-no-color", lockId], { cwd, vars: ctx.vars });
      if (r.code !== 0) {
        const text = `${r.stdout}\n${r.stderr}`;
        if (/does not match|lock ID|no lock|not locked/i.test(text)) {
          throw new RefusalError(refusal("STATE-LOCKED", `the state lock ${lockId} held`, `terraform: ${text.trim().split("\n").filter((l) => l.trim()).slice(-2).join(" ").slice(0, 300)}`, fixFor("STATE-LOCKED", cfg.name)));
        }
        throw failure("force-unlock", r);
      }
      ctx.io.out(`Removed the state lock ${lockId} of ${cfg.name} (${cfg.stateBackend.bucket}/${cfg.stateBackend.key}).\n`);
      return { value: undefined, detail: `state lock ${lockId} removed (force-unlock)` };
    }),
  );
}

/** Breaks the env's lease in its store: exactly the lease read (LEASE-CHANGED otherwise), named and audited. */
async function breakLease(ctx: EngineContext, cfg: EnvConfig, by: string): Promise<void> {
  if (storeKind(ctx.vars) === "local") {
    throw new EngineError(`unlock ${cfg.name} needs a state lock id: with PROMOTE_STORE=local there is no lease (the env lock is a file on this machine, taken over when its holder's process is gone)`);
  }
  return audited(ctx, cfg.name, "unlock", by, async () => {
    const where = `${cfg.stateBackend.lockTable} (${cfg.name}'s lock table, account ${cfg.account.id})`;
    const store = await openStore(cfg, ctx.vars);
    const seen = await storeCall(() => store.lock.read());
    if (seen === null) {
      throw new RefusalError(refusal("LEASE-NOT-HELD", `a lease of ${cfg.name} held in ${where}`, "none: nobody holds it", fixFor("LEASE-NOT-HELD", cfg.name)));
    }
    const held = describeLease(seen, ctx.now().getTime());
    ctx.io.err(`breaking the lease of ${cfg.name} in ${where}: held by ${held}\n`);
    if (!(await storeCall(() => store.lock.break(seen)))) {
      const now = await storeCall(() => store.lock.read());
      const found =
        now === null
          ? "no lease any more: released or broken since it was read"
          : now.token === seen.token
            ? `renewed by its holder since it was read (alive): ${describeLease(now, ctx.now().getTime())}`
            : `another lease, taken since it was read: ${describeLease(now, ctx.now().getTime())}`;
      throw new RefusalError(refusal("LEASE-CHANGED", `the lease read: ${held}`, found, fixFor("LEASE-CHANGED", cfg.name)));
    }
    ctx.io.out(`Broke the lease of ${cfg.name} held by ${seen.holder} (\`${seen.command}\` on ${seen.host} since ${seen.since}) in ${where}.\n`);
    return { value: undefined, detail: `lease broken: held by ${held}` };
  });
}

/**
 * `promote unlock <env> <lock id>`: removes terraform's state lock left by a holder that is gone (a
 * killed apply), by its id, as `terraform force-unlock` does, under the env's lock (no plan or apply of
 * the env runs on this machine) and audited. The id is the one STATE-LOCKED names: a lock taken since
 * by a live run has another id, and terraform refuses to remove it.
 */
import { RefusalError, refusal } from "../core/errors";
import { fixFor } from "../core/rules";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { failure, runTerraform } from "../io/terraform";
import { tfInit } from "../io/workdir";

export interface UnlockOptions {
  readonly env: string;
  readonly lockId: string;
  readonly by?: string;
}

const LOCK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function unlock(ctx: EngineContext, o: UnlockOptions): Promise<void> {
  const cfg = envConfig(ctx, o.env);
  const by = whoAmI(o.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "unlock", by, () =>
    withEnvLock(ctx, cfg.name, `promote unlock ${cfg.name}`, 0, async () => {
      if (!LOCK_ID.test(o.lockId)) {
        throw new RefusalError(refusal("INPUT-INVALID", "a state lock id (a UUID, as STATE-LOCKED names it)", JSON.stringify(o.lockId.slice(0, 80)), `run the command that was refused STATE-LOCKED again: its fix names the id (${fixFor("STATE-LOCKED", cfg.name)})`));
      }
      const cwd = stackDir(ctx.paths, cfg.name);
      await tfInit(ctx, cwd, false);
      ctx.io.err(`$ terraform force-unlock -force ${o.lockId}\n`);
      const r = await runTerraform(["force-unlock", "-force", "-no-color", o.lockId], { cwd, vars: ctx.vars });
      if (r.code !== 0) {
        const text = `${r.stdout}\n${r.stderr}`;
        if (/does not match|lock ID|no lock|not locked/i.test(text)) {
          throw new RefusalError(refusal("STATE-LOCKED", `the state lock ${o.lockId} held`, `terraform: ${text.trim().split("\n").filter((l) => l.trim()).slice(-2).join(" ").slice(0, 300)}`, fixFor("STATE-LOCKED", cfg.name)));
        }
        throw failure("force-unlock", r);
      }
      ctx.io.out(`Removed the state lock ${o.lockId} of ${cfg.name} (${cfg.stateBackend.bucket}/${cfg.stateBackend.key}).\n`);
      return { value: undefined, detail: `state lock ${o.lockId} removed (force-unlock)` };
    }),
  );
}

/**
 * `promote bootstrap <env>`: creates the env's delivery baseline (state bucket and lock table, KMS key,
 * promotion store, CI roles) in the env's own account, from the `bootstrap-<env>` stack. Its first run
 * applies with local state (where the target says: outside cdktf.out) and then moves that state into
 * the bucket it created (scripts/lib/store/bootstrap-state.ts). Idempotent: a second run finds nothing
 * to change. Like every command it holds the env's lock and is audited (ok, refused, error).
 */
import { targetFromEnv } from "../../../../stacks/target";
import { applyBootstrapStack } from "../../store/bootstrap-state";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { headCommit, whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { synthesize } from "../io/synth";
import { failure } from "../io/terraform";
import { runLocking } from "../io/workdir";

export interface BootstrapResult {
  /** Resources the bootstrap stack manages after the run. */
  readonly resources: number;
  /** Resources this run created or changed. */
  readonly changed: number;
  readonly seconds: number;
}

/** The bootstrap stack's name for an env. */
export const bootstrapStack = (env: string): string => `bootstrap-${env}`;

export async function bootstrap(given: EngineContext, opts: { env: string; by?: string }): Promise<BootstrapResult> {
  const started = Date.now();
  // Bootstrap creates the store: it cannot lock or audit in it yet (local lock and audit log).
  const ctx: EngineContext = { ...given, vars: { ...given.vars, PROMOTE_STORE: "local" } };
  const cfg = envConfig(ctx, opts.env);
  const by = whoAmI(opts.by, ctx.paths.checkoutDir, ctx.vars);
  return audited(ctx, cfg.name, "bootstrap", by, (info) =>
    withEnvLock(ctx, cfg.name, `promote bootstrap ${cfg.name}`, 0, async () => {
      const commit = headCommit(ctx.paths.checkoutDir);
      info.commit = commit;
      const stack = bootstrapStack(cfg.name);
      await synthesize(ctx.paths, stack, commit, ctx.vars, (t) => ctx.io.err(t));
      const cwd = stackDir(ctx.paths, stack);
      const log = (t: string) => ctx.io.err(t);
      const terraform = async (args: string[], release?: (id: string) => Promise<boolean>) => {
        ctx.io.err(`$ terraform ${args.join(" ")}   (${stack})\n`);
        const r = await runLocking(ctx, args, { cwd, vars: ctx.vars, echo: args[0] === "state" ? undefined : log }, { release });
        if (r.code !== 0) throw failure(args[0], r);
        return r;
      };
      // The stack's backend is the state bucket it creates: the first run applies locally, then moves its state there.
      const statePath = targetFromEnv(ctx.vars).bootstrapStatePath(cfg.name);
      const { changed, resources, moved, stateUrl } = await applyBootstrapStack({ cwd, statePath, terraform, log });
      return {
        value: { resources, changed, seconds: (Date.now() - started) / 1000 },
        detail: `${stack}: ${changed} created or changed, ${resources} managed, state in ${stateUrl}${moved ? " (moved there by this run)" : ""}`,
      };
    }),
  );
}

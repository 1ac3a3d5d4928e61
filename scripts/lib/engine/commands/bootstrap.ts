/**
 * `promote bootstrap <env>`: creates the env's own state bucket and lock table, in the env's own
 * account, from the `bootstrap-<env>` stack. That stack keeps its state locally (where the target
 * says: outside cdktf.out), so bootstrapping needs nothing to exist yet. Idempotent: a second run
 * finds nothing to change. Like every command it holds the env's lock and is audited (ok, refused, error).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { audited, envConfig, withEnvLock, type EngineContext } from "../io/context";
import { headCommit, whoAmI } from "../io/git";
import { stackDir } from "../io/paths";
import { SYNTH_FILE, synthesize } from "../io/synth";
import { failure, runTerraform } from "../io/terraform";

export interface BootstrapResult {
  /** Resources the bootstrap stack manages after the run. */
  readonly resources: number;
  /** Resources this run created or changed. */
  readonly changed: number;
  readonly seconds: number;
}

/** The bootstrap stack's name for an env. */
export const bootstrapStack = (env: string): string => `bootstrap-${env}`;

export async function bootstrap(ctx: EngineContext, opts: { env: string; by?: string }): Promise<BootstrapResult> {
  const started = Date.now();
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
      const run = async (args: string[]) => {
        ctx.io.err(`$ terraform ${args.join(" ")}   (${stack})\n`);
        const r = await runTerraform(args, { cwd, vars: ctx.vars, echo: log });
        if (r.code !== 0) throw failure(args[0], r);
        return r;
      };
      await run(["init", "-input=false", "-no-color"]);
      const applied = await run(["apply", "-input=false", "-no-color", "-auto-approve", "-lock=true"]);
      const m = /(\d+) added, (\d+) changed, (\d+) destroyed/.exec(applied.stdout);
      const changed = m ? Number(m[1]) + Number(m[2]) : 0;
      const resources = countResources(cwd);
      return {
        value: { resources, changed, seconds: (Date.now() - started) / 1000 },
        detail: `${stack}: ${changed} created or changed, ${resources} managed`,
      };
    }),
  );
}

/** Resources recorded in the bootstrap stack's local state (its path is in the synthesized backend). */
function countResources(cwd: string): number {
  const stack = JSON.parse(readFileSync(join(cwd, SYNTH_FILE), "utf8")) as { terraform?: { backend?: { local?: { path?: string } } } };
  const statePath = stack.terraform?.backend?.local?.path;
  if (!statePath || !existsSync(statePath)) return 0;
  const state = JSON.parse(readFileSync(statePath, "utf8")) as { resources?: Array<{ mode: string }> };
  return (state.resources ?? []).filter((r) => r.mode === "managed").length;
}

/**
 * `promote bootstrap <env>`: creates the env's own state bucket and lock table, in the env's own
 * account, from the `bootstrap-<env>` stack. That stack keeps its state locally (where the target
 * says: outside cdktf.out), so bootstrapping needs nothing to exist yet. Idempotent: a second run
 * finds nothing to change. It holds the env's lock and appends to the env's audit log like any apply.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AuditLog } from "./audit";
import { EngineError, RefusalError, refusal } from "./errors";
import { headCommit, whoAmI } from "./git";
import { acquireLock, describeHolder } from "./lock";
import { auditPath, envLockPath, stackDir } from "./paths";
import { fixFor } from "./rules";
import { SYNTH_FILE, synthesize } from "./synth";
import { failure, runTerraform } from "./terraform";
import type { EngineContext } from "./commands";

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
  const { env } = opts;
  if (!ctx.environments().some((e) => e.name === env)) {
    throw new EngineError(`unknown environment "${env}": expected one of ${ctx.environments().map((e) => e.name).join(", ")}`);
  }
  const by = whoAmI(opts.by, ctx.paths.checkoutDir, ctx.vars);
  const audit = new AuditLog(auditPath(ctx.paths, env), env);
  const broken = audit.brokenRefusal();
  if (broken) throw new RefusalError(broken);
  const got = await acquireLock(envLockPath(ctx.paths, env), { command: "bootstrap", waitMs: 0 });
  if (!got.ok) {
    throw new RefusalError(refusal("ENV-LOCKED", `no other plan or apply of "${env}" running`, `held by ${describeHolder(got.holder)}`, fixFor("ENV-LOCKED", env)));
  }
  const commit = headCommit(ctx.paths.checkoutDir);
  try {
    const stack = bootstrapStack(env);
    await synthesize(ctx.paths, stack, commit, ctx.vars, (t) => ctx.io.err(t));
    const cwd = stackDir(ctx.paths, stack);
    const log = (t: string) => ctx.io.err(t);
    for (const args of [
      ["init", "-input=false", "-no-color"],
      ["apply", "-input=false", "-no-color", "-auto-approve", "-lock=true"],
    ]) {
      ctx.io.err(`$ terraform ${args.join(" ")}   (${stack})\n`);
      const r = await runTerraform(args, { cwd, vars: ctx.vars, echo: log });
      if (r.code !== 0) throw failure(args[0], r);
      if (args[0] === "apply") {
        const m = /(\d+) added, (\d+) changed, (\d+) destroyed/.exec(r.stdout);
        const changed = m ? Number(m[1]) + Number(m[2]) : 0;
        const resources = countResources(cwd);
        await audit.append({ env, command: "bootstrap", by, result: "ok", commit, detail: `${stack}: ${changed} created or changed, ${resources} managed` }, ctx.now());
        return { resources, changed, seconds: (Date.now() - started) / 1000 };
      }
    }
    throw new EngineError("unreachable");
  } catch (e) {
    if (!(e instanceof RefusalError)) {
      await audit.append({ env, command: "bootstrap", by, result: "error", commit, detail: (e as Error).message.slice(0, 500) }, ctx.now()).catch(() => undefined);
    }
    throw e;
  } finally {
    got.lock.release();
  }
}

/** Resources recorded in the bootstrap stack's local state (its path is in the synthesized backend). */
function countResources(cwd: string): number {
  const stack = JSON.parse(readFileSync(join(cwd, SYNTH_FILE), "utf8")) as { terraform?: { backend?: { local?: { path?: string } } } };
  const statePath = stack.terraform?.backend?.local?.path;
  if (!statePath || !existsSync(statePath)) return 0;
  const state = JSON.parse(readFileSync(statePath, "utf8")) as { resources?: Array<{ mode: string }> };
  return (state.resources ?? []).filter((r) => r.mode === "managed").length;
}

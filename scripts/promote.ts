/**
 * `npx promote <command>`: plan, review, approve and apply one environment's changes, exactly as
 * reviewed. Exit codes: 0 done, 1 refused (a requirement was not met; nothing changed), 2 error
 * (usage, or the system broke: terraform crashed, the emulator is unreachable); `drift` exits 3 when it
 * found drift, `policy` and `doctor` exit 1 when the findings block approval / the envs diverge.
 */
import { bootstrap } from "./lib/engine/commands/bootstrap";
import * as engine from "./lib/engine/commands";
import { EngineError, EXIT, RefusalError } from "./lib/engine/core/errors";
import { ruleFor } from "./lib/engine/core/rules";
import { showRules } from "./lib/engine/commands/rules";
import { drift } from "./lib/engine/commands/drift";
import { rollback } from "./lib/engine/commands/rollback";
import { doctor } from "./lib/engine/commands/doctor";
import { cost } from "./lib/cost/command";
import { reviewHtml } from "./lib/review/command";
import { envCreate, envDestroy, envList, envReap, nameProblem } from "./lib/engine/commands/ephemeral";
import { complete } from "./lib/engine/commands/complete";
import { unlock } from "./lib/engine/commands/unlock";
import { interruptTerraform } from "./lib/engine/io/terraform";

const DIRS = `Directories (environment variables):
  PROMOTE_HOME          bundles <home>/<env>/<id>/           default <project>/plans
  PROMOTE_AUDIT_DIR     audit logs <dir>/<env>.jsonl         default <home>/_audit
  PROMOTE_LEDGER_DIR    git repo of deployed/<env>/* tags    default the checkout
  PROMOTE_CHECKOUT_DIR  checkout planned and synthesized     default the project root
  CDKTF_OUTDIR          synth output (stacks/<env>/)         default <checkout>/cdktf.out
  PROMOTE_USER          who acts when --by is not given      default git user.name, then the OS user
  PROMOTE_SYNTH_COMMAND shell command that synthesizes       default node main.ts (transpiled)
  TERRAFORM_BINARY_NAME terraform or tofu                    default terraform

Bounds (seconds; a run past one ends with a named error, terraform interrupted and its process group ended):
  PROMOTE_TIMEOUT_INIT 900, _PLAN 3600, _APPLY 21600, _SHOW 600, _STATE 600, _VERSION 120, _FORCE_UNLOCK 300,
  _GRACE 120 (interrupt to kill), _GIT 120, _SYNTH 1800`;

const HELP: Record<string, string> = {
  main: `Usage: npx promote <command> [options]

Commands:
  bootstrap <env>                     create the env's state bucket and lock table in its own account (once)
  plan <env>                          synth if needed, plan into a bundle, print the redacted summary
  plan <env> --speculative            a preview (pull requests): no promotion gate, never approvable
  review <env> [bundle]               the summary, destructive changes first, and the plan SHA-256 to approve
  review <env> [bundle] --html        the same, also as one self-contained HTML page (--out FILE)
  cost <env> [bundle]                 estimated monthly cost after the plan, its change, against the env's budget
  approve <env> [bundle] --sha256 H   approve the bundle whose plan SHA-256 is H
  apply <env> [bundle]                verify the bundle, then terraform apply that saved plan (no re-plan)
  apply <env> --auto                  plan and apply in one step (only where the env allows it)
  complete <env> <bundle>             record the outcome of an apply whose bookkeeping did not finish (idempotent)
  unlock <env> <lock id>              remove a state lock whose holder is gone (the id STATE-LOCKED names)
  policy <env> [bundle]               the bundle's policy findings (exit 1 when they block approval)
  drift <env>                         refresh-only plan: resources changed outside terraform (exit 3 on drift)
  rollback <env> [--to TAG]           plan the env back to a release it ran (a normal bundle: review, approve, apply)
  doctor [--no-drift]                 drift, config diff, versions, last applied commits; exit 1 on divergence
  audit verify <env>                  verify the env's hash-chained audit log
  ledger <env>                        successful applies of the env (deployed/<env>/* tags)
  bundles <env>                       the env's bundles and their status
  rules [--markdown]                  every refusal id and what it means (--markdown: regenerate RULES.md)
  env create pr-<n> [--ttl H]         an ephemeral env (a pull request's): a CIDR from the pool, planned and applied
  env destroy pr-<n>                  destroy it (a saved destroy plan), then its state and registry entry
  env list                            ephemeral envs: status, CIDR, age, time left before their TTL
  env reap [--now ISO]                destroy every ephemeral env older than its TTL

[bundle] defaults to the env's newest bundle. Run \`npx promote <command> --help\` for its options.
Exit codes: 0 done, 1 refused (nothing changed), 2 error; drift: 3 when drift was found.

${DIRS}`,
  plan: `Usage: npx promote plan <env> [--by NAME] [--synth auto|always|never] [--ttl DURATION] [--wait SECONDS] [--speculative]

Plans <env> from the checked-out commit into plans/<env>/<id>/ (plan.tfplan 0600, manifest.json,
summary.txt, policy.json). A promotion-gated env (delivery.promotesFrom) is planned only from a commit the
previous env applied successfully, and only from a checkout without uncommitted changes to synth inputs.
The plan's policy findings (scripts/lib/policy, with policy-exceptions.json) are printed and recorded; an
error finding blocks approve and apply (POLICY-BLOCKED).

  --speculative    a preview for a pull request: skips the promotion gate and the clean-tree check; the
                   bundle is marked speculative and can never be approved or applied (BUNDLE-SPECULATIVE)

  --by NAME        the plan's author (default PROMOTE_USER, git user.name, OS user)
  --synth MODE     auto (default): when the stack is missing or was synthesized from something else
  --ttl DURATION   how long the bundle stays applicable: 90m, 12h, 3600s (at most delivery.planTtlHours)
  --wait SECONDS   wait for another plan/apply of this env to finish (default: refuse at once)`,
  review: `Usage: npx promote review <env> [bundle]

Prints the bundle's summary (sensitive values redacted, destructive changes first), its status and the
plan SHA-256 an approver approves. Refuses a bundle whose plan file or summary no longer match its manifest.
  --html       also write the review as one self-contained HTML page (no script, no external request):
               identity and plan SHA-256, the approve command, destructive changes first, policy findings,
               the cost change and every attribute diff (sensitive values redacted). Reads the plan with
               \`terraform show -json\` in the env's stack; falls back to summary.txt when it cannot.
  --out FILE   where to write the page (default <bundle>/review.html)`,
  cost: `Usage: npx promote cost <env> [bundle]
       npx promote cost <env> --from-synth

Estimates the env's monthly cost once the bundle's plan is applied (on-demand list prices of
scripts/lib/cost/prices.json; traffic-based items use the assumptions noted there), what the plan changes
(cost of the state it was planned from -> cost after), and compares it with the env's budget.monthlyUsd.
Resources it cannot price are listed as NOT PRICED (the total is then a lower bound).
  --from-synth   estimate the synthesized stack (cdktf.out/stacks/<env>/cdk.tf.json) instead: no bundle,
                 no terraform
Exit 0 within budget, 1 over budget (an OVER BUDGET line says by how much), 2 when it cannot estimate.`,
  approve: `Usage: npx promote approve <env> [bundle] --sha256 HASH [--key FILE] [--as E-MAIL] [--valid-for DURATION]
       npx promote approve <env> [bundle] --sha256 HASH [--by NAME] [--comment TEXT]

Where the env requires signed approvals (delivery.approvals.requireSigned: prod): prints the statement it
signs (env, account, bundle, plan SHA-256, manifest SHA-256, commit, approver, signed-at, not-after), refuses
what apply would refuse (a signer or key the env's approver list does not name, the plan's or the commit's
author where four eyes is required, a hash that is not the bundle's), signs it with ssh-keygen -Y sign in the
namespace approval@envs-promotion and stores <approver>.approval.json in the bundle. Review first with
\`promote review <env> <bundle>\`.
  --key FILE            the ssh-ed25519 key to sign with (a private key, or a .pub held in ssh-agent);
                        default: git config user.signingkey (gpg.format ssh)
  --as E-MAIL           the principal to sign as (default: the one the approver list names for the key)
  --valid-for DURATION  the approval expires after 90m, 12h... (default and limit: the bundle's expiry)

Elsewhere: writes approval.json bound to the plan SHA-256 and to the manifest's SHA-256 with the --by name.
Refuses a hash that is not the bundle's, an expired or applied bundle, a second approval.`,
  apply: `Usage: npx promote apply <env> [bundle] [--by NAME] [--wait SECONDS]
       npx promote apply <env> --auto [--by NAME] [--wait SECONDS] [--synth MODE]

Verifies the bundle (plan hash = manifest = approval, env, backend, account, checkout commit, synth
digest, provider lock file, not expired, approval and four eyes where required, not applied before,
promotion gate, state unchanged), then runs \`terraform apply <that plan file>\`; records applied.json,
the ledger tag deployed/<env>/<stamp> and an audit record.
  --auto   plan and apply in one step, through a saved plan (only where delivery.autoApply)`,
  complete: `Usage: npx promote complete <env> <bundle> [--by NAME] [--wait SECONDS]

Records the outcome of an apply of <bundle> that did not record one (APPLY-UNFINISHED, APPLY-NOT-RECORDED):
reads applied.json, how terraform ended (recorded beside the engine's private plan copy, also when the
engine was killed) and the state, then writes applied.json (succeeded, failed or interrupted) and, for a
clean bundle that succeeded, the ledger tag. Idempotent: a second run finds the tag and changes nothing.
Check first that no terraform runs for <env> (a held state lock: promote unlock).`,
  unlock: `Usage: npx promote unlock <env> <lock id> [--by NAME]

Removes terraform's state lock <lock id> (terraform force-unlock), audited, under the env's lock. Only for
a lock whose holder is gone: STATE-LOCKED names the id, who holds it and since when; check on that machine
that no terraform runs for <env>. A lock taken since has another id and is not removed.`,
  audit: `Usage: npx promote audit verify <env>

Verifies the env's audit log: every record's hash, the chain of previous hashes and the head file.
Exit 1 (AUDIT-LOG-BROKEN) when broken.`,
  ledger: `Usage: npx promote ledger <env>

Lists the env's successful applies (git tags deployed/<env>/<stamp> in PROMOTE_LEDGER_DIR), oldest first;
the last prod entry is the last-good release.`,
  bundles: `Usage: npx promote bundles <env>

Lists the env's bundles, oldest first, with status (planned, approved, applied, expired).`,
  bootstrap: `Usage: npx promote bootstrap <env> [--by NAME]

Creates <env>'s own state bucket (versioned, encrypted, TLS-only, public access blocked) and DynamoDB lock
table in <env>'s account, from the bootstrap-<env> stack whose own state is local (outside cdktf.out).
Run once per environment before its first plan; a second run changes nothing.`,
  policy: `Usage: npx promote policy <env> [bundle] [--markdown]

Prints the bundle's recorded policy findings (policy.json, checked against its manifest). Exit 0 when they
block nothing, 1 when an error finding blocks approval and apply (POLICY-BLOCKED).
  --markdown   a Markdown table (for $GITHUB_STEP_SUMMARY)`,
  drift: `Usage: npx promote drift <env> [--by NAME] [--synth auto|always|never] [--wait SECONDS]

Runs \`terraform plan -refresh-only -detailed-exitcode -lock=true\` against <env>'s state (synthesizing and
initializing first when needed) and lists every resource changed or deleted outside terraform, with the
attributes that differ (sensitive values redacted). Writes nothing to the state; records an audit entry.
Exit codes: 0 no drift, 3 drift found, 1 refused (e.g. ENV-LOCKED, STATE-LOCKED), 2 error.`,
  rollback: `Usage: npx promote rollback <env> [--to TAG] [--by NAME] [--ttl DURATION] [--wait SECONDS] [--synth MODE]

Plans <env> back to a release it ran: checks out the tag's commit into a temporary git worktree, synthesizes
and plans it into a normal bundle marked rollback { toTag, toCommit, fromCommit }, and lists what a plan
cannot revert (data lost with a replaced or destroyed stateful resource, resources recreated empty, new
identities, data written since). Then: promote review / approve / apply as for any bundle. The promotion gate
accepts a commit in <env>'s own ledger; apply checks the working directory was synthesized from that commit.
  --to TAG   a ledger tag (promote ledger <env>); default: the newest release before the current one (the
             current one itself when the latest apply failed)`,
  doctor: `Usage: npx promote doctor [--no-drift] [--by NAME]

Per env: drift (refresh-only plan; --no-drift skips terraform), last applied commit, terraform and provider
versions and lock-file hash (of its last applied bundle), and a field-by-field diff of the env configs.
Exit 1 when a gated env diverges from the env it promotes from: it runs a commit that env never applied, or
the same commit with other providers or another lock file. Otherwise 0 (2 on error).`,
  env: `Usage: npx promote env create pr-<n> [--ttl DURATION] [--update] [--by NAME] [--wait SECONDS]
       npx promote env destroy pr-<n> [--by NAME] [--wait SECONDS]
       npx promote env list [--now ISO]
       npx promote env reap [--now ISO] [--by NAME]

Ephemeral environments, one per pull request, derived from dev (envs/ephemeral.ts) in dev's account and
state bucket (key ephemeral/<name>/terraform.tfstate). The registry <PROMOTE_HOME>/_ephemeral/<name>.json
records each: CIDR, created, TTL, author, commit, status (creating, live, destroying).
  create    allocates a CIDR from the pool (no overlap with any env or registered one), records it, then
            plans and applies it like \`apply --auto\` (saved plan, policy, audit, ledger tag deployed/<name>/*).
            Refuses a registered one (EPHEMERAL-EXISTS) unless --update; a failed create stays "creating":
            run create again (same CIDR) or destroy.
    --ttl DURATION   hours before \`env reap\` destroys it: 90m, 12h (default EPHEMERAL.ttlHours)
    --update         an existing live one is updated to the checked-out commit instead of refused
  destroy   a saved \`terraform plan -destroy\`, applied (env lock, audit record); then every version of its
            state object and its digest item in the lock table; then the registry entry. Works without a
            registry entry too (cleans up whatever state exists).
  list      status, CIDR, age and time left before the TTL
  reap      destroys each one older than its TTL (--now: the time to judge by); exit 0 when every destroy
            worked, else the worst exit code of the failures`,
  rules: `Usage: npx promote rules [--markdown]

Every refusal id, its cause and the usual fix (the same table as scripts/lib/engine/RULES.md).
  --markdown   regenerate the tables of scripts/lib/engine/RULES.md and scripts/lib/policy/RULES.md
               from the code (core/rules.ts, policy/registry.ts)`,
};

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(["by", "synth", "ttl", "wait", "sha256", "comment", "out", "to", "now", "key", "as", "valid-for"]);
const BOOL_FLAGS = new Set(["auto", "help", "speculative", "markdown", "html", "from-synth", "no-drift", "update"]);

export function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h") {
      flags.set("help", true);
    } else if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
      if (BOOL_FLAGS.has(name)) {
        flags.set(name, true);
      } else if (VALUE_FLAGS.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

/** 90m, 12h, 3600s, or a number of hours. */
export function parseDuration(text: string, flag = "--ttl"): number {
  const m = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must look like 90m, 12h or 3600s, but "${text}" was given`);
  const n = Number(m[1]);
  return m[2] === "s" ? n / 3600 : m[2] === "m" ? n / 60 : n;
}

function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function allow(p: Parsed, command: string, names: string[]): void {
  for (const k of p.flags.keys()) if (k !== "help" && !names.includes(k)) throw new UsageError(`${command} does not take --${k}`);
}

function synthMode(p: Parsed): "auto" | "always" | "never" | undefined {
  const v = str(p, "synth");
  if (v === undefined) return undefined;
  if (v !== "auto" && v !== "always" && v !== "never") throw new UsageError(`--synth must be auto, always or never, but "${v}" was given`);
  return v;
}

function waitSeconds(p: Parsed): number | undefined {
  const v = str(p, "wait");
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--wait must be a number of seconds, but "${v}" was given`);
  return n;
}

function envArg(p: Parsed, command: string, maxPositional: number): { env: string; bundle?: string } {
  const [env, bundle, extra] = p.positional;
  if (!env) throw new UsageError(`${command} needs an environment: npx promote ${command} <env>`);
  if (extra !== undefined || (maxPositional < 2 && bundle !== undefined)) throw new UsageError(`too many arguments for ${command}`);
  return { env, bundle };
}

export async function main(argv: readonly string[], ctx: engine.EngineContext = engine.defaultContext()): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === "help" || command === "--help" || command === "-h") {
      ctx.io.out(`${HELP.main}\n`);
      return command ? EXIT.ok : EXIT.error;
    }
    if (!(command in HELP) || command === "main") throw new UsageError(`unknown command "${command}"\n\n${HELP.main}`);
    const p = parseArgs(rest);
    if (p.flags.has("help")) {
      ctx.io.out(`${HELP[command]}\n`);
      return EXIT.ok;
    }
    switch (command) {
      case "bootstrap": {
        allow(p, command, ["by"]);
        const { env } = envArg(p, command, 1);
        const r = await bootstrap(ctx, { env, by: str(p, "by") });
        ctx.io.out(`bootstrapped ${env}: ${r.resources} resources managed, ${r.changed} created or changed, ${r.seconds.toFixed(1)} s\n`);
        return EXIT.ok;
      }
      case "plan": {
        allow(p, command, ["by", "synth", "ttl", "wait", "speculative"]);
        const { env } = envArg(p, command, 1);
        const ttl = str(p, "ttl");
        const speculative = p.flags.has("speculative");
        await engine.plan(ctx, { env, by: str(p, "by"), synth: synthMode(p), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), waitSeconds: waitSeconds(p), speculative });
        if (!speculative) ctx.io.out(`Next: npx promote review ${env}\n`);
        return EXIT.ok;
      }
      case "review": {
        allow(p, command, ["html", "out"]);
        const { env, bundle } = envArg(p, command, 2);
        if (p.flags.has("out") && !p.flags.has("html")) throw new UsageError("--out is for review --html: where to write the page");
        if (p.flags.has("html")) await reviewHtml(ctx, { env, bundle, out: str(p, "out") });
        else await engine.review(ctx, { env, bundle });
        return EXIT.ok;
      }
      case "cost": {
        allow(p, command, ["from-synth"]);
        const { env, bundle } = envArg(p, command, 2);
        return await cost(ctx, { env, bundle, fromSynth: p.flags.has("from-synth") });
      }
      case "approve": {
        allow(p, command, ["sha256", "by", "comment", "key", "as", "valid-for"]);
        const { env, bundle } = envArg(p, command, 2);
        const sha = str(p, "sha256");
        if (!sha) throw new UsageError("approve needs --sha256 <the plan SHA-256 printed by `promote review`>");
        const validFor = str(p, "valid-for");
        await engine.approve(ctx, {
          env,
          bundle,
          sha256: sha,
          by: str(p, "by"),
          comment: str(p, "comment"),
          key: str(p, "key"),
          as: str(p, "as"),
          validForHours: validFor === undefined ? undefined : parseDuration(validFor, "--valid-for"),
        });
        return EXIT.ok;
      }
      case "apply": {
        allow(p, command, ["by", "wait", "auto", "synth"]);
        const { env, bundle } = envArg(p, command, 2);
        const auto = p.flags.has("auto");
        if (!auto && p.flags.has("synth")) throw new UsageError("--synth is for apply --auto only: apply never re-synthesizes");
        await engine.apply(ctx, { env, bundle, by: str(p, "by"), auto, waitSeconds: waitSeconds(p), synth: synthMode(p) });
        return EXIT.ok;
      }
      case "complete": {
        allow(p, command, ["by", "wait"]);
        const { env, bundle } = envArg(p, command, 2);
        if (!bundle) throw new UsageError("complete needs the bundle: npx promote complete <env> <bundle> (APPLY-UNFINISHED names it)");
        await complete(ctx, { env, bundle, by: str(p, "by"), waitSeconds: waitSeconds(p) });
        return EXIT.ok;
      }
      case "unlock": {
        allow(p, command, ["by"]);
        const { env, bundle: lockId } = envArg(p, command, 2);
        if (!lockId) throw new UsageError("unlock needs the lock id: npx promote unlock <env> <lock id> (STATE-LOCKED names it)");
        await unlock(ctx, { env, lockId, by: str(p, "by") });
        return EXIT.ok;
      }
      case "policy": {
        allow(p, command, ["markdown"]);
        const { env, bundle } = envArg(p, command, 2);
        return engine.showPolicy(ctx, { env, bundle, markdown: p.flags.has("markdown") }).blocks ? EXIT.refused : EXIT.ok;
      }
      case "drift": {
        allow(p, command, ["by", "synth", "wait"]);
        const { env } = envArg(p, command, 1);
        const r = await drift(ctx, { env, by: str(p, "by"), synth: synthMode(p), waitSeconds: waitSeconds(p) });
        return r.resources.length > 0 ? EXIT.drift : EXIT.ok;
      }
      case "rollback": {
        allow(p, command, ["to", "by", "ttl", "wait", "synth"]);
        const { env } = envArg(p, command, 1);
        const ttl = str(p, "ttl");
        const r = await rollback(ctx, { env, to: str(p, "to"), by: str(p, "by"), synth: synthMode(p), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), waitSeconds: waitSeconds(p) });
        ctx.io.out(`Next: npx promote review ${env} ${r.manifest.id}\n`);
        return EXIT.ok;
      }
      case "doctor": {
        allow(p, command, ["no-drift", "by"]);
        if (p.positional.length > 0) throw new UsageError("doctor takes no arguments: it reports every environment");
        return (await doctor(ctx, { noDrift: p.flags.has("no-drift"), by: str(p, "by") })).diverged ? EXIT.refused : EXIT.ok;
      }
      case "audit": {
        allow(p, command, []);
        const [sub, env, extra] = p.positional;
        if (sub !== "verify" || !env || extra !== undefined) throw new UsageError(`usage: npx promote audit verify <env>`);
        engine.auditVerify(ctx, env);
        return EXIT.ok;
      }
      case "ledger":
      case "bundles": {
        allow(p, command, []);
        const { env } = envArg(p, command, 1);
        if (command === "ledger") engine.showLedger(ctx, env);
        else engine.showBundles(ctx, env);
        return EXIT.ok;
      }
      case "env": {
        const [sub, name, extra] = p.positional;
        const usage = "usage: npx promote env create|destroy pr-<n>, env list, env reap (npx promote env --help)";
        if (sub === "list" || sub === "reap") {
          if (name !== undefined) throw new UsageError(`env ${sub} takes no name: ${usage}`);
          allow(p, `env ${sub}`, sub === "list" ? ["now"] : ["now", "by", "wait"]);
          const nowText = str(p, "now");
          const now = nowText === undefined ? ctx.now() : new Date(nowText);
          if (Number.isNaN(now.getTime())) throw new UsageError(`--now must be an ISO date-time (2030-01-02T03:04:05Z), but "${nowText}" was given`);
          if (sub === "list") {
            envList(ctx, now);
            return EXIT.ok;
          }
          const r = await envReap(ctx, { now, by: str(p, "by"), waitSeconds: waitSeconds(p) });
          const codes = r.failed.map((f) => report(f.error, ctx.io));
          ctx.io.out(`reap: ${r.destroyed.length} destroyed, ${r.failed.length} failed${r.failed.length ? ` (${r.failed.map((f) => f.name).join(", ")})` : ""}\n`);
          return Math.max(EXIT.ok, ...codes);
        }
        if ((sub !== "create" && sub !== "destroy") || name === undefined || extra !== undefined) throw new UsageError(usage);
        const problem = nameProblem(name);
        if (problem !== null) throw new UsageError(problem);
        if (sub === "create") {
          allow(p, "env create", ["ttl", "update", "by", "wait"]);
          const ttl = str(p, "ttl");
          const r = await envCreate(ctx, { name, by: str(p, "by"), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), update: p.flags.has("update"), waitSeconds: waitSeconds(p) });
          ctx.io.out(`${name}: ${r.mode}, live (${r.entry.cidr}); ledger tag ${r.applied.applied.ledgerTag}; reaped after ${r.entry.ttlHours}h\n`);
          return EXIT.ok;
        }
        allow(p, "env destroy", ["by", "wait"]);
        const r = await envDestroy(ctx, { name, by: str(p, "by"), waitSeconds: waitSeconds(p) });
        ctx.io.out(`${name}: destroyed ${r.destroyed} resource(s); removed ${r.removed.versions} state object version(s)${r.removed.digestItem ? " and the digest item" : ""}${r.entry ? "" : " (it had no registry entry)"}\n`);
        return EXIT.ok;
      }
      case "rules": {
        allow(p, command, ["markdown"]);
        if (p.positional.length > 0) throw new UsageError(`rules takes no arguments, but "${p.positional[0]}" was given`);
        showRules(ctx, { markdown: p.flags.has("markdown") });
        return EXIT.ok;
      }
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    return report(e, ctx.io);
  }
}

/** Prints a refusal (exit 1) or an error (exit 2). */
export function report(e: unknown, io: engine.Io): number {
  if (e instanceof RefusalError) {
    const r = e.refusal;
    io.err(`\nREFUSED ${r.id}: ${ruleFor(r.id).info}\n  expected: ${r.expected}\n  found:    ${r.found}\n  fix:      ${r.fix}\n`);
    return EXIT.refused;
  }
  if (e instanceof UsageError) {
    io.err(`error: ${e.message}\n`);
    return EXIT.error;
  }
  if (e instanceof EngineError) {
    io.err(`\nERROR: ${e.message}\n${e.detail ? `${e.detail}\n` : ""}`);
    return EXIT.error;
  }
  io.err(`\nERROR (unexpected): ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.error;
}

/**
 * SIGINT / SIGTERM of the CLI: running terraform is interrupted (its run rejects TERRAFORM-INTERRUPTED,
 * so the command's cleanup and audit record still happen); a second signal, or one while no terraform
 * runs, exits at once (130).
 */
export function installInterruptHandler(io: engine.Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): void {
  let seen = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (seen || interruptTerraform() === 0) process.exit(130);
    seen = true;
    io.err(`\n${signal}: interrupting terraform (it stops what it does, saves the state and releases the lock); again to exit at once\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

if (require.main === module) {
  installInterruptHandler();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

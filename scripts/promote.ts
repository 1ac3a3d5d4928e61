/**
 * `npx promote <command>`: plan, review, approve and apply one environment's changes, exactly as
 * reviewed. Exit codes: 0 done, 1 refused (a requirement was not met; nothing changed), 2 error
 * (usage, or the system broke: terraform crashed, the emulator is unreachable); `drift` exits 3 when it
 * found drift, `policy` and `doctor` exit 1 when the findings block approval / the envs diverge.
 */
import { bootstrap } from "./lib/engine/commands/bootstrap";
import * as engine from "./lib/engine/commands";
import { EngineError, EXIT, RefusalError } from "./lib/engine/core/errors";
import { closeStores, engineError, storeKind } from "./lib/engine/io/s3-store";
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
import { helpText, parseCommandLine, UsageError, type CommandSpec, type OptionSpec } from "./lib/cli/args";

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

// ---------------------------------------------------------------------------------------------
// the commands and their options, declared once: the parser (lib/cli/args.ts) and every --help read this
// ---------------------------------------------------------------------------------------------

/** Options several commands take, worded once. */
const OPT = {
  by: { type: "string", value: "NAME", help: "who acts (default PROMOTE_USER, git user.name, OS user)" },
  synth: { type: "string", value: "MODE", help: "auto (default): synthesize when the stack is missing or was synthesized from something\nelse; always; never" },
  ttl: { type: "string", value: "DURATION", help: "how long the bundle stays applicable: 90m, 12h, 3600s (at most delivery.planTtlHours)" },
  wait: { type: "string", value: "SECONDS", help: "wait for another plan/apply of this env to finish (default: refuse at once)" },
  now: { type: "string", value: "ISO", help: "the time to judge the TTLs by (default now)" },
  markdown: { type: "boolean", help: "a Markdown table (for $GITHUB_STEP_SUMMARY)" },
} as const satisfies Record<string, OptionSpec>;

interface CommandDef {
  /** The command line without options: `plan <env>`. */
  readonly usage: string;
  /** The lines of the command list of `npx promote --help`: [synopsis, what it does]. */
  readonly summary: ReadonlyArray<readonly [string, string]>;
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/**
 * Every command: its options (add a flag here and the parser takes it, the help lists it, every other
 * command refuses it by name), its lines in the command list and its help. `env` has one entry per
 * subcommand.
 */
export const COMMANDS: Readonly<Record<string, CommandDef>> = {
  bootstrap: {
    usage: "bootstrap <env>",
    summary: [["bootstrap <env>", "create the env's state bucket and lock table in its own account (once)"]],
    description: `Creates <env>'s own state bucket (versioned, encrypted, TLS-only, public access blocked) and DynamoDB lock
table in <env>'s account, from the bootstrap-<env> stack whose own state is local (outside cdktf.out).
Run once per environment before its first plan; a second run changes nothing.`,
    options: { by: OPT.by },
  },
  plan: {
    usage: "plan <env>",
    summary: [
      ["plan <env>", "synth if needed, plan into a bundle, print the redacted summary"],
      ["plan <env> --speculative", "a preview (pull requests): no promotion gate, never approvable"],
    ],
    description: `Plans <env> from the checked-out commit into plans/<env>/<id>/ (plan.tfplan 0600, manifest.json,
summary.txt, policy.json). A promotion-gated env (delivery.promotesFrom) is planned only from a commit the
previous env applied successfully, and only from a checkout without uncommitted changes to synth inputs.
The plan's policy findings (scripts/lib/policy, with policy-exceptions.json) are printed and recorded; an
error finding blocks approve and apply (POLICY-BLOCKED).`,
    options: {
      by: { ...OPT.by, help: "the plan's author (default PROMOTE_USER, git user.name, OS user)" },
      synth: OPT.synth,
      ttl: OPT.ttl,
      wait: OPT.wait,
      speculative: {
        type: "boolean",
        help: "a preview for a pull request: skips the promotion gate and the clean-tree check; the\nbundle is marked speculative and can never be approved or applied (BUNDLE-SPECULATIVE)",
      },
    },
  },
  review: {
    usage: "review <env> [bundle]",
    summary: [
      ["review <env> [bundle]", "the summary, destructive changes first, and the plan SHA-256 to approve"],
      ["review <env> [bundle] --html", "the same, also as one self-contained HTML page (--out FILE)"],
    ],
    description: `Prints the bundle's summary (sensitive values redacted, destructive changes first), its status and the
plan SHA-256 an approver approves. Refuses a bundle whose plan file or summary no longer match its manifest.`,
    options: {
      html: {
        type: "boolean",
        help: "also write the review as one self-contained HTML page (no script, no external request):\nidentity and plan SHA-256, the approve command, destructive changes first, policy findings,\nthe cost change and every attribute diff (sensitive values redacted). Reads the plan with\n`terraform show -json` in the env's stack; falls back to summary.txt when it cannot.",
      },
      out: { type: "string", value: "FILE", help: "where to write the page (default <bundle>/review.html)" },
    },
  },
  cost: {
    usage: "cost <env> [bundle]",
    summary: [["cost <env> [bundle]", "estimated monthly cost after the plan, its change, against the env's budget"]],
    description: `Estimates the env's monthly cost once the bundle's plan is applied (on-demand list prices of
scripts/lib/cost/prices.json; traffic-based items use the assumptions noted there), what the plan changes
(cost of the state it was planned from -> cost after), and compares it with the env's budget.monthlyUsd.
Resources it cannot price are listed as NOT PRICED (the total is then a lower bound).
Exit 0 within budget, 1 over budget (an OVER BUDGET line says by how much), 2 when it cannot estimate.`,
    options: {
      "from-synth": { type: "boolean", help: "estimate the synthesized stack (cdktf.out/stacks/<env>/cdk.tf.json) instead: no bundle,\nno terraform (npx promote cost <env> --from-synth)" },
    },
  },
  approve: {
    usage: "approve <env> [bundle]",
    summary: [["approve <env> [bundle] --sha256 H", "approve the bundle whose plan SHA-256 is H (signed where the env requires it)"]],
    description: `Where the env requires signed approvals (delivery.approvals.requireSigned: prod): prints the statement it
signs (env, account, bundle, plan SHA-256, manifest SHA-256, commit, approver, signed-at, not-after), refuses
what apply would refuse (a signer or key the env's approver list does not name, the plan's or the commit's
author where four eyes is required, a hash that is not the bundle's), signs it with ssh-keygen -Y sign in the
namespace approval@envs-promotion and stores <approver>.approval.json in the bundle (--key, --as,
--valid-for). Review first with \`promote review <env> <bundle>\`.

Elsewhere: writes approval.json bound to the plan SHA-256 and to the manifest's SHA-256 with the --by name
(--by, --comment). Refuses a hash that is not the bundle's, an expired or applied bundle, a second approval,
and (where delivery.fourEyes) the author.`,
    options: {
      sha256: { type: "string", value: "HASH", help: "the plan SHA-256 printed by `promote review` (required)" },
      key: { type: "string", value: "FILE", help: "signed approvals: the ssh-ed25519 key to sign with (a private key, or a .pub held in\nssh-agent); default: git config user.signingkey (gpg.format ssh)" },
      as: { type: "string", value: "E-MAIL", help: "signed approvals: the principal to sign as (default: the one the approver list names\nfor the key)" },
      "valid-for": { type: "string", value: "DURATION", help: "signed approvals: the approval expires after 90m, 12h... (default and limit: the\nbundle's expiry)" },
      by: { ...OPT.by, help: "unsigned approvals: the approver (default PROMOTE_USER, git user.name, OS user)" },
      comment: { type: "string", value: "TEXT", help: "unsigned approvals: a comment recorded with the approval" },
    },
  },
  apply: {
    usage: "apply <env> [bundle]",
    summary: [
      ["apply <env> [bundle]", "verify the bundle, then terraform apply that saved plan (no re-plan)"],
      ["apply <env> --auto", "plan and apply in one step (only where the env allows it)"],
    ],
    description: `Verifies the bundle (plan hash = manifest = approval, env, backend, account, checkout commit, synth
digest, provider lock file, not expired, approval and four eyes where required, not applied before,
promotion gate, state unchanged), then runs \`terraform apply <that plan file>\`; records applied.json,
the ledger tag deployed/<env>/<stamp> and an audit record. With --auto: npx promote apply <env> --auto.`,
    options: {
      by: OPT.by,
      wait: OPT.wait,
      auto: { type: "boolean", help: "plan and apply in one step, through a saved plan (only where delivery.autoApply)" },
      synth: { ...OPT.synth, help: `${OPT.synth.help} (apply --auto only: apply never re-synthesizes)` },
    },
  },
  complete: {
    usage: "complete <env> <bundle>",
    summary: [["complete <env> <bundle>", "record the outcome of an apply whose bookkeeping did not finish (idempotent)"]],
    description: `Records the outcome of an apply of <bundle> that did not record one (APPLY-UNFINISHED, APPLY-NOT-RECORDED):
reads applied.json, how terraform ended (recorded beside the engine's private plan copy, also when the
engine was killed) and the state, then writes applied.json (succeeded, failed or interrupted) and, for a
clean bundle that succeeded, the ledger tag. Idempotent: a second run finds the tag and changes nothing.
Check first that no terraform runs for <env> (a held state lock: promote unlock).`,
    options: { by: OPT.by, wait: OPT.wait },
  },
  unlock: {
    usage: "unlock <env> [lock id]",
    summary: [
      ["unlock <env> <lock id>", "remove a state lock whose holder is gone (the id STATE-LOCKED names)"],
      ["unlock <env>", "break the env's lease in its store, held by a dead holder (the one ENV-LOCKED names)"],
    ],
    description: `With <lock id>: removes terraform's state lock <lock id> (terraform force-unlock), audited, under the env's
lock. Only for a lock whose holder is gone: STATE-LOCKED names the id, who holds it and since when; check on
that machine that no terraform runs for <env>. A lock taken since has another id and is not removed.
Without: breaks the env's lease in its lock table (the shared store's one plan-or-apply per env across
machines), for a holder ENV-LOCKED named and you know is dead: names the holder, command, host and since,
removes exactly that lease (LEASE-CHANGED when it was renewed, released or taken since it was read; nothing
is broken then) and is audited in the env's store. LEASE-NOT-HELD when nobody holds it. A dead holder's lease
also runs out by itself within a minute; PROMOTE_STORE=local has no lease.`,
    options: { by: OPT.by },
  },
  policy: {
    usage: "policy <env> [bundle]",
    summary: [["policy <env> [bundle]", "the bundle's policy findings (exit 1 when they block approval)"]],
    description: `Prints the bundle's recorded policy findings (policy.json, checked against its manifest). Exit 0 when they
block nothing, 1 when an error finding blocks approval and apply (POLICY-BLOCKED).`,
    options: { markdown: OPT.markdown },
  },
  drift: {
    usage: "drift <env>",
    summary: [["drift <env>", "refresh-only plan: resources changed outside terraform (exit 3 on drift)"]],
    description: `Runs \`terraform plan -refresh-only -detailed-exitcode -lock=true\` against <env>'s state (synthesizing and
initializing first when needed) and lists every resource changed or deleted outside terraform, with the
attributes that differ (sensitive values redacted). Writes nothing to the state; records an audit entry.
Exit codes: 0 no drift, 3 drift found, 1 refused (e.g. ENV-LOCKED, STATE-LOCKED), 2 error.`,
    options: { by: OPT.by, synth: OPT.synth, wait: OPT.wait },
  },
  rollback: {
    usage: "rollback <env>",
    summary: [["rollback <env> [--to TAG]", "plan the env back to a release it ran (a normal bundle: review, approve, apply)"]],
    description: `Plans <env> back to a release it ran: checks out the tag's commit into a temporary git worktree, synthesizes
and plans it into a normal bundle marked rollback { toTag, toCommit, fromCommit }, and lists what a plan
cannot revert (data lost with a replaced or destroyed stateful resource, resources recreated empty, new
identities, data written since). Then: promote review / approve / apply as for any bundle. The promotion gate
accepts a commit in <env>'s own ledger; apply checks the working directory was synthesized from that commit.`,
    options: {
      to: { type: "string", value: "TAG", help: "a ledger tag (promote ledger <env>); default: the newest release before the current one\n(the current one itself when the latest apply failed)" },
      by: OPT.by,
      ttl: OPT.ttl,
      wait: OPT.wait,
      synth: OPT.synth,
    },
  },
  doctor: {
    usage: "doctor",
    summary: [["doctor [--no-drift]", "drift, config diff, versions, last applied commits; exit 1 on divergence"]],
    description: `Per env: drift (refresh-only plan; --no-drift skips terraform), last applied commit, terraform and provider
versions and lock-file hash (of its last applied bundle), and a field-by-field diff of the env configs.
Exit 1 when a gated env diverges from the env it promotes from: it runs a commit that env never applied, or
the same commit with other providers or another lock file. Otherwise 0 (2 on error).`,
    options: { "no-drift": { type: "boolean", help: "skip the drift check (no terraform)" }, by: OPT.by },
  },
  audit: {
    usage: "audit verify <env>",
    summary: [["audit verify <env>", "verify the env's hash-chained audit log"]],
    description: `Verifies the env's audit log: every record's hash, the chain of previous hashes and the head file.
Exit 1 (AUDIT-LOG-BROKEN) when broken.`,
    options: {},
  },
  ledger: {
    usage: "ledger <env>",
    summary: [["ledger <env>", "successful applies of the env (deployed/<env>/* tags)"]],
    description: `Lists the env's successful applies (git tags deployed/<env>/<stamp> in PROMOTE_LEDGER_DIR), oldest first;
the last prod entry is the last-good release.`,
    options: {},
  },
  bundles: {
    usage: "bundles <env>",
    summary: [["bundles <env>", "the env's bundles and their status"]],
    description: "Lists the env's bundles, oldest first, with status (planned, approved, signed, applied, preview, expired). A bundle that cannot be read (a file written over or deleted in the store, a cached file that cannot be read) is listed as unreadable and its error printed after the list; the exit is then 1 when every such error is a refusal, 2 when one is an error. A store that fails (unreachable, access denied) stops the listing with its error (exit 2).",
    options: {},
  },
  rules: {
    usage: "rules",
    summary: [["rules [--markdown]", "every refusal id and what it means (--markdown: regenerate RULES.md)"]],
    description: "Every refusal id, its cause and the usual fix (the same table as scripts/lib/engine/RULES.md).",
    options: {
      markdown: { type: "boolean", help: "regenerate the tables of scripts/lib/engine/RULES.md and scripts/lib/policy/RULES.md\nfrom the code (core/rules.ts, policy/registry.ts)" },
    },
  },
  "env create": {
    usage: "env create pr-<n>",
    summary: [["env create pr-<n> [--ttl H]", "an ephemeral env (a pull request's): a CIDR from the pool, planned and applied"]],
    description: `Allocates a CIDR from the pool (no overlap with any env or registered one), records it, then
plans and applies it like \`apply --auto\` (saved plan, policy, audit, ledger tag deployed/<name>/*).
Refuses a registered one (EPHEMERAL-EXISTS) unless --update; a failed create stays "creating":
run create again, from any machine (same CIDR), or destroy.`,
    options: {
      ttl: { ...OPT.ttl, help: "hours before `env reap` destroys it: 90m, 12h (default EPHEMERAL.ttlHours)" },
      update: { type: "boolean", help: "an existing live one is updated to the checked-out commit instead of refused" },
      by: OPT.by,
      wait: OPT.wait,
    },
  },
  "env destroy": {
    usage: "env destroy pr-<n>",
    summary: [["env destroy pr-<n>", "destroy it (a saved destroy plan), then its state and registry entry"]],
    description: `A saved \`terraform plan -destroy\`, applied (env lock, audit record); then every version of its
state object and its digest item in the lock table; then the registry entry. Works without a
registry entry too (cleans up whatever state exists).`,
    options: { by: OPT.by, wait: OPT.wait },
  },
  "env list": {
    usage: "env list",
    summary: [["env list", "ephemeral envs: status, CIDR, age, time left before their TTL"]],
    description: "Status, CIDR, age and time left before the TTL.",
    options: { now: OPT.now },
  },
  "env reap": {
    usage: "env reap",
    summary: [["env reap [--now ISO]", "destroy every ephemeral env older than its TTL"]],
    description: `Destroys each one older than its TTL (--now: the time to judge by); exit 0 when every destroy
worked, else the worst exit code of the failures.`,
    options: { now: OPT.now, by: OPT.by, wait: OPT.wait },
  },
};

const ENV_USAGE = "usage: npx promote env create|destroy pr-<n>, env list, env reap (npx promote env --help)";

const ENV_HELP = `Ephemeral environments, one per pull request, derived from dev (envs/ephemeral.ts) in dev's account and
state bucket (key ephemeral/<name>/terraform.tfstate). The registry records each: CIDR, created, TTL,
author, commit, status (creating, live, destroying). It lives in dev's store (s3://<dev's store
bucket>/ephemeral/<name>.json, CIDR claims by conditional writes in dev's lock table: every machine sees
the same envs and none hands out a CIDR twice); with PROMOTE_STORE=local in <PROMOTE_HOME>/_ephemeral/.`;

/** The parser's declaration of a command (positionals are checked by the command: its messages name them). */
const specOf = (name: string): CommandSpec => ({
  usage: `npx promote ${COMMANDS[name].usage}`,
  description: COMMANDS[name].description,
  options: COMMANDS[name].options,
  maxPositionals: Number.POSITIVE_INFINITY,
});

/** The commands `npx promote <command>` takes (`env` for its four subcommands). */
const COMMAND_NAMES = new Set(Object.keys(COMMANDS).map((c) => c.split(" ")[0]));

/** `npx promote <command> --help`, from the command's declaration (`env`: each subcommand's). */
export function commandHelp(command: string): string {
  const names = command === "env" ? Object.keys(COMMANDS).filter((c) => c.startsWith("env ")) : [command];
  const parts = names.map((c) => helpText(specOf(c)).replace(/^usage: /, "Usage: ").trimEnd());
  return command === "env" ? `${ENV_HELP}\n\n${parts.join("\n\n")}` : parts[0];
}

/** `npx promote --help`: the command list, from each command's summary lines. */
function mainHelp(): string {
  const rows = Object.values(COMMANDS).flatMap((c) => c.summary);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return `Usage: npx promote <command> [options]

Commands:
${rows.map(([left, what]) => `  ${left.padEnd(width)}${what}`).join("\n")}

[bundle] defaults to the env's newest bundle. Run \`npx promote <command> --help\` for its options.
Exit codes: 0 done, 1 refused (nothing changed), 2 error; drift: 3 when drift was found.

${DIRS}`;
}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  help: boolean;
}

/** Every option some command takes: one this command does not take is named as such ("drift does not take --to"). */
const ANY_OPTION = new Set(Object.values(COMMANDS).flatMap((c) => Object.keys(c.options)));

/** The command line of `command` (a key of COMMANDS: "plan", "env create") parsed against its declaration. */
export function parseArgs(command: string, argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseCommandLine(specOf(command), argv);
  } catch (e) {
    if (e instanceof UsageError && e.problem === "unknown-option" && e.option !== undefined && ANY_OPTION.has(e.option)) {
      throw new UsageError(`${command} does not take --${e.option}`, e.usage, e.problem, e.option);
    }
    throw e;
  }
  const flags = new Map<string, string | true>();
  for (const [name, v] of Object.entries(parsed.values)) {
    if (v === true) flags.set(name, true);
    else if (typeof v === "string") flags.set(name, v);
  }
  return { positional: parsed.positionals, flags, help: parsed.help };
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
      ctx.io.out(`${mainHelp()}\n`);
      return command ? EXIT.ok : EXIT.error;
    }
    if (!COMMAND_NAMES.has(command)) throw new UsageError(`unknown command "${command}"\n\n${mainHelp()}`);
    // env's options are its subcommand's (the word after env).
    let declared = command;
    if (command === "env") {
      if (rest[0] !== undefined && `env ${rest[0]}` in COMMANDS) declared = `env ${rest[0]}`;
      else if (rest.includes("--help") || rest.includes("-h")) {
        ctx.io.out(`${commandHelp(command)}\n`);
        return EXIT.ok;
      } else throw new UsageError(ENV_USAGE);
    }
    const p = parseArgs(declared, rest);
    if (p.help) {
      ctx.io.out(`${commandHelp(command)}\n`);
      return EXIT.ok;
    }
    switch (command) {
      case "bootstrap": {
        const { env } = envArg(p, command, 1);
        const r = await bootstrap(ctx, { env, by: str(p, "by") });
        ctx.io.out(`bootstrapped ${env}: ${r.resources} resources managed, ${r.changed} created or changed, ${r.seconds.toFixed(1)} s\n`);
        return EXIT.ok;
      }
      case "plan": {
        const { env } = envArg(p, command, 1);
        const ttl = str(p, "ttl");
        const speculative = p.flags.has("speculative");
        await engine.plan(ctx, { env, by: str(p, "by"), synth: synthMode(p), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), waitSeconds: waitSeconds(p), speculative });
        if (!speculative) ctx.io.out(`Next: npx promote review ${env}\n`);
        return EXIT.ok;
      }
      case "review": {
        const { env, bundle } = envArg(p, command, 2);
        if (p.flags.has("out") && !p.flags.has("html")) throw new UsageError("--out is for review --html: where to write the page");
        if (p.flags.has("html")) await reviewHtml(ctx, { env, bundle, out: str(p, "out") });
        else await engine.review(ctx, { env, bundle });
        return EXIT.ok;
      }
      case "cost": {
        const { env, bundle } = envArg(p, command, 2);
        return await cost(ctx, { env, bundle, fromSynth: p.flags.has("from-synth") });
      }
      case "approve": {
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
        const { env, bundle } = envArg(p, command, 2);
        const auto = p.flags.has("auto");
        if (!auto && p.flags.has("synth")) throw new UsageError("--synth is for apply --auto only: apply never re-synthesizes");
        await engine.apply(ctx, { env, bundle, by: str(p, "by"), auto, waitSeconds: waitSeconds(p), synth: synthMode(p) });
        return EXIT.ok;
      }
      case "complete": {
        const { env, bundle } = envArg(p, command, 2);
        if (!bundle) throw new UsageError("complete needs the bundle: npx promote complete <env> <bundle> (APPLY-UNFINISHED names it)");
        await complete(ctx, { env, bundle, by: str(p, "by"), waitSeconds: waitSeconds(p) });
        return EXIT.ok;
      }
      case "unlock": {
        const { env, bundle: lockId } = envArg(p, command, 2);
        if (!lockId && storeKind(ctx.vars) === "local") {
          throw new UsageError("unlock needs the lock id: npx promote unlock <env> <lock id> (STATE-LOCKED names it); PROMOTE_STORE=local has no lease to break");
        }
        await unlock(ctx, { env, lockId, by: str(p, "by") });
        return EXIT.ok;
      }
      case "policy": {
        const { env, bundle } = envArg(p, command, 2);
        return (await engine.showPolicy(ctx, { env, bundle, markdown: p.flags.has("markdown") })).blocks ? EXIT.refused : EXIT.ok;
      }
      case "drift": {
        const { env } = envArg(p, command, 1);
        const r = await drift(ctx, { env, by: str(p, "by"), synth: synthMode(p), waitSeconds: waitSeconds(p) });
        return r.resources.length > 0 ? EXIT.drift : EXIT.ok;
      }
      case "rollback": {
        const { env } = envArg(p, command, 1);
        const ttl = str(p, "ttl");
        const r = await rollback(ctx, { env, to: str(p, "to"), by: str(p, "by"), synth: synthMode(p), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), waitSeconds: waitSeconds(p) });
        ctx.io.out(`Next: npx promote review ${env} ${r.manifest.id}\n`);
        return EXIT.ok;
      }
      case "doctor": {
        if (p.positional.length > 0) throw new UsageError("doctor takes no arguments: it reports every environment");
        return (await doctor(ctx, { noDrift: p.flags.has("no-drift"), by: str(p, "by") })).diverged ? EXIT.refused : EXIT.ok;
      }
      case "audit": {
        const [sub, env, extra] = p.positional;
        if (sub !== "verify" || !env || extra !== undefined) throw new UsageError(`usage: npx promote audit verify <env>`);
        await engine.auditVerify(ctx, env);
        return EXIT.ok;
      }
      case "ledger":
      case "bundles": {
        const { env } = envArg(p, command, 1);
        if (command === "ledger") {
          engine.showLedger(ctx, env);
          return EXIT.ok;
        }
        // Every bundle is listed; each unreadable one's error follows the list, and the exit says so.
        const unreadable = await engine.showBundles(ctx, env);
        const codes = unreadable.map((u) => report(u.error, ctx.io));
        if (unreadable.length > 0) ctx.io.err(`\nbundles: ${unreadable.length} of ${env}'s bundles could not be read (${unreadable.map((u) => u.id).join(", ")}); the others are listed above\n`);
        return Math.max(EXIT.ok, ...codes);
      }
      case "env": {
        const [sub, name, extra] = p.positional;
        const usage = ENV_USAGE;
        if (sub === "list" || sub === "reap") {
          if (name !== undefined) throw new UsageError(`env ${sub} takes no name: ${usage}`);
          const nowText = str(p, "now");
          const now = nowText === undefined ? ctx.now() : new Date(nowText);
          if (Number.isNaN(now.getTime())) throw new UsageError(`--now must be an ISO date-time (2030-01-02T03:04:05Z), but "${nowText}" was given`);
          if (sub === "list") {
            await envList(ctx, now);
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
          const ttl = str(p, "ttl");
          const r = await envCreate(ctx, { name, by: str(p, "by"), ttlHours: ttl === undefined ? undefined : parseDuration(ttl), update: p.flags.has("update"), waitSeconds: waitSeconds(p) });
          ctx.io.out(`${name}: ${r.mode}, live (${r.entry.cidr}); ledger tag ${r.applied.applied.ledgerTag}; reaped after ${r.entry.ttlHours}h\n`);
          return EXIT.ok;
        }
        const r = await envDestroy(ctx, { name, by: str(p, "by"), waitSeconds: waitSeconds(p) });
        ctx.io.out(`${name}: destroyed ${r.destroyed} resource(s); removed ${r.removed.versions} state object version(s)${r.removed.digestItem ? " and the digest item" : ""}${r.entry ? "" : " (it had no registry entry)"}\n`);
        return EXIT.ok;
      }
      case "rules": {
        if (p.positional.length > 0) throw new UsageError(`rules takes no arguments, but "${p.positional[0]}" was given`);
        showRules(ctx, { markdown: p.flags.has("markdown") });
        return EXIT.ok;
      }
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    return report(engineError(e), ctx.io);
  } finally {
    await closeStores();
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

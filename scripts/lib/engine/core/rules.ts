/**
 * Every refusal the engine can return, as data: a stable id (tests and scripts match the id, never the
 * wording), what causes it, why it exists and how to fix it. RULES.md is this table for people;
 * __tests__/unit/engine-rules.test.ts pins the list so an id is never renamed or dropped silently.
 */
import { APPROVAL_RULES } from "./approval-rules";
import { STORE_ONLY_RULES } from "./store-rules";

export interface Rule {
  /** Stable id, UPPER-KEBAB. */
  readonly id: string;
  /** What causes it, one sentence. */
  readonly info: string;
  /** Why the check exists. */
  readonly explanation: string;
  /** The usual fix; `<env>` stands for the environment's name. */
  readonly fix: string;
}

const defineRules = <const T extends readonly Rule[]>(rules: T): T => rules;

export const RULES = defineRules([
  {
    id: "BUNDLE-NOT-FOUND",
    info: "No plan bundle exists for the environment (or the named bundle does not).",
    explanation: "apply and approve act on a saved, reviewed plan only; there is nothing to act on.",
    fix: "run `promote plan <env>`",
  },
  {
    id: "BUNDLE-MANIFEST-INVALID",
    info: "manifest.json is missing, is not JSON, or does not match the manifest schema.",
    explanation: "Every other check reads the manifest; a malformed one must stop the apply, not crash it or be half-read.",
    fix: "run `promote plan <env>` again (never edit a bundle by hand)",
  },
  {
    id: "SUMMARY-HASH-MISMATCH",
    info: "summary.txt is not the summary recorded in the manifest (it was edited or replaced).",
    explanation: "A reviewer approves what the summary shows; an edited summary could hide a destroy.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "POLICY-HASH-MISMATCH",
    info: "policy.json is missing or is not the policy findings recorded in the manifest (it was edited or replaced).",
    explanation: "Approval and apply decide on the recorded findings; an edited findings file could hide an error.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "BUNDLE-ENV-MISMATCH",
    info: "The bundle was planned for another environment than the one being applied.",
    explanation: "A staging plan applied to prod would change prod with changes nobody reviewed for prod.",
    fix: "run `promote plan <env>` and apply that bundle",
  },
  {
    id: "PLAN-FILE-MISSING",
    info: "The bundle has no plan file.",
    explanation: "Only a saved plan file is applied; without it terraform would have to re-plan.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "PLAN-HASH-MISMATCH",
    info: "The SHA-256 of the plan file is not the one recorded in the manifest.",
    explanation: "The bytes applied must be exactly the bytes that were planned and reviewed.",
    fix: "run `promote plan <env>` again, review and approve the new bundle",
  },
  {
    id: "BUNDLE-ALREADY-APPLIED",
    info: "The bundle has already been applied (or an apply of it was started).",
    explanation: "A plan is applied once; a second apply would act on a state the plan was not made against.",
    fix: "run `promote plan <env>` for the next change",
  },
  {
    id: "BUNDLE-EXPIRED",
    info: "The bundle is older than the environment's plan time-to-live.",
    explanation: "An old plan was reviewed against an old world; the review no longer vouches for it.",
    fix: "run `promote plan <env>` again (and get it approved where required)",
  },
  {
    id: "BUNDLE-SPECULATIVE",
    info: "The bundle is a speculative plan (`promote plan <env> --speculative`, a pull request's preview).",
    explanation: "A speculative plan skips the promotion gate and the clean-tree check; it is for reading, never for approving or applying.",
    fix: "run `promote plan <env>` (without --speculative) from a commit the promotion gate accepts",
  },
  {
    id: "BUNDLE-BACKEND-MISMATCH",
    info: "The bundle's state backend (bucket, key, lock table) is not the environment's.",
    explanation: "A plan made against one state must never be applied to another.",
    fix: "check envs/<env>.ts stateBackend, then run `promote plan <env>` again",
  },
  {
    id: "BUNDLE-ACCOUNT-MISMATCH",
    info: "The bundle's AWS account is not the environment's account.",
    explanation: "Each environment lives in its own account; a plan for another account is not this env's plan.",
    fix: "check envs/<env>.ts account (and ACCOUNT_ID_<ENV>), then run `promote plan <env>` again",
  },
  {
    id: "CHECKOUT-COMMIT-MISMATCH",
    info: "The checked-out commit is not the commit the bundle was planned from.",
    explanation: "The ledger records the applied commit; it must be the code that produced the plan.",
    fix: "check out the bundle's commit, or run `promote plan <env>` on this one",
  },
  {
    id: "SYNTH-DIGEST-MISMATCH",
    info: "The synthesized cdk.tf.json is not the one the bundle was planned from.",
    explanation: "Terraform applies in the synthesized working directory; it must hold the configuration that was planned.",
    fix: "run `promote plan <env>` again (it synthesizes when needed)",
  },
  {
    id: "LOCK-FILE-MISMATCH",
    info: "The provider lock file (.terraform.lock.hcl) differs from the one the bundle was planned with.",
    explanation: "The providers that apply must be the providers that planned.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "APPROVAL-MISSING",
    info: "The environment requires an approval and the bundle has none.",
    explanation: "A second person has read the plan before it changes this environment.",
    fix: "review with `promote review <env>`, then `promote approve <env> --sha256 <plan sha256>` (with --by <name> where the env does not require signed approvals)",
  },
  {
    id: "APPROVAL-INVALID",
    info: "approval.json is not JSON or does not match the approval schema.",
    explanation: "An approval that cannot be read cannot vouch for anything; it is not silently ignored.",
    fix: "remove the bundle's approval.json and approve again, or run `promote plan <env>` again",
  },
  {
    id: "APPROVAL-EXISTS",
    info: "The bundle already has an approval.",
    explanation: "An approval is written once and never replaced, so what was approved is never rewritten.",
    fix: "nothing to do; to approve other changes run `promote plan <env>` again",
  },
  {
    id: "APPROVAL-HASH-MISMATCH",
    info: "The plan SHA-256 approved (or given to approve) is not the bundle's plan SHA-256.",
    explanation: "An approval vouches for exact bytes; approving a hash the reviewer did not see would approve blindly.",
    fix: "run `promote review <env>` and approve the SHA-256 it prints",
  },
  {
    id: "MANIFEST-HASH-MISMATCH",
    info: "The manifest changed after it was approved.",
    explanation: "The approval covers the manifest too (env, commit, expiry, author); editing it voids the approval.",
    fix: "run `promote plan <env>` again and have it approved",
  },
  {
    id: "FOUR-EYES",
    info: "The approver is the author of the plan and the environment requires four eyes.",
    explanation: "Nobody approves their own change to an environment that requires a second person.",
    fix: "ask someone other than the plan's author to run `promote approve <env>`",
  },
  {
    id: "POLICY-BLOCKED",
    info: "The plan's policy findings include an error that no recorded exception waives.",
    explanation: "Policies (scripts/lib/policy/RULES.md) encode what must never reach an environment unreviewed; an error finding blocks approval and apply.",
    fix: "run `promote policy <env>` to see the findings; change the code, or record a reviewed exception in policy-exceptions.json, then `promote plan <env>` again",
  },
  {
    id: "AUTO-APPLY-NOT-ALLOWED",
    info: "`promote apply <env> --auto` was asked for an environment whose config does not allow it.",
    explanation: "Planning and applying in one step skips review; only environments that opt in allow it.",
    fix: "run `promote plan <env>`, review, approve where required, then `promote apply <env>`",
  },
  {
    id: "PROMOTION-GATE",
    info: "The previous environment in the chain never applied this commit successfully.",
    explanation: "Code reaches an environment only after the previous environment ran it: dev, then staging, then prod.",
    fix: "apply this commit to the previous environment first, or check out a commit it applied (`promote ledger <previous env>`)",
  },
  {
    id: "WORKTREE-DIRTY",
    info: "The checkout has uncommitted changes to synth inputs and the environment is promotion-gated.",
    explanation: "The promotion gate is about commits; uncommitted code would reach a gated environment unvetted.",
    fix: "commit or stash the changes, then run `promote plan <env>` again",
  },
  {
    id: "ROLLBACK-TARGET-UNKNOWN",
    info: "`promote rollback <env>` has no release to return to: the --to tag is not a ledger tag, or the env has no earlier release.",
    explanation: "A rollback returns to code that was applied successfully before (a deployed/<env>/* tag), never to an arbitrary commit.",
    fix: "pick a tag from `promote ledger <env>` and run `promote rollback <env> --to <tag>`",
  },
  {
    id: "PLAN-STALE",
    info: "The environment's state changed since the plan was made (terraform: \"Saved plan is stale\").",
    explanation: "A plan is a diff against one state; applied to another it would do something nobody reviewed.",
    fix: "run `promote plan <env>` again, review and approve the new bundle",
  },
  {
    id: "STATE-LOCKED",
    info: "Terraform could not take the state lock: another plan or apply holds it.",
    explanation: "Two writers on one state corrupt it; terraform's own lock is respected, never forced.",
    fix: "wait for the other run to finish and run the command again; when its holder is gone (the refusal names the lock id, who holds it and since when) and nothing runs, `promote unlock <env> <lock id>`",
  },
  {
    id: "ENV-LOCKED",
    info: "Another plan or apply of this environment is running on this machine.",
    explanation: "One plan-or-apply per environment at a time keeps the working directory and the bundle consistent.",
    fix: "wait for it to finish, or pass `--wait <seconds>`",
  },
  {
    id: "AUDIT-LOG-BROKEN",
    info: "The environment's audit log fails verification (a line edited, removed or out of order).",
    explanation: "The audit log is append-only and hash-chained; nothing is appended to a log that cannot be trusted.",
    fix: "run `promote audit verify <env>`, investigate, and restore the log from a trusted copy",
  },
  {
    id: "EPHEMERAL-EXISTS",
    info: "`promote env create <name>` was asked for an ephemeral env the registry already has (live, or being destroyed).",
    explanation: "One pull request has one ephemeral env: a second create would allocate a second CIDR and fight the first over the same state.",
    fix: "use it as it is (`promote env list`), update it with `promote env create <env> --update`, or `promote env destroy <env>` first",
  },
  {
    id: "TERRAFORM-VERSION-MISMATCH",
    info: "The terraform that would apply reports another version (or other provider versions) than the one that made the plan.",
    explanation: "terraform refuses some version mismatches and applies others (terraform#36775); the engine refuses every one, before terraform runs.",
    fix: "run the plan's terraform version (TERRAFORM_BINARY_NAME), or run `promote plan <env>` again with this one",
  },
  {
    id: "IDENTITY-INVALID",
    info: "A name (--by, PROMOTE_USER, git user.name) is empty, too long, holds an invisible or control character or `<`/`>`, or has no letter or digit.",
    explanation: "Names decide four eyes and are written into the ledger and audit; a name a reader cannot see or git refuses must stop the command before anything changes.",
    fix: "pass a plain name with `--by <name>` (at most 100 characters) or set PROMOTE_USER / git config user.name",
  },
  {
    id: "INPUT-INVALID",
    info: "A free-text input (a comment) is too long or holds an invisible or control character.",
    explanation: "What is recorded must read as it was written; checked before anything changes, never after.",
    fix: "give a printable --comment of at most 500 characters",
  },
  {
    id: "APPLY-UNFINISHED",
    info: "An earlier apply of this environment started and never recorded its outcome (the engine was killed, or its bookkeeping failed).",
    explanation: "Nobody knows what that apply changed; planning or applying on top of it would hide the incident.",
    fix: "check that no terraform runs for <env>; if a state lock is held, `promote unlock <env> <lock id>`; then `promote complete <env> <bundle>` records the outcome from the state",
  },
  {
    id: "APPLY-INCIDENT",
    info: "The plan file terraform was given changed while terraform ran: what was applied may not be what was reviewed.",
    explanation: "The reviewed bytes are the applied bytes; a change after the last check is never passed over: the apply is an error, audited, and the bundle marked.",
    fix: "treat it as a security incident: find who changed the engine's private plan copy; run `promote drift <env>` and `promote plan <env>` to see what the env runs now",
  },
  {
    id: "APPLY-NOT-RECORDED",
    info: "terraform applied the plan, but recording it (applied.json, state serial, ledger tag) failed.",
    explanation: "The change happened; the ledger and the gate must learn of it, so the step after terraform is recoverable and idempotent.",
    fix: "fix the cause shown, then run `promote complete <env> <bundle>` (safe to run again)",
  },
  {
    id: "BUNDLE-DIRTY",
    info: "The bundle was planned from uncommitted changes (or from a synth of them) and the environment is promotion-gated.",
    explanation: "A dirty bundle is not the code of its recorded commit: it never enters the ledger and never opens a gate.",
    fix: "commit the changes, then run `promote plan <env>` again",
  },
  {
    id: "TERRAFORM-TIMEOUT",
    info: "A terraform command ran past its bound (PROMOTE_TIMEOUT_<INIT|PLAN|APPLY|SHOW|STATE|VERSION|FORCE_UNLOCK>); it was interrupted and its process group ended.",
    explanation: "A dead or silent dependency (the emulator, AWS) must end with a named error, never hang the engine.",
    fix: "check that the endpoint answers (the emulator, AWS), then run the command again; raise the bound when a real run needs longer",
  },
  {
    id: "TERRAFORM-INTERRUPTED",
    info: "The engine was interrupted (SIGINT/SIGTERM) while terraform ran; terraform was interrupted too and its process group ended.",
    explanation: "terraform never outlives the engine; temporary files are removed and the interruption is audited.",
    fix: "run the command again; after an interrupted apply, `promote complete <env> <bundle>` first",
  },
  {
    id: "ENDPOINT-UNREACHABLE",
    info: "terraform could not reach an endpoint (the emulator or AWS refused or dropped the connection).",
    explanation: "A dead dependency ends with a named error; the command's temporary files are removed and the error is audited.",
    fix: "check that the emulator (LOCAL_ENDPOINT) or AWS answers, then run the command again",
  },
  {
    id: "GIT-TIMEOUT",
    info: "A git command ran past PROMOTE_TIMEOUT_GIT (120 s by default).",
    explanation: "git on a network file system or a hung credential helper must not hang the engine.",
    fix: "check the repository (PROMOTE_CHECKOUT_DIR, PROMOTE_LEDGER_DIR), then run the command again",
  },
  {
    id: "SYNTH-TIMEOUT",
    info: "synth ran past PROMOTE_TIMEOUT_SYNTH (1800 s by default); its process group was ended.",
    explanation: "A synth stuck on a hung process must end with a named error.",
    fix: "run `npm run synth` to see what hangs, then run the command again",
  },
  // The shared store's own refusals (PROMOTE_STORE=s3): one list, core/store-rules.ts.
  ...STORE_ONLY_RULES,
  // Signed approvals (issue 13): their own table in approval-rules.ts.
  ...APPROVAL_RULES,
] as const);

export type RuleId = (typeof RULES)[number]["id"];

/** Every id, in the order of the table. */
export const RULE_IDS: readonly RuleId[] = RULES.map((r) => r.id);

export function ruleFor(id: RuleId): Rule {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`unknown rule ${id}`);
  return rule;
}

/** The rule's fix with the environment's name filled in. */
export function fixFor(id: RuleId, env: string): string {
  return ruleFor(id).fix.replace(/<env>/g, env);
}

/**
 * How the store stops: a refusal (a requirement was not met, nothing was changed: exit 1) with a
 * stable id, what was expected, what was found and the fix; or a StoreError (the store broke or could not
 * be reached: exit 2). The ids and fixes are listed in STORE_RULES (and in scripts/lib/engine/RULES.md).
 */

export interface StoreRule {
  readonly id: string;
  readonly info: string;
  readonly explanation: string;
  /** `<env>` stands for the environment's name. */
  readonly fix: string;
}

/** Every refusal the store primitives return (ids shared with the engine where the meaning is the same). */
export const STORE_RULES = [
  {
    id: "BUNDLE-ALREADY-APPLIED",
    info: "The bundle's applied record already exists in the env's store (written by this or another machine).",
    explanation: "The applied record is a create-only write (If-None-Match: *): a bundle is applied at most once across every machine.",
    fix: "run `promote plan <env>` for the next change",
  },
  {
    id: "BUNDLE-INCOMPLETE",
    info: "The bundle has no commit marker in the store, or an object the marker lists is missing or differs from it.",
    explanation: "A bundle becomes visible only when every file is written and its marker last: a plan interrupted halfway is never reviewed or applied.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "BUNDLE-EXISTS",
    info: "A bundle with this id (or one of its files) already exists in the store.",
    explanation: "Bundle files are create-only: nothing overwrites a bundle that may already have been reviewed.",
    fix: "plan again (a new bundle id)",
  },
  {
    id: "STORE-ACCOUNT-MISMATCH",
    info: "The configured store bucket does not belong to the env's account.",
    explanation: "Bundles, approvals and audit of an env live in its own account; a bucket of another account would hand them to that account's owners.",
    fix: "set store.bucket in envs/<env>.ts to the bucket bootstrap created in the env's account, and run `promote bootstrap <env>`",
  },
  {
    id: "STORE-KEY-MISMATCH",
    info: "A plan file in the store is not encrypted with the env's own KMS key.",
    explanation: "Plan files hold state and secret values; only the env's key (readable by the env's roles) may protect them.",
    fix: "run `promote plan <env>` again; check who wrote the object (the audit log, CloudTrail)",
  },
  {
    id: "APPROVAL-EXISTS",
    info: "The bundle already has an approval in the store.",
    explanation: "An approval is create-only; a second one would replace the record of who approved what.",
    fix: "nothing to do, or plan again for a new approval",
  },
  {
    id: "AUDIT-LOG-BROKEN",
    info: "The env's audit records in the store fail verification (a record missing, deleted, overwritten, edited or out of order).",
    explanation: "The audit log is hash-chained, each record a create-only object under Object Lock; nothing is appended to a log that cannot be trusted.",
    fix: "run `promote audit verify <env>`, investigate (object versions, CloudTrail) and report it; the locked versions are the evidence",
  },
  {
    id: "ENV-LOCKED",
    info: "Another plan or apply of this environment holds the env's lease (on any machine).",
    explanation: "One plan-or-apply per environment at a time across all machines keeps the state and the bundles consistent.",
    fix: "wait for it to finish (its lease runs out if its holder died), or `promote unlock <env>` when you know it is dead",
  },
  {
    id: "EPHEMERAL-CIDR-TAKEN",
    info: "Every CIDR of the ephemeral pool is claimed (or the one asked for is claimed by another env).",
    explanation: "Claims are conditional writes in dev's lock table: two machines never hand out the same CIDR.",
    fix: "destroy an ephemeral env (`promote env destroy pr-<n>`) or `promote env reap`",
  },
] as const satisfies readonly StoreRule[];

export type StoreRuleId = (typeof STORE_RULES)[number]["id"];

export function storeFix(id: StoreRuleId, env: string): string {
  const rule = STORE_RULES.find((r) => r.id === id) as StoreRule;
  return rule.fix.replace(/<env>/g, env);
}

/** A requirement the store found unmet (exit 1). `id` is stable; tests match it, not the wording. */
export class StoreRefusal extends Error {
  constructor(
    readonly id: StoreRuleId,
    readonly expected: string,
    readonly found: string,
    readonly fix: string,
  ) {
    super(`${id}: expected ${expected}, found ${found}`);
    this.name = "StoreRefusal";
  }
}

export function storeRefusal(id: StoreRuleId, env: string, expected: string, found: string): StoreRefusal {
  return new StoreRefusal(id, expected, found, storeFix(id, env));
}

/** The store broke or could not be reached (exit 2): a timeout, a refused connection, an unexpected answer. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

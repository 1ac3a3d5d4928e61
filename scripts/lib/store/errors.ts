/**
 * How the store stops: a refusal (a requirement was not met, nothing was changed: exit 1) with a
 * stable id, what was expected, what was found and the fix; or a StoreError (the store broke or could not
 * be reached: exit 2). The ids and fixes are listed in STORE_RULES (and in scripts/lib/engine/RULES.md).
 */

import { STORE_ONLY_RULES } from "../engine/core/store-rules";

export interface StoreRule {
  readonly id: string;
  readonly info: string;
  readonly explanation: string;
  /** `<env>` stands for the environment's name. */
  readonly fix: string;
}

/** Every refusal the store primitives return (ids shared with the engine where the meaning is the same). */
export const STORE_RULES = [
  ...STORE_ONLY_RULES,
  {
    id: "BUNDLE-ALREADY-APPLIED",
    info: "The bundle's applied record already exists in the env's store (written by this or another machine).",
    explanation: "The applied record is a create-only write (If-None-Match: *): a bundle is applied at most once across every machine.",
    fix: "run `promote plan <env>` for the next change",
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
    fix: "wait for it to finish or pass `--wait <seconds>` (a dead holder's lease runs out within a minute), or `promote unlock <env>` when you know the holder it names is dead (breaks exactly that lease, audited)",
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

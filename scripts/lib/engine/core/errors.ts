/**
 * The two ways a command stops: a refusal (a requirement was not met; nothing was changed; exit 1)
 * and an error (the system broke: terraform crashed, the emulator is unreachable; exit 2).
 */
import type { RuleId } from "./rules";

/** A requirement that was not met: the rule's id, what was expected, what was found, what to do. */
export interface Refusal {
  readonly ok: false;
  readonly id: RuleId;
  readonly expected: string;
  readonly found: string;
  readonly fix: string;
}

/** The result of a decision: go, or the first refusal in the decision's fixed order of checks. */
export type Decision = { readonly ok: true } | Refusal;

export function refusal(id: RuleId, expected: string, found: string, fix: string): Refusal {
  return { ok: false, id, expected, found, fix };
}

/** Thrown by the command layer to stop with a refusal (exit 1). */
export class RefusalError extends Error {
  constructor(readonly refusal: Refusal) {
    super(`${refusal.id}: expected ${refusal.expected}, found ${refusal.found}`);
    this.name = "RefusalError";
  }
}

/** Thrown when the system broke (exit 2): terraform crashed, a file could not be written, git failed. */
export class EngineError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = "EngineError";
  }
}

/** 0 done, 1 refused, 2 error; 3 drift found (`promote drift`: the command worked and found drift). */
export const EXIT = { ok: 0, refused: 1, error: 2, drift: 3 } as const;

/** Throws the refusal of a decision that refused. */
export const must = (d: Decision): void => {
  if (!d.ok) throw new RefusalError(d);
};

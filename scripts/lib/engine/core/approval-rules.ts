/**
 * The refusals of signed approvals, as data in the shape of the engine's rule registry (rules.ts:
 * `{ id, info, explanation, fix }`). Kept in their own table so it merges cleanly: the registry takes
 * them with `...APPROVAL_RULES` and RULES.md with the section in APPROVAL-RULES.md beside this file.
 * The approval checks also reuse two ids the registry already has: APPROVAL-INVALID (a record that is
 * not a readable signed approval) and FOUR-EYES (the signer is the plan's or the commit's author).
 */

export interface ApprovalRule {
  readonly id: string;
  readonly info: string;
  readonly explanation: string;
  /** The usual fix; `<env>` stands for the environment's name. */
  readonly fix: string;
}

const defineRules = <const T extends readonly ApprovalRule[]>(rules: T): T => rules;

export const APPROVAL_RULES = defineRules([
  {
    id: "APPROVAL-UNSIGNED",
    info: "An approval of a bundle in an env that requires signed approvals carries no signature (a hand-written or `--by` approval.json).",
    explanation: "Anyone who can write a file or type a name could be an approver; only a signature by a listed key says who approved.",
    fix: "review with `promote review <env> <bundle>`, then sign with `promote approve <env> <bundle> --sha256 <plan sha256>` (your SSH key: --key or git's user.signingkey)",
  },
  {
    id: "APPROVAL-SIGNATURE-INVALID",
    info: "The approval's signature is not a valid SSH signature, in the approval namespace, by the approver's listed key, over exactly its statement.",
    explanation: "A signature that does not verify over these bytes proves nothing; an edited statement or a signature made for git or another file is not an approval.",
    fix: "remove the invalid approval from the bundle and approve again with `promote approve <env> <bundle> --sha256 <plan sha256>`",
  },
  {
    id: "APPROVER-NOT-ALLOWED",
    info: "The approval is signed by a principal or key that this env's approver list (delivery.approvals.approvers, in the bundle's commit) does not name together.",
    explanation: "Who may approve is code: only the reviewed approver list decides, not whoever holds some SSH key.",
    fix: "approve as someone envs/<env>.ts lists, or add the approver (principal and public key) to delivery.approvals.approvers in a reviewed commit and plan again",
  },
  {
    id: "APPROVALS-TOO-FEW",
    info: "Fewer distinct listed approvers signed this bundle than delivery.approvals.minApprovers asks.",
    explanation: "An env can require more than one person; two approvals by one person (or one key) count once.",
    fix: "have another approver from envs/<env>.ts run `promote review <env> <bundle>` and `promote approve <env> <bundle> --sha256 <plan sha256>`",
  },
  {
    id: "APPROVAL-EXPIRED",
    info: "The signed approval is outside its validity: now is past its not-after, it was signed after its not-after, or its signed-at lies in the future.",
    explanation: "An approval vouches for a plan at a time; an old one (or one dated to look new) must not be replayed later.",
    fix: "approve the bundle again (`promote approve <env> <bundle> --sha256 <plan sha256>`), or plan again if the bundle expired",
  },
  {
    id: "APPROVAL-STATEMENT-MISMATCH",
    info: "The signed statement is not about this bundle: another env, account, bundle id, plan SHA-256, manifest SHA-256 or commit, or it outlives the bundle.",
    explanation: "A valid signature over another plan, or an approval copied from another bundle, must not approve this one.",
    fix: "run `promote review <env> <bundle>` and approve this bundle's plan SHA-256 with `promote approve <env> <bundle> --sha256 <plan sha256>`",
  },
  {
    id: "APPROVERS-CHANGED",
    info: "The env's approver config (delivery.approvals) is not the one the bundle was planned with (its digest in the manifest): it was edited after the plan, committed or not.",
    explanation: "The approver list that counts is the reviewed one of the bundle's commit; a list edited in the working tree would let its editor name themselves an approver.",
    fix: "restore envs/<env>.ts (`git checkout -- envs/`), or commit the change through review and run `promote plan <env>` again",
  },
  {
    id: "APPROVAL-IDENTITY-INVALID",
    info: "A name four eyes compares (the signer's principal, the plan's author or the commit's author) is empty, too long, or holds invisible or control characters.",
    explanation: "Names that differ only invisibly would defeat four eyes; a name that cannot be compared is refused, not guessed.",
    fix: "set a plain name and e-mail (git config user.name / user.email, PROMOTE_USER) and plan again",
  },
] as const);

export type ApprovalRuleId = (typeof APPROVAL_RULES)[number]["id"];

/** The ids the approval checks return: their own, and the two they share with the engine's registry. */
export type ApprovalCheckId = ApprovalRuleId | "APPROVAL-INVALID" | "FOUR-EYES";

/** Fixes of the two shared ids, in the registry's wording for signed approvals. */
const SHARED_FIXES: Record<"APPROVAL-INVALID" | "FOUR-EYES", string> = {
  "APPROVAL-INVALID": "remove the unreadable approval from the bundle and approve again with `promote approve <env> <bundle> --sha256 <plan sha256>`",
  "FOUR-EYES": "ask a listed approver other than the plan's and the commit's author to run `promote approve <env> <bundle> --sha256 <plan sha256>`",
};

export function approvalFixFor(id: ApprovalCheckId, env: string, bundle?: string): string {
  const rule = APPROVAL_RULES.find((r) => r.id === id);
  const fix = rule ? rule.fix : SHARED_FIXES[id as keyof typeof SHARED_FIXES];
  return fix.replace(/<env>/g, env).replace(/<bundle>/g, bundle ?? "<bundle>");
}

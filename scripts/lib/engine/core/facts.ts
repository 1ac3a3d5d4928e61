/**
 * The facts a decision is made on: plain data read from disk, git and terraform by the command layer,
 * so every decision is a pure function tested without terraform.
 */
import type { EnvConfig } from "../../../../envs/schema";

/** delivery.approvals of an env (who may sign, how many). */
export type ApprovalsFacts = EnvConfig["delivery"]["approvals"];

/** What the decisions need of an environment's config. */
export interface EnvFacts {
  readonly name: string;
  readonly accountId: string;
  readonly stateBackend: { readonly bucket: string; readonly key: string; readonly lockTable: string };
  readonly delivery: Pick<EnvConfig["delivery"], "promotesFrom" | "requireApproval" | "fourEyes" | "autoApply" | "planTtlHours">;
  /**
   * delivery.approvals.requireSigned: approvals are SSH signatures checked by the signed-approval checks
   * (core/approval-checks.ts); approval.json and its name-based checks do not count. @default false
   */
  readonly requireSigned?: boolean;
}

export function envFacts(config: EnvConfig): EnvFacts {
  const { promotesFrom, requireApproval, fourEyes, autoApply, planTtlHours } = config.delivery;
  return {
    name: config.name,
    accountId: config.account.id,
    stateBackend: config.stateBackend,
    delivery: { promotesFrom, requireApproval, fourEyes, autoApply, planTtlHours },
    requireSigned: config.delivery.approvals.requireSigned,
  };
}

/** What the signed-approval check at apply reads besides the bundle (gathered by commands/apply.ts). */
export interface SignedApprovalInputs {
  /** The approvals config that counts (the checkout's, which is the bundle's commit; the demo's list on the emulator). */
  readonly approvals: ApprovalsFacts;
  /** Every approval record in the bundle (`*.approval.json` and a legacy `approval.json`), in name order. */
  readonly records: ReadonlyArray<{ readonly source: string; readonly text: string }>;
  /** The author of the bundle's commit; null when it could not be read (refused where four eyes applies). */
  readonly commitAuthor: { readonly name: string; readonly email: string } | null;
}

/** One successful apply recorded in the ledger (a `deployed/<env>/<stamp>` tag). */
export interface LedgerEntry {
  readonly env: string;
  readonly tag: string;
  readonly commit: string;
  /** ISO time of the tag. */
  readonly at: string;
}

/** A state's identity: terraform bumps serial on every write; lineage names the state's history. */
export interface StateIdentity {
  readonly serial: number;
  readonly lineage: string;
}

/** What every decision over a bundle reads: the bundle's files as they are on disk now. */
export interface BundleFacts {
  readonly env: EnvFacts;
  /** manifest.json's text, or null when it does not exist. */
  readonly manifestText: string | null;
  /** SHA-256 of the plan file's bytes now, or null when the file does not exist. */
  readonly planFileSha256: string | null;
  readonly approvalText: string | null;
  readonly appliedText: string | null;
  /** policy.json's text, or null when it does not exist. */
  readonly policyText: string | null;
  readonly now: Date;
}

export interface ApplyFacts extends BundleFacts {
  readonly checkout: {
    readonly commit: string;
    /** SHA-256 of cdktf.out/stacks/<env>/cdk.tf.json now, or null when absent. */
    readonly synthSha256: string | null;
    /** SHA-256 of the working directory's .terraform.lock.hcl now, or null when absent. */
    readonly lockFileSha256: string | null;
    /** The commit the working directory was synthesized from (its synth stamp), null when unknown. */
    readonly synthCommit: string | null;
  };
  /** Successful applies of the env this one promotes from (ignored when promotesFrom is null). */
  readonly previousEnvApplies: readonly LedgerEntry[];
  /** Successful applies of this env itself (a rollback may return only to one of its commits without the gate). */
  readonly ownApplies: readonly LedgerEntry[];
  /**
   * The env's state right now (null: no state yet). Undefined: not read yet, the PLAN-STALE check is
   * skipped; the command layer decides once offline, then again with the state it read.
   */
  readonly stateNow?: StateIdentity | null;
  /**
   * What `terraform version -json` of the binary that would apply reports in the working directory.
   * Undefined: not read yet (TERRAFORM-VERSION-MISMATCH is skipped); the command layer reads it before
   * the last decision, so it is never skipped before terraform applies.
   */
  readonly terraformNow?: { readonly version: string; readonly providers: Readonly<Record<string, string>> };
  /**
   * The signed approvals and what they are checked against. Undefined: not gathered (the check is
   * skipped where the env does not require signed approvals, and refuses where it does: fail closed).
   */
  readonly signed?: SignedApprovalInputs;
}

export interface ReviewFacts extends BundleFacts {
  /** SHA-256 of summary.txt now, or null when absent. */
  readonly summaryFileSha256: string | null;
}

export interface ApproveFacts extends ReviewFacts {
  /** The --sha256 the approver gave. */
  readonly givenSha256: string;
  readonly approver: string;
}

export interface PlanFacts {
  readonly env: EnvFacts;
  readonly checkout: {
    readonly commit: string;
    /** Uncommitted changes to synth inputs (paths), empty when clean. */
    readonly dirtyPaths: readonly string[];
  };
  readonly previousEnvApplies: readonly LedgerEntry[];
  /** Successful applies of this env itself. @default [] */
  readonly ownApplies?: readonly LedgerEntry[];
  /**
   * What kind of plan: normal (gated), speculative (a preview that can never be applied: no gate, no
   * clean-tree requirement) or a rollback to a commit (gated unless this env applied it before).
   * @default "normal"
   */
  readonly kind?: "normal" | "speculative" | "rollback";
}

/** A bundle of the env as the unfinished-apply check reads it. */
export interface RecordedBundle {
  readonly id: string;
  readonly manifestText: string | null;
  readonly appliedText: string | null;
}

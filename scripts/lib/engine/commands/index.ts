/**
 * The commands behind `npx promote`, one file each: plan (and plan --speculative), review, approve, apply
 * (and apply --auto), policy, the reports (audit verify, ledger, bundles); bootstrap, drift, rollback,
 * doctor and the ephemeral envs (`promote env`) beside them. Each gathers facts (io/), asks a decision
 * (core/decisions.ts) and only then acts. The context they run in is io/context.ts.
 */
export { defaultContext, SYNTH_INPUTS, type EngineContext, type Io } from "../io/context";
export { plan, planLocked, policyOf, type PlanMode, type PlanOptions, type PlanResult } from "./plan";
export { review, reviewBundle, type ReviewOptions } from "./review";
export { approve, type ApproveOptions } from "./approve";
export { apply, type ApplyOptions, type ApplyResult } from "./apply";
export { showPolicy, type PolicyShowOptions } from "./policy";
export { auditVerify, showBundles, showLedger } from "./reports";

/**
 * The plan readers the policy checks use: lib/plan's (the one model of terraform show -json), plus how a
 * value appears in a finding.
 */
export {
  afterOf,
  configAddress,
  configResources,
  expressionOf,
  isDestroy,
  isObject,
  isReplace,
  isSensitive,
  isUnknown,
  managedChanges,
  referencedResources,
  resultingResources,
  valueAt,
} from "../plan";

/** The first element of a nested block list (`ebs[0]`), or an empty object. */
export function firstBlock(v: unknown): Record<string, unknown> {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  return Array.isArray(v) && isObj(v[0]) ? v[0] : isObj(v) ? v : {};
}

export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** A value as it appears in a finding: short, and never the content of a string that may be secret. */
export function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (v === null) return "null";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export const UNKNOWN = "(known after apply)";

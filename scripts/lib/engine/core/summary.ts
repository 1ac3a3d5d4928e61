/**
 * Reads `terraform show -json <plan>` into counts, destructive changes and a human summary with every
 * sensitive value redacted. Redaction is fail-closed: a value is shown only when terraform did not
 * mark it sensitive (before_sensitive / after_sensitive), its resource type is not a secret generator
 * (random_password...), and its attribute name does not look like a secret.
 */
import { actionOf, isDestructive, managedChanges, type Action, type Change, type Json, type Plan, type ResourceChange } from "../../plan";
import { isStateful, secretAttributes } from "../../plan/catalogue";
import type { DestructiveChange } from "./schemas";

/** Resource types that hold data, and whose every value is secret: the resource catalogue's (lib/plan/catalogue.ts). */
export { STATEFUL_TYPES, SECRET_TYPES } from "../../plan/catalogue";

/** Attribute names whose values are never printed, at any depth. */
export const SECRET_NAME = /(password|passwd|secret_string|secret_binary|secret$|private_key|token|credential|passphrase|auth_token|master_user|api_key|access_key|result$|^value$|^values$)/i;
/**
 * The same without `value(s)`: below a resource's top level, `value` is a tag's, a database parameter's or
 * a header's value, which reviewers need to see (terraform's own sensitive marks still apply there).
 */
const NESTED_SECRET_NAME = /(password|passwd|secret_string|secret_binary|secret$|private_key|token|credential|passphrase|auth_token|master_user|api_key|access_key|result$)/i;

export const REDACTED = "(sensitive)";
export const UNKNOWN = "(known after apply)";

/** The plan as summary reads it: lib/plan's model. */
export type PlanJson = Plan;
export { actionOf, type Action };

export interface ChangeView {
  readonly address: string;
  readonly type: string;
  readonly action: Action;
  readonly stateful: boolean;
  /** One line per attribute, values redacted. */
  readonly lines: readonly string[];
}

export interface PlanSummary {
  readonly counts: { add: number; change: number; destroy: number; replace: number };
  readonly destructive: DestructiveChange[];
  readonly changes: ChangeView[];
  readonly outputs: readonly string[];
}

/** A copy of value with every part marked sensitive (or secret by name) replaced by REDACTED. */
export function redact(value: Json | undefined, sensitive: Json | undefined, secretType = false, keyName = "", depth = 0): Json | undefined {
  if (value === undefined) return undefined;
  const secretName = keyName !== "" && (depth <= 1 ? SECRET_NAME : NESTED_SECRET_NAME).test(keyName);
  if (secretType || sensitive === true || secretName) {
    return value === null ? null : REDACTED;
  }
  if (Array.isArray(value)) {
    const marks = Array.isArray(sensitive) ? sensitive : [];
    return value.map((v, i) => redact(v, marks[i], false, "", depth + 1) as Json);
  }
  if (value !== null && typeof value === "object") {
    const marks = sensitive !== null && typeof sensitive === "object" && !Array.isArray(sensitive) ? sensitive : {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, marks[k], false, k, depth + 1) as Json]));
  }
  return value;
}

function show(value: Json | undefined, unknown: Json | undefined): string {
  if (unknown === true) return UNKNOWN;
  if (value === undefined) return "null";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

const childOf = (j: Json | undefined, k: string): Json | undefined =>
  j !== null && j !== undefined && typeof j === "object" && !Array.isArray(j) ? j[k] : undefined;

const isEmpty = (v: Json | undefined) => v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);

/** The catalogue's secret attributes of a type, as a sensitive mirror (true: the whole value). */
function catalogueMarks(type: string): Json {
  const s = secretAttributes(type);
  return s === "all" ? true : Object.fromEntries(s.map((k) => [k, true]));
}

/** terraform's sensitive marks, with the catalogue's secret attributes added at the top level. */
function marks(sensitive: unknown, type: string): Json | undefined {
  const extra = catalogueMarks(type);
  if (extra === true || sensitive === true) return true;
  const base = sensitive !== null && typeof sensitive === "object" && !Array.isArray(sensitive) ? (sensitive as { [k: string]: Json }) : {};
  return { ...base, ...(extra as { [k: string]: Json }) };
}

/** before and after of a change with every secret value (terraform's marks, the catalogue, secret names) redacted. */
export function redactChange(type: string, c: Change): { before: Json; after: Json } {
  const secretType = secretAttributes(type) === "all";
  return {
    before: redact(c.before as Json | undefined, marks(c.before_sensitive, type), secretType) ?? null,
    after: redact(c.after as Json | undefined, marks(c.after_sensitive, type), secretType) ?? null,
  };
}

function attributeLines(rc: ResourceChange, action: Action): string[] {
  const c = rc.change;
  const { before, after } = redactChange(rc.type, c);
  const afterUnknown = c.after_unknown as Json | undefined;
  const keys = new Set([...Object.keys(asObject(before)), ...Object.keys(asObject(after)), ...Object.keys(asObject(afterUnknown ?? null))]);
  const lines: string[] = [];
  for (const k of [...keys].sort()) {
    const b = childOf(before, k);
    const a = childOf(after, k);
    const u = childOf(afterUnknown, k);
    if (action === "create") {
      if (u === true || !isEmpty(a)) lines.push(`+ ${k} = ${show(a, u)}`);
    } else if (action === "delete" || action === "forget") {
      continue;
    } else if (u === true || JSON.stringify(b) !== JSON.stringify(a) || sensitiveChanged(c, k)) {
      lines.push(`~ ${k}: ${show(b, undefined)} -> ${show(a, u)}`);
    }
  }
  if (action === "replace" && Array.isArray(c.replace_paths) && c.replace_paths.length > 0) {
    lines.unshift(`# forces replacement: ${c.replace_paths.map((p) => (Array.isArray(p) ? p.join(".") : String(p))).join(", ")}`);
  }
  return lines;
}

/** A sensitive attribute whose hidden value changed still shows up (as REDACTED -> REDACTED). */
function sensitiveChanged(c: Change, k: string): boolean {
  const bs = childOf(c.before_sensitive as Json | undefined, k);
  const as = childOf(c.after_sensitive as Json | undefined, k);
  if (bs !== true && as !== true) return false;
  return JSON.stringify(childOf(c.before as Json | undefined, k)) !== JSON.stringify(childOf(c.after as Json | undefined, k));
}

function asObject(j: Json | undefined): Record<string, Json> {
  return j !== null && j !== undefined && typeof j === "object" && !Array.isArray(j) ? j : {};
}

export function summarizePlan(plan: Plan): PlanSummary {
  const counts = { add: 0, change: 0, destroy: 0, replace: 0 };
  const destructive: DestructiveChange[] = [];
  const changes: ChangeView[] = [];
  for (const rc of managedChanges(plan)) {
    const action = actionOf(rc.change.actions);
    if (action === "no-op" || action === "read") continue;
    const stateful = isStateful(rc.type);
    if (action === "create") counts.add++;
    if (action === "update") counts.change++;
    if (action === "delete") counts.destroy++;
    if (action === "replace") {
      counts.replace++;
      counts.add++;
      counts.destroy++;
    }
    if (isDestructive(action)) {
      destructive.push({ address: rc.address, type: rc.type, action, stateful });
    }
    changes.push({ address: rc.address, type: rc.type, action, stateful, lines: attributeLines(rc, action) });
  }
  const outputs = Object.entries(plan.output_changes ?? {})
    .filter(([, c]) => actionOf(c.actions) !== "no-op")
    .map(([name, c]) => {
      const value = c.after_sensitive === true || SECRET_NAME.test(name) ? REDACTED : show(redact(c.after as Json | undefined, c.after_sensitive as Json | undefined), c.after_unknown as Json | undefined);
      return `${actionOf(c.actions)} output ${name} = ${value}`;
    });
  return { counts, destructive, changes, outputs };
}

const SYMBOL: Record<Action, string> = { create: "+", update: "~", delete: "-", replace: "-/+", forget: "forget", read: "<=", "no-op": " " };

/** The summary body: destructive changes first (stateful ones flagged), then the rest. */
export function renderChanges(summary: PlanSummary): string {
  const out: string[] = [];
  const { add, change, destroy, replace } = summary.counts;
  out.push(`Plan: ${add} to add, ${change} to change, ${destroy} to destroy (${replace} replaced).`);
  const destructive = summary.changes.filter((c) => c.action === "delete" || c.action === "replace" || c.action === "forget");
  const rest = summary.changes.filter((c) => !destructive.includes(c));
  out.push("");
  if (destructive.length > 0) {
    out.push(`DESTRUCTIVE CHANGES (${destructive.length}):`);
    for (const c of destructive) {
      out.push(`  ${SYMBOL[c.action]} ${c.address}${c.stateful ? "   !! STATEFUL: data is lost" : ""}`);
      for (const l of c.lines) out.push(`      ${l}`);
    }
  } else {
    out.push("Destructive changes: none.");
  }
  if (rest.length > 0) {
    out.push("");
    out.push(`Other changes (${rest.length}):`);
    for (const c of rest) {
      out.push(`  ${SYMBOL[c.action]} ${c.address}`);
      for (const l of c.lines) out.push(`      ${l}`);
    }
  }
  if (summary.outputs.length > 0) {
    out.push("");
    out.push("Outputs:");
    for (const o of summary.outputs) out.push(`  ${o}`);
  }
  return `${out.join("\n")}\n`;
}

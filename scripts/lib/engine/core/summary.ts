/**
 * Reads `terraform show -json <plan>` into counts, destructive changes and a human summary with every
 * sensitive value redacted. Redaction is fail-closed: a value is shown only when terraform did not
 * mark it sensitive (before_sensitive / after_sensitive), its resource type is not a secret generator
 * (random_password...), and its attribute name does not look like a secret.
 */
import type { DestructiveChange } from "./schemas";

/** Resource types that hold data: destroying or replacing one loses it. */
export const STATEFUL_TYPES: readonly string[] = [
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_rds_cluster_instance",
  "aws_db_snapshot",
  "aws_elasticache_replication_group",
  "aws_elasticache_cluster",
  "aws_elasticache_serverless_cache",
  "aws_s3_bucket",
  "aws_dynamodb_table",
  "aws_secretsmanager_secret",
  "aws_secretsmanager_secret_version",
  "aws_ssm_parameter",
  "aws_kms_key",
  "aws_efs_file_system",
  "aws_ebs_volume",
  "aws_cloudwatch_log_group",
  "aws_route53_zone",
  "random_password",
];

/** Resource types whose every value is secret: never printed, whatever the markers say. */
export const SECRET_TYPES: readonly string[] = [
  "random_password",
  "random_string",
  "random_bytes",
  "tls_private_key",
  "aws_secretsmanager_secret_version",
  "aws_iam_access_key",
  "aws_iam_user_login_profile",
];

/** Attribute names whose values are never printed, at any depth. */
export const SECRET_NAME = /(password|passwd|secret_string|secret_binary|secret$|private_key|token|credential|passphrase|auth_token|master_user|api_key|access_key|result$|^value$|^values$)/i;
/**
 * The same without `value(s)`: below a resource's top level, `value` is a tag's, a database parameter's or
 * a header's value, which reviewers need to see (terraform's own sensitive marks still apply there).
 */
const NESTED_SECRET_NAME = /(password|passwd|secret_string|secret_binary|secret$|private_key|token|credential|passphrase|auth_token|master_user|api_key|access_key|result$)/i;

export const REDACTED = "(sensitive)";
export const UNKNOWN = "(known after apply)";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface ResourceChange {
  address: string;
  type: string;
  mode?: string;
  change: {
    actions: string[];
    before?: Json;
    after?: Json;
    after_unknown?: Json;
    before_sensitive?: Json;
    after_sensitive?: Json;
    replace_paths?: Json;
  };
  action_reason?: string;
}

export interface PlanJson {
  format_version?: string;
  terraform_version?: string;
  resource_changes?: ResourceChange[];
  output_changes?: Record<string, ResourceChange["change"]>;
}

export type Action = "create" | "update" | "delete" | "replace" | "forget" | "read" | "no-op";

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

export function actionOf(actions: readonly string[]): Action {
  const a = actions.join(",");
  if (a === "create") return "create";
  if (a === "update") return "update";
  if (a === "delete") return "delete";
  if (a === "delete,create" || a === "create,delete") return "replace";
  if (a === "forget") return "forget";
  if (a === "read") return "read";
  return "no-op";
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

function attributeLines(rc: ResourceChange, action: Action): string[] {
  const secretType = SECRET_TYPES.includes(rc.type);
  const c = rc.change;
  const before = redact(c.before, c.before_sensitive, secretType) ?? null;
  const after = redact(c.after, c.after_sensitive, secretType) ?? null;
  const keys = new Set([...Object.keys(asObject(before)), ...Object.keys(asObject(after)), ...Object.keys(asObject(c.after_unknown ?? null))]);
  const lines: string[] = [];
  for (const k of [...keys].sort()) {
    const b = childOf(before, k);
    const a = childOf(after, k);
    const u = childOf(c.after_unknown, k);
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
function sensitiveChanged(c: ResourceChange["change"], k: string): boolean {
  const bs = childOf(c.before_sensitive, k);
  const as = childOf(c.after_sensitive, k);
  if (bs !== true && as !== true) return false;
  return JSON.stringify(childOf(c.before, k)) !== JSON.stringify(childOf(c.after, k));
}

function asObject(j: Json | undefined): Record<string, Json> {
  return j !== null && j !== undefined && typeof j === "object" && !Array.isArray(j) ? j : {};
}

export function summarizePlan(plan: PlanJson): PlanSummary {
  const counts = { add: 0, change: 0, destroy: 0, replace: 0 };
  const destructive: DestructiveChange[] = [];
  const changes: ChangeView[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === "data") continue;
    const action = actionOf(rc.change.actions);
    if (action === "no-op" || action === "read") continue;
    const stateful = STATEFUL_TYPES.includes(rc.type);
    if (action === "create") counts.add++;
    if (action === "update") counts.change++;
    if (action === "delete") counts.destroy++;
    if (action === "replace") {
      counts.replace++;
      counts.add++;
      counts.destroy++;
    }
    if (action === "delete" || action === "replace" || action === "forget") {
      destructive.push({ address: rc.address, type: rc.type, action, stateful });
    }
    changes.push({ address: rc.address, type: rc.type, action, stateful, lines: attributeLines(rc, action) });
  }
  const outputs = Object.entries(plan.output_changes ?? {})
    .filter(([, c]) => actionOf(c.actions) !== "no-op")
    .map(([name, c]) => {
      const value = c.after_sensitive === true || SECRET_NAME.test(name) ? REDACTED : show(redact(c.after, c.after_sensitive), c.after_unknown);
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

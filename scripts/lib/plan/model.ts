/**
 * The one model of terraform's plan JSON (`terraform show -json <planfile>`, format_version 1.x), parsed
 * once with zod. Every reader of a plan in scripts/ (summary, policies, cost, drift, rollback, review page)
 * takes the `Plan` this module returns, or a hand-built object of the same shape in unit tests.
 *
 * - Tolerant: fields terraform adds in later versions pass through untouched (zod passthrough).
 * - Strict where a reader would be misled: a plan terraform marked `errored` (it stopped part way, its
 *   changes are not the whole change), a document without `format_version` or of another major format,
 *   an action list with an action this model does not know, lists that are not lists, a resource change
 *   without address, type or actions: each is a `PlanJsonError` naming what was expected and what was found.
 * - `resource_changes` may be absent: terraform omits the list when nothing is managed; then the plan must
 *   also plan no resource (`planned_values`), or it is refused as incomplete.
 *
 * The values of a plan hold secrets in clear: messages of this module name paths and kinds, never values.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// The TypeScript view: what every reader may rely on once a document is parsed
// ---------------------------------------------------------------------------------------------

/** One action terraform lists in `change.actions`. */
export type PlanAction = "no-op" | "create" | "read" | "update" | "delete" | "forget";
export const PLAN_ACTIONS: readonly PlanAction[] = ["no-op", "create", "read", "update", "delete", "forget"];

/** What a change does, as one word: a replace is ["delete","create"] or ["create","delete"]. */
export type Action = "create" | "update" | "delete" | "replace" | "forget" | "read" | "no-op";

/** A JSON value of a plan (before, after and their mirrors). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `change` of a resource change, a drift entry or an output change. */
export interface Change {
  readonly actions: readonly string[];
  readonly before?: unknown;
  readonly after?: unknown;
  /** Mirrors `after`: `true` where the value is known only after apply. */
  readonly after_unknown?: unknown;
  /** Mirrors `before`: `true` where the value is sensitive. */
  readonly before_sensitive?: unknown;
  /** Mirrors `after`: `true` where the value is sensitive. */
  readonly after_sensitive?: unknown;
  /** The attribute paths that force a replacement. */
  readonly replace_paths?: readonly (readonly (string | number)[])[];
}

/** One entry of `resource_changes` or `resource_drift`. */
export interface ResourceChange {
  readonly address: string;
  readonly type: string;
  /** Absent only in hand-built documents; terraform always writes it. */
  readonly name?: string;
  /** "managed" or "data"; absent only in hand-built documents (then: managed). */
  readonly mode?: string;
  readonly module_address?: string;
  readonly index?: unknown;
  readonly provider_name?: string;
  /** Set when the change is to a deposed object (create_before_destroy leftovers). */
  readonly deposed?: string;
  readonly previous_address?: string;
  readonly action_reason?: string;
  readonly change: Change;
}

/** One expression of `configuration`: a literal or references to other objects. */
export interface ConfigExpression {
  readonly constant_value?: unknown;
  readonly references?: readonly string[];
}

/** One resource block of `configuration` (addresses relative to its module). */
export interface ConfigResource {
  readonly address: string;
  readonly mode?: string;
  readonly type?: string;
  readonly name?: string;
  readonly expressions?: Record<string, unknown>;
}

export interface ConfigModule {
  readonly resources?: readonly ConfigResource[];
  readonly module_calls?: Record<string, { readonly module?: ConfigModule }>;
}

/** A module of `planned_values` or of the prior state's `values`. */
export interface ValuesModule {
  readonly resources?: readonly { readonly address: string; readonly type?: string; readonly mode?: string; readonly values?: unknown }[];
  readonly child_modules?: readonly ValuesModule[];
}

/** A `terraform show -json` plan document (hand-built ones in tests may omit what they do not need). */
export interface Plan {
  readonly format_version?: string;
  readonly terraform_version?: string;
  /** True when terraform stopped planning on an error: the plan is not the whole change. */
  readonly errored?: boolean;
  /** False when more plan/apply rounds are needed (deferred changes, -target). */
  readonly complete?: boolean;
  readonly applyable?: boolean;
  readonly resource_changes?: readonly ResourceChange[];
  /** Changes made outside terraform, found by the refresh (a refresh-only plan lists only these). */
  readonly resource_drift?: readonly ResourceChange[];
  readonly output_changes?: Readonly<Record<string, Change>>;
  readonly planned_values?: { readonly root_module?: ValuesModule; readonly outputs?: unknown };
  /** The state the plan was made from. */
  readonly prior_state?: { readonly format_version?: string; readonly terraform_version?: string; readonly values?: { readonly root_module?: ValuesModule; readonly outputs?: unknown } };
  readonly configuration?: { readonly root_module?: ConfigModule; readonly provider_config?: unknown };
  readonly relevant_attributes?: readonly unknown[];
  readonly variables?: Readonly<Record<string, { readonly value?: unknown }>>;
  readonly checks?: readonly unknown[];
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const path = z.array(z.union([z.string(), z.number()]));

const changeSchema = z
  .object({
    actions: z.array(z.enum(PLAN_ACTIONS as [PlanAction, ...PlanAction[]])),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    after_unknown: z.unknown().optional(),
    before_sensitive: z.unknown().optional(),
    after_sensitive: z.unknown().optional(),
    replace_paths: z.array(path).optional(),
  })
  .passthrough();

const resourceChangeSchema = z
  .object({
    address: z.string().min(1),
    type: z.string().min(1),
    name: z.string().optional(),
    mode: z.enum(["managed", "data"]).optional(),
    module_address: z.string().optional(),
    index: z.unknown().optional(),
    provider_name: z.string().optional(),
    deposed: z.string().optional(),
    previous_address: z.string().optional(),
    action_reason: z.string().optional(),
    change: changeSchema,
  })
  .passthrough();

const configModule: z.ZodType<ConfigModule> = z.lazy(() =>
  z
    .object({
      resources: z.array(z.object({ address: z.string(), mode: z.string().optional(), type: z.string().optional(), name: z.string().optional(), expressions: z.record(z.unknown()).optional() }).passthrough()).optional(),
      module_calls: z.record(z.object({ module: configModule.optional() }).passthrough()).optional(),
    })
    .passthrough(),
);

const valuesModule: z.ZodType<ValuesModule> = z.lazy(() =>
  z
    .object({
      resources: z.array(z.object({ address: z.string(), type: z.string().optional(), mode: z.string().optional(), values: z.unknown().optional() }).passthrough()).optional(),
      child_modules: z.array(valuesModule).optional(),
    })
    .passthrough(),
);

const planSchema = z
  .object({
    format_version: z.string(),
    terraform_version: z.string().optional(),
    errored: z.boolean().optional(),
    complete: z.boolean().optional(),
    applyable: z.boolean().optional(),
    resource_changes: z.array(resourceChangeSchema).optional(),
    resource_drift: z.array(resourceChangeSchema).optional(),
    output_changes: z.record(changeSchema).optional(),
    planned_values: z.object({ root_module: valuesModule.optional(), outputs: z.unknown().optional() }).passthrough().optional(),
    prior_state: z
      .object({
        format_version: z.string().optional(),
        terraform_version: z.string().optional(),
        values: z.object({ root_module: valuesModule.optional(), outputs: z.unknown().optional() }).passthrough().optional(),
      })
      .passthrough()
      .optional(),
    configuration: z.object({ root_module: configModule.optional(), provider_config: z.unknown().optional() }).passthrough().optional(),
    relevant_attributes: z.array(z.unknown()).optional(),
    variables: z.record(z.object({ value: z.unknown().optional() }).passthrough()).optional(),
    checks: z.array(z.unknown()).optional(),
  })
  .passthrough();

// The parsed type must be usable wherever the TypeScript view is (compile-time check).
const _assignable: (p: z.infer<typeof planSchema>) => Plan = (p) => p;
void _assignable;

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** Why a document is not a plan the engine reads. */
export type PlanJsonErrorCode = "PLAN-JSON-UNREADABLE" | "PLAN-JSON-INVALID" | "PLAN-JSON-ERRORED" | "PLAN-JSON-INCOMPLETE";

/** A document that is not a usable `terraform show -json` plan. Its message never holds a value of the plan. */
export class PlanJsonError extends Error {
  constructor(
    readonly code: PlanJsonErrorCode,
    /** What was found, e.g. "resource_changes is not a list (found object)". */
    readonly found: string,
  ) {
    super(`${code}: not a usable terraform show -json plan: ${found}`);
    this.name = "PlanJsonError";
  }
}

const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "list" : typeof v);

function valueAtPath(root: unknown, p: readonly PropertyKey[]): unknown {
  let node = root;
  for (const k of p) node = node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[k] : undefined;
  return node;
}

/** One zod issue as text: its path and what was expected, never the value. */
function describeIssue(doc: unknown, issue: z.ZodIssue): string {
  const where = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "") || "(document)";
  if (issue.code === "invalid_type") {
    if (issue.received === "undefined") return `${where} is missing (expected ${issue.expected})`;
    if (issue.expected === "array") return `${where} is not a list (found ${kind(valueAtPath(doc, issue.path))})`;
    return `${where} is not a ${issue.expected} (found ${issue.received})`;
  }
  // The value found is never quoted: a misplaced value of a plan may be a secret.
  if (issue.code === "invalid_enum_value") return `${where} is not one of ${issue.options.join(", ")} (found another ${kind(valueAtPath(doc, issue.path))})`;
  return `${where}: ${issue.message}`;
}

/** Whether planned_values plans any resource (at any module depth). */
function plansResources(m: ValuesModule | undefined): boolean {
  if (!m) return false;
  return (m.resources ?? []).length > 0 || (m.child_modules ?? []).some(plansResources);
}

/**
 * Parses a `terraform show -json` document (already JSON-parsed). Throws PlanJsonError:
 * PLAN-JSON-INVALID (not an object, a field of the wrong shape), PLAN-JSON-INCOMPLETE (no format_version,
 * another major format, planned resources without resource_changes), PLAN-JSON-ERRORED (`errored: true`).
 */
export function parsePlan(doc: unknown): Plan {
  if (typeof doc === "object" && doc !== null && PARSED.has(doc)) return doc as Plan;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new PlanJsonError("PLAN-JSON-INVALID", `the document is a ${kind(doc)}, expected an object`);
  const r = planSchema.safeParse(doc);
  if (!r.success) {
    const code = (doc as Record<string, unknown>).format_version === undefined ? "PLAN-JSON-INCOMPLETE" : "PLAN-JSON-INVALID";
    throw new PlanJsonError(code, r.error.issues.slice(0, 3).map((i) => describeIssue(doc, i)).join("; "));
  }
  const plan = r.data;
  if (!/^1\.\d+$/.test(plan.format_version)) throw new PlanJsonError("PLAN-JSON-INCOMPLETE", `format_version ${JSON.stringify(plan.format_version.slice(0, 20))}, expected 1.x`);
  if (plan.errored === true) throw new PlanJsonError("PLAN-JSON-ERRORED", "errored is true: terraform stopped planning on an error, the plan is not the whole change");
  if (plan.resource_changes === undefined && plansResources(plan.planned_values?.root_module)) {
    throw new PlanJsonError("PLAN-JSON-INCOMPLETE", "planned_values lists resources but resource_changes is missing");
  }
  PARSED.add(plan);
  return plan;
}

/** Documents this module parsed: parsing one again returns it as it is (the plan is parsed once). */
const PARSED = new WeakSet<object>();

/** Parses the text `terraform show -json` printed (PLAN-JSON-UNREADABLE when it is not JSON). */
export function parsePlanText(text: string): Plan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // JSON.parse's message can quote the text around the error: only its position is kept.
    const at = /position \d+/.exec((e as Error).message)?.[0];
    throw new PlanJsonError("PLAN-JSON-UNREADABLE", `not JSON${at ? ` (at ${at})` : ""}`);
  }
  return parsePlan(doc);
}

// ---------------------------------------------------------------------------------------------
// Readers: pure functions over a parsed (or hand-built) plan
// ---------------------------------------------------------------------------------------------

/** The one-word action of an action list: ["delete","create"] and ["create","delete"] are a replace. */
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

/** ["delete"]: the resource is destroyed. */
export const isDestroy = (actions: readonly string[]): boolean => actionOf(actions) === "delete";
/** ["delete","create"] or ["create","delete"]: the resource is replaced by a new one. */
export const isReplace = (actions: readonly string[]): boolean => actionOf(actions) === "replace";
/** delete, replace or forget: the current object leaves terraform's management (or exists no more). */
export const isDestructive = (a: Action): a is "delete" | "replace" | "forget" => a === "delete" || a === "replace" || a === "forget";

/** A hand-built document may omit `mode`: it is then managed. */
export const isManaged = (rc: ResourceChange): boolean => rc.mode === undefined || rc.mode === "managed";

/** The managed resource changes (data sources are reads, never changes). */
export function managedChanges(plan: Plan): ResourceChange[] {
  return (plan.resource_changes ?? []).filter(isManaged);
}

/** The managed entries of `resource_drift` (what a refresh found changed outside terraform). */
export function managedDrift(plan: Plan): ResourceChange[] {
  return (plan.resource_drift ?? []).filter(isManaged);
}

/** The resources that exist after apply, with their planned values (no-op ones included). */
export function resultingResources(plan: Plan, types?: readonly string[]): ResourceChange[] {
  return managedChanges(plan).filter((rc) => {
    const a = actionOf(rc.change.actions);
    return a !== "delete" && a !== "forget" && (!types || types.includes(rc.type));
  });
}

type Obj = Record<string, unknown>;
export const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The planned values of a resource (an empty object when terraform gives none). */
export const afterOf = (rc: ResourceChange): Obj => (isObject(rc.change.after) ? rc.change.after : {});
/** The prior values of a resource (an empty object when there are none: a create). */
export const beforeOf = (rc: ResourceChange): Obj => (isObject(rc.change.before) ? rc.change.before : {});

/** Follows a path through a value, its `after_unknown` or its `after_sensitive` mirror. */
function walk(tree: unknown, p: readonly (string | number)[]): { value: unknown; flagged: boolean } {
  let node = tree;
  for (const key of p) {
    if (node === true) return { value: true, flagged: true };
    if (isObject(node)) node = node[key as string];
    else if (Array.isArray(node)) node = node[key as number];
    else return { value: undefined, flagged: false };
  }
  return { value: node, flagged: node === true };
}

/** The planned value at a path (undefined when absent). */
export const valueAt = (rc: ResourceChange, p: readonly (string | number)[]): unknown => walk(rc.change.after, p).value;
/** True when the value at `path` (or a parent) is known only after apply. */
export const isUnknown = (rc: ResourceChange, p: readonly (string | number)[]): boolean => walk(rc.change.after_unknown, p).flagged;
/** True when the planned value at `path` (or a parent) is marked sensitive. */
export const isSensitive = (rc: ResourceChange, p: readonly (string | number)[]): boolean => walk(rc.change.after_sensitive, p).flagged;

/** The top-level attributes known only after apply. */
export const unknownAttributes = (rc: ResourceChange): string[] =>
  isObject(rc.change.after_unknown) ? Object.entries(rc.change.after_unknown).filter(([, u]) => u === true).map(([k]) => k) : [];

// ---------------------------------------------------------------------------------------------
// Configuration: the expressions behind the values, and what they reference
// ---------------------------------------------------------------------------------------------

/** `module.a.module.b.` of a resource change, without instance keys (config addresses have none). */
const modulePrefix = (moduleAddress: string | undefined) => (moduleAddress ? `${moduleAddress.replace(/\[[^\]]*\]/g, "")}.` : "");

/** The configuration address of a resource change: `aws_x.y[0]` → `aws_x.y`, module calls kept. */
export function configAddress(rc: ResourceChange): string {
  if (rc.name !== undefined) return `${modulePrefix(rc.module_address)}${rc.mode === "data" ? "data." : ""}${rc.type}.${rc.name}`;
  return rc.address.replace(/\[[^\]]*\]/g, "");
}

/** Every resource block of the configuration, by absolute configuration address (module-qualified). */
export function configResources(plan: Plan): Map<string, ConfigResource & { readonly module: string }> {
  const out = new Map<string, ConfigResource & { readonly module: string }>();
  const visit = (mod: ConfigModule | undefined, prefix: string) => {
    if (!mod) return;
    for (const r of mod.resources ?? []) out.set(`${prefix}${r.address}`, { ...r, module: prefix });
    for (const [name, call] of Object.entries(mod.module_calls ?? {})) visit(call.module, `${prefix}module.${name}.`);
  };
  visit(plan.configuration?.root_module, "");
  return out;
}

/** The expression of one top-level attribute of a resource's configuration. */
export function expressionOf(config: ReadonlyMap<string, ConfigResource>, rc: ResourceChange, attribute: string): ConfigExpression | undefined {
  const expr = config.get(configAddress(rc))?.expressions?.[attribute];
  return isObject(expr) ? (expr as ConfigExpression) : undefined;
}

/** Every `references` string inside an expression tree (in order, duplicates kept). */
export function referencesIn(expr: unknown, into: string[] = []): string[] {
  if (Array.isArray(expr)) for (const e of expr) referencesIn(e, into);
  else if (isObject(expr)) {
    if (Array.isArray(expr.references)) for (const r of expr.references) if (typeof r === "string") into.push(r);
    for (const [k, v] of Object.entries(expr)) if (k !== "references" && k !== "constant_value") referencesIn(v, into);
  }
  return into;
}

/**
 * The resources of `type` an expression refers to, as absolute configuration addresses:
 * references "aws_security_group.lb.id" and "aws_security_group.lb" both give aws_security_group.lb.
 */
export function referencedResources(expr: unknown, type: string, modulePath = ""): Set<string> {
  const out = new Set<string>();
  for (const ref of referencesIn(expr)) {
    if (!ref.startsWith(`${type}.`)) continue;
    const name = ref.slice(type.length + 1).split(".")[0].replace(/\[[^\]]*\]$/, "");
    out.add(`${modulePath}${type}.${name}`);
  }
  return out;
}

/** Per managed resource (absolute configuration address), per top-level attribute: the references of its expression, module-qualified. */
export function configReferences(plan: Plan): Map<string, Record<string, string[]>> {
  const out = new Map<string, Record<string, string[]>>();
  for (const [address, r] of configResources(plan)) {
    if (r.mode === "data") continue;
    const refs: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(r.expressions ?? {})) refs[k] = referencesIn(v).map((x) => `${r.module}${x}`);
    out.set(address, refs);
  }
  return out;
}

/** Every resource of the prior state (the state the plan was made from), module-qualified addresses. */
export function priorResources(plan: Plan): { readonly address: string; readonly type?: string; readonly mode?: string; readonly values?: unknown }[] {
  const out: { address: string; type?: string; mode?: string; values?: unknown }[] = [];
  const visit = (m: ValuesModule | undefined) => {
    if (!m) return;
    out.push(...(m.resources ?? []));
    for (const c of m.child_modules ?? []) visit(c);
  };
  visit(plan.prior_state?.values?.root_module);
  return out;
}

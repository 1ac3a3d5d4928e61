/**
 * Reading a `terraform show -json` plan: the resources it will leave behind, their values, which
 * values are unknown or sensitive, and what their configuration refers to. Pure functions; a shape
 * that cannot be read throws (the evaluator turns that into a refusal).
 */
import type { ConfigExpression, ConfigModule, ConfigResource, PlanAction, PlanJson, ResourceChange } from "./types";

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The managed resources of the plan (data sources are reads, never changes). */
export function managedChanges(plan: PlanJson): ResourceChange[] {
  const changes = plan.resource_changes ?? [];
  if (!Array.isArray(changes)) throw new Error("resource_changes is not an array");
  return changes.filter((rc) => {
    if (!isObject(rc) || !isObject(rc.change) || !Array.isArray(rc.change.actions)) {
      throw new Error(`a resource change has no change.actions list: ${JSON.stringify(rc).slice(0, 120)}`);
    }
    return rc.mode === "managed";
  });
}

const same = (a: readonly PlanAction[], b: readonly PlanAction[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** ["delete"]: the resource is destroyed. */
export function isDestroy(actions: readonly PlanAction[]): boolean {
  return same(actions, ["delete"]);
}

/** ["delete","create"] or ["create","delete"]: the resource is replaced by a new one. */
export function isReplace(actions: readonly PlanAction[]): boolean {
  return same(actions, ["delete", "create"]) || same(actions, ["create", "delete"]);
}

/** The resources that exist after apply, with their planned values (no-op ones included). */
export function resultingResources(plan: PlanJson, types?: readonly string[]): ResourceChange[] {
  return managedChanges(plan).filter(
    (rc) => !isDestroy(rc.change.actions) && !same(rc.change.actions, ["forget"]) && (!types || types.includes(rc.type)),
  );
}

/** The planned values of a resource (an empty object when terraform gives none). */
export function afterOf(rc: ResourceChange): Json {
  return isObject(rc.change.after) ? rc.change.after : {};
}

/** Follows a path through a value, its `after_unknown` or its `after_sensitive` mirror. */
function walk(tree: unknown, path: readonly (string | number)[]): { value: unknown; flagged: boolean } {
  let node = tree;
  for (const key of path) {
    if (node === true) return { value: true, flagged: true };
    if (isObject(node)) node = node[key as string];
    else if (Array.isArray(node)) node = node[key as number];
    else return { value: undefined, flagged: false };
  }
  return { value: node, flagged: node === true };
}

export function valueAt(rc: ResourceChange, path: readonly (string | number)[]): unknown {
  return walk(rc.change.after, path).value;
}

/** True when the value at `path` (or a parent) is known only after apply. */
export function isUnknown(rc: ResourceChange, path: readonly (string | number)[]): boolean {
  return walk(rc.change.after_unknown, path).flagged;
}

/** True when the value at `path` (or a parent) is marked sensitive. */
export function isSensitive(rc: ResourceChange, path: readonly (string | number)[]): boolean {
  return walk(rc.change.after_sensitive, path).flagged;
}

/** The first element of a nested block list (`ebs[0]`), or an empty object. */
export function firstBlock(v: unknown): Json {
  return Array.isArray(v) && isObject(v[0]) ? v[0] : isObject(v) ? v : {};
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

// ---------------------------------------------------------------------------------------------
// Configuration: the expressions behind the values, and what they reference
// ---------------------------------------------------------------------------------------------

/** `module.a.module.b.` of a resource change, without instance keys (config addresses have none). */
function modulePrefix(moduleAddress: string | undefined): string {
  return moduleAddress ? `${moduleAddress.replace(/\[[^\]]*\]/g, "")}.` : "";
}

/** The configuration address of a resource change: `aws_x.y[0]` → `aws_x.y`. */
export function configAddress(rc: ResourceChange): string {
  return `${modulePrefix(rc.module_address)}${rc.type}.${rc.name}`;
}

/** Every resource block of the configuration, by absolute configuration address. */
export function configResources(plan: PlanJson): Map<string, ConfigResource & { readonly module: string }> {
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
export function expressionOf(
  config: ReadonlyMap<string, ConfigResource>,
  rc: ResourceChange,
  attribute: string,
): ConfigExpression | undefined {
  const expr = config.get(configAddress(rc))?.expressions?.[attribute];
  return isObject(expr) ? (expr as ConfigExpression) : undefined;
}

/**
 * The resources of `type` an expression refers to, as absolute configuration addresses:
 * references "aws_security_group.lb.id" and "aws_security_group.lb" both give aws_security_group.lb.
 */
export function referencedResources(expr: unknown, type: string, modulePath = ""): Set<string> {
  const out = new Set<string>();
  const visit = (e: unknown) => {
    if (Array.isArray(e)) return e.forEach(visit);
    if (!isObject(e)) return;
    for (const ref of asList(e.references)) {
      if (typeof ref !== "string" || !ref.startsWith(`${type}.`)) continue;
      const name = ref.slice(type.length + 1).split(".")[0].replace(/\[[^\]]*\]$/, "");
      out.add(`${modulePath}${type}.${name}`);
    }
    for (const [k, v] of Object.entries(e)) if (k !== "references" && k !== "constant_value") visit(v);
  };
  visit(expr);
  return out;
}

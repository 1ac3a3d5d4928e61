/**
 * Monthly cost estimates from the price table (prices.json), as pure functions over planned resources:
 *
 *   resourcesFromPlan(planJson, "after")   what the env will run once the plan is applied
 *   resourcesFromPlan(planJson, "before")  what it runs now (the state the plan was made from)
 *   resourcesFromSynth(cdkTfJson)          what a synthesized stack declares (no terraform needed)
 *   estimateMonthlyCost(resources)         line items, total, and what could not be priced
 *   estimatePlanDelta(planJson)            before vs after, per resource
 *
 * Fail visible, never silently 0: a type the table does not know, or a size the table has no price for,
 * or an attribute known only after apply is listed under `notPriced` with the reason; types that are
 * known to have no charge of their own are listed under `noCharge` with theirs.
 */
import { configAddress, configReferences, managedChanges, unknownAttributes, type Plan } from "../plan";
import PRICES from "./prices.json";
import { weeklyProfile, type ScheduledAction } from "./schedule";

// ---------------------------------------------------------------------------------------------
// Inputs and results
// ---------------------------------------------------------------------------------------------

/** One resource as planned: its address, type and attribute values (plan `after`/`before`, or synthesized). */
export interface PlannedResource {
  readonly address: string;
  readonly type: string;
  readonly values: Record<string, unknown>;
  /** Top-level attributes whose value is known only after apply (from `after_unknown`). @default none */
  readonly unknown?: readonly string[];
  /** Per top-level attribute, the addresses its expression references (plan `configuration`, or `${...}`). @default none */
  readonly references?: Readonly<Record<string, readonly string[]>>;
}

/** One priced component of a resource (a resource can have several: instances and their volumes). */
export interface LineItem {
  readonly address: string;
  readonly type: string;
  /** What is priced, e.g. "instances" or "storage". */
  readonly component: string;
  /** How, e.g. "4 x m6i.large @ $70.08". */
  readonly detail: string;
  readonly monthlyUsd: number;
}

export interface Unpriced {
  readonly address: string;
  readonly type: string;
  readonly reason: string;
}

export interface CostEstimate {
  /** Sum of the line items, in USD per month (cents). */
  readonly totalUsd: number;
  readonly items: readonly LineItem[];
  /** Resources the estimate could not price: the total is a lower bound while this is not empty. */
  readonly notPriced: readonly Unpriced[];
  /** Resources with no charge of their own (free, priced through another, or usage-only). */
  readonly noCharge: readonly Unpriced[];
}

/** The price table's shape (prices.json). */
export type PriceTable = typeof PRICES;
export const DEFAULT_PRICES: PriceTable = PRICES;

// ---------------------------------------------------------------------------------------------
// Small readers that accept both shapes: plan JSON (blocks are lists) and cdk.tf.json (blocks are
// often objects, numbers and booleans sometimes strings, references are "${...}" strings)
// ---------------------------------------------------------------------------------------------

const REFERENCE = /\$\{([a-zA-Z0-9_]+\.[a-zA-Z0-9_-]+(?:\[[^\]]*\])?)[^}]*\}/g;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The first block of a nested block (a list in plan JSON, an object in cdk.tf.json). */
function block(v: unknown): Record<string, unknown> | undefined {
  const b = Array.isArray(v) ? v[0] : v;
  return isObject(b) ? b : undefined;
}

function blocks(v: unknown): Record<string, unknown>[] {
  return (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).filter(isObject);
}

/** A number, or a numeric string; undefined for anything else (a reference, null, unknown). */
function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

function bool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}

/** A literal string (not a "${...}" reference). */
function text(v: unknown): string | undefined {
  return typeof v === "string" && !v.includes("${") ? v : undefined;
}

const cents = (n: number) => Math.round(n * 100) / 100;
/** $70.08; unit prices below a dollar keep a third decimal ($0.115, $0.045). */
const usd = (n: number) => `$${Math.abs(n) < 1 ? n.toFixed(3).replace(/(\.\d\d)0$/, "$1") : n.toFixed(2)}`;

// ---------------------------------------------------------------------------------------------
// Readers: plan JSON and synthesized stacks → planned resources
// ---------------------------------------------------------------------------------------------

/** The address without an instance key: aws_x.y[0] → aws_x.y (configuration addresses have none). */
const configAddressOf = (address: string) => address.replace(/\[[^\]]*\]$/, "");

/** The plan as the estimate reads it: lib/plan's model. */
export type CostPlanJson = Plan;

/**
 * The managed resources on one side of a plan: "before" (the prior state, as the plan read it) or
 * "after" (as planned; deleted resources are absent, values known only after apply are marked).
 */
export function resourcesFromPlan(plan: Plan, side: "before" | "after"): PlannedResource[] {
  const refs = configReferences(plan);
  const out: PlannedResource[] = [];
  for (const rc of managedChanges(plan)) {
    const values = side === "before" ? rc.change.before : rc.change.after;
    if (!isObject(values)) continue;
    const unknown = side === "after" ? unknownAttributes(rc) : [];
    out.push({ address: rc.address, type: rc.type, values, unknown, references: refs.get(configAddress(rc)) ?? {} });
  }
  return out;
}

/** The resources a synthesized stack (cdk.tf.json) declares, with the `${...}` references of each attribute. */
export function resourcesFromSynth(stack: { resource?: Record<string, Record<string, Record<string, unknown>>> }): PlannedResource[] {
  const out: PlannedResource[] = [];
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, raw] of Object.entries(byName)) {
      const values: Record<string, unknown> = {};
      const references: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (k === "//" || k === "depends_on" || k === "lifecycle" || k === "provider") continue;
        values[k] = v;
        const found = [...JSON.stringify(v).matchAll(REFERENCE)].map((m) => m[1]);
        if (found.length > 0) references[k] = found;
      }
      out.push({ address: `${type}.${name}`, type, values, references });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pricing, one function per priced type
// ---------------------------------------------------------------------------------------------

type Priced = { items: Omit<LineItem, "address" | "type">[] } | { notPriced: string };
type Pricer = (r: PlannedResource, all: readonly PlannedResource[], p: PriceTable) => Priced;

const isUnknown = (r: PlannedResource, attr: string) => (r.unknown ?? []).includes(attr);
const missing = (r: PlannedResource, attr: string): Priced => ({
  notPriced: isUnknown(r, attr) ? `${attr} is known only after apply` : `no literal ${attr} (found ${JSON.stringify(r.values[attr] ?? null)})`,
});

function monthlyOf(table: Record<string, unknown>, key: string): number | undefined {
  const entry = table[key];
  return isObject(entry) ? num(entry.monthly) : undefined;
}

const item = (component: string, quantity: number, unit: string, unitUsd: number): Omit<LineItem, "address" | "type"> => ({
  component,
  detail: `${quantity} x ${unit} @ ${usd(unitUsd)}`,
  monthlyUsd: cents(quantity * unitUsd),
});

/** The launch template an autoscaling group runs: by id or name value, by reference, or the only one. */
export function launchTemplateOf(asg: PlannedResource, all: readonly PlannedResource[]): PlannedResource | undefined {
  const templates = all.filter((r) => r.type === "aws_launch_template");
  const spec = block(asg.values.launch_template);
  const id = text(spec?.id);
  const name = text(spec?.name);
  const byValue = templates.find((t) => (id !== undefined && text(t.values.id) === id) || (name !== undefined && text(t.values.name) === name));
  if (byValue) return byValue;
  const refs = asg.references?.launch_template ?? [];
  const byRef = templates.find((t) => refs.some((ref) => ref === t.address || ref.startsWith(`${t.address}.`) || ref === configAddressOf(t.address)));
  if (byRef) return byRef;
  return spec !== undefined && templates.length === 1 ? templates[0] : undefined;
}

function rootVolumeItems(template: PlannedResource, count: number, p: PriceTable): Omit<LineItem, "address" | "type">[] {
  const items: Omit<LineItem, "address" | "type">[] = [];
  for (const mapping of blocks(template.values.block_device_mappings)) {
    const ebs = block(mapping.ebs);
    const size = num(ebs?.volume_size);
    const volumeType = text(ebs?.volume_type) ?? "gp2";
    const perGb = (p.ebsPerGbMonth as Record<string, unknown>)[volumeType];
    if (size === undefined || typeof perGb !== "number") continue;
    items.push(item("volumes", count, `${size} GB ${volumeType} (${usd(perGb)}/GB)`, cents(size * perGb)));
  }
  return items;
}

const PRICERS: Record<string, Pricer> = {
  aws_instance: (r, _all, p) => {
    const type = text(r.values.instance_type);
    if (type === undefined) return missing(r, "instance_type");
    const monthly = monthlyOf(p.ec2Instance, type);
    if (monthly === undefined) return { notPriced: `no price for instance type ${type} in prices.json (ec2Instance)` };
    return { items: [item("instance", 1, type, monthly)] };
  },

  aws_autoscaling_group: (r, all, p) => {
    const desired = num(r.values.desired_capacity);
    if (desired === undefined) return missing(r, "desired_capacity");
    if (r.values.mixed_instances_policy !== undefined && blocks(r.values.mixed_instances_policy).length > 0) {
      return { notPriced: "mixed_instances_policy: instance types vary (not modelled)" };
    }
    const template = launchTemplateOf(r, all);
    if (template === undefined) return { notPriced: "its launch template is not in the plan (instance type unknown)" };
    const type = text(template.values.instance_type);
    if (type === undefined) return { notPriced: `${template.address} has no literal instance_type` };
    const monthly = monthlyOf(p.ec2Instance, type);
    if (monthly === undefined) return { notPriced: `no price for instance type ${type} in prices.json (ec2Instance)` };
    const schedules = all.filter(
      (s) =>
        s.type === "aws_autoscaling_schedule" &&
        ((r.values.name !== undefined && s.values.autoscaling_group_name === r.values.name) ||
          (s.references?.autoscaling_group_name ?? []).some((ref) => ref === r.address || ref.startsWith(`${r.address}.`))),
    );
    if (schedules.length === 0) return { items: [item("instances", desired, type, monthly), ...rootVolumeItems(template, desired, p)] };
    const actions: ScheduledAction[] = [];
    for (const s of schedules) {
      const recurrence = text(s.values.recurrence);
      const capacity = num(s.values.desired_capacity);
      if (recurrence === undefined || capacity === undefined) return { notPriced: `${s.address}: recurrence and desired_capacity must be literal to model the schedule` };
      actions.push({ recurrence, desiredCapacity: capacity });
    }
    const profile = weeklyProfile(desired, actions);
    if (typeof profile === "string") return { notPriced: `off-hours schedule not modelled: ${profile}` };
    const average = Math.round(profile.averageCapacity * 100) / 100;
    const shape = profile.hoursAt.map((x) => `${x.capacity} for ${x.hours} h`).join(", ");
    return {
      items: [item("instances", average, `${type} (average over the week on its schedule: ${shape})`, monthly), ...rootVolumeItems(template, average, p)],
    };
  },

  aws_db_instance: (r, _all, p) => {
    const cls = text(r.values.instance_class);
    if (cls === undefined) return missing(r, "instance_class");
    const engine = text(r.values.engine);
    if (engine !== undefined && engine !== "postgres") return { notPriced: `engine ${engine}: prices.json lists RDS for PostgreSQL only` };
    const monthly = monthlyOf(p.rdsInstance, cls);
    if (monthly === undefined) return { notPriced: `no price for instance class ${cls} in prices.json (rdsInstance)` };
    const multiAz = bool(r.values.multi_az) ?? false;
    const factor = multiAz ? p.rdsMultiAzFactor : 1;
    const items = [item("instance", factor, `${cls} (${multiAz ? "Multi-AZ: primary + standby" : "Single-AZ"})`, monthly)];
    const storage = num(r.values.allocated_storage);
    const storageType = text(r.values.storage_type) ?? p.rdsDefaultStorageType;
    const perGb = (p.rdsStoragePerGbMonth as Record<string, unknown>)[storageType];
    if (storage === undefined) return { notPriced: "allocated_storage is not a literal number" };
    if (typeof perGb !== "number") return { notPriced: `no price for RDS storage type ${storageType} in prices.json (rdsStoragePerGbMonth)` };
    items.push({
      component: "storage",
      detail: `${storage} GB ${storageType}${factor > 1 ? ` x ${factor} (Multi-AZ)` : ""} @ ${usd(perGb)}/GB`,
      monthlyUsd: cents(storage * factor * perGb),
    });
    return { items };
  },

  aws_elasticache_replication_group: (r, _all, p) => {
    const nodeType = text(r.values.node_type);
    if (nodeType === undefined) return missing(r, "node_type");
    const monthly = monthlyOf(p.elasticacheNode, nodeType);
    if (monthly === undefined) return { notPriced: `no price for node type ${nodeType} in prices.json (elasticacheNode)` };
    const groups = num(r.values.num_node_groups);
    const replicas = num(r.values.replicas_per_node_group);
    const nodes = groups !== undefined && groups > 0 ? groups * ((replicas ?? 0) + 1) : num(r.values.num_cache_clusters);
    if (nodes === undefined) return missing(r, "num_cache_clusters");
    return { items: [item("nodes", nodes, nodeType, monthly)] };
  },

  aws_elasticache_cluster: (r, _all, p) => {
    const nodeType = text(r.values.node_type);
    if (nodeType === undefined) return missing(r, "node_type");
    const monthly = monthlyOf(p.elasticacheNode, nodeType);
    if (monthly === undefined) return { notPriced: `no price for node type ${nodeType} in prices.json (elasticacheNode)` };
    const nodes = num(r.values.num_cache_nodes) ?? 1;
    return { items: [item("nodes", nodes, nodeType, monthly)] };
  },

  aws_nat_gateway: (_r, _all, p) => ({
    items: [
      item("hours", 1, "NAT gateway", p.natGateway.monthly),
      item("data (assumed)", p.natGateway.assumedGbPerMonth, "GB processed", p.natGateway.perGbProcessed),
    ],
  }),

  aws_eip: (_r, _all, p) => ({ items: [item("address", 1, "public IPv4 address", p.publicIpv4.monthly)] }),

  aws_lb: (r, _all, p) => {
    const kind = text(r.values.load_balancer_type) ?? "application";
    if (kind !== "application") return { notPriced: `load_balancer_type ${kind}: prices.json lists application load balancers only` };
    return {
      items: [item("hours", 1, "application load balancer", p.alb.monthly), item("capacity (assumed)", p.alb.assumedLcu, "LCU", p.alb.lcuMonthly)],
    };
  },

  aws_cloudfront_distribution: (_r, _all, p) => ({
    items: [
      item("data out (assumed)", p.cloudfront.assumedGbOutPerMonth, "GB", p.cloudfront.perGbOut),
      item("requests (assumed)", p.cloudfront.assumedMillionRequestsPerMonth, "million HTTPS requests", p.cloudfront.perMillionHttpsRequests),
    ],
  }),

  aws_wafv2_web_acl: (r, _all, p) => {
    const rules = blocks(r.values.rule).length;
    return {
      items: [
        item("web ACL", 1, "web ACL", p.waf.webAclMonthly),
        ...(rules > 0 ? [item("rules", rules, "rule", p.waf.ruleMonthly)] : []),
        item("requests (assumed)", p.waf.assumedMillionRequestsPerMonth, "million requests", p.waf.perMillionRequests),
      ],
    };
  },

  aws_s3_bucket: (_r, _all, p) => ({ items: [item("storage (assumed)", p.s3.assumedGbPerBucket, "GB Standard", p.s3.perGbMonth)] }),

  aws_cloudwatch_metric_alarm: (r, _all, p) => {
    const queries = blocks(r.values.metric_query).filter((q) => q.metric !== undefined && blocks(q.metric).length > 0).length;
    return { items: [item("metrics", Math.max(1, queries), "alarm metric", p.cloudwatchAlarmPerMetric)] };
  },
};

// ---------------------------------------------------------------------------------------------
// The estimate
// ---------------------------------------------------------------------------------------------

/** Line items and total of a set of planned resources; every resource is priced, free, or listed as not priced. */
export function estimateMonthlyCost(resources: readonly PlannedResource[], prices: PriceTable = DEFAULT_PRICES): CostEstimate {
  const items: LineItem[] = [];
  const notPriced: Unpriced[] = [];
  const noCharge: Unpriced[] = [];
  const fixed = prices.fixedMonthly as Record<string, unknown>;
  const free = prices.noFixedCharge as Record<string, unknown>;
  for (const r of [...resources].sort((a, b) => a.address.localeCompare(b.address))) {
    const pricer = PRICERS[r.type];
    if (pricer !== undefined) {
      let result: Priced;
      try {
        result = pricer(r, resources, prices);
      } catch (e) {
        result = { notPriced: `pricing failed: ${(e as Error).message}` };
      }
      if ("notPriced" in result) notPriced.push({ address: r.address, type: r.type, reason: result.notPriced });
      else for (const i of result.items) items.push({ address: r.address, type: r.type, ...i });
    } else if (typeof fixed[r.type] === "number") {
      items.push({ address: r.address, type: r.type, ...item("fixed", 1, r.type, fixed[r.type] as number) });
    } else if (r.type !== "about" && typeof free[r.type] === "string") {
      noCharge.push({ address: r.address, type: r.type, reason: free[r.type] as string });
    } else {
      notPriced.push({ address: r.address, type: r.type, reason: `type ${r.type} is not in prices.json` });
    }
  }
  const totalUsd = cents(items.reduce((s, i) => s + i.monthlyUsd, 0));
  return { totalUsd, items, notPriced, noCharge };
}

/** The monthly cost of one address in an estimate (0 when absent). */
export function costOf(estimate: CostEstimate, address: string): number {
  return cents(estimate.items.filter((i) => i.address === address).reduce((s, i) => s + i.monthlyUsd, 0));
}

export interface ResourceCostChange {
  readonly address: string;
  readonly type: string;
  readonly beforeUsd: number;
  readonly afterUsd: number;
  readonly deltaUsd: number;
}

export interface CostDelta {
  readonly before: CostEstimate;
  readonly after: CostEstimate;
  /** after.totalUsd - before.totalUsd. */
  readonly deltaUsd: number;
  /** Resources whose monthly cost the plan changes, largest change first. */
  readonly changes: readonly ResourceCostChange[];
}

/** What a plan does to the monthly cost: the state it was made from against the state it plans. */
export function estimatePlanDelta(plan: Plan, prices: PriceTable = DEFAULT_PRICES): CostDelta {
  const before = estimateMonthlyCost(resourcesFromPlan(plan, "before"), prices);
  const after = estimateMonthlyCost(resourcesFromPlan(plan, "after"), prices);
  const addresses = new Map<string, string>();
  for (const i of [...before.items, ...after.items]) addresses.set(i.address, i.type);
  const changes: ResourceCostChange[] = [];
  for (const [address, type] of addresses) {
    const b = costOf(before, address);
    const a = costOf(after, address);
    if (a !== b) changes.push({ address, type, beforeUsd: b, afterUsd: a, deltaUsd: cents(a - b) });
  }
  changes.sort((x, y) => Math.abs(y.deltaUsd) - Math.abs(x.deltaUsd) || x.address.localeCompare(y.address));
  return { before, after, deltaUsd: cents(after.totalUsd - before.totalUsd), changes };
}

// ---------------------------------------------------------------------------------------------
// Budget
// ---------------------------------------------------------------------------------------------

export interface BudgetCheck {
  readonly budgetUsd: number;
  readonly totalUsd: number;
  /** totalUsd as a percentage of the budget, one decimal. */
  readonly percent: number;
  readonly over: boolean;
  /** How much over (positive) or under (negative) the budget. */
  readonly marginUsd: number;
}

export function checkBudget(estimate: CostEstimate, budgetUsd: number): BudgetCheck {
  const percent = Math.round((estimate.totalUsd / budgetUsd) * 1000) / 10;
  return { budgetUsd, totalUsd: estimate.totalUsd, percent, over: estimate.totalUsd > budgetUsd, marginUsd: cents(estimate.totalUsd - budgetUsd) };
}

export { usd as formatUsd };

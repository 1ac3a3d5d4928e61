/**
 * Cost estimates (scripts/lib/cost): each real env synthesized in-process and priced from the table,
 * every line item checked against the table and the env's config, the budgets as shipped, the price
 * table's coverage of every type and class the envs may use, and the cost change of crafted plans.
 */
import {
  checkBudget,
  costOf,
  DEFAULT_PRICES as P,
  estimateMonthlyCost,
  estimatePlanDelta,
  resourcesFromPlan,
  resourcesFromSynth,
  type CostEstimate,
  type CostPlanJson,
  type LineItem,
} from "../../scripts/lib/cost/estimate";
import { formatBudget, formatDelta, formatEstimate } from "../../scripts/lib/cost/format";
import type { EnvConfig } from "../../envs/schema";
import { committedEnvironments, synthEnvironment } from "../helpers/stacks";

const ENVS = committedEnvironments();
const SYNTH = new Map(ENVS.map((cfg) => [cfg.name, synthEnvironment(cfg)]));
const ESTIMATES = new Map(ENVS.map((cfg) => [cfg.name, estimateMonthlyCost(resourcesFromSynth(JSON.parse(SYNTH.get(cfg.name) as string)))]));
const monthly = (table: Record<string, unknown>, key: string) => (table[key] as { monthly: number }).monthly;
const cents = (n: number) => Math.round(n * 100) / 100;
const itemsOf = (est: CostEstimate, type: string, component: string): LineItem[] => est.items.filter((i) => i.type === type && i.component === component);
const one = (est: CostEstimate, type: string, component: string): LineItem => {
  const found = itemsOf(est, type, component);
  if (found.length !== 1) throw new Error(`expected one ${type} ${component} line, found ${found.length}`);
  return found[0];
};

describe("estimates of the envs as shipped", () => {
  it("orders dev < staging < prod, prices every resource, and stays within each env's budget", () => {
    const totals = ENVS.map((cfg) => (ESTIMATES.get(cfg.name) as CostEstimate).totalUsd);
    expect(ENVS.map((c) => c.name)).toEqual(["dev", "staging", "prod"]);
    expect(totals[0]).toBeLessThan(totals[1]);
    expect(totals[1]).toBeLessThan(totals[2]);
    for (const cfg of ENVS) {
      const est = ESTIMATES.get(cfg.name) as CostEstimate;
      expect({ env: cfg.name, notPriced: est.notPriced }).toEqual({ env: cfg.name, notPriced: [] });
      expect({ env: cfg.name, over: checkBudget(est, cfg.budget.monthlyUsd).over }).toEqual({ env: cfg.name, over: false });
      expect(est.totalUsd).toBe(cents(est.items.reduce((s, i) => s + i.monthlyUsd, 0)));
    }
  });

  it.each(ENVS.map((c) => [c.name, c] as const))("%s: every line item is computed from the price table and the env's config", (_name, cfg: EnvConfig) => {
    const est = ESTIMATES.get(cfg.name) as CostEstimate;
    // App tier: the average instance count over the week (off-hours schedules: dev runs its 1 instance
    // 60 h a week (Mon-Fri 07-19), staging 2 for 110 h and 1 over the weekend's 58 h; prod 4 always)
    // x the instance price, and one root volume per instance.
    const average = { dev: 0.36, staging: 1.65, prod: 4 }[cfg.name] as number;
    const instances = one(est, "aws_autoscaling_group", "instances");
    expect(instances.monthlyUsd).toBe(cents(average * monthly(P.ec2Instance, cfg.app.instanceType)));
    expect(instances.detail).toMatch(new RegExp(`^${average} x ${cfg.app.instanceType.replace(".", "\\.")}\\b.* @ \\$${monthly(P.ec2Instance, cfg.app.instanceType).toFixed(2)}$`));
    expect(one(est, "aws_autoscaling_group", "volumes").monthlyUsd).toBe(cents(average * 20 * P.ebsPerGbMonth.gp3));
    // Database: instance (x2 when Multi-AZ) and storage.
    const factor = cfg.database.multiAz ? P.rdsMultiAzFactor : 1;
    expect(one(est, "aws_db_instance", "instance").monthlyUsd).toBe(cents(factor * monthly(P.rdsInstance, cfg.database.instanceClass)));
    expect(one(est, "aws_db_instance", "storage").monthlyUsd).toBe(cents(factor * cfg.database.allocatedStorageGb * P.rdsStoragePerGbMonth.gp3));
    // Cache: primary + replicas, per node.
    expect(one(est, "aws_elasticache_replication_group", "nodes").monthlyUsd).toBe(cents((cfg.cache.replicas + 1) * monthly(P.elasticacheNode, cfg.cache.nodeType)));
    // Network: one line per NAT gateway and its Elastic IP.
    expect(itemsOf(est, "aws_nat_gateway", "hours")).toHaveLength(cfg.network.natGateways);
    expect(itemsOf(est, "aws_eip", "address")).toHaveLength(cfg.network.natGateways);
    expect(itemsOf(est, "aws_nat_gateway", "hours").every((i) => i.monthlyUsd === P.natGateway.monthly)).toBe(true);
    expect(one(est, "aws_lb", "hours").monthlyUsd).toBe(P.alb.monthly);
    // Edge only where configured.
    expect(itemsOf(est, "aws_cloudfront_distribution", "data out (assumed)")).toHaveLength(cfg.edge ? 1 : 0);
    expect(itemsOf(est, "aws_wafv2_web_acl", "web ACL")).toHaveLength(cfg.edge ? 1 : 0);
    expect(itemsOf(est, "aws_secretsmanager_secret", "fixed")).toHaveLength(cfg.secrets.length);
  });

  it("prod's app tier is 4 x m6i.large", () => {
    const prod = ESTIMATES.get("prod") as CostEstimate;
    expect(one(prod, "aws_autoscaling_group", "instances")).toMatchObject({ detail: "4 x m6i.large @ $70.08", monthlyUsd: 280.32 });
    expect(one(prod, "aws_db_instance", "instance").monthlyUsd).toBe(328.5);
    expect(one(prod, "aws_elasticache_replication_group", "nodes").monthlyUsd).toBe(451.14);
  });

  it("the price table has every instance type, database class and cache node type the envs use or allow", () => {
    for (const cfg of ENVS) {
      for (const t of [cfg.app.instanceType, ...cfg.app.allowedInstanceTypes]) expect({ env: cfg.name, t, priced: t in P.ec2Instance }).toEqual({ env: cfg.name, t, priced: true });
      expect(cfg.database.instanceClass in P.rdsInstance).toBe(true);
      expect(cfg.cache.nodeType in P.elasticacheNode).toBe(true);
    }
    for (const table of [P.ec2Instance, P.rdsInstance, P.elasticacheNode] as Record<string, unknown>[]) {
      for (const [k, v] of Object.entries(table)) {
        if (k === "about") continue;
        const { hourly, monthly: m } = v as { hourly: number; monthly: number };
        expect({ k, m }).toEqual({ k, m: cents(hourly * P.hoursPerMonth) });
      }
    }
  });
});

describe("estimateMonthlyCost", () => {
  it("lists an unknown type, an unpriced size and an unknown value as not priced, never as 0", () => {
    const est = estimateMonthlyCost([
      { address: "aws_mq_broker.x", type: "aws_mq_broker", values: { host_instance_type: "mq.m5.large" } },
      { address: "aws_instance.big", type: "aws_instance", values: { instance_type: "x2iedn.32xlarge" } },
      { address: "aws_instance.later", type: "aws_instance", values: {}, unknown: ["instance_type"] },
      { address: "aws_instance.ok", type: "aws_instance", values: { instance_type: "t3.micro" } },
      { address: "aws_vpc.main", type: "aws_vpc", values: {} },
    ]);
    expect(est.notPriced).toEqual([
      { address: "aws_instance.big", type: "aws_instance", reason: "no price for instance type x2iedn.32xlarge in prices.json (ec2Instance)" },
      { address: "aws_instance.later", type: "aws_instance", reason: "instance_type is known only after apply" },
      { address: "aws_mq_broker.x", type: "aws_mq_broker", reason: "type aws_mq_broker is not in prices.json" },
    ]);
    expect(est.noCharge).toEqual([{ address: "aws_vpc.main", type: "aws_vpc", reason: "free" }]);
    expect(est.totalUsd).toBe(monthly(P.ec2Instance, "t3.micro"));
    expect(formatEstimate(est)).toContain("NOT PRICED (3): the total is a lower bound");
  });

  it("finds an autoscaling group's launch template by reference when several exist and ids are unknown", () => {
    const plan: CostPlanJson = {
      resource_changes: [
        { address: "aws_launch_template.a", type: "aws_launch_template", change: { actions: ["create"], before: null, after: { instance_type: "t3.large" }, after_unknown: { id: true } } },
        { address: "aws_launch_template.b", type: "aws_launch_template", change: { actions: ["create"], before: null, after: { instance_type: "m6i.xlarge" }, after_unknown: { id: true } } },
        { address: "aws_autoscaling_group.g", type: "aws_autoscaling_group", change: { actions: ["create"], before: null, after: { desired_capacity: 3, launch_template: [{}] }, after_unknown: { launch_template: [{ id: true }] } } },
      ],
      configuration: {
        root_module: {
          resources: [
            { address: "aws_autoscaling_group.g", mode: "managed", expressions: { launch_template: [{ id: { references: ["aws_launch_template.b.id", "aws_launch_template.b"] } }] } },
          ],
        },
      },
    };
    const est = estimateMonthlyCost(resourcesFromPlan(plan, "after"));
    expect(one(est, "aws_autoscaling_group", "instances")).toMatchObject({ detail: "3 x m6i.xlarge @ $140.16", monthlyUsd: 420.48 });
  });

  it("reads references of a synthesized stack (${...}) and blocks written as objects", () => {
    const est = estimateMonthlyCost(
      resourcesFromSynth({
        resource: {
          aws_launch_template: { a: { instance_type: "t3.small" }, b: { instance_type: "t3.large" } },
          aws_autoscaling_group: { g: { desired_capacity: 2, launch_template: { id: "${aws_launch_template.b.id}", version: "$Latest" } } },
        },
      }),
    );
    expect(one(est, "aws_autoscaling_group", "instances").monthlyUsd).toBe(cents(2 * monthly(P.ec2Instance, "t3.large")));
  });
});

describe("estimatePlanDelta: the cost change of a plan", () => {
  const plan: CostPlanJson = {
    resource_changes: [
      {
        // Instance type change in the template: the group's 2 instances move from t3.small to t3.medium.
        address: "aws_launch_template.app",
        type: "aws_launch_template",
        change: { actions: ["update"], before: { id: "lt-1", instance_type: "t3.small" }, after: { id: "lt-1", instance_type: "t3.medium" } },
      },
      {
        address: "aws_autoscaling_group.app",
        type: "aws_autoscaling_group",
        change: { actions: ["no-op"], before: { desired_capacity: 2, launch_template: [{ id: "lt-1" }] }, after: { desired_capacity: 2, launch_template: [{ id: "lt-1" }] } },
      },
      {
        // Multi-AZ turned on: instance and storage double.
        address: "aws_db_instance.db",
        type: "aws_db_instance",
        change: {
          actions: ["update"],
          before: { engine: "postgres", instance_class: "db.t3.small", multi_az: false, allocated_storage: 20, storage_type: "gp3" },
          after: { engine: "postgres", instance_class: "db.t3.small", multi_az: true, allocated_storage: 20, storage_type: "gp3" },
        },
      },
      { address: "aws_nat_gateway.b", type: "aws_nat_gateway", change: { actions: ["create"], before: null, after: {}, after_unknown: { id: true } } },
      { address: "aws_eip.old", type: "aws_eip", change: { actions: ["delete"], before: { domain: "vpc" }, after: null } },
      { address: "aws_vpc.main", type: "aws_vpc", change: { actions: ["no-op"], before: { cidr_block: "10.10.0.0/16" }, after: { cidr_block: "10.10.0.0/16" } } },
      { address: "data.aws_caller_identity.me", mode: "data", type: "aws_caller_identity", change: { actions: ["read"], before: null, after: {} } },
    ],
  };

  it("prices the state before and the state after, per resource", () => {
    const d = estimatePlanDelta(plan);
    const asg = cents(2 * (monthly(P.ec2Instance, "t3.medium") - monthly(P.ec2Instance, "t3.small")));
    const db = cents(monthly(P.rdsInstance, "db.t3.small") + 20 * P.rdsStoragePerGbMonth.gp3);
    const nat = cents(P.natGateway.monthly + P.natGateway.assumedGbPerMonth * P.natGateway.perGbProcessed);
    const eip = -P.publicIpv4.monthly;
    expect(d.changes.map((c) => [c.address, c.deltaUsd])).toEqual([
      ["aws_nat_gateway.b", nat],
      ["aws_autoscaling_group.app", asg],
      ["aws_db_instance.db", db],
      ["aws_eip.old", eip],
    ]);
    expect(d.deltaUsd).toBe(cents(asg + db + nat + eip));
    expect(d.deltaUsd).toBe(cents(d.after.totalUsd - d.before.totalUsd));
    expect(costOf(d.before, "aws_nat_gateway.b")).toBe(0);
    expect(costOf(d.after, "aws_eip.old")).toBe(0);
    expect(formatDelta(d)).toContain(`Cost change of this plan: $${d.before.totalUsd.toFixed(2)} -> $${d.after.totalUsd.toFixed(2)} per month (+$${d.deltaUsd.toFixed(2)})`);
  });

  it("is zero for a plan that changes nothing priced", () => {
    const d = estimatePlanDelta({ resource_changes: [plan.resource_changes![5]] });
    expect(d.deltaUsd).toBe(0);
    expect(d.changes).toEqual([]);
    expect(formatDelta(d)).toContain("no priced resource changes cost");
  });
});

describe("budget", () => {
  it("is over only above the budget, and says so with the env's config field", () => {
    const est = (total: number): CostEstimate => ({ totalUsd: total, items: [], notPriced: [], noCharge: [] });
    expect(checkBudget(est(300), 300)).toMatchObject({ over: false, percent: 100, marginUsd: 0 });
    expect(checkBudget(est(300.01), 300)).toMatchObject({ over: true, marginUsd: 0.01 });
    expect(formatBudget("dev", checkBudget(est(450), 300))).toBe("OVER BUDGET: dev is estimated at $450.00/month, $150.00 over its $300.00 budget (150%, envs/dev budget.monthlyUsd)\n");
  });
});

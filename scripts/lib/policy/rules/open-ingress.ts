/**
 * POLICY-OPEN-INGRESS: nothing is reachable from the whole internet (0.0.0.0/0 or ::/0) except the
 * load balancer, and the load balancer only on
 *   - 443/tcp (HTTPS), and
 *   - 80/tcp when a port-80 listener of that load balancer redirects to HTTPS (so plain HTTP never
 *     reaches the app; browsers typing the bare name still land on HTTPS).
 * A security group is "the load balancer's" when an aws_lb lists it in security_groups (by
 * configuration reference, or by id when both are known). Covers inline ingress of
 * aws_security_group, aws_security_group_rule (type ingress) and aws_vpc_security_group_ingress_rule.
 */
import {
  afterOf,
  asList,
  configAddress,
  configResources,
  expressionOf,
  firstBlock,
  isObject,
  isUnknown,
  referencedResources,
  resultingResources,
  show,
  UNKNOWN,
} from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, ResourceChange, Violation } from "../types";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);
const LB_TYPES = ["aws_lb", "aws_alb"];
const LISTENER_TYPES = ["aws_lb_listener", "aws_alb_listener"];
const SG = "aws_security_group";

/** An ingress permission from the world, wherever it is declared. */
interface OpenIngress {
  readonly rc: ResourceChange;
  readonly attribute: string;
  readonly cidr: string;
  readonly from: unknown;
  readonly to: unknown;
  readonly protocol: unknown;
  /** Identities of the security group it opens: "cfg:<address>" and/or "id:<sg id>". */
  readonly group: Set<string>;
}

const isTcp = (p: unknown) => p === "tcp" || p === "6" || p === 6;
const only = (port: number, i: OpenIngress) => isTcp(i.protocol) && i.from === port && i.to === port;
const meets = (a: Set<string>, b: Set<string>) => [...a].some((x) => b.has(x));

function check(ctx: PolicyContext): CheckResult {
  const config = configResources(ctx.plan);
  const resources = resultingResources(ctx.plan);
  const refs = (rc: ResourceChange, attr: string, type: string) =>
    referencedResources(expressionOf(config, rc, attr), type, config.get(configAddress(rc))?.module ?? "");
  const violations: Violation[] = [];
  const open: OpenIngress[] = [];
  let applicable = false;

  /** Identities of the security group a separate rule resource attaches to. */
  const groupOf = (rc: ResourceChange): Set<string> => {
    const ids = new Set([...refs(rc, "security_group_id", SG)].map((a) => `cfg:${a}`));
    const id = afterOf(rc).security_group_id;
    if (typeof id === "string") ids.add(`id:${id}`);
    return ids;
  };

  /** Records the world CIDRs of one permission (and unknown CIDRs, which cannot be proven closed). */
  const collect = (rc: ResourceChange, base: (string | number)[], cidrKeys: string[], perm: Record<string, unknown>, group: Set<string>, proto: string) => {
    for (const key of cidrKeys) {
      const attribute = [...base, key].join(".").replace(/\.(\d+)\./g, "[$1].");
      if (isUnknown(rc, [...base, key])) {
        violations.push({ address: rc.address, attribute, expected: "CIDRs known at plan time", found: UNKNOWN });
        continue;
      }
      for (const cidr of asList(perm[key])) {
        if (typeof cidr === "string" && WORLD.has(cidr)) {
          open.push({ rc, attribute, cidr, from: perm.from_port, to: perm.to_port, protocol: perm[proto], group });
        }
      }
    }
  };

  for (const rc of resources) {
    const after = afterOf(rc);
    if (rc.type === SG) {
      applicable = true;
      const group = new Set([`cfg:${configAddress(rc)}`]);
      if (typeof after.id === "string") group.add(`id:${after.id}`);
      if (isUnknown(rc, ["ingress"])) {
        // Unknown because not configured inline (rules live in their own resources): nothing to check here.
        if (expressionOf(config, rc, "ingress") === undefined) continue;
        violations.push({ address: rc.address, attribute: "ingress", expected: "ingress known at plan time", found: UNKNOWN });
        continue;
      }
      asList(after.ingress).forEach((perm, i) => {
        if (isObject(perm)) collect(rc, ["ingress", i], ["cidr_blocks", "ipv6_cidr_blocks"], perm, group, "protocol");
      });
    } else if (rc.type === "aws_security_group_rule") {
      applicable = true;
      if (after.type !== "ingress") continue;
      collect(rc, [], ["cidr_blocks", "ipv6_cidr_blocks"], after, groupOf(rc), "protocol");
    } else if (rc.type === "aws_vpc_security_group_ingress_rule") {
      applicable = true;
      collect(rc, [], ["cidr_ipv4", "cidr_ipv6"], after, groupOf(rc), "ip_protocol");
    }
  }
  if (!applicable) return { status: "not-applicable" };

  // The load balancers, their security groups, and which of them redirect port 80 to HTTPS.
  const lbs = resources.filter((rc) => LB_TYPES.includes(rc.type));
  const lbGroups = new Map<ResourceChange, Set<string>>();
  for (const lb of lbs) {
    const ids = new Set<string>();
    for (const a of refs(lb, "security_groups", SG)) ids.add(`cfg:${a}`);
    if (!isUnknown(lb, ["security_groups"])) for (const id of asList(afterOf(lb).security_groups)) if (typeof id === "string") ids.add(`id:${id}`);
    lbGroups.set(lb, ids);
  }
  const redirectingLbs = new Set<ResourceChange>();
  for (const listener of resources.filter((rc) => LISTENER_TYPES.includes(rc.type))) {
    const after = afterOf(listener);
    const redirects = asList(after.default_action).some((a) => {
      if (!isObject(a) || a.type !== "redirect") return false;
      const r = firstBlock(a.redirect);
      return r.protocol === "HTTPS" && (r.port === "443" || r.port === "#{port}" || r.port === undefined || r.port === null);
    });
    if (Number(after.port) !== 80 || !redirects) continue;
    const targets = new Set([...LB_TYPES.flatMap((t) => [...refs(listener, "load_balancer_arn", t)])]);
    for (const lb of lbs) {
      if (targets.has(configAddress(lb)) || (typeof after.load_balancer_arn === "string" && after.load_balancer_arn === afterOf(lb).arn)) {
        redirectingLbs.add(lb);
      }
    }
  }
  const anyLbGroup = new Set(lbs.flatMap((lb) => [...lbGroups.get(lb)!]));
  const redirectGroups = new Set([...redirectingLbs].flatMap((lb) => [...lbGroups.get(lb)!]));

  for (const i of open) {
    if (meets(i.group, anyLbGroup) && only(443, i)) continue;
    if (meets(i.group, redirectGroups) && only(80, i)) continue;
    const where = meets(i.group, anyLbGroup) ? "the load balancer's security group" : "a security group that is not the load balancer's";
    violations.push({
      address: i.rc.address,
      attribute: i.attribute,
      expected: "no ingress from the internet, except 443/tcp (and 80/tcp when it redirects to HTTPS) on the load balancer",
      found: `${i.cidr} to ${show(i.protocol)} ports ${show(i.from)}-${show(i.to)} on ${where}`,
    });
  }
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const openIngress: PolicyRule = {
  id: "POLICY-OPEN-INGRESS",
  level: "error",
  info: "No ingress from 0.0.0.0/0 or ::/0, except 443/tcp on the load balancer's security group (80/tcp only where its listener redirects to HTTPS).",
  explanation:
    "Everything but the load balancer lives in private subnets and is reached through it; an ingress from the whole internet " +
    "exposes instances, databases or caches to scanning and brute force, and bypasses the WAF and TLS of the edge.",
  fix:
    "Allow the load balancer's security group as the source instead of a CIDR; use network.adminCidrs for admin access; on the " +
    "load balancer open 443, and 80 only together with a listener that redirects to HTTPS.",
  check,
};

/**
 * Ephemeral environments (one per pull request): derived from a long-lived env's config, with their own
 * name, state key, tags and a CIDR taken from a pool that never overlaps a long-lived env or another
 * live ephemeral one. They live in the base env's account and state bucket.
 *
 * Which ephemeral envs exist is data passed in, `EPHEMERAL_ENVS=pr-12=10.64.0.0/18,pr-13=10.64.64.0/18`
 * (the engine sets it from its registry), so synth and the engine see the same set.
 */
import { carve, formatCidr, overlaps, parseCidr, subnetCapacity } from "./cidr";
import type { EnvConfig } from "./schema";

/** How ephemeral envs are derived: data, in one place. */
export const EPHEMERAL = {
  /** The long-lived env an ephemeral one copies. */
  baseEnv: "dev",
  /** Names: pr-<number>. */
  namePattern: /^pr-[1-9][0-9]{0,6}$/,
  /** The range their VPCs are carved from (disjoint from 10.10/10.20/10.30: checked by validation). */
  cidrPool: "10.64.0.0/12",
  /** Each ephemeral VPC's size, and its subnets' (2 AZs need 4 of them). */
  prefixLength: 18,
  subnetPrefixLength: 22,
  /** Hours after which `promote env reap` destroys one. */
  ttlHours: 72,
} as const;

export interface EphemeralSpec {
  readonly name: string;
  readonly cidr: string;
}

/** The env config of an ephemeral env derived from `base`. */
export function deriveEphemeral(base: EnvConfig, spec: EphemeralSpec): EnvConfig {
  return {
    ...base,
    name: spec.name,
    ephemeralOf: base.name,
    stateBackend: { ...base.stateBackend, key: `ephemeral/${spec.name}/terraform.tfstate` },
    network: { ...base.network, cidr: spec.cidr, subnetPrefixLength: EPHEMERAL.subnetPrefixLength, natGateways: Math.min(1, base.network.natGateways) },
    // Nothing of an ephemeral env outlives it: no final snapshot, no deletion protection, no secret rotation.
    database: { ...base.database, deletionProtection: false, finalSnapshot: false },
    secrets: base.secrets.map((s) => ({ ...s, rotationDays: null })),
    secretRecoveryDays: 0,
    edge: null,
    dnsZone: `${spec.name}.${base.dnsZone}`,
    delivery: {
      promotesFrom: null,
      requireApproval: false,
      fourEyes: false,
      protectStateful: false,
      autoApply: true,
      planTtlHours: base.delivery.planTtlHours,
      approvals: { requireSigned: false, minApprovers: 0, approvers: [] },
    },
    tags: { ...base.tags, ephemeral: "true", "ephemeral-of": base.name },
  };
}

/** Parses `EPHEMERAL_ENVS` ("pr-12=10.64.0.0/18,pr-13=10.64.64.0/18"); throws naming what is malformed. */
export function parseEphemeralVar(text: string | undefined): EphemeralSpec[] {
  if (text === undefined || text.trim() === "") return [];
  return text.split(",").map((item) => {
    const m = /^\s*([^=\s]+)=([^\s]+)\s*$/.exec(item);
    if (!m) throw new Error(`EPHEMERAL_ENVS: expected "<name>=<cidr>" items separated by commas, but "${item}" was provided`);
    if (!EPHEMERAL.namePattern.test(m[1])) throw new Error(`EPHEMERAL_ENVS: an ephemeral env is named pr-<number>, but "${m[1]}" was provided`);
    return { name: m[1], cidr: m[2] };
  });
}

export function formatEphemeralVar(specs: readonly EphemeralSpec[]): string {
  return specs.map((s) => `${s.name}=${s.cidr}`).join(",");
}

/**
 * Every block of the pool that overlaps no long-lived env and none of `taken` (live ephemeral CIDRs, or
 * the claims of the shared registry), in pool order: what a claim tries, one after another.
 */
export function freeCidrs(longLived: readonly EnvConfig[], taken: readonly string[]): string[] {
  const pool = parseCidr(EPHEMERAL.cidrPool);
  if (typeof pool === "string") throw new Error(`EPHEMERAL.cidrPool must be ${pool}`);
  const used = [...longLived.map((e) => e.network.cidr), ...taken].map((c) => parseCidr(c)).filter((c) => typeof c !== "string");
  const free: string[] = [];
  for (let i = 0; i < subnetCapacity(pool, EPHEMERAL.prefixLength); i++) {
    const candidate = carve(pool, EPHEMERAL.prefixLength, i);
    if (!used.some((t) => overlaps(t, candidate))) free.push(formatCidr(candidate));
  }
  return free;
}

/** The first block of the pool that overlaps no long-lived env and no live ephemeral one. */
export function allocateCidr(longLived: readonly EnvConfig[], live: readonly EphemeralSpec[]): string {
  const free = freeCidrs(longLived, live.map((s) => s.cidr));
  if (free.length === 0) throw new Error(`no free /${EPHEMERAL.prefixLength} left in the ephemeral pool ${EPHEMERAL.cidrPool} (${live.length} live ephemeral envs): destroy or reap some`);
  return free[0];
}

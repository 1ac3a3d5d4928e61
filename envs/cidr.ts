/** IPv4 CIDR arithmetic: parsing, overlap and carving subnets. Pure, no dependencies. */

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/p`; returns an error string instead of throwing. */
export function parseCidr(text: string): Cidr | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return `an IPv4 CIDR such as 10.10.0.0/16, but "${text}" was provided`;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255)) return `octets of 0..255, but "${text}" was provided`;
  if (prefix > 32) return `a prefix length of 0..32, but /${prefix} was provided`;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  if ((base & mask(prefix)) >>> 0 !== base) {
    return `a network address aligned to /${prefix} (${formatIp((base & mask(prefix)) >>> 0)}/${prefix}), but "${text}" was provided`;
  }
  return { base, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

/** Number of addresses in a CIDR. */
export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** True when two ranges share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** How many subnets of `prefix` fit into `parent`. */
export function subnetCapacity(parent: Cidr, prefix: number): number {
  return prefix < parent.prefix ? 0 : 2 ** (prefix - parent.prefix);
}

/** The `index`-th subnet of length `prefix` inside `parent` (terraform's cidrsubnet). */
export function carve(parent: Cidr, prefix: number, index: number): Cidr {
  if (index < 0 || index >= subnetCapacity(parent, prefix)) {
    throw new Error(`${formatCidr(parent)} holds ${subnetCapacity(parent, prefix)} subnets of /${prefix}, index ${index} was asked for`);
  }
  return { base: (parent.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

/** The subnets of an environment's VPC: public ones first, then private ones, one of each per AZ. */
export function subnetLayout(vpcCidr: string, prefix: number, azCount: number): { public: string[]; private: string[] } {
  const parent = parseCidr(vpcCidr);
  if (typeof parent === "string") throw new Error(parent);
  const pick = (offset: number) =>
    Array.from({ length: azCount }, (_, i) => formatCidr(carve(parent, prefix, offset + i)));
  // Private subnets start in the upper half so that adding AZs never renumbers an existing subnet.
  const half = subnetCapacity(parent, prefix) / 2;
  return { public: pick(0), private: pick(half) };
}

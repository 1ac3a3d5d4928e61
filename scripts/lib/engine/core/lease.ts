/**
 * How `promote unlock <env>` names the env's lease (the shared store's one-plan-or-apply-per-env lease in
 * the env's lock table, store/lease-lock.ts): who held it, running what, where, since when, and whether it
 * had run out. Pure: the lease is given as data, the time as epoch ms.
 */

/** What a lease says of its holder (store/lease-lock.ts LeaseHolder has this shape). */
export interface LeaseView {
  readonly holder: string;
  readonly command: string;
  readonly host: string;
  /** ISO time the lease was taken. */
  readonly since: string;
  /** Epoch ms the lease runs out unless renewed. */
  readonly expiresAt: number;
}

/** "1 h 2 min", "3 min 4 s", "5 s": a duration in ms for people (rounded down to the second). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/** `alice running \`promote apply dev\` on host-1 since <iso>, lease until <iso> (runs out in 40 s | ran out 3 s ago)` */
export function describeLease(l: LeaseView, nowMs: number): string {
  const until = Number.isFinite(l.expiresAt) && l.expiresAt > 0 ? new Date(l.expiresAt).toISOString() : "?";
  const left = l.expiresAt - nowMs;
  const state = until === "?" ? "no expiry recorded" : left >= 0 ? `runs out in ${humanDuration(left)}` : `ran out ${humanDuration(-left)} ago`;
  return `${l.holder} running \`${l.command}\` on ${l.host} since ${l.since}, lease until ${until} (${state})`;
}

/**
 * The ephemeral envs' pure parts: the registry entry's schema, names, TTL, the `promote env list` table.
 * The registry itself (files, its lock, the CIDR claim) is io/ephemeral-registry.ts; the commands
 * (create, destroy, list, reap) are commands/ephemeral.ts.
 */
import { z } from "zod";
import { EPHEMERAL } from "../../../../envs";

export const entrySchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().regex(EPHEMERAL.namePattern),
    cidr: z.string(),
    createdAt: z.string().datetime(),
    /** Hours after createdAt when `promote env reap` destroys it. */
    ttlHours: z.number().positive(),
    createdBy: z.string(),
    /** The commit last applied (or being applied). */
    commit: z.string(),
    status: z.enum(["creating", "live", "destroying"]),
    updatedAt: z.string().datetime(),
  })
  .strict();

export type EphemeralEntry = z.infer<typeof entrySchema>;

const prNumber = (name: string): number => Number(name.replace(/^\D+/, ""));
/** Registry order: pr-2 before pr-10. */
export const byName = (a: { name: string }, b: { name: string }): number => prNumber(a.name) - prNumber(b.name) || a.name.localeCompare(b.name);

/** Null when the name is an ephemeral env's, else what is wrong with it. */
export function nameProblem(name: string): string | null {
  return EPHEMERAL.namePattern.test(name) ? null : `an ephemeral env is named pr-<number> (${EPHEMERAL.namePattern.source}), but "${name}" was given`;
}

export interface TtlState {
  readonly ageHours: number;
  /** Negative once expired. */
  readonly leftHours: number;
  readonly expired: boolean;
}

export function ttlState(entry: Pick<EphemeralEntry, "createdAt" | "ttlHours">, now: Date): TtlState {
  const ageHours = (now.getTime() - Date.parse(entry.createdAt)) / 3_600_000;
  const leftHours = entry.ttlHours - ageHours;
  return { ageHours, leftHours, expired: leftHours <= 0 };
}

/** The entries `promote env reap` destroys at `now`: older than their TTL, whatever their status. */
export function dueForReap(entries: readonly EphemeralEntry[], now: Date): EphemeralEntry[] {
  return entries.filter((e) => ttlState(e, now).expired);
}

/** 3d 04h, 5h 07m, 42m (rounded down to the minute; a negative duration is shown by its size). */
export function formatHours(hours: number): string {
  const minutes = Math.floor(Math.abs(hours) * 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return d > 0 ? `${d}d ${pad(h)}h` : h > 0 ? `${h}h ${pad(m)}m` : `${m}m`;
}

/** The table of `promote env list`. */
export function formatEphemeralList(entries: readonly EphemeralEntry[], now: Date): string {
  if (entries.length === 0) return "no ephemeral environments\n";
  const rows = [
    ["NAME", "STATUS", "CIDR", "AGE", "TTL LEFT", "CREATED BY", "COMMIT"],
    ...[...entries].sort(byName).map((e) => {
      const t = ttlState(e, now);
      return [e.name, e.status, e.cidr, formatHours(t.ageHours), t.expired ? `expired ${formatHours(t.leftHours)} ago` : formatHours(t.leftHours), e.createdBy, e.commit.slice(0, 12)];
    }),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n")}\n`;
}

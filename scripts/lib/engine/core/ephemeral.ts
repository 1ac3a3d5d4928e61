/**
 * The ephemeral envs' pure parts: the registry entry's schema and its transitions (what a create may do
 * with the entry it finds: decideClaim), names, TTL, the `promote env list` table. The registries (the
 * local folder, or the base env's store: io/ephemeral-registry.ts, io/ephemeral-store.ts) keep entries;
 * the commands (create, destroy, list, reap) are commands/ephemeral.ts.
 */
import { z } from "zod";
import { EPHEMERAL, allocateCidr, type EnvConfig, type EphemeralSpec } from "../../../../envs";
import { RefusalError, refusal } from "./errors";
import { fixFor } from "./rules";

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
    /**
     * destroyed: only in the shared store, whose bucket never deletes: an entry's last version after its
     * destroy (a later create of the name writes over it). Registries read and list it as absent.
     */
    status: z.enum(["creating", "live", "destroying", "destroyed"]),
    updatedAt: z.string().datetime(),
  })
  .strict();

export type EphemeralEntry = z.infer<typeof entrySchema>;

/** An entry that counts (null for none, or a destroyed one). */
export const presentEntry = (e: EphemeralEntry | null): EphemeralEntry | null => (e === null || e.status === "destroyed" ? null : e);

export interface ClaimAsk {
  readonly name: string;
  readonly by: string;
  readonly commit: string;
  readonly ttlHours: number;
  /** --update: a live one is updated instead of refused. */
  readonly update: boolean;
  readonly now: Date;
}

/**
 * What a create does with the entry the registry has for its name: "new" (none: claim a CIDR), "resume"
 * (a failed or interrupted create's, whoever started it: same CIDR), "update" (a live one, --update);
 * refuses EPHEMERAL-EXISTS otherwise (live without --update, or being destroyed).
 */
export function decideClaim(existing: EphemeralEntry | null, ask: Pick<ClaimAsk, "name" | "update">): "new" | "resume" | "update" {
  const e = presentEntry(existing);
  if (e === null) return "new";
  if (e.status === "creating") return "resume";
  if (e.status === "live" && ask.update) return "update";
  throw new RefusalError(
    refusal(
      "EPHEMERAL-EXISTS",
      ask.update ? `"${ask.name}" absent, creating or live (--update)` : `no live "${ask.name}" in the registry`,
      `${e.name} ${e.status} (${e.cidr}, created ${e.createdAt} by ${e.createdBy})`,
      fixFor("EPHEMERAL-EXISTS", ask.name),
    ),
  );
}

/** A new entry (status creating) holding `cidr`. */
export function newEntry(ask: ClaimAsk, cidr: string): EphemeralEntry {
  const now = ask.now.toISOString();
  return entrySchema.parse({ schemaVersion: 1, name: ask.name, cidr, createdAt: now, ttlHours: ask.ttlHours, createdBy: ask.by, commit: ask.commit, status: "creating", updatedAt: now });
}

/** A resumed or updated entry: same CIDR, creation and TTL; the commit being applied. */
export const claimedAgain = (e: EphemeralEntry, ask: ClaimAsk): EphemeralEntry => ({ ...e, commit: ask.commit, updatedAt: ask.now.toISOString() });

/** After a successful apply: live, unless a destroy began (or ended) meanwhile. */
export function liveEntry(e: EphemeralEntry, commit: string, now: Date): EphemeralEntry {
  return { ...e, commit, status: e.status === "destroying" || e.status === "destroyed" ? e.status : "live", updatedAt: now.toISOString() };
}

export const withStatus = (e: EphemeralEntry, status: EphemeralEntry["status"], now: Date): EphemeralEntry => ({ ...e, status, updatedAt: now.toISOString() });

/**
 * The EPHEMERAL_ENVS a destroy of `name` synthesizes with: the registry's envs, and `name` with the CIDR
 * it holds (its entry's, or a claim a create left without one) or any free one when it holds none (a
 * destroy plan reads the state, not the configuration).
 */
export function destroySpecs(longLived: readonly EnvConfig[], live: readonly EphemeralSpec[], name: string, held: string | null): EphemeralSpec[] {
  if (live.some((s) => s.name === name)) return [...live];
  return [...live, { name, cidr: held ?? allocateCidr(longLived, live) }];
}

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

/**
 * How many instances an autoscaling group runs on average over a week, given its scheduled actions
 * (the off-hours cost control). Pure: the week is simulated hour by hour from the actions' cron
 * recurrences (5 fields; day-of-month and month must be `*`), twice, so that the second week starts
 * in the state the first one left. Time zones do not matter for a weekly average.
 */

export interface ScheduledAction {
  /** 5-field cron: minute hour day-of-month month day-of-week. */
  readonly recurrence: string;
  /** Desired capacity from that time on. */
  readonly desiredCapacity: number;
}

export interface WeeklyProfile {
  /** Average desired capacity over the week. */
  readonly averageCapacity: number;
  /** Hours per week at each capacity, highest capacity first. */
  readonly hoursAt: ReadonlyArray<{ readonly capacity: number; readonly hours: number }>;
}

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** The values one cron field allows, or an error string. */
function field(text: string, min: number, max: number, names: readonly string[] = []): Set<number> | string {
  const out = new Set<number>();
  const value = (t: string): number => {
    const i = names.indexOf(t.toUpperCase());
    return i >= 0 ? i : Number(t);
  };
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === "*") {
      [lo, hi] = [min, max];
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      [lo, hi] = [value(a), value(b)];
    } else {
      lo = hi = value(range);
    }
    if (![lo, hi, step].every(Number.isInteger) || step < 1 || lo < min || hi > max || lo > hi) {
      return `"${part}" is not a value of ${min}..${max}`;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** When a recurrence fires in a week: a set of `day * 24 + hour` (day 0 = Sunday). */
export function firingHours(recurrence: string): Set<number> | string {
  const parts = recurrence.trim().split(/\s+/);
  if (parts.length !== 5) return `expected 5 cron fields, found ${parts.length} in "${recurrence}"`;
  const [minute, hour, dom, month, dow] = parts;
  if (dom !== "*" || month !== "*") return `only weekly recurrences are modelled (day-of-month and month "*"), found "${recurrence}"`;
  const minutes = field(minute, 0, 59);
  const hours = field(hour, 0, 23);
  const days = field(dow, 0, 7, DAY_NAMES);
  for (const f of [minutes, hours, days]) if (typeof f === "string") return `${f} in "${recurrence}"`;
  const out = new Set<number>();
  for (const d of days as Set<number>) for (const h of hours as Set<number>) out.add((d % 7) * 24 + h);
  return out;
}

/** The weekly profile of a group that runs `regular` instances and changes size on `actions`. */
export function weeklyProfile(regular: number, actions: readonly ScheduledAction[]): WeeklyProfile | string {
  const firing: Array<{ hours: Set<number>; capacity: number }> = [];
  for (const a of actions) {
    const hours = firingHours(a.recurrence);
    if (typeof hours === "string") return hours;
    firing.push({ hours, capacity: a.desiredCapacity });
  }
  let capacity = regular;
  const hoursAt = new Map<number, number>();
  for (let h = 0; h < 2 * 168; h++) {
    for (const f of firing) if (f.hours.has(h % 168)) capacity = f.capacity;
    if (h >= 168) hoursAt.set(capacity, (hoursAt.get(capacity) ?? 0) + 1);
  }
  const sorted = [...hoursAt.entries()].sort((a, b) => b[0] - a[0]).map(([c, hours]) => ({ capacity: c, hours }));
  const averageCapacity = sorted.reduce((s, x) => s + x.capacity * x.hours, 0) / 168;
  return { averageCapacity, hoursAt: sorted };
}

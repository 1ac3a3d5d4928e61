/** The off-hours model: average instance count over a week from scheduled actions' cron recurrences. */
import { firingHours, weeklyProfile } from "../../scripts/lib/cost/schedule";

describe("weeklyProfile", () => {
  it("dev's schedule: down at 19:00 and up at 07:00 Mon-Fri leaves 60 of 168 hours at full size", () => {
    const p = weeklyProfile(1, [
      { recurrence: "0 19 * * MON-FRI", desiredCapacity: 0 },
      { recurrence: "0 7 * * MON-FRI", desiredCapacity: 1 },
    ]);
    expect(p).toEqual({ averageCapacity: 60 / 168, hoursAt: [{ capacity: 1, hours: 60 }, { capacity: 0, hours: 108 }] });
  });

  it("staging's schedule: Friday 20:00 to Monday 06:00 at one instance", () => {
    const p = weeklyProfile(2, [
      { recurrence: "0 20 * * FRI", desiredCapacity: 1 },
      { recurrence: "0 6 * * MON", desiredCapacity: 2 },
    ]);
    expect(p).toEqual({ averageCapacity: (2 * 110 + 58) / 168, hoursAt: [{ capacity: 2, hours: 110 }, { capacity: 1, hours: 58 }] });
  });

  it("no actions: the regular size all week", () => {
    expect(weeklyProfile(4, [])).toEqual({ averageCapacity: 4, hoursAt: [{ capacity: 4, hours: 168 }] });
  });

  it("refuses what it does not model, saying why", () => {
    expect(weeklyProfile(1, [{ recurrence: "0 19 1 * *", desiredCapacity: 0 }])).toBe(
      'only weekly recurrences are modelled (day-of-month and month "*"), found "0 19 1 * *"',
    );
    expect(weeklyProfile(1, [{ recurrence: "0 25 * * *", desiredCapacity: 0 }])).toBe('"25" is not a value of 0..23 in "0 25 * * *"');
    expect(weeklyProfile(1, [{ recurrence: "0 19 * *", desiredCapacity: 0 }])).toBe('expected 5 cron fields, found 4 in "0 19 * *"');
  });
});

describe("firingHours", () => {
  it("reads names, numbers (0 and 7 are Sunday), ranges, lists and steps", () => {
    expect([...(firingHours("30 9 * * SUN") as Set<number>)]).toEqual([9]);
    expect([...(firingHours("0 9 * * 7") as Set<number>)]).toEqual([9]);
    expect([...(firingHours("0 0,12 * * 1") as Set<number>)].sort((a, b) => a - b)).toEqual([24, 36]);
    expect((firingHours("0 */6 * * *") as Set<number>).size).toBe(28);
  });
});

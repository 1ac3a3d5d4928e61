/** inBatches (engine/core/batches.ts): the store's reads run at most `size` at once, results in order. */
import { inBatches } from "../../scripts/lib/engine/core/batches";

describe("inBatches", () => {
  it("runs at most `size` at once and keeps the items' order, whatever order they finish in", async () => {
    let running = 0;
    let most = 0;
    const out = await inBatches([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });

  it("no items: no call; a failure rejects", async () => {
    expect(await inBatches([], 4, async () => { throw new Error("never called"); })).toEqual([]);
    await expect(inBatches([1, 2], 2, async (n) => { if (n === 2) throw new Error("two"); return n; })).rejects.toThrow("two");
  });
});

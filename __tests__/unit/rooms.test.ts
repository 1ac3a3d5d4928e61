/**
 * The rooms' import rules (ARCHITECTURE.md): config and infrastructure code never reach into the engine
 * (synth of a checkout reads only envs/, constructs/, stacks/, main.ts), and inside the engine arrows run
 * one way: commands → io → core; core does no I/O (no node:fs, no processes, no network). Beside the engine,
 * the rooms of scripts/lib/ (plan, policy, cost, review, store, the engine's three) import each other
 * without a cycle: cost/command.ts once took its terraform runner from review/, which imports cost/.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(f) ? [p] : [];
  });
}

/** Every module specifier a file imports (static, dynamic or require). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import|require\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
}

/** Every relative import of a file, resolved to a path below the project root. */
function importsOf(file: string): string[] {
  return specifiersOf(file)
    .filter((s) => s.startsWith("."))
    .map((s) => relative(ROOT, resolve(join(file, ".."), s)));
}

/** The room of a path below scripts/lib/: engine/core, engine/io, engine/commands, plan, cost, ...; null outside. */
function roomOf(path: string): string | null {
  const m = /^scripts\/lib\/(engine\/[^/]+|[^/.]+)(?:\/|$)/.exec(path);
  return m ? m[1].replace(/^engine\/.*\.(?:ts|js|md)$/, "engine") : null;
}

/** A cycle of the graph as "a -> b -> a", or null when it has none. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string): string | null => {
    if (state.get(n) === "done") return null;
    if (state.get(n) === "open") return [...path.slice(path.indexOf(n)), n].join(" -> ");
    state.set(n, "open");
    path.push(n);
    for (const m of [...(graph.get(n) ?? [])].sort()) {
      const c = visit(m);
      if (c !== null) return c;
    }
    path.pop();
    state.set(n, "done");
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    const c = visit(n);
    if (c !== null) return c;
  }
  return null;
}

/** Which room of scripts/lib/ imports which (a file's imports of its own room left out). */
function roomGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const f of sources(join(ROOT, "scripts/lib"))) {
    const from = roomOf(relative(ROOT, f));
    if (from === null) continue;
    for (const i of importsOf(f)) {
      const to = roomOf(i);
      if (to === null || to === from) continue;
      graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

describe("rooms: who may import whom", () => {
  it.each(["envs", "constructs", "stacks"])("%s/ imports nothing of scripts/ but the pinned toolchain versions", (room) => {
    const offenders = sources(join(ROOT, room)).flatMap((f) =>
      importsOf(f).filter((i) => i.startsWith("scripts/") && i !== "scripts/toolchain.json").map((i) => `${relative(ROOT, f)} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  const engine = join(ROOT, "scripts/lib/engine");
  const upward: Record<string, string[]> = { core: ["scripts/lib/engine/io", "scripts/lib/engine/commands"], io: ["scripts/lib/engine/commands"] };
  it.each(Object.keys(upward))("engine/%s/ imports no room above it", (room) => {
    const offenders = sources(join(engine, room)).flatMap((f) =>
      importsOf(f).filter((i) => upward[room].some((u) => i === u || i.startsWith(`${u}/`))).map((i) => `${relative(ROOT, f)} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it("engine/core/ does no I/O: it imports no file system, process, network or terminal module", () => {
    const io = /^(?:node:)?(?:fs|fs\/promises|child_process|net|http|https|dgram|dns|tls|readline|worker_threads)$/;
    const offenders = sources(join(engine, "core")).flatMap((f) =>
      specifiersOf(f)
        .filter((s) => io.test(s))
        .map((s) => `${relative(ROOT, f)} -> ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it("the rooms of scripts/lib/ import each other without a cycle", () => {
    const graph = roomGraph();
    // The graph is the real one: it sees the engine's rooms and the readers beside them.
    expect([...(graph.get("engine/commands") ?? [])]).toEqual(expect.arrayContaining(["engine/core", "engine/io"]));
    expect([...(graph.get("review") ?? [])]).toEqual(expect.arrayContaining(["cost", "engine/io"]));
    expect(findCycle(graph)).toBeNull();
  });

  it("cost/ imports nothing of review/ (its plan JSON comes from engine/io/plan-show.ts)", () => {
    expect(roomGraph().get("cost")?.has("review") ?? false).toBe(false);
  });

  it("findCycle finds a cycle and names it, and passes a graph without one", () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    expect(findCycle(g({ cost: ["review", "engine/io"], review: ["cost"], "engine/io": [] }))).toBe("cost -> review -> cost");
    expect(findCycle(g({ a: ["b"], b: ["c"], c: ["a"] }))).toBe("a -> b -> c -> a");
    expect(findCycle(g({ review: ["cost", "plan"], cost: ["plan"], plan: [] }))).toBeNull();
  });
});

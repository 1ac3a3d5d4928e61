/**
 * The rooms' import rules (ARCHITECTURE.md): config and infrastructure code never reach into the engine
 * (synth of a checkout reads only envs/, constructs/, stacks/, main.ts), and inside the engine arrows run
 * one way: commands → io → core; core does no I/O through the engine's io room.
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

/** Every relative import of a file, resolved to a path below the project root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import|require\()\s*["'](\.[^"']+)["']/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(join(file, ".."), s)));
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
});

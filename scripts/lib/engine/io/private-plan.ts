/**
 * The engine's private copy of a plan being applied: outside the bundle folder, in
 * `<PROMOTE_HOME>/_private/<env>/<bundle id>.<pid>-<random>/` (folders 0700, file 0400), where no
 * other tool of the project reads or writes. The copy is hashed right before terraform runs and again
 * after: terraform is handed this file only, so nothing done to the bundle folder (or a store) after the
 * last check changes what is applied, and a change of the copy itself is reported (APPLY-INCIDENT).
 * Beside it the terraform guard records how terraform ended (terraform-exit.json): an apply whose engine
 * died leaves the folder, and `promote complete` reads it.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "./files";
import type { EnginePaths } from "./paths";

export const PRIVATE_DIR = "_private";
export const PRIVATE_PLAN = "plan.tfplan";
export const EXIT_RECORD = "terraform-exit.json";

export interface PrivatePlan {
  readonly dir: string;
  readonly file: string;
  readonly exitFile: string;
  /** SHA-256 of the copy now (null: it is gone). */
  sha256(): string | null;
  remove(): void;
}

export function privateRoot(paths: EnginePaths, env: string): string {
  return join(paths.plansDir, PRIVATE_DIR, env);
}

/** Writes the bundle's plan bytes (read through the BundleStore; null: the bundle has none) into a new private folder. */
export function privateCopy(paths: EnginePaths, env: string, bundleId: string, bytes: Buffer | null): PrivatePlan {
  const root = privateRoot(paths, env);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  chmodSync(join(paths.plansDir, PRIVATE_DIR), 0o700);
  chmodSync(root, 0o700);
  const dir = join(root, `${bundleId}.${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(dir, { mode: 0o700 });
  const file = join(dir, PRIVATE_PLAN);
  if (bytes !== null) writeFileSync(file, bytes, { mode: 0o400, flag: "wx" });
  return {
    dir,
    file,
    exitFile: join(dir, EXIT_RECORD),
    sha256: () => sha256File(file),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The private folders an apply of this bundle left behind (its engine died), newest last. */
export function leftBehind(paths: EnginePaths, env: string, bundleId: string): string[] {
  const root = privateRoot(paths, env);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => n.startsWith(`${bundleId}.`))
    .map((n) => join(root, n))
    .sort();
}

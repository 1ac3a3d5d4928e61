/**
 * A plan bundle on disk: plans/<env>/<id>/ with plan.tfplan (0600), manifest.json, summary.txt and,
 * later, approval.json and applied.json. Bundles are written into a hidden temporary folder and
 * renamed into place when complete, so a half-written bundle is never seen. Commands write bundle files
 * through the BundleStore seam (store.ts); these readers are the local store's.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "./files";
import { stamp } from "./ledger";
import { envPlansDir, type EnginePaths } from "./paths";

export const FILES = {
  plan: "plan.tfplan",
  manifest: "manifest.json",
  summary: "summary.txt",
  policy: "policy.json",
  approval: "approval.json",
  applied: "applied.json",
} as const;

/** A bundle id as the engine makes them (and the only ones a store accepts). */
export const BUNDLE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface BundleFiles {
  readonly manifestText: string | null;
  readonly planFileSha256: string | null;
  readonly approvalText: string | null;
  readonly appliedText: string | null;
  /** policy.json's text, or null when it does not exist. */
  readonly policyText: string | null;
}

const readOrNull = (path: string): string | null => (existsSync(path) ? readFileSync(path, "utf8") : null);

/** The bundle's files as they are now (the plan file hashed, never read into a string). */
export function readBundle(dir: string, planFile: string = join(dir, FILES.plan)): BundleFiles {
  return {
    manifestText: readOrNull(join(dir, FILES.manifest)),
    planFileSha256: sha256File(planFile),
    approvalText: readOrNull(join(dir, FILES.approval)),
    appliedText: readOrNull(join(dir, FILES.applied)),
    policyText: readOrNull(join(dir, FILES.policy)),
  };
}

/** A new bundle id: sortable by time, naming the commit. */
export function newBundleId(at: Date, commit: string): string {
  return `${stamp(at)}-${commit.slice(0, 10)}-${randomBytes(2).toString("hex")}`;
}

/** The env's bundle ids, oldest first. */
export function listBundles(paths: EnginePaths, env: string): string[] {
  const dir = envPlansDir(paths, env);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
}

/** A bundle's folder: the named one, or the env's newest; null when there is none. */
export function findBundle(paths: EnginePaths, env: string, id?: string): string | null {
  if (id !== undefined) {
    if (!BUNDLE_ID_PATTERN.test(id)) return null;
    const dir = join(envPlansDir(paths, env), id);
    return existsSync(dir) ? dir : null;
  }
  const last = listBundles(paths, env).slice(-1)[0];
  return last === undefined ? null : join(envPlansDir(paths, env), last);
}

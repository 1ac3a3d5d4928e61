/**
 * Where plan bundles are kept: the seam between the commands and the storage. A bundle is a set of named
 * files (FILES in bundle.ts) under <env>/<id>. Every operation is async so a remote store (S3) can
 * implement the same interface; LocalBundleStore (plans/<env>/<id>/ on disk) is today's store.
 *
 * Guarantees an implementation must give:
 * - `publish` makes a complete bundle appear at once: `list` never shows a half-written bundle.
 * - `create` is create-only: of two concurrent creates of one file exactly one returns true (the
 *   applied record and the approval rely on it; S3: If-None-Match: *).
 * - ids match BUNDLE_ID_PATTERN (bundle.ts); file names are the FILES values, or one approver's signed
 *   approval `<principal>.approval.json` (several per bundle; readers list them: io/signatures.ts).
 */
import { SIGNED_APPROVAL_FILE } from "../core/approval-statement";
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE_ID_PATTERN, listBundles } from "./bundle";
import { envPlansDir, type EnginePaths } from "./paths";

/** One approver's signed approval: `<principal>.approval.json` (core/approval-statement.ts approvalFileName). */
export type SignedApprovalFileName = `${string}.approval.json`;

export type BundleFileName = "plan.tfplan" | "manifest.json" | "summary.txt" | "policy.json" | "approval.json" | "applied.json" | SignedApprovalFileName;


function checkFileName(file: string): void {
  const fixed = ["plan.tfplan", "manifest.json", "summary.txt", "policy.json", "approval.json", "applied.json"];
  if (!fixed.includes(file) && !SIGNED_APPROVAL_FILE.test(file)) throw new Error(`not a bundle file name: ${JSON.stringify(file)}`);
}

export interface BundleStore {
  /** Where the env's bundles are, for messages: a folder, or a URL such as s3://bucket/prefix/<env>. */
  location(env: string): string;
  /** The local folder holding the bundle (the local store's own folder, or the S3 store's cache copy). */
  dir(env: string, id: string): string;
  /** The env's complete bundle ids, oldest first. */
  list(env: string): Promise<string[]>;
  /** A bundle's file, or null when the bundle or the file does not exist. */
  read(env: string, id: string, file: BundleFileName): Promise<Buffer | null>;
  /** Writes (or replaces) a file of an existing bundle, atomically: a reader sees the old or the new bytes. */
  write(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<void>;
  /** Writes a file only when it does not exist yet: true when written, false when it already existed. */
  create(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<boolean>;
  /** Removes a file of a bundle (a claim withdrawn); no error when it is absent. */
  remove(env: string, id: string, file: BundleFileName): Promise<void>;
  /** Makes the complete bundle in the local folder `fromDir` the bundle <env>/<id>, all at once. */
  publish(env: string, id: string, fromDir: string): Promise<void>;
  /**
   * The env's complete bundle ids (list's rule) that may have an applied record (every one that has one is
   * among them), oldest first, found by listing rather than by reading each bundle. Absent: list, each read.
   */
  listApplied?(env: string): Promise<string[]>;
}

/** Bundles as folders: <plansDir>/<env>/<id>/<file>. Files 0644, plan files 0600. */
export class LocalBundleStore implements BundleStore {
  constructor(private readonly paths: EnginePaths) {}

  location(env: string): string {
    return envPlansDir(this.paths, env);
  }

  /** The bundle's folder (local stores only: terraform reads the plan file from it). */
  dir(env: string, id: string): string {
    if (!BUNDLE_ID_PATTERN.test(id)) throw new Error(`not a bundle id: ${JSON.stringify(id)}`);
    return join(envPlansDir(this.paths, env), id);
  }

  async list(env: string): Promise<string[]> {
    return listBundles(this.paths, env);
  }

  async read(env: string, id: string, file: BundleFileName): Promise<Buffer | null> {
    checkFileName(file);
    const path = join(this.dir(env, id), file);
    return existsSync(path) ? readFileSync(path) : null;
  }

  async write(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<void> {
    checkFileName(file);
    const path = join(this.dir(env, id), file);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: file === "plan.tfplan" ? 0o600 : 0o644 });
    renameSync(tmp, path);
  }

  async create(env: string, id: string, file: BundleFileName, data: string | Buffer): Promise<boolean> {
    checkFileName(file);
    try {
      writeFileSync(join(this.dir(env, id), file), data, { flag: "wx", mode: file === "plan.tfplan" ? 0o600 : 0o644 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
  }

  async remove(env: string, id: string, file: BundleFileName): Promise<void> {
    checkFileName(file);
    try {
      unlinkSync(join(this.dir(env, id), file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  async publish(env: string, id: string, fromDir: string): Promise<void> {
    const target = this.dir(env, id);
    mkdirSync(envPlansDir(this.paths, env), { recursive: true, mode: 0o700 });
    renameSync(fromDir, target);
  }
}

/**
 * What the engine recorded, read where it keeps it: each env's store (the default, PROMOTE_STORE unset
 * or s3) or the local folder (PROMOTE_STORE=local). Tests assert on these, never on a cache.
 *
 *   await auditRecords(vars, "dev")                         // the env's audit records, in order
 *   await putStoreApproval(vars, "prod", id, "approval.json", text)   // what someone with store write access can do
 *   await recordStoreApply(vars, "staging", commit)         // the applied record a real staging apply leaves
 *   await ephemeralRecords(vars)                            // the ephemeral registry in dev's store: entries and CIDR claims
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EPHEMERAL, getEnvironment, loadEnvironments } from "../../envs";
import type { AuditRecord } from "../../scripts/lib/engine/core/audit-record";
import { storeKind } from "../../scripts/lib/engine/io/s3-store";
import { cidrClaims, openEnvStore, type EnvStore } from "../../scripts/lib/store";
import { MARKER_FILE } from "../../scripts/lib/store/bundle-store";

/** Runs `fn` with the env's store opened as its deploy role (the emulator's, from `vars`), then closes it. */
export async function withEnvStore<T>(vars: NodeJS.ProcessEnv, env: string, fn: (store: EnvStore) => Promise<T>): Promise<T> {
  const store = await openEnvStore(getEnvironment(env, loadEnvironments(undefined, vars)), { vars, sessionName: "integration-test" });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** The env's audit records in seq order: from its store, or the local `<PROMOTE_AUDIT_DIR|PROMOTE_HOME/_audit>/<env>.jsonl`. */
export async function auditRecords(vars: NodeJS.ProcessEnv, env: string): Promise<AuditRecord[]> {
  if (storeKind(vars) === "s3") return withEnvStore(vars, env, (s) => s.audit.records());
  const dir = vars.PROMOTE_AUDIT_DIR || join(vars.PROMOTE_HOME ?? "plans", "_audit");
  const file = join(dir, `${env}.jsonl`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord) : [];
}

/** Writes an approval record into a bundle of the env's store (create-only), as anyone with write access to the store bucket could. */
export async function putStoreApproval(vars: NodeJS.ProcessEnv, env: string, bundleId: string, file: string, text: string): Promise<void> {
  await withEnvStore(vars, env, async (s) => {
    await s.bundles.putApproval(bundleId, text, file);
  });
}

/**
 * The records a succeeded, clean apply of `commit` leaves in the env's store (a bundle whose manifest
 * names the commit, its create-only applied claim, its status "succeeded" and its outcome): what the
 * promotion gate of the next env reads. For tests whose subject is a later env; writing them needs the env's deploy role.
 */
export async function recordStoreApply(vars: NodeJS.ProcessEnv, env: string, commit: string, now = new Date()): Promise<string> {
  const id = `${now.toISOString().replace(/[-:]/g, "").replace(/\.(\d{3})Z$/, "$1Z")}-recorded`;
  await withEnvStore(vars, env, async (s) => {
    const manifest = { schemaVersion: 1, id, env, git: { commit, dirty: false }, recordedBy: "integration-test" };
    await s.bundles.putBundle(id, { "manifest.json": `${JSON.stringify(manifest, null, 2)}\n` });
    await s.bundles.markApplied({ schemaVersion: 1, env, bundleId: id, commit, planSha256: "0".repeat(64), appliedAt: now.toISOString(), by: "integration-test", host: "integration-test" });
    const status = { schemaVersion: 1, status: "succeeded", planSha256: "0".repeat(64), appliedBy: "integration-test", startedAt: now.toISOString(), finishedAt: now.toISOString(), stateAfter: null, ledgerTag: null };
    await s.bundles.bucket.put(`bundles/${id}/applied.json`, `${JSON.stringify(status, null, 2)}\n`, { kmsKeyArn: s.kmsKeyArn });
    await s.bundles.markOutcome({ schemaVersion: 1, env, bundleId: id, commit, status: "succeeded", dirty: false, at: now.toISOString() });
  });
  return id;
}

/**
 * Rewrites one file of a complete bundle in the env's store, as someone with write access to the store
 * bucket could: a new version of the file and a new version of the commit marker that vouches for it.
 * The store keeps every version, so the bundle is refused from then on (BUNDLE-INCOMPLETE: a file with
 * another version than the one it was completed with).
 */
export async function tamperStoreFile(vars: NodeJS.ProcessEnv, env: string, bundleId: string, file: string, mutate: (bytes: Buffer) => Buffer): Promise<void> {
  await withEnvStore(vars, env, async (s) => {
    const marker = await s.bundles.bucket.get(`bundles/${bundleId}/${MARKER_FILE}`);
    if (marker === null) throw new Error(`bundle ${env}/${bundleId} has no commit marker in the store`);
    const body = mutate(Buffer.from(await s.bundles.readFile(bundleId, file)));
    const versionId = await s.bundles.bucket.put(`bundles/${bundleId}/${file}`, body, { kmsKeyArn: s.kmsKeyArn });
    const m = JSON.parse(marker.body.toString("utf8")) as { files: Record<string, { sha256: string; size: number; versionId: string }> };
    m.files[file] = { sha256: createHash("sha256").update(body).digest("hex"), size: body.length, versionId };
    await s.bundles.bucket.put(`bundles/${bundleId}/${MARKER_FILE}`, JSON.stringify(m, null, 2), { kmsKeyArn: s.kmsKeyArn });
  });
}

/** Copies a complete bundle of one env's store into another env's store under the same id (what an attacker with write access to both could do). */
export async function copyStoreBundle(vars: NodeJS.ProcessEnv, fromEnv: string, toEnv: string, bundleId: string): Promise<void> {
  const { files } = await withEnvStore(vars, fromEnv, (s) => s.bundles.readBundle(bundleId));
  await withEnvStore(vars, toEnv, (s) => s.bundles.putBundle(bundleId, files));
}

export interface EphemeralRecords {
  /** Each `ephemeral/<name>.json` of the base env's store bucket, its latest version as written (status "destroyed" included). */
  readonly entries: Record<string, { name: string; cidr: string; status: string; createdBy: string; commit: string; ttlHours: number }>;
  /** The CIDR claims of the base env's lock table: owner -> CIDRs it holds. */
  readonly claims: Record<string, string[]>;
}

/** The ephemeral registry where the store keeps it: entries in the base env's (dev's) store bucket, CIDR claims in its lock table. */
export async function ephemeralRecords(vars: NodeJS.ProcessEnv): Promise<EphemeralRecords> {
  const base = EPHEMERAL.baseEnv;
  const entries: Record<string, EphemeralRecords["entries"][string]> = {};
  await withEnvStore(vars, base, async (s) => {
    for (const key of await s.bundles.bucket.listKeys("ephemeral/")) {
      const got = await s.bundles.bucket.get(key);
      if (got !== null) entries[key.replace(/^ephemeral\/|\.json$/g, "")] = JSON.parse(got.body.toString("utf8"));
    }
  });
  const claimsTable = cidrClaims(getEnvironment(base, loadEnvironments(undefined, { ...vars, EPHEMERAL_ENVS: "" })), { vars, sessionName: "integration-test" });
  try {
    const claims: Record<string, string[]> = {};
    for (const c of await claimsTable.list()) claims[c.owner] = [...(claims[c.owner] ?? []), c.cidr];
    return { entries, claims };
  } finally {
    claimsTable.clients.destroy();
  }
}

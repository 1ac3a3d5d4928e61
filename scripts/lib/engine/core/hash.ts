/** SHA-256 of bytes and files, and the canonical JSON the audit chain hashes. */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The file's SHA-256, or null when it does not exist. */
export function sha256File(path: string): string | null {
  return existsSync(path) ? sha256(readFileSync(path)) : null;
}

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

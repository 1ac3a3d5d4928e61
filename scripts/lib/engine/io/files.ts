/** File hashing (I/O, so here and not in core/hash.ts, which hashes bytes it is given). */
import { existsSync, readFileSync } from "node:fs";
import { sha256 } from "../core/hash";

/** The file's SHA-256, or null when it does not exist. */
export function sha256File(path: string): string | null {
  return existsSync(path) ? sha256(readFileSync(path)) : null;
}

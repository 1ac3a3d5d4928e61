/**
 * What a saved plan file says of the state it was planned against. terraform's plan file is a zip; its
 * entry `tfstate` is the prior state with the serial and lineage of the backend's snapshot the plan read,
 * the very pair terraform checks at apply ("Saved plan is stale"). Read from the plan's own bytes (the
 * ones hashed and applied) it needs no second terraform process beside the plan, and no read of the
 * backend that could see a different snapshot than the plan did.
 */
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import type { StateIdentity } from "../core/facts";
import { EngineError } from "../core/errors";
import { parseStatePull } from "./terraform";

/** The zip entry holding the plan's prior state (terraform's internal/plans/planfile). */
const PRIOR_STATE_ENTRY = "tfstate";

/** The prior state's serial and lineage recorded in the plan file; null when the plan was made with no state. */
export function planPriorState(file: string): StateIdentity | null {
  const entry = zipEntry(readFileSync(file), PRIOR_STATE_ENTRY);
  if (entry === null) throw new EngineError(`${file}: not a terraform plan file with a prior state (no "${PRIOR_STATE_ENTRY}" entry)`);
  try {
    return parseStatePull(entry.toString("utf8"));
  } catch (e) {
    throw new EngineError(`${file}: the plan's prior state is unreadable (${(e as Error).message})`);
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * One entry of a zip archive by name (stored or deflated), found through the central directory (the
 * sizes there are right even when the writer streamed its entries, as Go's archive/zip does); null when
 * the archive has no such entry. An archive this cannot read is an error naming why.
 */
export function zipEntry(zip: Buffer, name: string): Buffer | null {
  const bad = (why: string) => new EngineError(`not a readable zip archive: ${why}`);
  // The end-of-central-directory record: 22 bytes, then a comment of up to 65535.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad("no end of central directory");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw bad("zip64 archives are not read");
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) throw bad(`central directory entry ${n} out of place`);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entryName = zip.toString("utf8", at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (entryName !== name) continue;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL) throw bad(`local header of ${name} out of place`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    if (start + size > zip.length) throw bad(`${name} runs past the end of the archive`);
    const data = zip.subarray(start, start + size);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return inflateRawSync(data);
    throw bad(`${name} uses compression method ${method}`);
  }
  return null;
}

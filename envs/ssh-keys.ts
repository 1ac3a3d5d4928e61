/**
 * Lives in envs/ because the approver list is config: validate.ts checks every approver key with it, and
 * synth (which reads only envs/, constructs/, stacks/) must not reach into the engine.
 *
 * OpenSSH keys and signatures, pure (no I/O, no subprocess): Ed25519 public keys in the one-line
 * `ssh-ed25519 AAAA... comment` form and signatures in the SSHSIG format that `ssh-keygen -Y sign`
 * writes (OpenSSH's PROTOCOL.sshsig). Verification runs in-process with node's Ed25519, so `promote
 * apply` verifies without a subprocess and a check stays a pure function; the format is the standard
 * one, so `ssh-keygen -Y verify` accepts the same signatures (the tests check both ways).
 *
 *   SSHSIG blob:   "SSHSIG" | uint32 1 | string publickey | string namespace | string reserved
 *                  | string hash_algorithm | string signature
 *   signed data:   "SSHSIG" | string namespace | string reserved | string hash_algorithm | string H(message)
 *
 * Only ssh-ed25519 is accepted: one algorithm, no RSA/SHA-1 downgrade, no FIDO (sk-) keys yet.
 */
import { createHash, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";

export const ED25519_KEY_TYPE = "ssh-ed25519";
const MAGIC = Buffer.from("SSHSIG", "ascii");
const ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----";
const ARMOR_END = "-----END SSH SIGNATURE-----";
/** Hash algorithms SSHSIG defines; ssh-keygen signs with sha512. */
const HASHES = ["sha256", "sha512"] as const;
type HashAlgorithm = (typeof HASHES)[number];
/** Upper bound on an armored signature's length (an Ed25519 one is about 300 characters). */
const MAX_ARMORED_LENGTH = 4096;

/** An Ed25519 public key: its 32 raw bytes and the canonical one-line form (type and base64, no comment). */
export interface SshPublicKey {
  readonly type: typeof ED25519_KEY_TYPE;
  readonly raw: Buffer;
  /** `ssh-ed25519 <base64>`: the form keys are compared in. */
  readonly line: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };
const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------
// SSH wire format
// ---------------------------------------------------------------------------------------------

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** A reader over SSH wire data that throws on truncation. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error(`truncated (wanted ${n} bytes at offset ${this.at} of ${this.buf.length})`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  done(): boolean {
    return this.at === this.buf.length;
  }
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 that decodes and re-encodes to the same text (node's decoder otherwise skips junk). */
function strictBase64(text: string): Buffer | null {
  if (!STRICT_BASE64.test(text) || text.length % 4 !== 0) return null;
  const buf = Buffer.from(text, "base64");
  return buf.toString("base64") === text ? buf : null;
}

function publicKeyBlob(raw: Buffer): Buffer {
  return Buffer.concat([sshString(ED25519_KEY_TYPE), sshString(raw)]);
}

function parseKeyBlob(blob: Buffer): Parsed<SshPublicKey> {
  try {
    const r = new Reader(blob);
    const type = r.string().toString("utf8");
    if (type !== ED25519_KEY_TYPE) return bad(`key type ${JSON.stringify(type)} (only ${ED25519_KEY_TYPE} is accepted)`);
    const raw = r.string();
    if (raw.length !== 32) return bad(`an Ed25519 key of ${raw.length} bytes (32 expected)`);
    if (!r.done()) return bad("trailing bytes after the key");
    return { ok: true, value: { type: ED25519_KEY_TYPE, raw: Buffer.from(raw), line: `${ED25519_KEY_TYPE} ${publicKeyBlob(raw).toString("base64")}` } };
  } catch (e) {
    return bad(`a malformed key blob (${(e as Error).message})`);
  }
}

/** Parses `ssh-ed25519 AAAA... [comment]` (the .pub file and allowed_signers form). */
export function parseSshPublicKey(text: string): Parsed<SshPublicKey> {
  const parts = text.trim().split(/[ \t]+/);
  if (parts.length < 2) return bad(`"<type> <base64> [comment]", but ${JSON.stringify(text.slice(0, 80))} has ${parts.length} field(s)`);
  const [type, b64] = parts;
  if (type !== ED25519_KEY_TYPE) return bad(`key type ${JSON.stringify(type)} (only ${ED25519_KEY_TYPE} is accepted)`);
  const blob = strictBase64(b64);
  if (blob === null) return bad("key data that is not base64");
  const key = parseKeyBlob(blob);
  if (!key.ok) return key;
  return key;
}

/** node's KeyObject for an Ed25519 public key. */
function nodeKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

/** The SHA-256 fingerprint as ssh-keygen -l prints it (SHA256:base64, no padding). */
export function fingerprint(key: SshPublicKey): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob(key.raw)).digest("base64").replace(/=+$/, "")}`;
}

// ---------------------------------------------------------------------------------------------
// SSHSIG
// ---------------------------------------------------------------------------------------------

export interface SshSignature {
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: HashAlgorithm;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Buffer;
}

function signedData(namespace: string, hashAlgorithm: HashAlgorithm, message: Buffer): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([MAGIC, sshString(namespace), sshString(""), sshString(hashAlgorithm), sshString(digest)]);
}

/** Parses an armored SSHSIG (`-----BEGIN SSH SIGNATURE-----` ... `-----END SSH SIGNATURE-----`). */
export function parseSshSignature(armored: string): Parsed<SshSignature> {
  if (armored.length > MAX_ARMORED_LENGTH) return bad(`a signature of at most ${MAX_ARMORED_LENGTH} characters, but ${armored.length}`);
  const lines = armored.replace(/\r\n/g, "\n").trim().split("\n");
  if (lines[0] !== ARMOR_BEGIN || lines[lines.length - 1] !== ARMOR_END) return bad(`an armored signature between ${ARMOR_BEGIN} and ${ARMOR_END}`);
  const blob = strictBase64(lines.slice(1, -1).join(""));
  if (blob === null) return bad("signature data that is not base64");
  try {
    const r = new Reader(blob);
    if (!r.bytes(6).equals(MAGIC)) return bad("no SSHSIG preamble");
    const version = r.uint32();
    if (version !== 1) return bad(`SSHSIG version ${version} (1 expected)`);
    const key = parseKeyBlob(r.string());
    if (!key.ok) return key;
    const namespace = r.string().toString("utf8");
    r.string(); // reserved
    const hash = r.string().toString("utf8");
    if (!(HASHES as readonly string[]).includes(hash)) return bad(`hash algorithm ${JSON.stringify(hash)} (sha256 or sha512 expected)`);
    const sig = new Reader(r.string());
    if (!r.done()) return bad("trailing bytes after the signature");
    const sigType = sig.string().toString("utf8");
    if (sigType !== ED25519_KEY_TYPE) return bad(`signature type ${JSON.stringify(sigType)} (${ED25519_KEY_TYPE} expected)`);
    const raw = sig.string();
    if (raw.length !== 64 || !sig.done()) return bad(`an Ed25519 signature of 64 bytes, but ${raw.length}`);
    return { ok: true, value: { publicKey: key.value, namespace, hashAlgorithm: hash as HashAlgorithm, signature: Buffer.from(raw) } };
  } catch (e) {
    return bad(`a malformed SSHSIG blob (${(e as Error).message})`);
  }
}

/**
 * Whether `signature` is a valid signature by `key` over exactly `message` in `namespace`. The key is
 * the one the caller trusts (from the approver list), never only the key embedded in the signature.
 */
export function verifySshSignature(signature: SshSignature, key: SshPublicKey, namespace: string, message: string | Buffer): boolean {
  if (signature.namespace !== namespace) return false;
  if (!signature.publicKey.raw.equals(key.raw)) return false;
  const data = signedData(namespace, signature.hashAlgorithm, Buffer.isBuffer(message) ? message : Buffer.from(message, "utf8"));
  try {
    return nodeVerify(null, data, nodeKey(key.raw), signature.signature);
  } catch {
    return false;
  }
}

/**
 * Signs in-process with a node Ed25519 private key, writing the same armored SSHSIG as `ssh-keygen -Y
 * sign` (sha512). For tests and tools that hold a node key; engineers sign with ssh-keygen (io/signatures.ts).
 */
export function signSshSignature(privateKey: KeyObject, namespace: string, message: string | Buffer): string {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" }) as { crv?: string; x?: string };
  if (jwk.crv !== "Ed25519" || jwk.x === undefined) throw new Error("an Ed25519 private key is required");
  const raw = Buffer.from(jwk.x, "base64url");
  const data = signedData(namespace, "sha512", Buffer.isBuffer(message) ? message : Buffer.from(message, "utf8"));
  const sig = nodeSign(null, data, privateKey);
  const blob = Buffer.concat([
    MAGIC,
    Buffer.from([0, 0, 0, 1]),
    sshString(publicKeyBlob(raw)),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(Buffer.concat([sshString(ED25519_KEY_TYPE), sshString(sig)])),
  ]).toString("base64");
  const body = blob.match(/.{1,70}/g) ?? [];
  return [ARMOR_BEGIN, ...body, ARMOR_END].join("\n") + "\n";
}

/** The one-line public key (`ssh-ed25519 AAAA...`) of a node Ed25519 key (private or public). */
export function publicKeyLineOf(key: KeyObject): string {
  const jwk = (key.type === "private" ? createPublicKey(key) : key).export({ format: "jwk" }) as { x?: string };
  return `${ED25519_KEY_TYPE} ${publicKeyBlob(Buffer.from(jwk.x ?? "", "base64url")).toString("base64")}`;
}

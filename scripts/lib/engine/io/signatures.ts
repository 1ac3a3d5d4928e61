/**
 * The I/O of signed approvals: signing a statement with the approver's SSH key (`ssh-keygen -Y sign`),
 * finding that key (`--key`, else git's `user.signingkey`), the signer's principal (git's
 * `user.email`), the bundle commit's author, the bundle's approval records, an optional cross-check with
 * `ssh-keygen -Y verify`, and the demo's approver override. Every subprocess has a bounded timeout.
 *
 * Why ssh-keygen signs and node verifies: signing through ssh-keygen uses the engineer's key however it
 * is kept (ssh-agent, a passphrase, a key file git already signs commits with) without this code ever
 * reading a private key; verifying in-process (envs/ssh-keys.ts) keeps `promote apply` free of a
 * subprocess and the check a pure function. Both sides speak the standard SSHSIG format, so either
 * tool verifies the other's signatures.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllowedSigners, formatAllowedSigners, type AllowedSigner } from "../core/allowed-signers";
import type { ApprovalsConfig } from "../core/approval-checks";
import { APPROVAL_NAMESPACE, parseStatement, signedApprovalSchema } from "../core/approval-statement";
import { parseWith } from "../core/schemas";
import { EngineError } from "../core/errors";
import { fingerprint, parseSshPublicKey, parseSshSignature, verifySshSignature } from "../../../../envs/ssh-keys";

/** A signature may wait for a passphrase or a security-key touch: two minutes, then it is stopped. */
export const SIGN_TIMEOUT_MS = 120_000;
export const VERIFY_TIMEOUT_MS = 10_000;
export const GIT_TIMEOUT_MS = 10_000;
/** An approval record is a few hundred bytes; anything larger is read no further. */
export const MAX_APPROVAL_BYTES = 16 * 1024;

/** The demo's approver list (an allowed_signers file), honoured only against the local emulator. */
export const DEMO_SIGNERS_VARIABLE = "PROMOTE_DEMO_ALLOWED_SIGNERS";

/** Signing or key lookup could not be done; the message says what was expected and what was found. */
export class SigningError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = "SigningError";
  }
}

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): RunResult {
  const r = spawnSync(cmd, [...args], {
    input: opts.input ?? "",
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: "utf8",
    timeout: opts.timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new SigningError(`${cmd} is required (OpenSSH 8.2 or later for -Y sign/verify), but it is not on PATH`);
    if (code === "ETIMEDOUT") throw new SigningError(`${cmd} ${args[0] ?? ""} ${args[1] ?? ""} must finish within ${opts.timeoutMs / 1000} s, but it was stopped after that`);
    throw new SigningError(`${cmd} could not be run: ${r.error.message}`);
  }
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function gitConfig(dir: string, key: string, vars: NodeJS.ProcessEnv): string | null {
  const r = run("git", ["-C", dir, "config", "--get", key], { timeoutMs: GIT_TIMEOUT_MS, env: vars });
  const v = r.stdout.trim();
  return r.status === 0 && v !== "" ? v : null;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}

/** The key to sign with: `ssh-keygen -f` accepts a private key file, or a public key whose private half is in ssh-agent. */
export interface SigningKey {
  /** The file passed to `ssh-keygen -Y sign -f`. */
  readonly file: string;
  /** Its public key line (`ssh-ed25519 AAAA...`). */
  readonly publicKey: string;
  /** Where it came from, for messages: "--key <path>" or "git config user.signingkey". */
  readonly origin: string;
  /** Removes a temporary file made for a literal `key::` signing key. */
  readonly dispose: () => void;
}

/**
 * The signing key: `--key <path>`, else git's `user.signingkey` (a path, or `key::ssh-ed25519 ...`
 * held in ssh-agent), which must be an SSH key (`gpg.format ssh`).
 */
export function resolveSigningKey(opts: { key?: string; dir: string; vars?: NodeJS.ProcessEnv }): SigningKey {
  const vars = opts.vars ?? process.env;
  let spec = opts.key;
  let origin = `--key ${opts.key}`;
  if (spec === undefined || spec.trim() === "") {
    spec = gitConfig(opts.dir, "user.signingkey", vars) ?? undefined;
    origin = "git config user.signingkey";
    if (spec === undefined) {
      throw new SigningError("a signing key is required: --key <path to an ssh-ed25519 key>, or git config user.signingkey (with gpg.format ssh), but neither is set");
    }
    const format = gitConfig(opts.dir, "gpg.format", vars);
    if (format !== "ssh") throw new SigningError(`git config user.signingkey must be an SSH key (gpg.format ssh), but gpg.format is ${JSON.stringify(format ?? "openpgp (unset)")}; pass --key`);
  }
  if (spec.startsWith("key::")) {
    const literal = parseSshPublicKey(spec.slice(5));
    if (!literal.ok) throw new SigningError(`${origin} must be an ssh-ed25519 key, but ${literal.reason}`);
    const tmp = mkdtempSync(join(tmpdir(), "promote-sign-"));
    const file = join(tmp, "key.pub");
    writeFileSync(file, literal.value.line + "\n", { mode: 0o600 });
    return { file, publicKey: literal.value.line, origin, dispose: () => rmSync(tmp, { recursive: true, force: true }) };
  }
  const file = resolve(opts.dir, expandHome(spec));
  if (!existsSync(file) || !statSync(file).isFile()) throw new SigningError(`${origin} must name a key file, but ${file} does not exist`);
  return { file, publicKey: publicKeyOf(file, origin), origin, dispose: () => undefined };
}

/** The public key of a key file: the file itself (.pub), its .pub beside it, or derived by ssh-keygen -y. */
function publicKeyOf(file: string, origin: string): string {
  const candidates = file.endsWith(".pub") ? [file] : [`${file}.pub`];
  for (const c of candidates) {
    if (existsSync(c)) {
      const k = parseSshPublicKey(readFileSync(c, "utf8").slice(0, 4096));
      if (!k.ok) throw new SigningError(`${origin} must be an ssh-ed25519 key, but ${c} holds ${k.reason}`);
      return k.value.line;
    }
  }
  const r = run("ssh-keygen", ["-y", "-f", file], { timeoutMs: SIGN_TIMEOUT_MS });
  const k = parseSshPublicKey(r.stdout);
  if (r.status !== 0 || !k.ok) throw new SigningError(`${origin} must be an ssh-ed25519 key ssh-keygen can read, but ${file} is not`, r.stderr.trim());
  return k.value.line;
}

/**
 * Signs the statement text with ssh-keygen in the approval namespace and returns the armored SSHSIG,
 * checked in-process before it is returned (the key that signed is the key named).
 */
export function signStatement(statementText: string, key: SigningKey, opts: { timeoutMs?: number; vars?: NodeJS.ProcessEnv } = {}): string {
  const r = run("ssh-keygen", ["-Y", "sign", "-n", APPROVAL_NAMESPACE, "-f", key.file], { input: statementText, timeoutMs: opts.timeoutMs ?? SIGN_TIMEOUT_MS, env: opts.vars });
  if (r.status !== 0) throw new SigningError(`ssh-keygen -Y sign with ${key.origin} (${key.file}) must succeed, but it exited ${r.status}`, r.stderr.trim());
  const sig = parseSshSignature(r.stdout);
  if (!sig.ok) throw new SigningError(`ssh-keygen -Y sign must write an SSH signature, but it wrote ${sig.reason}`, r.stderr.trim());
  const pub = parseSshPublicKey(key.publicKey);
  if (!pub.ok || !verifySshSignature(sig.value, pub.value, APPROVAL_NAMESPACE, statementText)) {
    throw new SigningError(`the signature must verify with ${key.origin}'s public key ${pub.ok ? fingerprint(pub.value) : key.publicKey}, but it does not (signed by ${fingerprint(sig.value.publicKey)})`);
  }
  return r.stdout;
}

/** `ssh-keygen -Y verify` of a signature for one principal against allowed_signers entries (a cross-check; apply verifies in-process). */
export function verifyWithSshKeygen(statementText: string, armored: string, principal: string, signers: readonly AllowedSigner[]): { ok: boolean; output: string } {
  const tmp = mkdtempSync(join(tmpdir(), "promote-verify-"));
  try {
    const allowed = join(tmp, "allowed_signers");
    const sig = join(tmp, "statement.sig");
    writeFileSync(allowed, formatAllowedSigners(signers, APPROVAL_NAMESPACE));
    writeFileSync(sig, armored);
    const r = run("ssh-keygen", ["-Y", "verify", "-f", allowed, "-I", principal, "-n", APPROVAL_NAMESPACE, "-s", sig], { input: statementText, timeoutMs: VERIFY_TIMEOUT_MS });
    return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Throwaway approvers for the demo: an ed25519 key per principal (no passphrase) made by ssh-keygen in
 * `dir`, and `dir`/allowed_signers naming them (for PROMOTE_DEMO_ALLOWED_SIGNERS). Never touches ~/.ssh.
 */
export function makeThrowawayApprovers(dir: string, principals: readonly string[]): { allowedSigners: string; keys: Record<string, string> } {
  const keys: Record<string, string> = {};
  const signers: AllowedSigner[] = [];
  for (const p of principals) {
    const file = join(dir, `${p.replace(/[^a-z0-9]+/g, "_")}_ed25519`);
    const r = run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${p} (throwaway)`, "-f", file], { timeoutMs: VERIFY_TIMEOUT_MS });
    if (r.status !== 0) throw new SigningError(`ssh-keygen -t ed25519 must make a key in ${dir}, but it exited ${r.status}`, r.stderr.trim());
    keys[p] = file;
    signers.push({ principal: p, publicKey: readFileSync(`${file}.pub`, "utf8").trim() });
  }
  const allowedSigners = join(dir, "allowed_signers");
  writeFileSync(allowedSigners, formatAllowedSigners(signers, APPROVAL_NAMESPACE));
  return { allowedSigners, keys };
}

/** The signer's principal: `--as`, else git's user.email; lower-cased and trimmed (the check compares it with the list). */
export function signerPrincipal(opts: { as?: string; dir: string; vars?: NodeJS.ProcessEnv }): string {
  const raw = opts.as ?? gitConfig(opts.dir, "user.email", opts.vars ?? process.env);
  if (raw === null || raw.trim() === "") throw new SigningError("an approver principal is required: --as <e-mail>, or git config user.email, but neither is set");
  return raw.normalize("NFKC").trim().toLowerCase();
}

/** The author (name, e-mail) of a commit, as four eyes compares it. */
export function commitAuthor(dir: string, commit: string): { name: string; email: string } {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new SigningError(`a full commit id is required, but ${JSON.stringify(commit)} was provided`);
  const r = run("git", ["-C", dir, "show", "-s", "--format=%an%x00%ae", commit], { timeoutMs: GIT_TIMEOUT_MS });
  const parts = r.stdout.replace(/\n$/, "").split("\0");
  if (r.status !== 0 || parts.length !== 2) throw new SigningError(`git must know commit ${commit}, but git show failed`, r.stderr.trim());
  return { name: parts[0], email: parts[1] };
}

/**
 * The bundle folder's approval records, in name order: `*.approval.json` (signed, one per approver)
 * and a legacy `approval.json` (an unsigned one is refused where signatures are required). Each read
 * is bounded by MAX_APPROVAL_BYTES.
 */
export function readApprovalRecords(bundleDir: string): Array<{ source: string; text: string }> {
  if (!existsSync(bundleDir)) return [];
  return readdirSync(bundleDir)
    .filter((f) => f === "approval.json" || f.endsWith(".approval.json"))
    .sort()
    .map((f) => {
      const path = join(bundleDir, f);
      const size = statSync(path).size;
      const text = size > MAX_APPROVAL_BYTES ? `(${size} bytes: larger than ${MAX_APPROVAL_BYTES})` : readFileSync(path, "utf8");
      return { source: f, text };
    });
}

function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  } catch {
    return false;
  }
}

/**
 * The approver list that counts: the config's (from the bundle's commit), unless the demo names its own
 * throwaway approvers with PROMOTE_DEMO_ALLOWED_SIGNERS=<allowed_signers file>. That variable is honoured
 * only when TARGET=local with a loopback LOCAL_ENDPOINT: there every AWS call goes to the emulator with
 * the fixed test/test credentials real AWS rejects, so an approval accepted through it can only ever let
 * an apply against the local emulator proceed. Set anywhere else it is an error, never silently
 * ignored (a CI job with it set is misconfigured or attacked). Count and requirement stay the config's.
 */
export function effectiveApprovals(config: ApprovalsConfig, vars: NodeJS.ProcessEnv = process.env, read: (path: string) => string = (p) => readFileSync(p, "utf8")): { approvals: ApprovalsConfig; source: string } {
  const file = vars[DEMO_SIGNERS_VARIABLE];
  if (file === undefined || file === "") return { approvals: config, source: "the env's config" };
  if (vars.TARGET !== "local" || !isLoopbackEndpoint(vars.LOCAL_ENDPOINT)) {
    throw new SigningError(
      `${DEMO_SIGNERS_VARIABLE} is honoured only with TARGET=local and a loopback LOCAL_ENDPOINT (the demo's emulator), but TARGET=${JSON.stringify(vars.TARGET ?? "")} LOCAL_ENDPOINT=${JSON.stringify(vars.LOCAL_ENDPOINT ?? "")}; unset it`,
    );
  }
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    throw new SigningError(`${DEMO_SIGNERS_VARIABLE} must name a readable allowed_signers file, but ${file}: ${(e as Error).message}`);
  }
  const parsed = parseAllowedSigners(text, APPROVAL_NAMESPACE);
  if (!parsed.ok) throw new SigningError(`${DEMO_SIGNERS_VARIABLE} (${file}) must be an allowed_signers file, but ${parsed.reason}`);
  const fps = parsed.value.map((s) => {
    const k = parseSshPublicKey(s.publicKey);
    return k.ok ? fingerprint(k.value) : s.publicKey;
  });
  const dupKey = fps.find((f, i) => fps.indexOf(f) !== i);
  if (dupKey !== undefined) throw new SigningError(`${DEMO_SIGNERS_VARIABLE} (${file}) must list each key once (one key is one person), but ${dupKey} is listed twice`);
  const principals = parsed.value.map((s) => s.principal);
  const dupPrincipal = principals.find((p, i) => principals.indexOf(p) !== i);
  if (dupPrincipal !== undefined) throw new SigningError(`${DEMO_SIGNERS_VARIABLE} (${file}) must list each principal once, but ${dupPrincipal} is listed twice`);
  if (config.minApprovers > parsed.value.length) {
    throw new SigningError(`${DEMO_SIGNERS_VARIABLE} (${file}) must list at least ${config.minApprovers} approver(s) (the env's minApprovers), but it lists ${parsed.value.length}`);
  }
  return { approvals: { ...config, approvers: parsed.value.map((s) => ({ principal: s.principal, publicKey: s.publicKey })) }, source: `${DEMO_SIGNERS_VARIABLE} (${file}, emulator only)` };
}

/**
 * The approvals config that counts for an env (effectiveApprovals of its config), as an engine error
 * when the demo's override is set where it is not honoured or names an unusable file.
 */
export function approvalsConfigOf(config: ApprovalsConfig, vars: NodeJS.ProcessEnv): { approvals: ApprovalsConfig; source: string } {
  try {
    return effectiveApprovals(config, vars);
  } catch (e) {
    if (e instanceof SigningError) throw new EngineError(e.message, e.detail);
    throw e;
  }
}

/** The planner's e-mail for the manifest: PROMOTE_USER_EMAIL, else git config user.email; null when neither is set. */
export function plannerEmail(dir: string, vars: NodeJS.ProcessEnv = process.env): string | null {
  const raw = vars.PROMOTE_USER_EMAIL !== undefined && vars.PROMOTE_USER_EMAIL.trim() !== "" ? vars.PROMOTE_USER_EMAIL : gitConfig(dir, "user.email", vars);
  if (raw === null) return null;
  const email = raw.trim();
  if (email.length > 254) throw new EngineError(`the planner's e-mail (PROMOTE_USER_EMAIL or git config user.email) must be at most 254 characters, but it has ${email.length}`);
  return email === "" ? null : email;
}

/**
 * The principal a signer signs as: `--as`, else the one the approver list names for the signing key,
 * else git's user.email (normalized). APPROVER-NOT-ALLOWED then says when it is not listed with that key.
 */
export function principalForKey(opts: { as?: string; publicKey: string; approvals: ApprovalsConfig; dir: string; vars?: NodeJS.ProcessEnv }): string {
  if (opts.as !== undefined) return signerPrincipal({ as: opts.as, dir: opts.dir, vars: opts.vars });
  const key = parseSshPublicKey(opts.publicKey);
  if (key.ok) {
    const listed = opts.approvals.approvers.find((a) => {
      const k = parseSshPublicKey(a.publicKey);
      return k.ok && k.value.raw.equals(key.value.raw);
    });
    if (listed !== undefined) return listed.principal;
  }
  return signerPrincipal({ dir: opts.dir, vars: opts.vars });
}

/** The principals of the bundle's signed approval records ("a@x, b@y"), for the ledger; null when none. Not a check. */
export function signedApprovers(bundleDir: string): string | null {
  const principals = readApprovalRecords(bundleDir).flatMap((r) => {
    const rec = parseWith(signedApprovalSchema, r.text);
    const st = rec.ok ? parseStatement(rec.value.statement) : null;
    return st !== null && st.ok ? [st.value.approver] : [];
  });
  return principals.length > 0 ? [...new Set(principals)].sort().join(", ") : null;
}

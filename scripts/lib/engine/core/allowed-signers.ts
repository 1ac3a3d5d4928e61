/**
 * The `allowed_signers` format of OpenSSH (ssh-keygen(1) "ALLOWED SIGNERS"), the file git's SSH commit
 * signing uses: one line per signer, `principals [options] keytype base64 [comment]`. Pure: parsing
 * and formatting text only.
 *
 * Parsing is strict on purpose (the parsed list decides who may approve): principals must be plain
 * lower-case e-mail addresses (no wildcard patterns), keys ssh-ed25519, and the only option accepted is
 * `namespaces="..."` naming the approval namespace; `cert-authority`, `valid-after`/`valid-before` and
 * unknown options are refused instead of being silently ignored.
 */
import { PRINCIPAL_PATTERN } from "./identity";
import { ED25519_KEY_TYPE, parseSshPublicKey, type Parsed } from "../../../../envs/ssh-keys";

export interface AllowedSigner {
  readonly principal: string;
  /** `ssh-ed25519 <base64>` (no comment). */
  readonly publicKey: string;
}

/** Parses allowed_signers text; every problem names its line. */
export function parseAllowedSigners(text: string, namespace: string): Parsed<AllowedSigner[]> {
  const out: AllowedSigner[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `line ${i + 1}`;
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const m = /^(\S+)\s+(?:(\S+)\s+)??(ssh-\S+|sk-\S+|ecdsa-\S+)\s+(\S+)(?:\s+.*)?$/.exec(t);
    if (!m) {
      problems.push(`${where}: expected "principal [options] ${ED25519_KEY_TYPE} <base64> [comment]"`);
      return;
    }
    const [, principals, options, type, b64] = m;
    if (options !== undefined) {
      const ns = /^namespaces="([^"]*)"$/.exec(options);
      if (!ns) {
        problems.push(`${where}: only the option namespaces="${namespace}" is accepted, but ${JSON.stringify(options)} was provided`);
        return;
      }
      if (!ns[1].split(",").includes(namespace)) {
        problems.push(`${where}: namespaces must include "${namespace}", but "${ns[1]}" was provided`);
        return;
      }
    }
    const key = parseSshPublicKey(`${type} ${b64}`);
    if (!key.ok) {
      problems.push(`${where}: the key must be ${ED25519_KEY_TYPE}, but ${key.reason}`);
      return;
    }
    for (const p of principals.split(",")) {
      if (!PRINCIPAL_PATTERN.test(p)) {
        problems.push(`${where}: a principal must be a lower-case e-mail address (no patterns), but ${JSON.stringify(p)} was provided`);
        continue;
      }
      out.push({ principal: p, publicKey: key.value.line });
    }
  });
  return problems.length > 0 ? { ok: false, reason: problems.join("; ") } : { ok: true, value: out };
}

/** allowed_signers text for these signers, restricted to `namespace` (for `ssh-keygen -Y verify -f`). */
export function formatAllowedSigners(signers: readonly AllowedSigner[], namespace: string): string {
  return signers.map((s) => `${s.principal} namespaces="${namespace}" ${parseKeyLine(s.publicKey)}\n`).join("");
}

function parseKeyLine(text: string): string {
  const k = parseSshPublicKey(text);
  if (!k.ok) throw new Error(`not an ${ED25519_KEY_TYPE} key: ${k.reason}`);
  return k.value.line;
}

/**
 * Who someone is, as far as four eyes can tell from names: approver principals (e-mail addresses, as
 * git's allowed_signers uses), plan authors and commit authors, normalized before they are compared.
 *
 * Normalization: Unicode NFKC (full-width and compatibility forms fold: "ａｌｉｃｅ" is "alice"), trim,
 * inner whitespace collapsed to one space, lower case; "Name <a@b>" yields both "name" and "a@b", so a
 * bare address matches the same address in the git form. A name that is empty after normalization,
 * longer than the bound, or holds control or invisible (format) characters (zero-width spaces, bidi
 * overrides) is refused rather than compared: such a name could be made to differ invisibly.
 * Pure: no I/O.
 */
import { PRINCIPAL_PATTERN } from "../../../../envs/schema";

/** The longest identity compared (RFC 5321 bounds an address at 254 characters). */
export const MAX_IDENTITY_LENGTH = 254;

/** The principal form approver lists use: a lower-case ASCII e-mail address (defined with the env schema). */
export { PRINCIPAL_PATTERN };

/** Control (Cc), format (Cf: zero-width, bidi), separators other than a plain space, unassigned/private use. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u115f\u1160\u3164\uffa0\u2800]/u;

/** Why `text` is not a usable identity, or null when it is. */
export function identityProblem(text: string): string | null {
  if (typeof text !== "string") return "not a string";
  if (text.length > MAX_IDENTITY_LENGTH * 2) return `${text.length} characters (at most ${MAX_IDENTITY_LENGTH})`;
  const folded = text.normalize("NFKC");
  if (INVISIBLE.test(folded)) {
    const ch = [...folded].find((c) => INVISIBLE.test(c)) ?? "";
    return `an invisible or control character U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  }
  const trimmed = folded.replace(/\s+/g, " ").trim();
  if (trimmed === "" || trimmed === "<>") return "an empty name";
  if (trimmed.length > MAX_IDENTITY_LENGTH) return `${trimmed.length} characters (at most ${MAX_IDENTITY_LENGTH})`;
  return null;
}

/** NFKC, whitespace collapsed and trimmed, lower case. */
export function normalizeName(text: string): string {
  return text.normalize("NFKC").replace(/\s+/g, " ").trim().toLowerCase();
}

/**
 * The comparable forms of one identity: "Name <a@b>" gives ["name", "a@b"]; "a@b" gives ["a@b"];
 * "Name" gives ["name"]. Throws when the identity is not usable (see identityProblem).
 */
export function identityKeys(text: string): string[] {
  const problem = identityProblem(text);
  if (problem !== null) throw new Error(`${JSON.stringify(text.slice(0, 80))} is not a usable identity: ${problem}`);
  const n = normalizeName(text);
  const m = /^(.*?)\s*<([^<>]*)>$/.exec(n);
  const keys = m ? [m[1].trim(), m[2].trim()] : [n];
  return [...new Set(keys.filter((k) => k !== ""))];
}

/** Whether two sets of identities share a comparable form. Throws on an unusable identity. */
export function sharedIdentity(a: readonly string[], b: readonly string[]): { a: string; b: string; key: string } | null {
  for (const x of a) {
    const kx = identityKeys(x);
    for (const y of b) {
      const key = identityKeys(y).find((k) => kx.includes(k));
      if (key !== undefined) return { a: x, b: y, key };
    }
  }
  return null;
}

/**
 * Who someone is, as far as four eyes can tell from names: the names typed with `--by` (approver, planner,
 * applier), approver principals (e-mail addresses, as git's allowed_signers uses), plan authors and commit
 * authors; and free text that is recorded (comments). Validated before anything changes, and compared as a
 * person reads them. Pure: no I/O.
 *
 * A typed name is refused when it is empty, longer than IDENTITY_MAX_CHARS, holds a control, format
 * (zero-width, bidi override), private-use or unassigned character, holds `<` or `>` (git's ident
 * separators: the ledger's tag would fail after the apply), or has no letter or digit at all. Two names
 * are the same person when their comparison keys are equal: Unicode NFKC (full-width and ligature
 * forms folded), case folded, inner whitespace collapsed, combining marks stripped, and the Cyrillic and
 * Greek letters that look like Latin ones read as those Latin letters. For `--by` names the e-mail form
 * `Name <addr>` reduces to the name; for signed approvals "Name <a@b>" yields both "name" and "a@b", so a
 * bare address matches the same address in the git form.
 */
import { PRINCIPAL_PATTERN } from "../../../../envs/schema";

export const IDENTITY_MAX_CHARS = 100;
export const COMMENT_MAX_CHARS = 500;

export type TextVerdict = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly problem: string };

/** Control, format (zero-width, bidi), surrogate, private-use and unassigned code points. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\u2028\u2029]/u;
/** Separators other than the plain space (no-break, em, ideographic spaces...). */
const ODD_SPACE = /[^\S ]/u;

/** The code point of the first invisible character, for the error message. */
function firstInvisible(text: string): string | null {
  const m = INVISIBLE.exec(text) ?? ODD_SPACE.exec(text);
  return m ? `U+${(m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}` : null;
}

/** Validates a name (an approver, the one who plans or applies): the trimmed name, or the problem. */
export function validateIdentity(raw: string | undefined | null, what = "name"): TextVerdict {
  if (typeof raw !== "string") return { ok: false, problem: `no ${what} given` };
  const value = raw.trim();
  if (value === "") return { ok: false, problem: `an empty ${what}` };
  const chars = [...value].length;
  if (chars > IDENTITY_MAX_CHARS) return { ok: false, problem: `a ${what} of ${chars} characters (at most ${IDENTITY_MAX_CHARS})` };
  const invisible = firstInvisible(value);
  if (invisible) return { ok: false, problem: `a ${what} holding an invisible or control character (${invisible})` };
  if (/[<>]/.test(value.replace(/\s*<[^<>\s]+@[^<>\s]+>$/, ""))) return { ok: false, problem: `a ${what} holding "<" or ">" outside an e-mail form "Name <addr>"` };
  if (!/[\p{L}\p{N}]/u.test(value)) return { ok: false, problem: `a ${what} with no letter or digit ("${value}")` };
  return { ok: true, value };
}

/** Validates a free-text comment: bounded, printable (no control, zero-width or bidi characters). */
export function validateComment(raw: string | undefined | null): TextVerdict {
  if (raw === undefined || raw === null) return { ok: true, value: "" };
  const value = raw.trim();
  const chars = [...value].length;
  if (chars > COMMENT_MAX_CHARS) return { ok: false, problem: `a comment of ${chars} characters (at most ${COMMENT_MAX_CHARS})` };
  const invisible = firstInvisible(value);
  if (invisible) return { ok: false, problem: `a comment holding an invisible or control character (${invisible})` };
  return { ok: true, value };
}

/** `Name <addr@host>` -> `Name`; a bare address `addr@host` stays as it is. */
function emailName(text: string): string {
  const m = /^(.*?)\s*<[^<>]*>$/.exec(text);
  return m && m[1].trim() !== "" ? m[1].trim() : text;
}

/** Cyrillic and Greek letters a reader takes for Latin ones (lower case, after NFKC and case folding). */
const LOOKALIKES: Record<string, string> = {
  "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
  "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g",
  "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
  "χ": "x", "ω": "w", "ϲ": "c", "ı": "i",
};

/** The key two names are compared by: equal keys are the same person to a reader. */
export function identityKey(name: string): string {
  return foldKey(emailName(name.normalize("NFKC").trim()));
}

/** NFKC, case folded, whitespace collapsed and trimmed, combining marks stripped, look-alikes read as Latin. */
function foldKey(text: string): string {
  const folded = text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  // Strip combining marks so "alicé" typed with a combining accent and with a precomposed one agree.
  const base = folded.normalize("NFKD").replace(/\p{M}/gu, "");
  return [...base].map((c) => LOOKALIKES[c] ?? c).join("");
}

/** Whether two names are the same person as a reader sees them. */
export function sameIdentity(a: string, b: string): boolean {
  return identityKey(a) === identityKey(b);
}

/** A name as it can be recorded and shown: invisible and control characters written as \u{...}, bounded. */
export function printable(raw: string): string {
  const shown = [...raw].map((c) => (INVISIBLE.test(c) || ODD_SPACE.test(c) ? `\\u{${(c.codePointAt(0) as number).toString(16)}}` : c)).join("");
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown === "" ? "(empty)" : shown;
}

// ---------------------------------------------------------------------------------------------
// Signed approvals: principals and the authors they are compared with
// ---------------------------------------------------------------------------------------------

/** The longest identity compared (RFC 5321 bounds an address at 254 characters). */
export const MAX_IDENTITY_LENGTH = 254;

/** The principal form approver lists use: a lower-case ASCII e-mail address (defined with the env schema). */
export { PRINCIPAL_PATTERN };

/** Blank-looking letters (Hangul fillers, braille blank) that NFKC keeps: invisible to a reader too. */
const BLANK_LETTERS = /[\u115f\u1160\u3164\uffa0\u2800]/u;

/** Why `text` is not a usable identity, or null when it is. */
export function identityProblem(text: string): string | null {
  if (typeof text !== "string") return "not a string";
  if (text.length > MAX_IDENTITY_LENGTH * 2) return `${text.length} characters (at most ${MAX_IDENTITY_LENGTH})`;
  const folded = text.normalize("NFKC");
  const invisible = firstInvisible(folded) ?? (BLANK_LETTERS.test(folded) ? `U+${((BLANK_LETTERS.exec(folded) as RegExpExecArray)[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}` : null);
  if (invisible) return `an invisible or control character ${invisible}`;
  const trimmed = folded.replace(/\s+/g, " ").trim();
  if (trimmed === "" || trimmed === "<>") return "an empty name";
  if (trimmed.length > MAX_IDENTITY_LENGTH) return `${trimmed.length} characters (at most ${MAX_IDENTITY_LENGTH})`;
  return null;
}

/** The comparison form of one name (see foldKey). */
export function normalizeName(text: string): string {
  return foldKey(text);
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

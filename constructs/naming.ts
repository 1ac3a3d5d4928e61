/** Names that fit AWS limits without losing uniqueness. Pure; no dependencies. */

/** A short, stable hash of `text` (FNV-1a, 32 bits) in base 36. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, "0");
}

/**
 * `name` itself when it has at most `max` characters; otherwise its head followed by `-` and a hash of
 * the whole name, so that two long names sharing a head stay distinct (ALB and target group names: 32).
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

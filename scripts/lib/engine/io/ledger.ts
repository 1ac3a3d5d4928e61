/**
 * The ledger of successful applies, shared by the team: git tags `deployed/<env>/<stamp>` on the
 * applied commit, annotated with the bundle id, plan hash and who applied. The last prod tag is the
 * last-good release. The ledger's repository is configurable (PROMOTE_LEDGER_DIR) so tests use a
 * temporary one; when the applied commit is not in it, it is fetched from the checkout first.
 */
import type { LedgerEntry } from "../core/facts";
import { git } from "./git";

export const TAG_PREFIX = "deployed";

export interface LedgerRecord {
  readonly bundleId: string;
  readonly planSha256: string;
  readonly appliedBy: string;
  readonly approvedBy: string | null;
}

/** A tag-name-safe UTC stamp: 20250102T030405Z. */
export function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

export class Ledger {
  /**
   * @param dir the ledger's git repository
   * @param sourceRepo where applied commits come from (the checkout), fetched when the ledger lacks them
   */
  constructor(readonly dir: string, readonly sourceRepo: string) {}

  /** Successful applies of an env, oldest first. */
  entries(env: string): LedgerEntry[] {
    const fmt = "%(refname:strip=2)%09%(if)%(*objectname)%(then)%(*objectname)%(else)%(objectname)%(end)%09%(creatordate:iso-strict)";
    const out = git(this.dir, ["for-each-ref", "--sort=creatordate", "--sort=refname", `--format=${fmt}`, `refs/tags/${TAG_PREFIX}/${env}/`]);
    if (out === "") return [];
    return out
      .split("\n")
      .map((line) => {
        const [tag, commit, at] = line.split("\t");
        return { env, tag, commit, at };
      })
      .sort((a, b) => (a.at === b.at ? a.tag.localeCompare(b.tag) : Date.parse(a.at) - Date.parse(b.at)));
  }

  /** The last successful apply of an env (for prod: the last-good release), or null. */
  last(env: string): LedgerEntry | null {
    return this.entries(env).slice(-1)[0] ?? null;
  }

  /** Records a successful apply: an annotated tag on the commit. Returns the tag name. */
  record(env: string, commit: string, rec: LedgerRecord, at: Date = new Date()): string {
    this.ensureCommit(commit);
    const base = `${TAG_PREFIX}/${env}/${stamp(at)}`;
    const message = `promote apply ${env}\n\n${JSON.stringify({ env, commit, ...rec, at: at.toISOString() }, null, 2)}\n`;
    // The committer is the engine; who applied is in the message (a name git refuses as an ident can
    // never fail the ledger after terraform changed the env).
    const vars = {
      ...process.env,
      GIT_COMMITTER_NAME: "promote",
      GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL || "promote@localhost",
      GIT_COMMITTER_DATE: at.toISOString(),
    };
    for (let n = 1; n < 100; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      const exists = git(this.dir, ["tag", "--list", name]) !== "";
      if (exists) continue;
      git(this.dir, ["tag", "-a", name, "-m", message, commit], vars);
      return name;
    }
    throw new Error(`could not find a free tag name for ${base}`);
  }

  /** The tag that records this bundle's apply of env, or null (`promote complete` is idempotent by it). */
  tagOf(env: string, bundleId: string): string | null {
    const out = git(this.dir, ["for-each-ref", "--format=%(refname:strip=2)%00%(contents)%00%00", `refs/tags/${TAG_PREFIX}/${env}/`]);
    for (const chunk of out.split("\0\0")) {
      const [tag, message] = chunk.replace(/^\n/, "").split("\0");
      if (!tag || message === undefined) continue;
      const json = message.slice(message.indexOf("{"));
      try {
        if ((JSON.parse(json) as { bundleId?: unknown }).bundleId === bundleId) return tag;
      } catch {
        // a tag not written by promote: not this bundle's
      }
    }
    return null;
  }

  private ensureCommit(commit: string): void {
    try {
      git(this.dir, ["cat-file", "-e", `${commit}^{commit}`]);
    } catch {
      git(this.dir, ["fetch", "--quiet", "--no-tags", this.sourceRepo, commit]);
    }
  }
}

/**
 * `promote doctor`: how far apart are the environments? Per env: drift (a refresh-only plan, skipped
 * with --no-drift), the last applied commit (ledger), the terraform and provider versions and the
 * provider lock-file hash it was applied with (its last applied bundle, read through the store: with the
 * shared store the env's own, whichever home applied it; else this machine's working directory),
 * and a field-by-field diff of the env configs (`database.multiAz: dev=false staging=true prod=true`).
 *
 * Divergence, for every env with delivery.promotesFrom (prod from staging, staging from dev): its last
 * applied commit is not in the previous env's ledger (it runs code the previous env never had), or its
 * providers / lock file differ from those the previous env applied that same commit with. Any divergence
 * makes the command exit 1; drift and config differences are reported and exit 0 (`promote drift <env>`
 * exits 3 on drift). The decision is a pure function (`divergence`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvConfig } from "../../../../envs";
import { appliedBundles, ledgerOf, type AppliedBundle, type EngineContext } from "../io/context";
import { EngineError, RefusalError } from "../core/errors";
import { drift, type DriftReport } from "./drift";
import type { LedgerEntry } from "../core/facts";
import { sha256File } from "../io/files";
import { stackDir } from "../io/paths";
import { appliedSchema, manifestSchema, parseWith, type Manifest } from "../core/schemas";

// ---------------------------------------------------------------------------------------------
// Config diff (pure)
// ---------------------------------------------------------------------------------------------

/** A config as path → JSON text of the leaf (arrays are leaves: compared whole). */
export function flattenConfig(value: unknown, prefix = ""): Record<string, string> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, string> = {};
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = "{}";
    for (const [k, v] of entries) Object.assign(out, flattenConfig(v, prefix ? `${prefix}.${k}` : k));
    return out;
  }
  return prefix ? { [prefix]: value === undefined ? "(absent)" : JSON.stringify(value) } : {};
}

export interface ConfigDifference {
  readonly path: string;
  /** env name → JSON text of its value ("(absent)" when the env has no such field). */
  readonly values: Readonly<Record<string, string>>;
}

/** Every field whose value is not the same in all envs, in path order. */
export function diffConfigs(configs: readonly { readonly name: string; readonly config: unknown }[]): ConfigDifference[] {
  const flat = configs.map((c) => ({ name: c.name, f: flattenConfig(c.config) }));
  const paths = [...new Set(flat.flatMap((x) => Object.keys(x.f)))].sort();
  const out: ConfigDifference[] = [];
  for (const path of paths) {
    const values = Object.fromEntries(flat.map((x) => [x.name, x.f[path] ?? "(absent)"]));
    if (new Set(Object.values(values)).size > 1) out.push({ path, values });
  }
  return out;
}

export const renderConfigDiff = (d: ConfigDifference): string => `${d.path}: ${Object.entries(d.values).map(([e, v]) => `${e}=${v}`).join(" ")}`;

// ---------------------------------------------------------------------------------------------
// Versions and divergence (pure)
// ---------------------------------------------------------------------------------------------

/** Provider versions pinned in a .terraform.lock.hcl: source → version. */
export function lockProviders(lockText: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /provider\s+"([^"]+)"\s*\{[^}]*?version\s*=\s*"([^"]+)"/gs;
  for (const m of lockText.matchAll(re)) out[m[1]] = m[2];
  return out;
}

/** What terraform ran with in one env. */
export interface Toolset {
  readonly terraform: string | null;
  readonly providers: Readonly<Record<string, string>>;
  readonly lockSha256: string | null;
  /** Where it was read: "bundle <id>" (the last applied), "working directory", or "none". */
  readonly source: string;
}

export interface EnvStatus {
  readonly env: string;
  readonly promotesFrom: string | null;
  readonly last: LedgerEntry | null;
  /** Every commit the env applied successfully. */
  readonly appliedCommits: readonly string[];
  readonly tools: Toolset;
  /** Tools of this env's applies by commit (from its applied bundles), for comparing like with like. */
  readonly toolsByCommit: Readonly<Record<string, Toolset>>;
  /** Why the env's applied bundles could not be read (its store unreachable, not bootstrapped...); absent when they were. */
  readonly bundlesError?: string;
}

export interface Divergence {
  readonly env: string;
  readonly from: string;
  readonly kind: "commit-not-promoted" | "provider-skew" | "lock-skew" | "terraform-skew";
  /** Blocking kinds make doctor exit 1; terraform-skew (a CLI patch release) is reported only. */
  readonly blocking: boolean;
  readonly detail: string;
}

const sameRecord = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * For each gated env: does it run a commit its previous env never applied, or the same commit with other
 * providers / another lock file than the previous env applied it with?
 */
export function divergence(statuses: readonly EnvStatus[]): Divergence[] {
  const out: Divergence[] = [];
  for (const s of statuses) {
    if (s.promotesFrom === null || s.last === null) continue;
    const prev = statuses.find((x) => x.env === s.promotesFrom);
    if (!prev) continue;
    const base = { env: s.env, from: prev.env };
    if (!prev.appliedCommits.includes(s.last.commit)) {
      out.push({ ...base, kind: "commit-not-promoted", blocking: true, detail: `${s.env} runs ${s.last.commit} (${s.last.tag}), which ${prev.env} never applied` });
      continue;
    }
    const theirs = prev.toolsByCommit[s.last.commit];
    const mine = s.toolsByCommit[s.last.commit] ?? s.tools;
    if (!theirs || mine.source === "none") continue; // nothing recorded to compare with
    if (!sameRecord(mine.providers, theirs.providers)) {
      const show = (r: Readonly<Record<string, string>>) => Object.entries(r).map(([k, v]) => `${k.split("/").pop()} ${v}`).join(", ") || "-";
      out.push({ ...base, kind: "provider-skew", blocking: true, detail: `commit ${s.last.commit.slice(0, 12)}: ${s.env} applied with ${show(mine.providers)}; ${prev.env} with ${show(theirs.providers)}` });
    }
    if (mine.lockSha256 !== theirs.lockSha256) {
      out.push({ ...base, kind: "lock-skew", blocking: true, detail: `commit ${s.last.commit.slice(0, 12)}: lock file ${mine.lockSha256 ?? "-"} in ${s.env}, ${theirs.lockSha256 ?? "-"} in ${prev.env}` });
    }
    if (mine.terraform !== theirs.terraform) {
      out.push({ ...base, kind: "terraform-skew", blocking: false, detail: `terraform ${mine.terraform ?? "-"} in ${s.env}, ${theirs.terraform ?? "-"} in ${prev.env}` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading the facts, and the command
// ---------------------------------------------------------------------------------------------

const toolsOf = (m: Manifest, id: string): Toolset => ({ terraform: m.terraform.version, providers: m.terraform.providers, lockSha256: m.lockFile.sha256, source: `bundle ${id}` });

/**
 * The tools of the env's succeeded applies by commit (oldest first, so the newest per commit wins), and
 * those of the apply that made the last ledger tag (else of the last tag's commit; null when none). Pure.
 */
export function appliedTools(bundles: readonly { readonly id: string; readonly manifestText: string | null; readonly appliedText: string | null }[], last: LedgerEntry | null): { toolsByCommit: Record<string, Toolset>; lastTools: Toolset | null } {
  const toolsByCommit: Record<string, Toolset> = {};
  let lastTools: Toolset | null = null;
  for (const b of bundles) {
    if (!b.appliedText || !b.manifestText) continue;
    const a = parseWith(appliedSchema, b.appliedText);
    const m = parseWith(manifestSchema, b.manifestText);
    if (!a.ok || !m.ok || a.value.status !== "succeeded") continue;
    const t = toolsOf(m.value, b.id);
    toolsByCommit[m.value.git.commit] = t;
    if (last && a.value.ledgerTag === last.tag) lastTools = t;
  }
  if (lastTools === null && last) lastTools = toolsByCommit[last.commit] ?? null;
  return { toolsByCommit, lastTools };
}

/**
 * The env's ledger, and the tools of its applied bundles, read through the store (with the shared store,
 * the env's own: the applies of every home). A store that cannot be read is reported (`bundlesError`), not
 * fatal: the report goes on from the ledger and this machine's working directory.
 */
export async function envStatus(ctx: EngineContext, cfg: EnvConfig): Promise<EnvStatus> {
  const entries = ledgerOf(ctx).entries(cfg.name);
  const last = entries[entries.length - 1] ?? null;
  let bundles: AppliedBundle[] = [];
  let bundlesError: string | undefined;
  try {
    bundles = await appliedBundles(ctx, cfg.name);
  } catch (e) {
    if (!(e instanceof EngineError || e instanceof RefusalError)) throw e;
    bundlesError = e.message.split("\n")[0].slice(0, 300);
  }
  const found = appliedTools(bundles, last);
  let lastTools = found.lastTools;
  if (lastTools === null) {
    const lock = join(stackDir(ctx.paths, cfg.name), ".terraform.lock.hcl");
    lastTools = existsSync(lock)
      ? { terraform: null, providers: lockProviders(readFileSync(lock, "utf8")), lockSha256: sha256File(lock), source: "working directory" }
      : { terraform: null, providers: {}, lockSha256: null, source: "none" };
  }
  return { env: cfg.name, promotesFrom: cfg.delivery.promotesFrom, last, appliedCommits: entries.map((e) => e.commit), tools: lastTools, toolsByCommit: found.toolsByCommit, ...(bundlesError === undefined ? {} : { bundlesError }) };
}

export interface DoctorOptions {
  /** Skip terraform (no refresh-only plans). @default false */
  readonly noDrift?: boolean;
  readonly by?: string;
}

export interface DoctorResult {
  readonly statuses: readonly EnvStatus[];
  readonly drift: Readonly<Record<string, DriftReport | { error: string } | null>>;
  readonly config: readonly ConfigDifference[];
  readonly divergences: readonly Divergence[];
  /** True when a blocking divergence was found (exit 1). */
  readonly diverged: boolean;
}

export async function doctor(ctx: EngineContext, o: DoctorOptions = {}): Promise<DoctorResult> {
  const envs = ctx.environments();
  const statuses: EnvStatus[] = [];
  for (const cfg of envs) statuses.push(await envStatus(ctx, cfg));
  const driftBy: Record<string, DriftReport | { error: string } | null> = {};
  for (const cfg of envs) {
    if (o.noDrift) {
      driftBy[cfg.name] = null;
      continue;
    }
    try {
      driftBy[cfg.name] = await drift(ctx, { env: cfg.name, by: o.by, print: false });
    } catch (e) {
      driftBy[cfg.name] = { error: (e as Error).message.split("\n")[0] };
    }
  }
  const config = diffConfigs(envs.map((c) => ({ name: c.name, config: c })));
  const divergences = divergence(statuses);
  const diverged = divergences.some((d) => d.blocking);

  const out: string[] = [];
  for (const s of statuses) {
    const d = driftBy[s.env];
    const driftText = d === null ? "skipped (--no-drift)" : "error" in d ? `ERROR: ${d.error}` : d.noState ? "no state" : d.resources.length === 0 ? "none" : `${d.resources.length} resource(s): ${d.resources.map((r) => r.address).join(", ")}`;
    out.push(`${s.env}${s.promotesFrom ? ` (promotes from ${s.promotesFrom})` : ""}`);
    out.push(`  last applied: ${s.last ? `${s.last.commit} ${s.last.tag} (${s.last.at})` : "never"}`);
    out.push(`  terraform:    ${s.tools.terraform ?? "-"}; providers ${Object.entries(s.tools.providers).map(([k, v]) => `${k.split("/").pop()} ${v}`).join(", ") || "-"}`);
    out.push(`  lock file:    ${s.tools.lockSha256 ?? "-"}   (from ${s.tools.source})`);
    if (s.bundlesError !== undefined) out.push(`  bundles:      UNREADABLE: ${s.bundlesError}`);
    out.push(`  drift:        ${driftText}`);
  }
  out.push("");
  out.push(config.length === 0 ? "Config: no differences" : `Config differences (${config.length} fields):`);
  for (const c of config) out.push(`  ${renderConfigDiff(c)}`);
  out.push("");
  if (divergences.length === 0) out.push("Divergence: none (every gated env runs a commit its previous env applied, with the same providers and lock file)");
  for (const d of divergences) out.push(`${d.blocking ? "DIVERGED" : "note    "} ${d.env} vs ${d.from}: ${d.kind}: ${d.detail}`);
  ctx.io.out(`${out.join("\n")}\n`);
  return { statuses, drift: driftBy, config, divergences, diverged };
}

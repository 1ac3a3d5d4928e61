/**
 * The plan review page: one self-contained HTML document (inline CSS, no script, no external request:
 * a Content-Security-Policy of default-src 'none' says so to the browser) rendered by a pure function
 * from data. Every value is HTML-escaped. Attribute values come from the engine's summary
 * (summarizePlan), already redacted: values marked sensitive, secret generator results and
 * secret-looking attribute names are never in the data, so never on the page.
 *
 * Order: identity and the approve command, counts, destructive changes (stateful ones highlighted),
 * policy findings, the cost change, then every other change and the outputs.
 */
import type { CostDelta } from "../cost/estimate";
import { formatUsd } from "../cost/estimate";
import type { Manifest } from "../engine/core/schemas";
import type { Action, ChangeView, PlanSummary } from "../engine/core/summary";
import type { PolicyFinding, PolicyView } from "./source";

/** The manifest fields the page shows (a newer manifest with more fields is accepted as is). */
export type ReviewManifest = Pick<
  Manifest,
  "id" | "env" | "git" | "plan" | "counts" | "destructive" | "createdAt" | "expiresAt" | "createdBy" | "terraform" | "backend" | "account" | "priorState"
> & {
  /** A pull request's preview: never approved, never applied. @default false */
  readonly speculative?: boolean;
};

export interface ReviewStatus {
  readonly expired: boolean;
  /** "by NAME at TIME", or null when not approved. */
  readonly approval: string | null;
  /** "succeeded by NAME at TIME", or null when never applied. */
  readonly applied: string | null;
  /** The env requires an approval before apply (delivery.requireApproval). */
  readonly requireApproval: boolean;
}

export interface ReviewPageData {
  readonly manifest: ReviewManifest;
  /** The redacted summary of `terraform show -json` (summarizePlan); null when the plan JSON could not be read. */
  readonly summary: PlanSummary | null;
  /** Why the plan JSON could not be read (then the page shows summary.txt). */
  readonly planUnavailable?: string;
  /** summary.txt, shown when `summary` is null. */
  readonly summaryText?: string | null;
  readonly status: ReviewStatus;
  readonly policy: PolicyView;
  /** The plan's cost change and the env's budget; or why it is not known. */
  readonly cost: { readonly delta: CostDelta; readonly budgetUsd: number } | { readonly unavailable: string };
  /** ISO time the page was made. */
  readonly generatedAt: string;
}

// ---------------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
const e = escapeHtml;

// ---------------------------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------------------------

const DESTRUCTIVE: readonly Action[] = ["delete", "replace", "forget"];
const ACTION_LABEL: Record<Action, string> = { create: "create", update: "update", delete: "DESTROY", replace: "REPLACE", forget: "forget", read: "read", "no-op": "no-op" };
const signed = (n: number) => `${n > 0 ? "+" : n < 0 ? "-" : "±"}${formatUsd(Math.abs(n))}`;

function lineClass(line: string): string {
  if (line.startsWith("# forces replacement")) return "force";
  if (line.startsWith("+ ")) return "add";
  if (line.startsWith("~ ")) return "chg";
  return "";
}

function changeBlock(c: ChangeView): string {
  const destructive = DESTRUCTIVE.includes(c.action);
  const classes = ["change", `a-${c.action}`, destructive ? "destructive" : "", c.stateful && destructive ? "stateful" : ""].filter(Boolean).join(" ");
  const badge = c.stateful && destructive ? `<span class="badge stateful-badge">STATEFUL: data is lost</span>` : "";
  const lines =
    c.lines.length > 0
      ? `<pre class="diff">${c.lines.map((l) => `<span class="${lineClass(l)}">${e(l)}</span>`).join("\n")}</pre>`
      : c.action === "update"
        ? `<p class="muted hidden-change">Only values that are not shown change (sensitive or secret).</p>`
        : "";
  return `<article class="${classes}" data-address="${e(c.address)}"><h3><span class="action">${e(ACTION_LABEL[c.action])}</span> <code>${e(c.address)}</code>${badge}</h3>${lines}</article>`;
}

function identity(m: ReviewManifest): string {
  const providers = Object.entries(m.terraform.providers)
    .map(([k, v]) => `${k.split("/").slice(-1)[0]} ${v}`)
    .join(", ");
  const rows: [string, string][] = [
    ["Environment", `<strong>${e(m.env)}</strong>`],
    ["Bundle", `<code>${e(m.id)}</code>`],
    ["Commit", `<code>${e(m.git.commit)}</code>${m.git.dirty ? ` <span class="badge warn">DIRTY TREE: uncommitted changes were present</span>` : ""}`],
    ["Created", `${e(m.createdAt)} by ${e(m.createdBy)}`],
    ["Expires", e(m.expiresAt)],
    ["Terraform", `${e(m.terraform.version)}${providers ? `; providers ${e(providers)}` : ""}`],
    ["Backend", `${e(m.backend.type)} ${e(m.backend.bucket ?? "-")}/${e(m.backend.key ?? "-")}; account ${e(m.account)}`],
    ["Prior state", m.priorState ? `serial ${e(String(m.priorState.serial))}, lineage <code>${e(m.priorState.lineage)}</code>` : "none (first apply)"],
    ["Plan SHA-256", `<code id="plan-sha256" class="hash">${e(m.plan.sha256)}</code>`],
  ];
  return `<dl class="identity">${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

/** Error findings not waived by a recorded exception: they block approval. */
const blockingFindings = (p: PolicyView): number => (p.state === "present" ? p.findings.filter((f) => f.level === "error" && !f.waived).length : 0);

function approveSection(d: ReviewPageData): string {
  const m = d.manifest;
  const command = `npx promote approve ${m.env} ${m.id} --sha256 ${m.plan.sha256} --by <you>`;
  let note: string;
  if (m.speculative) note = `<p class="notice warn">A speculative plan (a preview): it can never be approved or applied.</p>`;
  else if (d.status.applied) note = `<p class="notice">Applied: ${e(d.status.applied)}. Nothing left to approve.</p>`;
  else if (d.status.approval) note = `<p class="notice ok">Approved ${e(d.status.approval)}.</p>`;
  else if (d.status.expired) note = `<p class="notice bad">EXPIRED: this plan can no longer be approved or applied; run <code>npx promote plan ${e(m.env)}</code> again.</p>`;
  else if (blockingFindings(d.policy) > 0)
    note = `<p class="notice bad">Policy: ${blockingFindings(d.policy)} error finding(s) block approval and apply (POLICY-BLOCKED): fix them, or record an exception, and plan again. See Policy below.</p>`;
  else note = `<p>${d.status.requireApproval ? "Approval is required before apply." : "Approval is not required in this env."} Read the whole page, then approve exactly this plan (the hash binds your approval to these bytes):</p>`;
  const showCommand = !m.speculative && !d.status.applied && !d.status.approval && !d.status.expired && blockingFindings(d.policy) === 0;
  return `<section id="approve"><h2>Approve</h2>${note}${showCommand ? `<pre class="command" id="approve-command">${e(command)}</pre>` : ""}</section>`;
}

function countsSection(m: ReviewManifest): string {
  const c = m.counts;
  return `<section id="counts"><h2>Plan</h2><p class="counts"><span class="add">${c.add} to add</span> <span class="chg">${c.change} to change</span> <span class="del">${c.destroy} to destroy</span> <span>(${c.replace} replaced)</span></p></section>`;
}

function destructiveSection(d: ReviewPageData): string {
  let body: string;
  let count: number;
  if (d.summary) {
    const list = d.summary.changes.filter((c) => DESTRUCTIVE.includes(c.action));
    // Stateful first: they lose data.
    const ordered = [...list.filter((c) => c.stateful), ...list.filter((c) => !c.stateful)];
    count = ordered.length;
    body = ordered.map(changeBlock).join("");
  } else {
    const list = [...d.manifest.destructive.filter((c) => c.stateful), ...d.manifest.destructive.filter((c) => !c.stateful)];
    count = list.length;
    body = list.map((c) => changeBlock({ address: c.address, type: c.type, action: c.action, stateful: c.stateful, lines: [] })).join("");
  }
  const head = count > 0 ? `Destructive changes (${count})` : "Destructive changes: none";
  return `<section id="destructive" class="${count > 0 ? "has-destructive" : ""}"><h2>${e(head)}</h2>${body}</section>`;
}

const LEVEL_RANK = (f: PolicyFinding) => (f.waived ? 2 : f.level === "error" ? 0 : 1);

function policySection(p: PolicyView): string {
  if (p.state === "absent") return `<section id="policy"><h2>Policy</h2><p class="muted">No policy results in this bundle (no policy.json).</p></section>`;
  if (p.state === "unreadable") return `<section id="policy"><h2>Policy</h2><p class="notice bad">policy.json is unreadable: ${e(p.reason)}</p></section>`;
  const errors = p.findings.filter((f) => !f.waived && f.level === "error").length;
  const warnings = p.findings.filter((f) => !f.waived && f.level === "warning").length;
  const waived = p.findings.filter((f) => f.waived).length;
  const verdict = errors > 0 ? `<p class="notice bad">${errors} error(s) block approval</p>` : `<p class="notice ok">Policy passed</p>`;
  const blocks = [...p.findings]
    .sort((a, b) => LEVEL_RANK(a) - LEVEL_RANK(b))
    .map((f) => {
      const level = f.waived ? "waived" : f.level;
      const last = f.waived ? ["waived", f.waived.reason] : ["fix", f.fix ?? ""];
      return `<div class="finding lvl-${e(level)}"><h3><span class="level">${e(level)}</span> <code>${e(f.id)}</code> <code>${e(f.address)}</code>${f.attribute ? ` <small>${e(f.attribute)}</small>` : ""}</h3><dl><dt>expected</dt><dd>${e(f.expected)}</dd><dt>found</dt><dd>${e(f.found)}</dd><dt>${e(last[0])}</dt><dd>${e(last[1])}</dd></dl></div>`;
    })
    .join("");
  return `<section id="policy"><h2>Policy</h2>${verdict}<p class="muted">${errors} error(s), ${warnings} warning(s), ${waived} waived</p>${blocks}</section>`;
}

function costSection(d: ReviewPageData): string {
  if ("unavailable" in d.cost) return `<section id="cost"><h2>Cost</h2><p class="muted">Cost change not estimated: ${e(d.cost.unavailable)}</p></section>`;
  const { delta, budgetUsd } = d.cost;
  const after = delta.after.totalUsd;
  const over = after > budgetUsd;
  const pct = Math.round((after / budgetUsd) * 1000) / 10;
  const budget = over
    ? `<p class="notice bad">OVER BUDGET: ${e(formatUsd(after))}/month is ${e(formatUsd(after - budgetUsd))} over the ${e(formatUsd(budgetUsd))} budget (${pct}%).</p>`
    : `<p class="notice ok">Within budget: ${e(formatUsd(after))}/month is ${pct}% of the ${e(formatUsd(budgetUsd))} budget.</p>`;
  const rows = delta.changes
    .map((c) => `<tr><td><code>${e(c.address)}</code></td><td class="num">${e(formatUsd(c.beforeUsd))}</td><td class="num">${e(formatUsd(c.afterUsd))}</td><td class="num ${c.deltaUsd > 0 ? "up" : "down"}">${e(signed(c.deltaUsd))}</td></tr>`)
    .join("");
  const table = delta.changes.length > 0 ? `<table><thead><tr><th>resource</th><th>before</th><th>after</th><th>change</th></tr></thead><tbody>${rows}</tbody></table>` : `<p class="muted">No priced resource changes cost.</p>`;
  const notPriced =
    delta.after.notPriced.length > 0
      ? `<p class="notice warn">Not priced (${delta.after.notPriced.length}): the total is a lower bound.</p><ul>${delta.after.notPriced.map((n) => `<li><code>${e(n.address)}</code>: ${e(n.reason)}</li>`).join("")}</ul>`
      : "";
  const items = `<details><summary>All ${delta.after.items.length} line items after apply</summary><table><tbody>${delta.after.items
    .map((i) => `<tr><td><code>${e(i.address)}</code></td><td>${e(i.component)}</td><td>${e(i.detail)}</td><td class="num">${e(formatUsd(i.monthlyUsd))}</td></tr>`)
    .join("")}</tbody></table></details>`;
  return `<section id="cost"><h2>Cost</h2><p class="big">${e(formatUsd(delta.before.totalUsd))} &rarr; ${e(formatUsd(after))} per month <span class="${delta.deltaUsd > 0 ? "up" : "down"}">(${e(signed(delta.deltaUsd))})</span></p>${budget}${table}${notPriced}${items}<p class="muted">On-demand list prices (scripts/lib/cost/prices.json); traffic-based items use the assumptions noted there.</p></section>`;
}

function changesSection(d: ReviewPageData): string {
  if (!d.summary) {
    const why = d.planUnavailable ? `<p class="notice warn">Attribute changes unavailable (${e(d.planUnavailable)}); the bundle's summary.txt follows.</p>` : "";
    return `<section id="changes"><h2>Changes</h2>${why}<pre class="diff">${e(d.summaryText ?? "(no summary.txt)")}</pre></section>`;
  }
  const rest = d.summary.changes.filter((c) => !DESTRUCTIVE.includes(c.action));
  const outputs = d.summary.outputs.length > 0 ? `<h2>Outputs</h2><pre class="diff">${d.summary.outputs.map(e).join("\n")}</pre>` : "";
  return `<section id="changes"><h2>Other changes (${rest.length})</h2>${rest.map(changeBlock).join("") || `<p class="muted">None.</p>`}${outputs}</section>`;
}

const CSS = `
:root{--fg:#1d232b;--muted:#5b6675;--bg:#fff;--line:#d8dee6;--red:#b3261e;--redbg:#fdecea;--amber:#8a5a00;--amberbg:#fff4d6;--green:#1e6b34;--greenbg:#e7f5ea;--code:#f4f6f8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:14px;margin:0;font-weight:600}
code,pre{font:13px/1.45 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
code{background:var(--code);padding:1px 4px;border-radius:3px;overflow-wrap:break-word}
pre{background:var(--code);padding:10px 12px;border-radius:4px;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:8px 0 0}
.sub{color:var(--muted);margin:0 0 16px}
dl.identity{display:grid;grid-template-columns:130px 1fr;gap:4px 16px;margin:0}
dl.identity dt{color:var(--muted)}dl.identity dd{margin:0}
.hash{font-weight:700;background:#e8eefc}
pre.command{background:#1d232b;color:#f4f6f8;font-size:14px;padding:12px 14px}
.counts span{display:inline-block;margin-right:14px;font-weight:600}
.add{color:var(--green)}.chg{color:var(--amber)}.del,.force{color:var(--red)}
.change{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:4px;padding:10px 12px;margin:10px 0}
.change.a-create{border-left-color:var(--green)}.change.a-update{border-left-color:#c99a2e}
.change.destructive{border-left-color:var(--red);background:#fffafa}
.change.stateful{border:2px solid var(--red);border-left-width:8px;background:var(--redbg)}
.action{display:inline-block;min-width:74px;text-transform:uppercase;font-size:12px;letter-spacing:.03em;color:var(--muted)}
.destructive .action{color:var(--red);font-weight:700}
.badge{display:inline-block;margin-left:10px;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700}
.stateful-badge{background:var(--red);color:#fff}.badge.warn{background:var(--amberbg);color:var(--amber)}
.notice{padding:8px 12px;border-radius:4px;background:var(--code)}
.notice.bad{background:var(--redbg);color:var(--red);font-weight:600}.notice.ok{background:var(--greenbg);color:var(--green)}.notice.warn{background:var(--amberbg);color:var(--amber)}
.muted{color:var(--muted)}.big{font-size:18px;font-weight:600}.up{color:var(--red)}.down{color:var(--green)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{text-align:left;border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}th{color:var(--muted);font-weight:600}
td.num{text-align:right;white-space:nowrap}
.finding{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:4px;padding:8px 12px;margin:8px 0}
.finding.lvl-error{border-left-color:var(--red)}.finding.lvl-warning{border-left-color:#c99a2e}
.finding .level{display:inline-block;min-width:64px;text-transform:uppercase;font-size:12px;font-weight:700}
.finding.lvl-error .level{color:var(--red)}.finding.lvl-warning .level{color:var(--amber)}.finding.lvl-waived .level{color:var(--muted)}
.finding dl{display:grid;grid-template-columns:80px 1fr;gap:2px 12px;margin:6px 0 0;font-size:14px}.finding dt{color:var(--muted)}.finding dd{margin:0}
.hidden-change{margin:6px 0 0;font-size:13px}
details{margin-top:8px}summary{cursor:pointer;color:var(--muted)}
footer{margin-top:32px;color:var(--muted);font-size:13px}
`;

/** The whole page. Pure: the same data gives the same bytes. */
export function renderReviewHtml(d: ReviewPageData): string {
  const m = d.manifest;
  const title = `Plan review: ${m.env} ${m.id}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header><h1>Plan review: ${e(m.env)}</h1><p class="sub">Bundle <code>${e(m.id)}</code> &middot; ${m.speculative ? "speculative preview" : d.status.applied ? "applied" : d.status.approval ? "approved" : d.status.expired ? "EXPIRED" : "awaiting approval"}</p>
${identity(m)}</header>
${approveSection(d)}
${countsSection(m)}
${destructiveSection(d)}
${policySection(d.policy)}
${costSection(d)}
${changesSection(d)}
<footer>Generated ${e(d.generatedAt)} by <code>npx promote review ${e(m.env)} ${e(m.id)} --html</code>. Values marked sensitive by terraform, generated secrets and secret-looking attributes are shown as (sensitive). The plan file itself (plan.tfplan) holds those values and is never published.</footer>
</main>
</body>
</html>
`;
}

/**
 * Findings as text for a terminal or a CI log (one block per finding, errors first), and as
 * Markdown for a job summary. Values are already redacted by the rules.
 */
import { countFindings } from "./evaluate";
import type { Finding } from "./types";

const rank = (f: Finding) => (f.waived ? 2 : f.level === "error" ? 0 : 1);
const sorted = (findings: readonly Finding[]) => [...findings].sort((a, b) => rank(a) - rank(b));
const label = (f: Finding) => (f.waived ? "waived" : f.level === "error" ? "ERROR" : "warning");

/** Plain text, ending with a one-line verdict. */
export function formatFindings(findings: readonly Finding[]): string {
  const c = countFindings(findings);
  const lines: string[] = [];
  for (const f of sorted(findings)) {
    lines.push(`${label(f).padEnd(7)} ${f.id}  ${f.address}${f.attribute ? `  (${f.attribute})` : ""}`);
    lines.push(`        expected: ${f.expected}`);
    lines.push(`        found:    ${f.found}`);
    if (f.waived) lines.push(`        waived:   ${f.waived.reason}`);
    else lines.push(`        fix:      ${f.fix}`);
  }
  const verdict =
    c.errors > 0
      ? `policy: ${c.errors} error(s) block approval`
      : "policy: passed";
  lines.push(`${verdict}; ${c.warnings} warning(s), ${c.waived} waived by recorded exception(s)`);
  return `${lines.join("\n")}\n`;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown table for $GITHUB_STEP_SUMMARY and review pages. */
export function formatFindingsMarkdown(findings: readonly Finding[]): string {
  const c = countFindings(findings);
  const head = c.errors > 0 ? `**Policy: ${c.errors} error(s) block approval**` : "**Policy: passed**";
  if (findings.length === 0) return `${head}\n`;
  const rows = sorted(findings).map(
    (f) => `| ${label(f)} | \`${f.id}\` | \`${cell(f.address)}\` | ${cell(f.attribute)} | ${cell(f.expected)} | ${cell(f.found)} | ${cell(f.waived ? `waived: ${f.waived.reason}` : f.fix)} |`,
  );
  return [
    `${head} (${c.warnings} warning(s), ${c.waived} waived)`,
    "",
    "| level | rule | address | attribute | expected | found | fix / reason |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** Cost estimates as text for a terminal or a CI log. */
import { type BudgetCheck, type CostDelta, type CostEstimate, formatUsd } from "./estimate";

const money = (n: number) => formatUsd(n).padStart(10);
const signed = (n: number) => `${n > 0 ? "+" : n < 0 ? "-" : "±"}${formatUsd(Math.abs(n))}`;

/** Line items (address, what, how, USD/month), the total, what was not priced and how many cost nothing. */
export function formatEstimate(estimate: CostEstimate): string {
  const width = Math.min(70, Math.max(20, ...estimate.items.map((i) => i.address.length)));
  const lines = estimate.items.map((i) => `  ${i.address.padEnd(width)}  ${i.component.padEnd(18)}  ${money(i.monthlyUsd)}  ${i.detail}`);
  lines.push(`  ${"TOTAL".padEnd(width)}  ${"".padEnd(18)}  ${money(estimate.totalUsd)}  per month`);
  if (estimate.notPriced.length > 0) {
    lines.push("", `NOT PRICED (${estimate.notPriced.length}): the total is a lower bound`);
    for (const n of estimate.notPriced) lines.push(`  ${n.address}: ${n.reason}`);
  }
  lines.push("", `${estimate.noCharge.length} resource(s) with no charge of their own (free, priced with another, or usage only).`);
  return `${lines.join("\n")}\n`;
}

/** One line: within budget, or OVER BUDGET with by how much. */
export function formatBudget(env: string, check: BudgetCheck): string {
  const where = `envs/${env} budget.monthlyUsd`;
  return check.over
    ? `OVER BUDGET: ${env} is estimated at ${formatUsd(check.totalUsd)}/month, ${formatUsd(check.marginUsd)} over its ${formatUsd(check.budgetUsd)} budget (${check.percent}%, ${where})\n`
    : `within budget: ${env} is estimated at ${formatUsd(check.totalUsd)}/month, ${check.percent}% of its ${formatUsd(check.budgetUsd)} budget (${where})\n`;
}

/** What the plan changes: before → after, and the resources whose cost moves. */
export function formatDelta(delta: CostDelta): string {
  const lines = [`Cost change of this plan: ${formatUsd(delta.before.totalUsd)} -> ${formatUsd(delta.after.totalUsd)} per month (${signed(delta.deltaUsd)})`];
  for (const c of delta.changes) lines.push(`  ${signed(c.deltaUsd).padStart(11)}  ${c.address}  (${formatUsd(c.beforeUsd)} -> ${formatUsd(c.afterUsd)})`);
  if (delta.changes.length === 0) lines.push("  no priced resource changes cost");
  return `${lines.join("\n")}\n`;
}

export { signed as formatSignedUsd };

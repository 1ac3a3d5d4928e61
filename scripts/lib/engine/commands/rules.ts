/** `promote rules [--markdown]`: the refusal ids (text), or RULES.md regenerated from the registries. */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../../toolchain";
import { engineRulesTable, policyRulesTable, withGeneratedBlock } from "../core/rules-doc";
import { RULES } from "../core/rules";
import type { EngineContext } from "../io/context";

/** The RULES.md files and the table each holds. */
export const RULES_DOCS: readonly { readonly path: string; readonly table: () => string }[] = [
  { path: join(PROJECT_ROOT, "scripts", "lib", "engine", "RULES.md"), table: engineRulesTable },
  { path: join(PROJECT_ROOT, "scripts", "lib", "policy", "RULES.md"), table: policyRulesTable },
];

/** Each RULES.md as it should be (its generated block from the code). */
export function generatedRulesDocs(): { path: string; text: string }[] {
  return RULES_DOCS.map((d) => ({ path: d.path, text: withGeneratedBlock(readFileSync(d.path, "utf8"), d.table(), relative(PROJECT_ROOT, d.path)) }));
}

export function showRules(ctx: EngineContext, o: { markdown: boolean }): void {
  if (!o.markdown) {
    for (const r of RULES) ctx.io.out(`${r.id}\n  ${r.info}\n  fix: ${r.fix}\n`);
    return;
  }
  for (const doc of generatedRulesDocs()) {
    const before = readFileSync(doc.path, "utf8");
    if (before !== doc.text) writeFileSync(doc.path, doc.text);
    ctx.io.out(`${relative(PROJECT_ROOT, doc.path)}: ${before === doc.text ? "up to date" : "regenerated"}\n`);
  }
}

import { readFileSync } from "node:fs";
import { BEGIN, END, engineRulesTable, policyRulesTable, withGeneratedBlock } from "../../scripts/lib/engine/core/rules-doc";
import { generatedRulesDocs } from "../../scripts/lib/engine/commands/rules";
import { RULE_IDS } from "../../scripts/lib/engine/core/rules";
import { ALL_IDS } from "../../scripts/lib/policy/registry";

describe("RULES.md generated from the registries", () => {
  it("each committed RULES.md is exactly what `npx promote rules --markdown` generates", () => {
    const docs = generatedRulesDocs();
    expect(docs).toHaveLength(2);
    for (const d of docs) expect({ path: d.path, text: readFileSync(d.path, "utf8") }).toEqual(d);
  });

  it("the tables have one row per id, in the registries' order", () => {
    const ids = (t: string) => [...t.matchAll(/^\| `([A-Z-]+)` \|/gm)].map((m) => m[1]);
    expect(ids(engineRulesTable())).toEqual(RULE_IDS);
    expect([...policyRulesTable().matchAll(/^- `([A-Z-]+)` \(/gm)].map((m) => m[1])).toEqual(ALL_IDS);
  });

  it("replaces only the generated block, and refuses a document without the markers", () => {
    const doc = `intro\n${BEGIN}\nold table\n${END}\noutro\n`;
    expect(withGeneratedBlock(doc, "new", "X.md")).toBe(`intro\n${BEGIN}\nnew\n${END}\noutro\n`);
    expect(() => withGeneratedBlock("no markers", "new", "X.md")).toThrow(/X.md has no generated block: expected the lines/);
  });

  it("a stale table is detected: an edited row no longer matches the generated output", () => {
    const [engine] = generatedRulesDocs();
    const edited = engine.text.replace("| `BUNDLE-NOT-FOUND` |", "| `BUNDLE-NOT-THERE` |");
    expect(edited).not.toBe(engine.text);
    expect(withGeneratedBlock(edited, engineRulesTable(), "RULES.md")).toBe(engine.text);
  });
});

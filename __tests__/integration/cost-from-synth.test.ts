/**
 * `promote cost <env> --from-synth` (moved from unit/cost.test.ts): the command synthesizes the checkout
 * afresh, which runs scripts/setup.mjs --if-needed (it checks terraform), so it is an integration test.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cost } from "../../scripts/lib/cost/command";
import { estimateMonthlyCost, resourcesFromSynth, type CostEstimate } from "../../scripts/lib/cost/estimate";
import { defaultContext } from "../../scripts/lib/engine/commands";
import { committedEnvironments, synthEnvironment } from "../helpers/stacks";

const ENVS = committedEnvironments();
const ESTIMATES = new Map(ENVS.map((cfg) => [cfg.name, estimateMonthlyCost(resourcesFromSynth(JSON.parse(synthEnvironment(cfg))))]));

describe("promote cost <env> --from-synth", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cost-"));
    mkdirSync(join(dir, "stacks", "staging"), { recursive: true });
    // A stale synth output (no resources) that the command must not price: it synthesizes the checkout.
    writeFileSync(join(dir, "stacks", "staging", "cdk.tf.json"), JSON.stringify({ resource: {} }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(budget: number) {
    const out: string[] = [];
    // The command synthesizes the checkout afresh (setup --if-needed first: it needs PATH); real AWS target.
    const vars = { PATH: process.env.PATH, HOME: process.env.HOME };
    const base = defaultContext(vars, { out: (t) => out.push(t), err: (t) => out.push(t) }, { outDir: dir, plansDir: join(dir, "plans") });
    const envs = ENVS.map((c) => (c.name === "staging" ? { ...c, budget: { ...c.budget, monthlyUsd: budget } } : c));
    return cost({ ...base, environments: () => envs }, { env: "staging", fromSynth: true }).then((code) => ({ code, text: out.join("") }));
  }

  it("prints the line items and exits 0 within budget", async () => {
    const r = await run(500);
    expect(r.code).toBe(0);
    expect(r.text).toContain(`within budget: staging is estimated at $${(ESTIMATES.get("staging") as CostEstimate).totalUsd.toFixed(2)}/month`);
    expect(r.text).toContain("1.65 x t3.medium (average over the week on its schedule: 2 for 110 h, 1 for 58 h) @ $30.37");
  }, 300_000);

  it("exits 1 with an OVER BUDGET line when the estimate exceeds budget.monthlyUsd", async () => {
    const r = await run(100);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/^OVER BUDGET: staging is estimated at \$\d+\.\d\d\/month, \$\d+\.\d\d over its \$100\.00 budget/m);
  }, 300_000);
});

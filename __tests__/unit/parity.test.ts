/**
 * Environments differ in config only: a fourth environment defined here as data synthesizes with no code
 * change, and no file of constructs/ or stacks/ compares an environment's name.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENTS, loadEnvironments } from "../../envs";
import type { EnvConfig } from "../../envs/schema";
import { staging } from "../../envs/staging";
import { REPO_ROOT } from "../../stacks/target";
import { parse, resourcesOf, synthBootstrap, synthEnvironment } from "../helpers/stacks";

/** "qa": staging's shape with its own name, account, network and state. */
const qa: EnvConfig = {
  ...staging,
  name: "qa",
  account: { ...staging.account, id: "444444444444" },
  stateBackend: { bucket: "tfstate-qa-444444444444", key: "env/qa/terraform.tfstate", lockTable: "tfstate-lock-qa" },
  store: { ...staging.store, bucket: "promote-store-qa-444444444444", kmsKeyAlias: "alias/promote-qa" },
  network: { ...staging.network, cidr: "10.40.0.0/16", azCount: 3, natGateways: 2 },
  app: { ...staging.app, targetGroups: [{ name: "blue", weight: 90 }, { name: "green", weight: 10 }] },
  cache: { ...staging.cache, replicas: 3, automaticFailover: true },
  edge: { priceClass: "PriceClass_All", rateLimitPer5Min: 500 },
  alarms: { ...staging.alarms!, severity: "page" },
  dnsZone: "qa.internal.example.com",
  delivery: { ...staging.delivery, promotesFrom: "staging" },
};

describe("a fourth environment, as config only", () => {
  const [config] = loadEnvironments([...ENVIRONMENTS, qa], {}).filter((e) => e.name === "qa");
  const stack = parse(synthEnvironment(config));

  it("validates together with the committed ones", () => {
    expect(config.name).toBe("qa");
  });

  it("synthesizes in its own account, network and state", () => {
    expect(stack.provider.aws[0].allowed_account_ids).toEqual(["444444444444"]);
    expect(stack.terraform.backend!.s3).toMatchObject({ bucket: "tfstate-qa-444444444444", key: "env/qa/terraform.tfstate" });
    expect(resourcesOf(stack, "aws_vpc")[0].cidr_block).toBe("10.40.0.0/16");
    expect(resourcesOf(stack, "aws_subnet")).toHaveLength(6);
    expect(resourcesOf(stack, "aws_nat_gateway")).toHaveLength(2);
  });

  it("gets every config-driven difference from its fields", () => {
    expect(resourcesOf(stack, "aws_elasticache_replication_group")[0].num_cache_clusters).toBe(4);
    expect(resourcesOf(stack, "aws_cloudfront_distribution")[0].price_class).toBe("PriceClass_All");
    expect(resourcesOf(stack, "aws_sns_topic").map((t) => t.name)).toEqual(["qa-oncall-page"]);
    const https = resourcesOf(stack, "aws_lb_listener").find((l) => l.port === 443)!;
    expect(https.certificate_arn).toBe("arn:aws:iam::444444444444:server-certificate/app-staging");
    const weights = https.default_action[0].forward.target_group.map((t: any) => t.weight);
    expect(weights).toEqual([90, 10]);
    expect(resourcesOf(stack, "aws_ssm_parameter").every((p) => p.name.startsWith("/qa/"))).toBe(true);
    expect(resourcesOf(stack, "aws_secretsmanager_secret").every((s) => s.name.startsWith("qa/"))).toBe(true);
  });

  it("has its own bootstrap stack", () => {
    const bootstrap = parse(synthBootstrap(config));
    expect(resourcesOf(bootstrap, "aws_s3_bucket")[0].bucket).toBe("tfstate-qa-444444444444");
  });
});

describe("no environment name in code", () => {
  const files = ["constructs", "stacks"].flatMap((dir) =>
    readdirSync(join(REPO_ROOT, dir))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(dir, f)),
  );
  const names = ENVIRONMENTS.map((e) => e.name);
  const patterns: Array<[string, RegExp]> = [
    ["a quoted environment name", new RegExp(`["'\`](${names.join("|")})["'\`]`)],
    ["a comparison with a string literal on a name", /\bname\s*[!=]==?\s*["'`]|["'`]\s*[!=]==?\s*\w*\.?name\b/],
    ["a comparison of env / environment", /\b(env|environment|envName|stage)\s*[!=]==?/],
    ["a switch over a name", /switch\s*\(\s*[\w.]*name\s*\)/i],
  ];

  it("scans some files", () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(patterns)("no file in constructs/ or stacks/ contains %s", (_what, pattern) => {
    const hits = files.flatMap((f) =>
      readFileSync(join(REPO_ROOT, f), "utf8")
        .split("\n")
        .map((line, i) => ({ f, line: i + 1, text: line.trim() }))
        .filter((l) => pattern.test(l.text)),
    );
    expect(hits).toEqual([]);
  });

  it("the patterns catch what they are meant to", () => {
    const samples = ['if (env === "prod") {', 'config.name === "staging"', "const x = 'dev';", "switch (config.name) {"];
    for (const s of samples) expect(patterns.some(([, p]) => p.test(s))).toBe(true);
  });
});

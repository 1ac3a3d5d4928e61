/**
 * The delivery workflows (.github/workflows): linted by the real actionlint (pinned in
 * scripts/toolchain.json, built by scripts/setup.mjs into .local/bin), and their structure asserted:
 * prod applies the bundle its plan job put in prod's store, behind the protected `production` environment and
 * only with signed approvals, one apply
 * per env at a time, OIDC credentials per env, actions pinned by commit SHA, pull requests never apply.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";

/* eslint-disable @typescript-eslint/no-explicit-any */
// js-yaml is a devDependency (the version jest already brings, pinned in package-lock.json).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { safeLoad(text: string): any };

const WORKFLOWS = join(PROJECT_ROOT, ".github", "workflows");
const TOOLCHAIN = JSON.parse(readFileSync(join(PROJECT_ROOT, "scripts", "toolchain.json"), "utf8"));
const ACTIONLINT = join(PROJECT_ROOT, ".local", "bin", "actionlint");

function actionlint(cwd: string, files: string[]) {
  const r = spawnSync(ACTIONLINT, ["-no-color", "-oneline", ...files], { cwd, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (f: string) => readFileSync(join(WORKFLOWS, f), "utf8");
const load = (f: string) => yaml.safeLoad(text(f));
const deliver = load("deliver.yml");
const pr = load("pull-request.yml");

type Job = any;
const jobsOf = (wf: any): [string, Job][] => Object.entries(wf.jobs);
const steps = (job: Job): any[] => job.steps ?? [];
const runs = (job: Job): string => steps(job).map((s) => s.run ?? "").join("\n");
const usesStep = (job: Job, action: string) => steps(job).find((s) => typeof s.uses === "string" && s.uses.startsWith(`${action}@`));
const applies = (job: Job) => /npx promote apply /.test(runs(job));

describe("actionlint on .github/workflows", () => {
  beforeAll(() => {
    if (!existsSync(ACTIONLINT)) throw new Error(`${ACTIONLINT} is missing: run \`npm run setup\` (it builds actionlint ${TOOLCHAIN.actionlint.version})`);
  });

  it(`is the pinned version ${TOOLCHAIN.actionlint.version}`, () => {
    const r = spawnSync(ACTIONLINT, ["-version"], { encoding: "utf8" });
    expect(r.stdout.split("\n")[0].trim()).toBe(TOOLCHAIN.actionlint.version);
  });

  it("accepts every workflow of the repository (exit 0, no finding)", () => {
    expect(files).toEqual(["deliver.yml", "pull-request.yml"]);
    const r = actionlint(PROJECT_ROOT, files.map((f) => join(".github", "workflows", f)));
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("refuses a broken workflow (proof that the linter really runs)", () => {
    const dir = mkdtempSync(join(tmpdir(), "actionlint-"));
    try {
      mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
      const broken = [
        "on: push",
        "jobs:",
        "  apply:",
        "    needs: plan-that-does-not-exist",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        "      - run: echo ${{ secretz.TOKEN }}",
        "",
      ].join("\n");
      writeFileSync(join(dir, ".github", "workflows", "broken.yml"), broken);
      const r = actionlint(dir, [join(".github", "workflows", "broken.yml")]);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/plan-that-does-not-exist/);
      expect(r.out).toMatch(/secretz/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deliver.yml (push to main)", () => {
  const job = (id: string) => deliver.jobs[id];

  it("runs on pushes to main and grants only contents: read by default", () => {
    expect(deliver.on.push.branches).toEqual(["main"]);
    expect(deliver.permissions).toEqual({ contents: "read" });
  });

  it("builds and tests once: setup, typecheck, unit tests, synth; integration tests in their own job", () => {
    const build = runs(job("build"));
    for (const cmd of ["npm run setup", "npm run typecheck", "npx jest --selectProjects unit", "npm run synth"]) expect(build).toContain(cmd);
    expect(runs(job("integration"))).toContain("npx jest --selectProjects integration");
  });

  it("auto-applies dev, then applies staging only after dev and every test", () => {
    expect(job("dev").env.ENV_NAME).toBe("dev");
    expect(runs(job("dev"))).toContain('npx promote apply "$ENV_NAME" --auto');
    expect(job("staging").env.ENV_NAME).toBe("staging");
    expect(job("staging").needs).toEqual(expect.arrayContaining(["build", "integration", "dev"]));
    expect(runs(job("staging"))).toMatch(/npx promote plan "\$ENV_NAME"[\s\S]*npx promote apply "\$ENV_NAME" "\$BUNDLE_ID"/);
  });

  it("plans prod once after staging into prod's store (no artifact, no shared key), and tells approvers how to sign", () => {
    const plan = job("prod-plan");
    expect(plan.needs).toEqual(expect.arrayContaining(["staging"]));
    expect(plan.env.PROMOTE_STORE).toBe("s3");
    expect(runs(plan)).toContain('npx promote plan "$ENV_NAME"');
    expect(applies(plan)).toBe(false);
    expect(usesStep(plan, "actions/upload-artifact")).toBeUndefined();
    expect(plan.outputs["artifact-id"]).toBeUndefined();
    expect(plan.outputs["plan-sha256"]).toBe("${{ steps.summary.outputs.sha256 }}");
    expect(runs(plan)).not.toMatch(/openssl|PLAN_ARTIFACT_KEY/);
    expect(runs(plan)).toContain("Plan SHA-256");
    expect(runs(plan)).toMatch(/npx promote approve prod '"\$BUNDLE_ID"' --sha256 '"\$PLAN_SHA256"' --key/);
  });

  it("applies prod only in the protected production environment, from prod's store, with signed approvals", () => {
    const apply = job("prod-apply");
    expect(apply.environment).toBe("production");
    expect(apply.needs).toEqual(expect.arrayContaining(["prod-plan"]));
    expect(apply.env.PROMOTE_STORE).toBe("s3");
    expect(usesStep(apply, "actions/download-artifact")).toBeUndefined();
    expect(apply.env.PLAN_SHA256).toBe("${{ needs.prod-plan.outputs.plan-sha256 }}");
    expect(apply.env.BUNDLE_ID).toBe("${{ needs.prod-plan.outputs.bundle-id }}");
    const r = runs(apply);
    expect(r).toContain('npx promote review "$ENV_NAME" "$BUNDLE_ID"');
    expect(r).toMatch(/sha256sum "\$BUNDLE\/plan\.tfplan"[\s\S]*\$PLAN_SHA256/);
    // the job signs nothing: the approval is an engineer's signature in the store; GitHub's approver is recorded as who applied
    expect(r).not.toMatch(/promote approve/);
    expect(r).toContain('npx promote apply "$ENV_NAME" "$BUNDLE_ID" --by "github:$APPROVER"');
    expect(r).toContain('npx promote apply "$ENV_NAME" "$BUNDLE_ID"');
    // Nothing is rebuilt or re-planned for prod: no synth, no plan, no auto-apply in the apply job.
    expect(r).not.toMatch(/promote plan|--auto|npm run synth/);
    // The hash is checked before anything is applied.
    const order = steps(apply).map((s) => s.run ?? s.uses ?? "");
    const verify = order.findIndex((s) => /sha256sum/.test(s));
    const doApply = order.findIndex((s) => /npx promote apply/.test(s));
    expect(verify).toBeGreaterThan(-1);
    expect(verify).toBeLessThan(doApply);
  });

  it("allows one apply per env at a time, never cancelling a running one", () => {
    const applying = jobsOf(deliver).filter(([, j]) => applies(j));
    expect(applying.map(([id]) => id).sort()).toEqual(["dev", "prod-apply", "staging"]);
    for (const [, j] of applying) {
      expect(j.concurrency).toEqual({ group: `apply-${j.env.ENV_NAME}`, "cancel-in-progress": false });
    }
  });
});

describe("credentials: OIDC, one role per env, never shared", () => {
  const credentialJobs = (wf: any) => jobsOf(wf).filter(([, j]) => usesStep(j, "aws-actions/configure-aws-credentials"));

  it("grants id-token: write only to the jobs that assume a role, and never at workflow level", () => {
    for (const wf of [deliver, pr]) {
      expect(wf.permissions?.["id-token"]).toBeUndefined();
      for (const [id, j] of jobsOf(wf)) {
        const assumes = usesStep(j, "aws-actions/configure-aws-credentials") !== undefined;
        expect([id, j.permissions?.["id-token"] === "write"]).toEqual([id, assumes]);
      }
    }
  });

  it("takes each job's role from a variable of its own env, with no static keys", () => {
    for (const wf of [deliver, pr]) {
      for (const [id, j] of credentialJobs(wf)) {
        const w = usesStep(j, "aws-actions/configure-aws-credentials").with;
        expect(w["aws-access-key-id"]).toBeUndefined();
        const role: string = w["role-to-assume"];
        const perEnv =
          /vars\[format\('\{0\}_(DEPLOY|PLAN)_ROLE_ARN', fromJSON\(needs\.build\.outputs\.envs\)\[(env\.ENV_NAME|matrix\.env)\]\.key\)\]/.test(role) ||
          role === `\${{ vars.${String(j.env?.ENV_NAME).toUpperCase()}_${id.endsWith("plan") ? "PLAN" : "DEPLOY"}_ROLE_ARN }}`;
        expect([id, role, perEnv]).toEqual([id, role, true]);
      }
    }
    expect(usesStep(deliver.jobs["prod-apply"], "aws-actions/configure-aws-credentials").with["role-to-assume"]).toContain("_DEPLOY_ROLE_ARN");
    expect(deliver.jobs["prod-apply"].env.ENV_NAME).toBe("prod");
  });
});

describe("pull-request.yml", () => {
  it("checks every pull request with setup, typecheck, unit and integration tests and synth", () => {
    expect(pr.on.pull_request).toBeDefined();
    const build = runs(pr.jobs.build);
    for (const cmd of ["npm run setup", "npm run typecheck", "npx jest --selectProjects unit", "npm run synth"]) expect(build).toContain(cmd);
    expect(runs(pr.jobs.integration)).toContain("npx jest --selectProjects integration");
  });

  it("plans every env read from envs/ (matrix), speculatively, with a job summary and the policy check", () => {
    const plan = pr.jobs.plan;
    expect(plan.strategy.matrix.env).toBe("${{ fromJSON(needs.build.outputs.names) }}");
    const r = runs(plan);
    expect(r).toContain('npx promote plan "$ENV_NAME" --speculative');
    expect(r).toContain("GITHUB_STEP_SUMMARY");
    expect(r).toContain("Plan SHA-256");
    expect(r).toContain(`npx promote policy "$ENV_NAME" "$(basename "$BUNDLE")" --markdown`);
  });

  it("never applies, approves or uploads a plan (the ephemeral env goes through promote env only)", () => {
    for (const [, j] of jobsOf(pr)) {
      expect(runs(j)).not.toMatch(/promote (apply|approve)/);
      expect(usesStep(j, "actions/upload-artifact")).toBeUndefined();
    }
  });

  it("runs the checks on opened/synchronize/reopened, and only the ephemeral destroy on closed", () => {
    expect(pr.on.pull_request.types).toEqual(["opened", "synchronize", "reopened", "closed"]);
    expect(pr.jobs.build.if).toBe("github.event.action != 'closed'");
    // integration and plan need build, so they are skipped with it
    expect(pr.jobs.integration.needs).toBe("build");
    expect(pr.jobs.plan.needs).toBe("build");
    const onClosed = jobsOf(pr).filter(([, j]) => j.if === undefined || !/action != 'closed'/.test(j.if)).map(([id]) => id);
    expect(onClosed.filter((id) => !["integration", "plan"].includes(id))).toEqual(["ephemeral-destroy"]);
  });

  it("cancels a superseded run's checks, per job, but never a running ephemeral create or destroy", () => {
    expect(pr.concurrency).toBeUndefined(); // a workflow-level group would cancel a running terraform apply
    for (const id of ["build", "integration", "plan"]) {
      expect(pr.jobs[id].concurrency.group).toMatch(/^pr-\$\{\{ github\.event\.pull_request\.number \}\}-/);
      expect(pr.jobs[id].concurrency["cancel-in-progress"]).toBe(true);
    }
    for (const id of ["ephemeral", "ephemeral-destroy"]) {
      expect(pr.jobs[id].concurrency).toEqual({ group: "ephemeral-pr-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
    }
  });
});

describe("pull-request.yml: the pull request's ephemeral env (promote env)", () => {
  const create = pr.jobs.ephemeral;
  const destroy = pr.jobs["ephemeral-destroy"];
  const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository";

  it("creates (or updates) pr-<number> after the tests passed, not for forks", () => {
    expect(create.needs).toEqual(["build", "integration"]);
    expect(create.if).toBe(`github.event.action != 'closed' && ${sameRepo}`);
    expect(create.env.EPHEMERAL_NAME).toBe("pr-${{ github.event.pull_request.number }}");
    expect(runs(create)).toContain('npx promote env create "$EPHEMERAL_NAME" --update');
    expect(runs(create)).not.toContain("env destroy");
  });

  it("destroys it when the pull request is closed, without waiting for any check", () => {
    expect(destroy.needs).toBeUndefined();
    expect(destroy.if).toBe(`github.event.action == 'closed' && ${sameRepo}`);
    expect(destroy.env.EPHEMERAL_NAME).toBe("pr-${{ github.event.pull_request.number }}");
    expect(runs(destroy)).toContain('npx promote env destroy "$EPHEMERAL_NAME"');
    expect(runs(destroy)).not.toContain("env create");
  });

  it.each([["ephemeral"], ["ephemeral-destroy"]])("%s: dev's environment and deploy role, checked against EPHEMERAL.baseEnv", (id) => {
    const j = pr.jobs[id];
    expect(j.environment).toBe("dev");
    expect(j.env.ENV_NAME).toBe("dev");
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write" });
    const creds = usesStep(j, "aws-actions/configure-aws-credentials").with;
    expect(creds["role-to-assume"]).toBe("${{ vars.DEV_DEPLOY_ROLE_ARN }}");
    expect(creds["aws-region"]).toBe("${{ steps.base.outputs.region }}");
    expect(runs(j)).toContain("EPHEMERAL.baseEnv !== process.env.ENV_NAME");
  });

  it.each([["ephemeral"], ["ephemeral-destroy"]])("%s: keeps no registry of its own: the registry and audit log are in dev's store (the default), nothing is carried in the actions cache", (id) => {
    const j = pr.jobs[id];
    const order = steps(j);
    expect(order.some((s) => /npx promote env /.test(s.run ?? ""))).toBe(true);
    expect(order.filter((s) => typeof s.uses === "string" && /^actions\/cache\/(restore|save)@/.test(s.uses)).map((s) => s.name)).toEqual([]);
    expect(JSON.stringify(j)).not.toContain("plans/_ephemeral");
    expect(j.env.PROMOTE_STORE ?? pr.env?.PROMOTE_STORE ?? "s3").toBe("s3");
  });

  it("no other pull-request job holds a deploy role", () => {
    const deployers = jobsOf(pr).filter(([, j]) => /_DEPLOY_ROLE_ARN/.test(usesStep(j, "aws-actions/configure-aws-credentials")?.with?.["role-to-assume"] ?? ""));
    expect(deployers.map(([id]) => id).sort()).toEqual(["ephemeral", "ephemeral-destroy"]);
  });
});

describe("every action is pinned by commit SHA", () => {
  it.each(files)("%s pins each `uses:` to 40 hex digits with its version in a comment", (f) => {
    const uses = [...text(f).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, rest] of uses) {
      expect([ref, /@[0-9a-f]{40}$/.test(ref)]).toEqual([ref, true]);
      expect([ref, /#\s*v\d+(\.\d+)*/.test(rest)]).toEqual([ref, true]);
    }
  });
});

describe("every supported Node major (scripts/toolchain.json node.supported, package.json engines)", () => {
  it.each([["deliver.yml"], ["pull-request.yml"]])("%s runs the unit tests and synth on Node 20, 22 and 24 (a matrix)", (f) => {
    const wf = load(f);
    const job = wf.jobs.node;
    expect(TOOLCHAIN.node.supported).toEqual(["20", "22", "24"]);
    expect(job.strategy.matrix.node).toEqual(TOOLCHAIN.node.supported);
    expect(job.strategy["fail-fast"]).toBe(false);
    expect(job.needs).toBe("build");
    expect(usesStep(job, "actions/setup-node").with["node-version"]).toBe("${{ matrix.node }}");
    const r = runs(job);
    for (const cmd of ["npm run setup", "npx jest --selectProjects unit", "npm run synth", "sha256sum cdktf.out/stacks/*/cdk.tf.json"]) expect(r).toContain(cmd);
    expect(applies(job)).toBe(false);
    expect(usesStep(job, "aws-actions/configure-aws-credentials")).toBeUndefined();
  });

  it("staging is applied only once every Node major passed", () => {
    expect(deliver.jobs.staging.needs).toEqual(expect.arrayContaining(["node"]));
  });

  it("the node job of a pull request is skipped on closed and cancelled by a newer push", () => {
    expect(pr.jobs.node.if).toBe("github.event.action != 'closed'");
    expect(pr.jobs.node.concurrency).toEqual({ group: "pr-${{ github.event.pull_request.number }}-node-${{ matrix.node }}", "cancel-in-progress": true });
  });

  it("engines in package.json names the same majors", () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    const majors = [...String(pkg.engines.node).matchAll(/\^(\d+)\./g)].map((m) => m[1]);
    expect(majors).toEqual(TOOLCHAIN.node.supported);
  });
});

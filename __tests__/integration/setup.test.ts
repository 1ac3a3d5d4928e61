/**
 * The one setup command: a second run changes nothing and is fast, and a missing piece fails with
 * what was missing, where it looked and which variable overrides it. Runs the real script.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/toolchain";

const TOOLCHAIN = JSON.parse(readFileSync(join(PROJECT_ROOT, "scripts", "toolchain.json"), "utf8"));

function setup(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("scripts/setup.mjs", () => {
  it("does nothing on a second run: every step reports itself already done", () => {
    expect(setup(["--if-needed", "--quiet"]).status).toBe(0); // brings the build up to date
    const r = setup([]);
    expect(r.status).toBe(0);
    for (const step of ["node modules", "terraform", "aws provider mirror", "random provider", "terraform CLI config", "provider bindings", "moto", "typescript build"]) {
      expect(r.out).toMatch(new RegExp(`--\\s+${step}\\s`));
    }
    expect(r.out).not.toMatch(/^\s+ok\s/m);
  });

  it("names the mirror path it looked at and TF_AWS_MIRROR when the AWS provider is missing", () => {
    const r = setup(["--if-needed"], { TF_AWS_MIRROR: "/nonexistent/tf-plugins" });
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      "setup failed: AWS provider 5.100.0 not found: looked for /nonexistent/tf-plugins/registry.terraform.io/hashicorp/aws/5.100.0/",
    );
    expect(r.out).toContain("set TF_AWS_MIRROR");
  });

  it("names the binary it looked for and TERRAFORM_BINARY_NAME when terraform is missing", () => {
    const r = setup(["--if-needed"], { TERRAFORM_BINARY_NAME: "terraform-not-installed" });
    expect(r.status).toBe(1);
    expect(r.out).toContain('setup failed: terraform not found: looked for "terraform-not-installed" on PATH');
    expect(r.out).toContain("set TERRAFORM_BINARY_NAME");
  });

  it("refuses a terraform older than the minimum (write-only attributes need 1.11), naming both and TERRAFORM_BINARY_NAME", () => {
    const dir = mkdtempSync(join(tmpdir(), "setup-old-terraform-"));
    try {
      const fake = join(dir, "terraform-1.10.5");
      writeFileSync(fake, `#!/bin/sh\necho '{"terraform_version":"1.10.5","platform":"linux_amd64"}'\n`);
      chmodSync(fake, 0o755);
      const r = setup(["--if-needed"], { TERRAFORM_BINARY_NAME: fake });
      expect(r.status).toBe(1);
      expect(TOOLCHAIN.terraform.minimumVersion).toBe("1.11.0");
      expect(r.out).toContain(`setup failed: terraform 1.10.5 is too old: expected >= 1.11.0 (binary "${fake}", set TERRAFORM_BINARY_NAME to another)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--node: refuses a major the project does not support, naming the supported ones, and prints no folder", () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--node", "18"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('setup failed: Node 18 is not one the project supports: expected one of 20, 22, 24 (scripts/toolchain.json node.pinned), found "18"');
  });

  it("--node: the running node answers for its own major (nothing fetched, the machine's node untouched)", () => {
    const major = process.version.slice(1).split(".")[0];
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, "scripts", "setup.mjs"), "--node", major], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    const dir = r.stdout.trim();
    // the running node, or (when it is older than the pinned version) the pinned one in .local/node
    expect([dirname(process.execPath), join(PROJECT_ROOT, ".local", "node", TOOLCHAIN.node.pinned[major], "bin")]).toContain(dir);
  });
});

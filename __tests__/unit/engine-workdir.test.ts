/**
 * io/workdir.ts's tfPlanAndApply (an ephemeral env's destroy) with a stand-in terraform binary: the plan is
 * saved, hashed, announced before it is applied, applied as saved, and its scratch folder removed
 * whatever happens.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tfPlanAndApply } from "../../scripts/lib/engine/io/workdir";

/** `plan ... -out=F` writes F (its bytes: $FAKE_TF_PLAN); `apply F` logs F's bytes; every call is logged. */
const FAKE = `#!/bin/sh
log="$FAKE_TF_LOG"
cmd="$1"
for a in "$@"; do last="$a"; case "$a" in -out=*) out="\${a#-out=}";; esac; done
case "$cmd" in
  plan) echo "plan $*" >> "$log"; printf '%s' "$FAKE_TF_PLAN" > "$out";;
  apply) echo "apply $(cat "$last")" >> "$log"
    if [ -n "$FAKE_TF_FAIL" ]; then echo "Error: the provider broke" >&2; exit 1; fi
    echo "Apply complete! Resources: 0 added, 0 changed, 2 destroyed.";;
  *) echo "unexpected terraform $*" >&2; exit 9;;
esac
`;

describe("tfPlanAndApply", () => {
  let dir: string;
  let vars: NodeJS.ProcessEnv;
  const log = () => readFileSync(join(dir, "log"), "utf8").trim().split("\n");
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "workdir-test-"));
    writeFileSync(join(dir, "terraform"), FAKE, { mode: 0o755 });
    writeFileSync(join(dir, "log"), "");
    vars = { ...process.env, TERRAFORM_BINARY_NAME: join(dir, "terraform"), FAKE_TF_LOG: join(dir, "log"), FAKE_TF_PLAN: "the-saved-plan" };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("saves the plan, names its SHA-256 before the apply, applies exactly that file, then removes the scratch folder", async () => {
    const err: string[] = [];
    const scratch = join(dir, "scratch");
    const seen: Array<{ sha: string; log: string[] }> = [];
    const r = await tfPlanAndApply({ vars, io: { out: () => undefined, err: (t) => err.push(t) } }, dir, {
      env: "pr-1",
      dir: scratch,
      kind: "destroy",
      fileName: "destroy.tfplan",
      what: "apply (destroy)",
      onPlanned: (sha) => seen.push({ sha, log: log() }),
    });
    const sha = createHash("sha256").update("the-saved-plan").digest("hex");
    expect(r.planSha256).toBe(sha);
    expect(r.run.stdout).toContain("2 destroyed");
    // Announced once, after the plan and before the apply.
    expect(seen).toEqual([{ sha, log: [expect.stringMatching(/^plan plan -destroy -input=false -lock=true -no-color -out=.*\/scratch\/destroy\.tfplan$/)] }]);
    expect(log()).toEqual([expect.stringMatching(/^plan /), "apply the-saved-plan"]);
    expect(err.join("")).toContain(`$ terraform apply -input=false -lock=true destroy.tfplan   (plan SHA-256 ${sha})`);
    expect(existsSync(scratch)).toBe(false);
  });

  it("removes the scratch folder when the apply fails, and reports the failure", async () => {
    const scratch = join(dir, "scratch");
    const io = { out: () => undefined, err: () => undefined };
    await expect(
      tfPlanAndApply({ vars: { ...vars, FAKE_TF_FAIL: "1" }, io }, dir, { env: "pr-1", dir: scratch, kind: "destroy", fileName: "destroy.tfplan", what: "apply (destroy)" }),
    ).rejects.toThrow(/apply \(destroy\)/);
    expect(log()).toEqual([expect.stringMatching(/^plan /), "apply the-saved-plan"]);
    expect(existsSync(scratch)).toBe(false);
  });
});

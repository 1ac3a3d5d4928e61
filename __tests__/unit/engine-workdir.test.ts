/**
 * io/workdir.ts's tfPlanAndApply (an ephemeral env's destroy) with a stand-in terraform binary: the plan is
 * saved, hashed, announced before it is applied, applied as saved, and its scratch folder removed
 * whatever happens.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLocking, tfPlanAndApply, tfPlanToFile } from "../../scripts/lib/engine/io/workdir";

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

/**
 * A terraform whose lock request was answered twice: the first `plan` (or `init`, as `init -migrate-state`
 * locking its destination) logs (to $TF_LOG_PATH, in the words of terraform 1.11.4's
 * backend at INFO) that it locks with id $FAKE_TRIED, then fails holding lock $FAKE_HELD (terraform's
 * "Error acquiring the state lock" with its Lock Info); `force-unlock -force <id>` is logged; the next
 * plan succeeds.
 */
const LOCKED = `#!/bin/sh
log="$FAKE_TF_LOG"
cmd="$1"
for a in "$@"; do case "$a" in -out=*) out="\${a#-out=}";; esac; done
case "$cmd" in
  plan|init)
    echo "$cmd" >> "$log"
    if [ "$cmd" = init ]; then operation="migration destination state"; path=tfstate-prod-333333333333/bootstrap/terraform.tfstate
    else operation=OperationTypePlan; path=tfstate-dev/env/dev/terraform.tfstate; fi
    if [ ! -f "$FAKE_DIR/tried" ]; then
      touch "$FAKE_DIR/tried"
      [ -n "$TF_LOG_PATH" ] && echo "2026-12-02T01:51:11.016Z [INFO]  backend-s3: Attempting to lock remote state (DynamoDB only)...: tf_backend.lock.id=$FAKE_TRIED tf_backend.lock.info=\"\" tf_backend.lock.operation=\"$operation\"" >> "$TF_LOG_PATH"
      printf 'Error: Error acquiring the state lock\\n\\nError message: ConditionalCheckFailedException: The conditional request failed\\nLock Info:\\n  ID:        %s\\n  Path:      %s\\n  Operation: %s\\n  Who:       root@vm\\n  Version:   1.11.4\\n  Created:   2026-12-02 01:51:11.016034019 +0000 UTC\\n  Info:\\n\\n' "$FAKE_HELD" "$path" "$operation" >&2
      exit 1
    fi
    if [ "$cmd" = plan ]; then printf 'plan' > "$out"; fi;;
  force-unlock) echo "force-unlock $2 $3" >> "$log";;
  *) echo "unexpected terraform $*" >&2; exit 9;;
esac
`;

describe("tfPlanToFile and the state lock", () => {
  let dir: string;
  let vars: NodeJS.ProcessEnv;
  const log = () => readFileSync(join(dir, "log"), "utf8").trim().split("\n");
  const MINE = "4d6bc68b-e1bf-a996-5b6c-a76d72743b65";
  const OTHERS = "57afbfed-021b-bcc5-6852-60c7f85ac2a9";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "workdir-lock-test-"));
    writeFileSync(join(dir, "terraform"), LOCKED, { mode: 0o755 });
    writeFileSync(join(dir, "log"), "");
    vars = { ...process.env, TERRAFORM_BINARY_NAME: join(dir, "terraform"), FAKE_TF_LOG: join(dir, "log"), FAKE_DIR: dir, FAKE_TRIED: MINE };
    delete vars.TF_LOG;
    delete vars.TF_LOG_CORE;
    delete vars.TF_LOG_PATH;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("releases a held lock that is the run's own (the id it tried to take), exactly that id, and runs once more", async () => {
    const err: string[] = [];
    const r = await tfPlanToFile({ vars: { ...vars, FAKE_HELD: MINE }, io: { out: () => undefined, err: (t) => err.push(t) } }, dir, "dev", join(dir, "plan.tfplan"));
    expect(r).toEqual({ changes: true });
    expect(log()).toEqual(["plan", `force-unlock -force ${MINE}`, "plan"]);
    expect(err.join("")).toContain(`the state lock ${MINE} it was refused is its own`);
  });

  it("never touches a lock held by anyone else: STATE-LOCKED naming it, no force-unlock, no second run", async () => {
    await expect(
      tfPlanToFile({ vars: { ...vars, FAKE_HELD: OTHERS }, io: { out: () => undefined, err: () => undefined } }, dir, "dev", join(dir, "plan.tfplan")),
    ).rejects.toMatchObject({ refusal: { id: "STATE-LOCKED", found: expect.stringContaining(`lock id ${OTHERS}`) } });
    expect(log()).toEqual(["plan"]);
  });

  it("does not guess when the run's lock ids are unknown (the caller set TF_LOG_PATH): STATE-LOCKED", async () => {
    await expect(
      tfPlanToFile({ vars: { ...vars, FAKE_HELD: MINE, TF_LOG_PATH: join(dir, "callers.log") }, io: { out: () => undefined, err: () => undefined } }, dir, "dev", join(dir, "plan.tfplan")),
    ).rejects.toMatchObject({ refusal: { id: "STATE-LOCKED" } });
    expect(log()).toEqual(["plan"]);
  });

  describe("an init -migrate-state refused its own destination lock (bootstrap's first run, whose folder is still initialized for the local backend)", () => {
    const io = { out: () => undefined, err: () => undefined };
    const args = ["init", "-input=false", "-no-color", "-migrate-state", "-force-copy"];

    it("frees exactly that id by the caller's release (no force-unlock) and runs init once more", async () => {
      const released: string[] = [];
      const r = await runLocking({ vars: { ...vars, FAKE_HELD: MINE }, io }, args, { cwd: dir, vars: { ...vars, FAKE_HELD: MINE } }, {
        release: async (id) => {
          released.push(id);
          return true;
        },
      });
      expect(r.code).toBe(0);
      expect(released).toEqual([MINE]);
      expect(log()).toEqual(["init", "init"]);
    });

    it("leaves anyone else's lock alone: no release, no second run, the refusal stands", async () => {
      const released: string[] = [];
      const r = await runLocking({ vars, io }, args, { cwd: dir, vars: { ...vars, FAKE_HELD: OTHERS } }, { release: async (id) => (released.push(id), true) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`ID:        ${OTHERS}`);
      expect(released).toEqual([]);
      expect(log()).toEqual(["init"]);
    });

    it("a plain init (no -migrate-state) takes no lock: its lock ids are not read, nothing is released or run again", async () => {
      const released: string[] = [];
      const r = await runLocking({ vars, io }, ["init", "-input=false", "-no-color"], { cwd: dir, vars: { ...vars, FAKE_HELD: MINE } }, { release: async (id) => (released.push(id), true) });
      expect(r.code).toBe(1);
      expect(released).toEqual([]);
      expect(log()).toEqual(["init"]);
    });

    it("runs no second time when the release freed nothing (the lock changed meanwhile)", async () => {
      const r = await runLocking({ vars, io }, args, { cwd: dir, vars: { ...vars, FAKE_HELD: MINE } }, { release: async () => false });
      expect(r.code).toBe(1);
      expect(log()).toEqual(["init"]);
    });
  });
});

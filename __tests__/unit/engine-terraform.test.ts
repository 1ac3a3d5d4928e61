import { attemptedLockIds, backendOf, classifyFailure, parseStatePull, parseVersion } from "../../scripts/lib/engine/io/terraform";
import { PATHS, TERRAFORM_GOGC, terraformEnv } from "../../scripts/lib/toolchain";

describe("terraform output parsing", () => {
  it("reports terraform's stale-plan refusal as PLAN-STALE", () =>
    expect(classifyFailure({ code: 1, stdout: "", stderr: "Error: Saved plan is stale\n\nThe given plan file can no longer be applied" })).toBe("PLAN-STALE"));
  it("reports a held state lock as STATE-LOCKED", () =>
    expect(classifyFailure({ code: 1, stdout: "", stderr: "Error: Error acquiring the state lock\n\nLock Info:" })).toBe("STATE-LOCKED"));
  it("leaves any other failure an error", () => expect(classifyFailure({ code: 1, stdout: "", stderr: "Error: connection refused" })).toBeNull());

  it("reads serial and lineage from state pull; an empty backend is no state", () => {
    expect(parseStatePull('{"version":4,"serial":3,"lineage":"abc","resources":[]}')).toEqual({ serial: 3, lineage: "abc" });
    expect(parseStatePull("")).toBeNull();
    expect(parseStatePull('{"version":4,"serial":0,"lineage":""}')).toBeNull();
    expect(() => parseStatePull('{"version":4}')).toThrow();
  });

  it("reads versions", () =>
    expect(parseVersion('{"terraform_version":"1.11.4","provider_selections":{"registry.terraform.io/hashicorp/aws":"5.100.0"}}')).toEqual({
      version: "1.11.4",
      providers: { "registry.terraform.io/hashicorp/aws": "5.100.0" },
    }));

  it("reads the s3 backend block of cdk.tf.json", () => {
    expect(backendOf({ terraform: { backend: { s3: { bucket: "b", key: "k", dynamodb_table: "t", region: "r" } } } })).toEqual({ type: "s3", bucket: "b", key: "k", lockTable: "t", region: "r" });
    expect(backendOf({})).toEqual({ type: "local", bucket: null, key: null, lockTable: null, region: null });
  });
});

describe("attemptedLockIds", () => {
  it("reads the lock id terraform 1.11.4's S3 backend logs at INFO when it tries to lock (a line it wrote on the emulator)", () => {
    const log = [
      "2026-12-02T01:56:35.860Z [INFO]  backend/local: starting Plan operation",
      "2026-12-02T01:56:35.867Z [INFO]  backend-s3: Attempting to lock remote state (DynamoDB only)...: tf_backend.lock.id=d02b1e32-1f7c-8c7e-0595-105e2c782f4c tf_backend.lock.info=\"\" tf_backend.lock.operation=OperationTypePlan tf_backend.lock.path=lockexp-bucket/k/terraform.tfstate tf_backend.lock.version=1.11.4 tf_backend.lock.who=root@vm tf_backend.operation=Lock tf_backend.req_id=b49e9251-121b-5efc-3c4a-1333183b8262 tf_backend.s3.bucket=lockexp-bucket tf_backend.s3.path=k/terraform.tfstate",
      "2026-12-02T01:56:35.890Z [INFO]  backend-s3: Attempting to unlock remote state (DynamoDB only)...: tf_backend.lock.id=d02b1e32-1f7c-8c7e-0595-105e2c782f4c tf_backend.operation=Unlock",
    ].join("\n");
    expect(attemptedLockIds(log)).toEqual(["d02b1e32-1f7c-8c7e-0595-105e2c782f4c"]);
    expect(attemptedLockIds("2026-12-02T01:56:35.875Z [INFO]  backend-s3: Downloading remote state")).toEqual([]);
  });
});

describe("terraformEnv", () => {
  it("runs terraform with the project's CLI config and GOGC=400, unless the caller chose a GOGC", () => {
    const env = terraformEnv({}, { PATH: "/bin" });
    expect([env.GOGC, env.TF_CLI_CONFIG_FILE, env.CHECKPOINT_DISABLE, env.PATH]).toEqual([TERRAFORM_GOGC, PATHS.cliConfig, "1", "/bin"]);
    expect(TERRAFORM_GOGC).toBe("400");
    expect(terraformEnv({}, { GOGC: "off" }).GOGC).toBe("off");
    expect(terraformEnv({ GOGC: "50" }, { GOGC: "off" }).GOGC).toBe("50");
  });
});

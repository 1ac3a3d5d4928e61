import { backendOf, classifyFailure, parseStatePull, parseVersion } from "../../scripts/lib/engine/io/terraform";

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

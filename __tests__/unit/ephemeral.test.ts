/**
 * Ephemeral (per-PR) environments as config: derived from dev, a CIDR from a pool that overlaps no
 * long-lived env and no other live ephemeral one, dev's account and state bucket with their own key.
 */
import { Testing } from "cdktf";
import { ENVIRONMENTS, EPHEMERAL, allocateCidr, freeCidrs, loadEnvironments, parseEphemeralVar } from "../../envs";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { targetFromEnv } from "../../stacks/target";

const longLived = loadEnvironments(ENVIRONMENTS, {});

describe("allocateCidr", () => {
  it("takes the first free block of the pool, skipping live ephemeral envs", () => {
    expect(allocateCidr(longLived, [])).toBe("10.64.0.0/18");
    expect(allocateCidr(longLived, [{ name: "pr-1", cidr: "10.64.0.0/18" }])).toBe("10.64.64.0/18");
    expect(allocateCidr(longLived, [{ name: "pr-2", cidr: "10.64.64.0/18" }])).toBe("10.64.0.0/18");
  });

  it("never hands out a range a long-lived env uses", () => {
    const squatter = { ...longLived[0], network: { ...longLived[0].network, cidr: "10.64.0.0/16" } };
    expect(allocateCidr([squatter], [])).toBe("10.65.0.0/18");
  });

  it("says so when the pool is exhausted", () => {
    const live = Array.from({ length: 64 }, (_, i) => ({ name: `pr-${i + 1}`, cidr: `10.${64 + Math.floor(i / 4)}.${(i % 4) * 64}.0/18` }));
    expect(() => allocateCidr(longLived, live)).toThrow("no free /18 left in the ephemeral pool 10.64.0.0/12 (64 live ephemeral envs): destroy or reap some");
  });
});

describe("freeCidrs (what a claim in the shared registry tries, in order)", () => {
  it("lists every block of the pool but the taken ones and those a long-lived env overlaps, in pool order", () => {
    const all = freeCidrs(longLived, []);
    expect(all).toHaveLength(64);
    expect(all.slice(0, 3)).toEqual(["10.64.0.0/18", "10.64.64.0/18", "10.64.128.0/18"]);
    expect(all[63]).toBe("10.79.192.0/18");
    expect(freeCidrs(longLived, ["10.64.64.0/18", "10.64.0.0/18"]).slice(0, 2)).toEqual(["10.64.128.0/18", "10.64.192.0/18"]);
    const squatter = { ...longLived[0], network: { ...longLived[0].network, cidr: "10.64.0.0/16" } };
    expect(freeCidrs([squatter], [])[0]).toBe("10.65.0.0/18");
    expect(freeCidrs([squatter], [])).toHaveLength(60);
  });

  it("is empty when everything is taken; allocateCidr is its first block", () => {
    expect(freeCidrs(longLived, freeCidrs(longLived, []))).toEqual([]);
    expect(allocateCidr(longLived, [{ name: "pr-1", cidr: "10.64.0.0/18" }])).toBe(freeCidrs(longLived, ["10.64.0.0/18"])[0]);
  });
});

describe("EPHEMERAL_ENVS", () => {
  it("adds derived envs to the validated set", () => {
    const envs = loadEnvironments(ENVIRONMENTS, { EPHEMERAL_ENVS: "pr-12=10.64.0.0/18,pr-13=10.64.64.0/18" });
    const pr12 = envs.find((e) => e.name === "pr-12")!;
    const dev = envs.find((e) => e.name === "dev")!;
    expect(envs.map((e) => e.name)).toEqual(["dev", "staging", "prod", "pr-12", "pr-13"]);
    expect(pr12).toMatchObject({
      ephemeralOf: "dev",
      account: dev.account,
      stateBackend: { bucket: dev.stateBackend.bucket, lockTable: dev.stateBackend.lockTable, key: "ephemeral/pr-12/terraform.tfstate" },
      network: { cidr: "10.64.0.0/18", subnetPrefixLength: EPHEMERAL.subnetPrefixLength },
      dnsZone: "pr-12.dev.internal.example.com",
      delivery: { autoApply: true, requireApproval: false, promotesFrom: null },
      tags: { ephemeral: "true", "ephemeral-of": "dev" },
    });
    expect(pr12.database).toMatchObject({ deletionProtection: false, finalSnapshot: false });
    expect(pr12.secretRecoveryDays).toBe(0); // destroyed means gone: nothing left behind in the account
    expect(pr12.app).toEqual(dev.app);
  });

  it("rejects an ephemeral CIDR overlapping a long-lived env or another ephemeral one", () => {
    expect(() => loadEnvironments(ENVIRONMENTS, { EPHEMERAL_ENVS: "pr-12=10.10.0.0/18" })).toThrow(
      "envs/pr-12: network.cidr must not overlap any other environment's, but 10.10.0.0/18 overlaps envs/dev (10.10.0.0/16)",
    );
    expect(() => loadEnvironments(ENVIRONMENTS, { EPHEMERAL_ENVS: "pr-12=10.64.0.0/18,pr-13=10.64.0.0/18" })).toThrow(
      "envs/pr-13: network.cidr must not overlap any other environment's, but 10.64.0.0/18 overlaps envs/pr-12 (10.64.0.0/18)",
    );
  });

  it("rejects malformed items and names", () => {
    expect(() => parseEphemeralVar("pr-12")).toThrow('EPHEMERAL_ENVS: expected "<name>=<cidr>" items separated by commas, but "pr-12" was provided');
    expect(() => parseEphemeralVar("feature-x=10.64.0.0/18")).toThrow('EPHEMERAL_ENVS: an ephemeral env is named pr-<number>, but "feature-x" was provided');
  });

  it("keeps long-lived envs apart: only an ephemeral env may share its base's account and bucket", () => {
    const qa = { ...ENVIRONMENTS[1], name: "qa", dnsZone: "qa.internal.example.com", network: { ...ENVIRONMENTS[1].network, cidr: "10.40.0.0/16" }, stateBackend: { ...ENVIRONMENTS[1].stateBackend, key: "env/qa/terraform.tfstate" } };
    expect(() => loadEnvironments([...ENVIRONMENTS, qa], {})).toThrow('envs/qa: account.id must be unique across environments, but "222222222222" is also used by envs/staging');
  });
});

describe("an ephemeral env's stack", () => {
  const [pr] = loadEnvironments(ENVIRONMENTS, { EPHEMERAL_ENVS: "pr-7=10.64.128.0/18" }).filter((e) => e.name === "pr-7");
  const stack = JSON.parse(Testing.synth(new EnvironmentStack(Testing.app(), pr, targetFromEnv({}))));

  it("keeps its state under its own key in dev's bucket, in dev's account", () => {
    expect(stack.terraform.backend.s3).toMatchObject({ bucket: "tfstate-dev-111111111111", key: "ephemeral/pr-7/terraform.tfstate", dynamodb_table: "tfstate-lock-dev" });
    expect(stack.provider.aws[0].allowed_account_ids).toEqual(["111111111111"]);
  });

  it("names everything after itself and tags it ephemeral", () => {
    expect(Object.values(stack.resource.aws_vpc)[0]).toMatchObject({ cidr_block: "10.64.128.0/18" });
    expect(Object.values(stack.resource.aws_db_instance)[0]).toMatchObject({ identifier: "pr-7-db", deletion_protection: false, skip_final_snapshot: true });
    expect(stack.provider.aws[0].default_tags[0].tags).toMatchObject({ environment: "pr-7", ephemeral: "true" });
  });
});

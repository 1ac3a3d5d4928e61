/** delivery.approvals in the env configs (issue 13): the shipped values and every validation message. */
import { generateKeyPairSync } from "node:crypto";
import { ENVIRONMENTS, checkEnvConfig, loadEnvironments } from "../../envs";
import type { EnvConfig } from "../../envs";
import { publicKeyLineOf } from "../../envs/ssh-keys";

const keyLine = () => publicKeyLineOf(generateKeyPairSync("ed25519").privateKey);
const copy = (name: string): EnvConfig => JSON.parse(JSON.stringify(ENVIRONMENTS.find((e) => e.name === name)));
const problems = (c: unknown) => checkEnvConfig(c, "envs/prod").problems;

function prodWith(approvals: Partial<EnvConfig["delivery"]["approvals"]>, delivery: Partial<EnvConfig["delivery"]> = {}): EnvConfig {
  const c = copy("prod");
  return { ...c, delivery: { ...c.delivery, ...delivery, approvals: { ...c.delivery.approvals, ...approvals } } };
}

describe("delivery.approvals", () => {
  it("prod requires signed approvals by at least one listed approver; dev, staging and ephemeral envs do not", () => {
    const envs = loadEnvironments(ENVIRONMENTS, { EPHEMERAL_ENVS: "pr-7=10.64.0.0/18" });
    const byName = Object.fromEntries(envs.map((e) => [e.name, e.delivery.approvals]));
    expect(byName.prod.requireSigned).toBe(true);
    expect(byName.prod.minApprovers).toBeGreaterThanOrEqual(1);
    expect(byName.prod.approvers.length).toBeGreaterThanOrEqual(byName.prod.minApprovers);
    for (const n of ["dev", "staging", "pr-7"]) expect(byName[n]).toEqual({ requireSigned: false, minApprovers: 0, approvers: [] });
  });

  it("supports more than one required approver", () => {
    const c = prodWith({ minApprovers: 2, approvers: [{ principal: "a@example.com", publicKey: keyLine() }, { principal: "b@example.com", publicKey: keyLine(), name: "B" }] });
    expect(problems(c)).toEqual([]);
  });

  it("rejects each misconfiguration with the field, the expectation and what was found", () => {
    const k = keyLine();
    const cases: Array<[EnvConfig, string]> = [
      [prodWith({ minApprovers: 2 }), "envs/prod: delivery.approvals.minApprovers must be <= the number of approvers listed (1: platform-lead@example.com), but 2 was provided"],
      [prodWith({ minApprovers: 0 }), "envs/prod: delivery.approvals.minApprovers must be >= 1 when requireSigned is true, but 0 was provided"],
      [prodWith({ requireSigned: false }), "envs/prod: delivery.fourEyes needs delivery.approvals.requireSigned to be true (four eyes between typed names proves nothing), but false was provided"],
      [prodWith({ approvers: [{ principal: "a@example.com", publicKey: k }, { principal: "a@example.com", publicKey: keyLine() }] }), 'envs/prod: delivery.approvals.approvers principals must be unique, but "a@example.com" is listed twice'],
      [prodWith({ approvers: [{ principal: "a@example.com", publicKey: k }, { principal: "b@example.com", publicKey: `${k} other comment` }] }), "is listed for a@example.com and b@example.com"],
      [prodWith({ approvers: [{ principal: "a@example.com", publicKey: "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==" }] }), "envs/prod: delivery.approvals.approvers[0].publicKey (a@example.com) must be an SSH ed25519 public key, but"],
      [prodWith({ approvers: [{ principal: "Alice@Example.com", publicKey: k }] }), 'envs/prod: delivery.approvals.approvers.0.principal must be a lower-case e-mail address such as alice@example.com, but "Alice@Example.com" was provided'],
      [prodWith({ approvers: [{ principal: "*@example.com", publicKey: k }] }), "principal must be a lower-case e-mail address"],
      [prodWith({ approvers: [{ principal: "a@example.com", publicKey: "ssh-rsa AAAAB3NzaC1yc2E= a" }] }), "publicKey must be an SSH ed25519 public key such as"],
      [prodWith({ approvers: [{ principal: "a@example.com", publicKey: k, name: "a\u200b" }] }), "name of a@example.com must be a visible name"],
    ];
    for (const [c, message] of cases) expect(problems(c).join("\n")).toContain(message);
  });

  it("rejects an env that counts approvals it never asks for", () => {
    const c = copy("staging");
    const bad = { ...c, delivery: { ...c.delivery, approvals: { ...c.delivery.approvals, minApprovers: 1 } } };
    expect(checkEnvConfig(bad, "envs/staging").problems).toEqual([
      "envs/staging: delivery.approvals.minApprovers must be 0 when requireSigned is false (no approval is counted), but 1 was provided",
      "envs/staging: delivery.approvals.minApprovers must be <= the number of approvers listed (0: none), but 1 was provided",
    ]);
  });
});

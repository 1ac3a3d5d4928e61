/** stacks/ephemeral-blocks.ts: the one typed helper that writes terraform `ephemeral` blocks into a stack. */
import { App, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { ephemeralRandomPassword } from "../../stacks/ephemeral-blocks";

function stack(): TerraformStack {
  return new TerraformStack(Testing.app(), "s");
}

describe("ephemeralRandomPassword", () => {
  it("writes ephemeral.random_password.<name> with snake_case arguments (unset ones left out) and returns its result reference", () => {
    const s = stack();
    const v = ephemeralRandomPassword(new Construct(s, "inner"), "db_pw", { length: 24, overrideSpecial: "!#", minUpper: 2 });
    expect(v).toEqual({ address: "ephemeral.random_password.db_pw", result: "${ephemeral.random_password.db_pw.result}" });
    const doc = JSON.parse(Testing.synth(s)) as { ephemeral: { random_password: Record<string, unknown> } };
    expect(doc.ephemeral.random_password).toEqual({ db_pw: { length: 24, special: true, override_special: "!#", min_upper: 2 } });
  });

  it("refuses a second declaration of the same name in one stack, a bad name and a bad length, each saying what it got", () => {
    const s = stack();
    ephemeralRandomPassword(s, "a", { length: 16 });
    expect(() => ephemeralRandomPassword(s, "a", { length: 16 })).toThrow('ephemeral random_password "a" is declared twice in stack s');
    expect(() => ephemeralRandomPassword(s, "bad.name", { length: 16 })).toThrow('but "bad.name" was provided');
    expect(() => ephemeralRandomPassword(s, "b", { length: 0 })).toThrow("length must be a positive integer, but 0 was provided");
    // The same name in another stack is another block.
    expect(() => ephemeralRandomPassword(new TerraformStack(new App(), "t"), "a", { length: 16 })).not.toThrow();
  });
});

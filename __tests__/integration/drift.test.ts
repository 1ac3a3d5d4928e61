/**
 * `promote drift` for real: terraform against the emulator. A stand-in stack (the project's provider and
 * S3 backend, one VPC) is applied to dev; a tag is then put on the VPC behind terraform's back through
 * the EC2 API; drift reports it (exit 3, the attribute named) and records an audit entry.
 */
import { CreateTagsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { withEmulator } from "../helpers/emulator";
import { auditRecords } from "../helpers/store-records";
import { expectExit, standinWorld, type StandinWorld } from "../helpers/standin";

describe("promote drift (emulator)", () => {
  const emu = withEmulator();
  let w: StandinWorld;
  afterAll(() => w?.cleanup());

  it("reports no drift after an apply, then the tag changed outside terraform (exit 3), redacted and audited", async () => {
    // GIVEN dev applied from the stand-in
    w = await standinWorld(emu(), "dev");
    w.commit({ version: "a" });
    expectExit(await w.promote(["drift", "dev"]), 0); // no state yet
    expectExit(await w.promote(["apply", "dev", "--auto"]), 0);
    const clean = await w.promote(["drift", "dev"]);
    expectExit(clean, 0);
    expect(clean.out).toContain("dev: no drift");

    // WHEN someone tags the VPC by hand
    const ec2 = new EC2Client({ endpoint: emu().endpoint, region: "us-east-1", credentials: await w.credentials() });
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Name", Values: ["standin"] }] }));
    const vpcId = vpcs.Vpcs?.[0]?.VpcId;
    expect(vpcId).toBeDefined();
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId!], Tags: [{ Key: "owner", Value: "someone" }, { Key: "version", Value: "hand-edited" }] }));

    // THEN drift names the resource and the attributes, and exits 3
    const drifted = await w.promote(["drift", "dev"]);
    expectExit(drifted, 3);
    expect(drifted.out).toContain("DRIFT in 1 resource(s)");
    expect(drifted.out).toContain("aws_vpc.main");
    expect(drifted.out).toMatch(/tags\.owner: state \(absent\), actual "someone"/);
    expect(drifted.out).toMatch(/tags\.version: state "a", actual "hand-edited"/);

    // and the state was not touched: a second run still sees the drift
    expectExit(await w.promote(["drift", "dev"]), 3);
    const records = (await auditRecords(w.vars, "dev")).filter((r) => r.command === "drift");
    expect(records.map((r) => r.detail)).toEqual(["no state", "no drift", expect.stringContaining("drift: 1 resource(s): aws_vpc.main"), expect.stringContaining("aws_vpc.main")]);
  }, 600_000);
});

import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";

export interface NetworkProps {
  /** Prefix of every resource name and Name tag, e.g. the environment's name. */
  readonly namePrefix: string;
  /** The VPC's IPv4 range, e.g. 10.10.0.0/16. */
  readonly cidr: string;
  /** One public subnet CIDR per AZ, inside `cidr`; its length is the number of AZs (1..6). */
  readonly publicSubnetCidrs: readonly string[];
  /** One private subnet CIDR per AZ, inside `cidr`; as many as `publicSubnetCidrs`. */
  readonly privateSubnetCidrs: readonly string[];
  /** NAT gateways, 0..AZ count: 1 is shared by every AZ, one per AZ keeps AZs independent. @default 1 */
  readonly natGateways?: number;
  /** Days VPC flow logs are kept in CloudWatch Logs (a retention CloudWatch accepts). @default 30 */
  readonly flowLogRetentionDays?: number;
}

/**
 * A VPC with one public and one private subnet per AZ, an internet gateway, NAT gateways (private route
 * table i routes through NAT i mod n) and VPC flow logs to CloudWatch Logs.
 */
export class Network extends Construct {
  /** The VPC's id. */
  readonly vpcId: string;
  /** The VPC's IPv4 range. */
  readonly vpcCidr: string;
  /** Public subnet ids, one per AZ (load balancers, NAT gateways). */
  readonly publicSubnetIds: string[];
  /** Private subnet ids, one per AZ (instances, database, cache). */
  readonly privateSubnetIds: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azCount = props.publicSubnetCidrs.length;
    const natCount = props.natGateways ?? 1;
    if (azCount < 1 || azCount > 6 || props.privateSubnetCidrs.length !== azCount) {
      throw new Error(
        `${props.namePrefix}: Network needs 1..6 public subnets and as many private ones, but ${azCount} public and ${props.privateSubnetCidrs.length} private were provided`,
      );
    }
    if (natCount < 0 || natCount > azCount) {
      throw new Error(`${props.namePrefix}: natGateways must be 0..${azCount}, but ${natCount} was provided`);
    }
    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });

    const vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: name("vpc"),
    });
    this.vpcId = vpc.id;
    this.vpcCidr = vpc.cidrBlock;

    const zones = new DataAwsAvailabilityZones(this, "zones", { state: "available" });
    const az = (i: number) => Fn.element(zones.names, i);

    const igw = new InternetGateway(this, "igw", { vpcId: vpc.id, tags: name("igw") });

    const publicSubnets = props.publicSubnetCidrs.map(
      (cidr, i) =>
        new Subnet(this, `public-${i}`, {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          mapPublicIpOnLaunch: false,
          tags: { ...name(`public-${i}`), tier: "public" },
        }),
    );
    const privateSubnets = props.privateSubnetCidrs.map(
      (cidr, i) =>
        new Subnet(this, `private-${i}`, {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          tags: { ...name(`private-${i}`), tier: "private" },
        }),
    );
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    const publicRoutes = new RouteTable(this, "public-rt", { vpcId: vpc.id, tags: name("public") });
    new Route(this, "public-default", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    publicSubnets.forEach(
      (s, i) => new RouteTableAssociation(this, `public-rta-${i}`, { subnetId: s.id, routeTableId: publicRoutes.id }),
    );

    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new Eip(this, `nat-eip-${i}`, { domain: "vpc", tags: name(`nat-${i}`) });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.id,
        subnetId: publicSubnets[i].id,
        tags: name(`nat-${i}`),
        dependsOn: [igw],
      });
    });

    privateSubnets.forEach((s, i) => {
      const table = new RouteTable(this, `private-rt-${i}`, { vpcId: vpc.id, tags: name(`private-${i}`) });
      if (nats.length > 0) {
        new Route(this, `private-default-${i}`, {
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nats[i % nats.length].id,
        });
      }
      new RouteTableAssociation(this, `private-rta-${i}`, { subnetId: s.id, routeTableId: table.id });
    });

    // Flow logs: every accepted and rejected flow, kept as long as the caller says.
    const flowLogs = new CloudwatchLogGroup(this, "flow-log-group", {
      name: `/${props.namePrefix}/vpc/flow-logs`,
      retentionInDays: props.flowLogRetentionDays ?? 30,
    });
    const role = new IamRole(this, "flow-log-role", {
      name: `${props.namePrefix}-vpc-flow-logs`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    });
    new IamRolePolicy(this, "flow-log-policy", {
      name: "write-flow-logs",
      role: role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            Resource: [flowLogs.arn, `${flowLogs.arn}:*`],
          },
        ],
      }),
    });
    new FlowLog(this, "flow-log", {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogs.arn,
      iamRoleArn: role.arn,
      tags: name("flow-logs"),
    });
  }
}

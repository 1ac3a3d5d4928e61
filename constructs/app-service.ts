import { Construct } from "constructs";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener, LbListenerDefaultAction } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { boundedName } from "./naming";

/** When and how far the app tier scales down outside working hours. */
export interface OffHoursSchedule {
  /** IANA time zone the cron expressions are evaluated in. */
  readonly timeZone: string;
  /** 5-field cron: when to scale down. */
  readonly scaleDownAt: string;
  /** 5-field cron: when to scale back up to the regular sizes. */
  readonly scaleUpAt: string;
  /** Sizes while scaled down, each <= the regular one. */
  readonly minSize: number;
  readonly desiredCapacity: number;
  readonly maxSize: number;
}

/** One target group behind the listener and its share of traffic. */
export interface WeightedTargetGroup {
  /** Short name suffix, e.g. blue or green (the group is named `<prefix>-<name>`, bounded to 32 characters). */
  readonly name: string;
  /** Share of listener traffic, 0..999 (relative to the other groups' weights). */
  readonly weight: number;
}

export interface AppServiceProps {
  /** Prefix of every resource name, e.g. the environment's name. */
  readonly namePrefix: string;
  /** The VPC of the load balancer, target groups and security groups. */
  readonly vpcId: string;
  /** The VPC's IPv4 range (destination of `vpcEgressPorts`). */
  readonly vpcCidr: string;
  /** Ports the instances may reach inside the VPC (e.g. the database's and the cache's). @default [] */
  readonly vpcEgressPorts?: readonly number[];
  /** Public subnets of the load balancer, at least two AZs. */
  readonly publicSubnetIds: string[];
  /** Private subnets the instances run in. */
  readonly privateSubnetIds: string[];
  /** The machine image every instance runs. */
  readonly imageId: string;
  /** EC2 instance type, e.g. t3.small. */
  readonly instanceType: string;
  /** Port the app listens on, 1..65535. */
  readonly port: number;
  /** Path of the target groups' HTTP health check. @default "/" */
  readonly healthCheckPath?: string;
  /** The autoscaling group's minimum size, >= 0. */
  readonly minSize: number;
  /** The autoscaling group's desired capacity, minSize..maxSize. */
  readonly desiredCapacity: number;
  /** The autoscaling group's maximum size, >= 1. */
  readonly maxSize: number;
  /** Target-tracking scaling on average CPU (10..90 %). @default - no scaling policy: the group keeps its size */
  readonly targetCpuPercent?: number;
  /**
   * Scale down outside working hours: two scheduled actions (down to these sizes, back up to the
   * regular ones), cron in `timeZone`. @default - no schedule: the group keeps its size
   */
  readonly offHours?: OffHoursSchedule;
  /** Target groups with weights, 1..5, names unique; every instance is attached to all of them. */
  readonly targetGroups: readonly WeightedTargetGroup[];
  /** Certificate of the HTTPS listener (ACM or IAM server certificate ARN); port 80 only redirects to 443. */
  readonly certificateArn: string;
  /** Root volume size in GiB. @default 20 */
  readonly rootVolumeGb?: number;
  /** Root device name of `imageId`. @default "/dev/xvda" */
  readonly rootDeviceName?: string;
}

/**
 * The app tier: an internet-facing ALB (443, and 80 redirecting to it), weighted target groups, a launch
 * template (IMDSv2 only, encrypted root volume) and an autoscaling group in private subnets.
 */
export class AppService extends Construct {
  /** The app instances' security group (the only source allowed into the data tier). */
  readonly securityGroupId: string;
  /** The load balancer's security group. */
  readonly albSecurityGroupId: string;
  /** The load balancer's DNS name. */
  readonly albDnsName: string;
  /** The load balancer's ARN suffix (the CloudWatch LoadBalancer dimension). */
  readonly albArnSuffix: string;
  /** Target group ARN suffixes by target group name (the CloudWatch TargetGroup dimension). */
  readonly targetGroupArnSuffixes: Record<string, string>;
  /** The autoscaling group's name. */
  readonly autoscalingGroupName: string;

  constructor(scope: Construct, id: string, props: AppServiceProps) {
    super(scope, id);
    const p = props.namePrefix;
    if (props.targetGroups.length < 1 || props.targetGroups.length > 5) {
      throw new Error(`${p}: AppService needs 1..5 target groups, but ${props.targetGroups.length} were provided`);
    }
    if (!(props.minSize <= props.desiredCapacity && props.desiredCapacity <= props.maxSize)) {
      throw new Error(
        `${p}: minSize <= desiredCapacity <= maxSize is required, but ${props.minSize} / ${props.desiredCapacity} / ${props.maxSize} was provided`,
      );
    }

    // --- Security groups: internet → ALB (80/443) → app port → instances ---------------------------
    const albSg = new SecurityGroup(this, "alb-sg", {
      name: `${p}-alb`,
      description: `Load balancer of ${p}: HTTPS (and HTTP redirect) from the internet`,
      vpcId: props.vpcId,
      tags: { Name: `${p}-alb` },
    });
    const appSg = new SecurityGroup(this, "app-sg", {
      name: `${p}-app`,
      description: `App instances of ${p}: app port from the load balancer only`,
      vpcId: props.vpcId,
      tags: { Name: `${p}-app` },
    });
    for (const port of [443, 80]) {
      new VpcSecurityGroupIngressRule(this, `alb-in-${port}`, {
        securityGroupId: albSg.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet (redirected to HTTPS)",
      });
    }
    new VpcSecurityGroupEgressRule(this, "alb-out-app", {
      securityGroupId: albSg.id,
      referencedSecurityGroupId: appSg.id,
      ipProtocol: "tcp",
      fromPort: props.port,
      toPort: props.port,
      description: "To the app instances",
    });
    new VpcSecurityGroupIngressRule(this, "app-in-alb", {
      securityGroupId: appSg.id,
      referencedSecurityGroupId: albSg.id,
      ipProtocol: "tcp",
      fromPort: props.port,
      toPort: props.port,
      description: "App port from the load balancer",
    });
    new VpcSecurityGroupEgressRule(this, "app-out-https", {
      securityGroupId: appSg.id,
      cidrIpv4: "0.0.0.0/0",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "HTTPS out (AWS APIs, packages) through NAT",
    });
    for (const port of props.vpcEgressPorts ?? []) {
      new VpcSecurityGroupEgressRule(this, `app-out-vpc-${port}`, {
        securityGroupId: appSg.id,
        cidrIpv4: props.vpcCidr,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: `Port ${port} inside the VPC`,
      });
    }
    this.securityGroupId = appSg.id;
    this.albSecurityGroupId = albSg.id;

    // --- Load balancer, target groups, listeners ---------------------------------------------------
    const alb = new Lb(this, "alb", {
      name: boundedName(`${p}-alb`, 32),
      loadBalancerType: "application",
      internal: false,
      securityGroups: [albSg.id],
      subnets: props.publicSubnetIds,
      dropInvalidHeaderFields: true,
    });
    this.albDnsName = alb.dnsName;
    this.albArnSuffix = alb.arnSuffix;

    const groups = props.targetGroups.map(
      (tg) =>
        new LbTargetGroup(this, `tg-${tg.name}`, {
          name: boundedName(`${p}-${tg.name}`, 32),
          port: props.port,
          protocol: "HTTP",
          targetType: "instance",
          vpcId: props.vpcId,
          deregistrationDelay: "30",
          healthCheck: {
            enabled: true,
            path: props.healthCheckPath ?? "/",
            port: "traffic-port",
            protocol: "HTTP",
            matcher: "200-399",
            healthyThreshold: 3,
            unhealthyThreshold: 3,
            interval: 15,
            timeout: 5,
          },
          tags: { Name: `${p}-${tg.name}` },
        }),
    );
    this.targetGroupArnSuffixes = Object.fromEntries(props.targetGroups.map((tg, i) => [tg.name, groups[i].arnSuffix]));

    const forward: LbListenerDefaultAction = {
      type: "forward",
      forward: {
        targetGroup: props.targetGroups.map((tg, i) => ({ arn: groups[i].arn, weight: tg.weight })),
      },
    };
    new LbListener(this, "https", {
      loadBalancerArn: alb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: props.certificateArn,
      defaultAction: [forward],
    });
    new LbListener(this, "http", {
      loadBalancerArn: alb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
    });

    // --- Instances ----------------------------------------------------------------------------------
    const template = new LaunchTemplate(this, "launch-template", {
      name: `${p}-app`,
      imageId: props.imageId,
      instanceType: props.instanceType,
      vpcSecurityGroupIds: [appSg.id],
      updateDefaultVersion: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: props.rootDeviceName ?? "/dev/xvda",
          ebs: { volumeSize: props.rootVolumeGb ?? 20, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      tagSpecifications: [{ resourceType: "instance", tags: { Name: `${p}-app` } }],
    });
    const asg = new AutoscalingGroup(this, "asg", {
      name: `${p}-app`,
      minSize: props.minSize,
      desiredCapacity: props.desiredCapacity,
      maxSize: props.maxSize,
      vpcZoneIdentifier: props.privateSubnetIds,
      targetGroupArns: groups.map((g) => g.arn),
      healthCheckType: "ELB",
      healthCheckGracePeriod: 120,
      launchTemplate: { id: template.id, version: template.latestVersion.toString() },
      tag: [{ key: "Name", value: `${p}-app`, propagateAtLaunch: true }],
    });
    this.autoscalingGroupName = asg.name;

    if (props.offHours !== undefined) {
      const o = props.offHours;
      new AutoscalingSchedule(this, "off-hours-down", {
        scheduledActionName: `${p}-off-hours-down`,
        autoscalingGroupName: asg.name,
        recurrence: o.scaleDownAt,
        timeZone: o.timeZone,
        minSize: o.minSize,
        desiredCapacity: o.desiredCapacity,
        maxSize: o.maxSize,
      });
      new AutoscalingSchedule(this, "off-hours-up", {
        scheduledActionName: `${p}-off-hours-up`,
        autoscalingGroupName: asg.name,
        recurrence: o.scaleUpAt,
        timeZone: o.timeZone,
        minSize: props.minSize,
        desiredCapacity: props.desiredCapacity,
        maxSize: props.maxSize,
      });
    }

    if (props.targetCpuPercent !== undefined) {
      new AutoscalingPolicy(this, "cpu-target", {
        name: `${p}-cpu-target`,
        autoscalingGroupName: asg.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
          targetValue: props.targetCpuPercent,
        },
      });
    }
  }
}

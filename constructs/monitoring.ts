import { Construct } from "constructs";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";

export interface MonitoringProps {
  /** Prefix of every resource name, e.g. the environment's name. */
  readonly namePrefix: string;
  /** Who is told: "notify" → topic `<prefix>-notify`, "page" → topic `<prefix>-oncall-page`. */
  readonly severity: "notify" | "page";
  /** The load balancer's ARN suffix (LoadBalancer dimension). */
  readonly loadBalancerArnSuffix: string;
  /** Target group ARN suffixes by name (TargetGroup dimension); one unhealthy-host alarm each. */
  readonly targetGroupArnSuffixes: Readonly<Record<string, string>>;
  /** SLO: 5xx responses in percent of requests above which the error-rate alarm fires, 0..100. */
  readonly errorRatePercent: number;
  /** SLO: p99 target response time in milliseconds above which the latency alarm fires, > 0. */
  readonly latencyP99Ms: number;
  /** Consecutive 5-minute periods over the threshold before an alarm fires. @default 3 */
  readonly evaluationPeriods?: number;
}

/** The SLO alarms of the app tier (5xx rate, p99 latency, unhealthy hosts), all sent to one SNS topic. */
export class Monitoring extends Construct {
  /** The topic every alarm notifies. */
  readonly topicArn: string;
  /** The topic's name. */
  readonly topicName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const p = props.namePrefix;
    const periods = props.evaluationPeriods ?? 3;
    const topicName = `${p}-${props.severity === "page" ? "oncall-page" : "notify"}`;
    const topic = new SnsTopic(this, "topic", { name: topicName });
    this.topicArn = topic.arn;
    this.topicName = topicName;
    const actions = { alarmActions: [topic.arn], okActions: [topic.arn] };
    const alb = { LoadBalancer: props.loadBalancerArnSuffix };

    const albMetric = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: alb, period: 300, stat: "Sum" },
    });
    new CloudwatchMetricAlarm(this, "error-rate", {
      alarmName: `${p}-alb-5xx-rate`,
      alarmDescription: `5xx responses above ${props.errorRatePercent}% of requests (SLO)`,
      comparisonOperator: "GreaterThanThreshold",
      threshold: props.errorRatePercent,
      evaluationPeriods: periods,
      treatMissingData: "notBreaching",
      metricQuery: [
        albMetric("errors", "HTTPCode_Target_5XX_Count"),
        albMetric("elb_errors", "HTTPCode_ELB_5XX_Count"),
        albMetric("requests", "RequestCount"),
        {
          id: "error_rate",
          label: "5xx rate (%)",
          returnData: true,
          expression: "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)",
        },
      ],
      ...actions,
    });
    new CloudwatchMetricAlarm(this, "latency-p99", {
      alarmName: `${p}-alb-p99-latency`,
      alarmDescription: `p99 target response time above ${props.latencyP99Ms} ms (SLO)`,
      namespace: "AWS/ApplicationELB",
      metricName: "TargetResponseTime",
      dimensions: alb,
      extendedStatistic: "p99",
      period: 300,
      comparisonOperator: "GreaterThanThreshold",
      threshold: props.latencyP99Ms / 1000,
      evaluationPeriods: periods,
      treatMissingData: "notBreaching",
      ...actions,
    });
    for (const [name, suffix] of Object.entries(props.targetGroupArnSuffixes)) {
      new CloudwatchMetricAlarm(this, `unhealthy-${name}`, {
        alarmName: `${p}-${name}-unhealthy-hosts`,
        alarmDescription: `Unhealthy hosts in target group ${name}`,
        namespace: "AWS/ApplicationELB",
        metricName: "UnHealthyHostCount",
        dimensions: { ...alb, TargetGroup: suffix },
        statistic: "Maximum",
        period: 60,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: periods,
        treatMissingData: "notBreaching",
        ...actions,
      });
    }
  }
}

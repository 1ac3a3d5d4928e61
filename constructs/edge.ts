import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { CloudfrontDistribution } from "@cdktf/provider-aws/lib/cloudfront-distribution";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";

/** AWS managed CloudFront policies (ids are global and fixed). */
const MANAGED_CACHE_POLICY_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const MANAGED_ORIGIN_REQUEST_POLICY_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3";

export interface EdgeProps {
  /** Prefix of every resource name, e.g. the environment's name. */
  readonly namePrefix: string;
  /** The origin: the load balancer's DNS name. */
  readonly originDomainName: string;
  /** The origin serves HTTPS (a certificate on the load balancer); else CloudFront reaches it over HTTP. @default false */
  readonly originHttps?: boolean;
  /** CloudFront price class: PriceClass_100, PriceClass_200 or PriceClass_All. @default "PriceClass_100" */
  readonly priceClass?: string;
  /** WAF rate limit: requests per 5 minutes per client IP, 100..2e9; above it requests are blocked. */
  readonly rateLimitPer5Min: number;
  /** Provider in us-east-1 for the CLOUDFRONT-scoped web ACL. @default - the scope's default provider (must be us-east-1) */
  readonly globalProvider?: TerraformProvider;
}

/** A CloudFront distribution in front of the load balancer, protected by a WAFv2 web ACL with a rate-based rule. */
export class Edge extends Construct {
  /** The distribution's domain name (xxxx.cloudfront.net). */
  readonly domainName: string;
  /** The web ACL's ARN. */
  readonly webAclArn: string;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const metricPrefix = props.namePrefix.replace(/[^A-Za-z0-9]/g, "");
    const acl = new Wafv2WebAcl(this, "waf", {
      provider: props.globalProvider,
      name: `${props.namePrefix}-edge`,
      description: `Edge protection of ${props.namePrefix}`,
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      rule: [
        {
          name: "rate-limit-per-ip",
          priority: 0,
          action: { block: {} },
          // Nested statements are untyped in the bindings: terraform's own snake_case keys.
          statement: { rate_based_statement: { limit: props.rateLimitPer5Min, aggregate_key_type: "IP" } },
          visibilityConfig: {
            cloudwatchMetricsEnabled: true,
            metricName: `${metricPrefix}RateLimit`,
            sampledRequestsEnabled: true,
          },
        },
      ],
      visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: `${metricPrefix}Edge`, sampledRequestsEnabled: true },
    });
    this.webAclArn = acl.arn;

    const originId = "alb";
    const distribution = new CloudfrontDistribution(this, "distribution", {
      enabled: true,
      comment: `${props.namePrefix} edge`,
      priceClass: props.priceClass ?? "PriceClass_100",
      httpVersion: "http2and3",
      webAclId: acl.arn,
      origin: [
        {
          originId,
          domainName: props.originDomainName,
          customOriginConfig: {
            httpPort: 80,
            httpsPort: 443,
            originProtocolPolicy: props.originHttps ? "https-only" : "http-only",
            originSslProtocols: ["TLSv1.2"],
          },
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: originId,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
        cachedMethods: ["GET", "HEAD"],
        compress: true,
        cachePolicyId: MANAGED_CACHE_POLICY_CACHING_DISABLED,
        originRequestPolicyId: MANAGED_ORIGIN_REQUEST_POLICY_ALL_VIEWER,
      },
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: { cloudfrontDefaultCertificate: true },
    });
    this.domainName = distribution.domainName;
  }
}

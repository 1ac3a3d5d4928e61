import { Construct } from "constructs";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Route53Zone } from "@cdktf/provider-aws/lib/route53-zone";

export interface PrivateDnsProps {
  /** The zone's name, e.g. dev.internal.example.com. */
  readonly zoneName: string;
  /** The one VPC the zone is attached to (private zones resolve only inside it). */
  readonly vpcId: string;
  /** CNAME records: relative name (e.g. "db") → target host name. @default {} */
  readonly cnames?: Readonly<Record<string, string>>;
  /** TTL of the records in seconds. @default 300 */
  readonly ttl?: number;
}

/** A private Route 53 zone attached to one VPC only, with CNAMEs for the environment's endpoints. */
export class PrivateDns extends Construct {
  /** The zone's id. */
  readonly zoneId: string;
  /** Fully qualified names of the records, by relative name. */
  readonly recordNames: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: PrivateDnsProps) {
    super(scope, id);
    const zone = new Route53Zone(this, "zone", {
      name: props.zoneName,
      comment: `Private zone of ${props.zoneName}`,
      vpc: [{ vpcId: props.vpcId }],
    });
    this.zoneId = zone.zoneId;
    for (const [name, target] of Object.entries(props.cnames ?? {})) {
      const fqdn = `${name}.${props.zoneName}`;
      new Route53Record(this, `cname-${name}`, {
        zoneId: zone.zoneId,
        name: fqdn,
        type: "CNAME",
        ttl: props.ttl ?? 300,
        records: [target],
        // The zone is this construct's alone: a create retried after a lost response (UPSERT) must not
        // fail with "already exists", seen on a loaded emulator.
        allowOverwrite: true,
      });
      this.recordNames[name] = fqdn;
    }
  }
}

import { Construct } from "constructs";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

/** Redis's port. */
export const REDIS_PORT = 6379;

export interface CacheProps {
  /** Prefix of every resource name, e.g. the environment's name (<= 34 characters for ElastiCache ids). */
  readonly namePrefix: string;
  /** The VPC the cache's security group belongs to. */
  readonly vpcId: string;
  /** Private subnets of the cache subnet group. */
  readonly subnetIds: string[];
  /** The only security group allowed to reach the cache, on 6379 (the app tier's). */
  readonly clientSecurityGroupId: string;
  /** ElastiCache node type, e.g. cache.t3.micro. */
  readonly nodeType: string;
  /** Redis engine version, e.g. "7.1". */
  readonly engineVersion: string;
  /** Read replicas beside the primary, 0..5 (0: a single node). @default 0 */
  readonly replicas?: number;
  /** Promote a replica when the primary fails; needs replicas >= 1. @default false */
  readonly automaticFailover?: boolean;
  /** Spread primary and replicas over AZs; needs replicas >= 1 and automaticFailover. @default - same as automaticFailover */
  readonly multiAz?: boolean;
}

/**
 * ElastiCache Redis reachable only from one security group: an aws_elasticache_replication_group of
 * 1 + replicas nodes, encrypted at rest and in transit. A single node is a group of one too: a bare
 * aws_elasticache_cluster cannot encrypt Redis at rest, and one resource type for every size keeps the
 * environments on one code path.
 */
export class Cache extends Construct {
  /** The primary endpoint's host name. */
  readonly address: string;
  /** The cache's port. */
  readonly port: number;
  /** The cache's security group. */
  readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const replicas = props.replicas ?? 0;
    const failover = props.automaticFailover ?? false;
    const multiAz = props.multiAz ?? failover;
    if (replicas < 0 || replicas > 5) {
      throw new Error(`${props.namePrefix}: cache replicas must be 0..5, but ${replicas} was provided`);
    }
    if ((failover || multiAz) && replicas < 1) {
      throw new Error(`${props.namePrefix}: cache automaticFailover / multiAz need replicas >= 1, but ${replicas} was provided`);
    }
    const major = props.engineVersion.split(".")[0];

    const subnets = new ElasticacheSubnetGroup(this, "subnets", {
      name: `${props.namePrefix}-cache`,
      subnetIds: props.subnetIds,
    });
    const sg = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-cache`,
      description: `Redis of ${props.namePrefix}: reachable from the app tier only`,
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-cache` },
    });
    new VpcSecurityGroupIngressRule(this, "from-app", {
      securityGroupId: sg.id,
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: REDIS_PORT,
      toPort: REDIS_PORT,
      description: "Redis from the app tier",
    });
    this.securityGroupId = sg.id;
    this.port = REDIS_PORT;

    const group = new ElasticacheReplicationGroup(this, "replication-group", {
      replicationGroupId: `${props.namePrefix}-cache`,
      description: `Redis of ${props.namePrefix}`,
      engine: "redis",
      engineVersion: props.engineVersion,
      nodeType: props.nodeType,
      port: REDIS_PORT,
      parameterGroupName: `default.redis${major}`,
      subnetGroupName: subnets.name,
      securityGroupIds: [sg.id],
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: failover,
      multiAzEnabled: multiAz,
      atRestEncryptionEnabled: "true",
      transitEncryptionEnabled: true,
    });
    this.address = group.primaryEndpointAddress;
  }
}

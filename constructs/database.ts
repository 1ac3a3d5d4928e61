import { Construct } from "constructs";
import { Fn, Token } from "cdktf";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

/** PostgreSQL's port. */
export const POSTGRES_PORT = 5432;

export interface DatabaseProps {
  /** Prefix of every resource name, e.g. the environment's name (lower-case, <= 40 characters). */
  readonly namePrefix: string;
  /** The VPC the database's security group belongs to. */
  readonly vpcId: string;
  /** Private subnets of the subnet group, at least two AZs for RDS. */
  readonly subnetIds: string[];
  /** The only security group allowed to reach the database, on 5432 (the app tier's). */
  readonly clientSecurityGroupId: string;
  /** PostgreSQL major (or major.minor) version, e.g. "16"; the parameter group family follows it. */
  readonly engineVersion: string;
  /** RDS instance class, e.g. db.t3.small. */
  readonly instanceClass: string;
  /** Allocated storage in GB, 20..65536. */
  readonly allocatedStorageGb: number;
  /** A synchronous standby in another AZ. @default false */
  readonly multiAz?: boolean;
  /** Days automated backups (and point-in-time recovery) are kept, 1..35. @default 7 */
  readonly backupRetentionDays?: number;
  /** Refuse deletion of the instance. @default true */
  readonly deletionProtection?: boolean;
  /** Take a final snapshot named `<prefix>-db-final` when the instance is deleted. @default true */
  readonly finalSnapshot?: boolean;
  /** log_connections and log_disconnections on. @default false */
  readonly connectionLogging?: boolean;
  /** Audit logging: log_statement=ddl and the postgresql log exported to CloudWatch Logs. @default false */
  readonly auditLogging?: boolean;
  /** The master user's name. @default "app" */
  readonly masterUsername?: string;
  /**
   * KMS key of the master password's secret (ARN, id or alias).
   * @default - Secrets Manager's key for the account (aws/secretsmanager)
   */
  readonly masterPasswordKmsKeyId?: string;
}

/**
 * An encrypted RDS PostgreSQL instance in private subnets, reachable only from one security group.
 * The master password is AWS-managed (`manage_master_user_password`): RDS generates it and keeps it in a
 * Secrets Manager secret of its own (`masterPasswordSecretArn`), so it never passes through terraform, a
 * plan file or the state.
 */
export class Database extends Construct {
  /** The instance's host name (without port). */
  readonly address: string;
  /** The instance's port. */
  readonly port: number;
  /** The database's security group. */
  readonly securityGroupId: string;
  /** The instance's identifier. */
  readonly identifier: string;
  /** ARN of the RDS-managed secret holding the master user's name and password ("" until known). */
  readonly masterPasswordSecretArn: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const major = props.engineVersion.split(".")[0];
    const flag = (on: boolean | undefined) => (on ? "1" : "0");

    const subnets = new DbSubnetGroup(this, "subnets", {
      name: `${props.namePrefix}-db`,
      subnetIds: props.subnetIds,
    });
    const parameters = new DbParameterGroup(this, "parameters", {
      name: `${props.namePrefix}-postgres${major}`,
      family: `postgres${major}`,
      parameter: [
        { name: "log_connections", value: flag(props.connectionLogging) },
        { name: "log_disconnections", value: flag(props.connectionLogging) },
        { name: "log_statement", value: props.auditLogging ? "ddl" : "none" },
        { name: "rds.force_ssl", value: "1" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    const sg = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-db`,
      description: `PostgreSQL of ${props.namePrefix}: reachable from the app tier only`,
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-db` },
    });
    new VpcSecurityGroupIngressRule(this, "from-app", {
      securityGroupId: sg.id,
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      description: "PostgreSQL from the app tier",
    });
    this.securityGroupId = sg.id;

    const finalSnapshot = props.finalSnapshot ?? true;
    const db = new DbInstance(this, "instance", {
      identifier: `${props.namePrefix}-db`,
      engine: "postgres",
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      allocatedStorage: props.allocatedStorageGb,
      storageType: "gp3",
      storageEncrypted: true,
      multiAz: props.multiAz ?? false,
      dbName: "app",
      username: props.masterUsername ?? "app",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.masterPasswordKmsKeyId,
      port: POSTGRES_PORT,
      dbSubnetGroupName: subnets.name,
      parameterGroupName: parameters.name,
      vpcSecurityGroupIds: [sg.id],
      publiclyAccessible: false,
      backupRetentionPeriod: props.backupRetentionDays ?? 7,
      deletionProtection: props.deletionProtection ?? true,
      skipFinalSnapshot: !finalSnapshot,
      finalSnapshotIdentifier: finalSnapshot ? `${props.namePrefix}-db-final` : undefined,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      enabledCloudwatchLogsExports: props.auditLogging ? ["postgresql"] : undefined,
    });
    this.address = db.address;
    this.port = POSTGRES_PORT;
    this.identifier = db.identifier;
    // try(): the block is empty in a plan that switches an existing instance to the managed password
    // (the provider does not mark it unknown); the output is then "" until the apply reads the ARN back.
    this.masterPasswordSecretArn = Token.asString(Fn.try([db.masterUserSecret.get(0).secretArn, ""]));
  }
}

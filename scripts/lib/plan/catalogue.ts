/**
 * The one resource catalogue: per resource type, what the engine must know to judge a change to it.
 * The manifest's stateful flag, POLICY-STATEFUL-DESTROY, the summary's redaction, the cost estimate
 * and the rollback notes all read it; a unit test proves every type the stacks use is listed.
 *
 * - stateful: destroying or replacing the object loses data that neither the code nor the state can
 *   recreate (rows, objects, items, messages, log events, cache contents, keys that decrypt data, values
 *   rotated outside terraform, records added outside terraform). A resource whose whole content comes from
 *   the code (an SSM parameter written from a setting, a generated password whose consumers are updated in
 *   the same apply) is not stateful: a replace recreates it as it was, or rotates it (see newIdentity).
 * - secret: "all" when every value of the type is secret (a generated password, a secret's version), or
 *   the attributes that hold a secret; never printed, whatever terraform's sensitive marks say.
 * - priced: the cost estimate gives the type a monthly charge of its own (cost/estimate.ts; a unit test
 *   keeps the two in step).
 * - newIdentity: a replace gives the object a new identity (id, ARN, endpoint, generated value) that
 *   something outside terraform may hold; false for pure attachments and settings of another object.
 */

export interface CatalogueEntry {
  readonly stateful: boolean;
  /** What a destroy loses (stateful types only). */
  readonly data?: string;
  readonly secret?: "all" | readonly string[];
  readonly priced: boolean;
  readonly newIdentity: boolean;
}

const stateful = (data: string, more: Partial<CatalogueEntry> = {}): CatalogueEntry => ({ stateful: true, data, priced: false, newIdentity: true, ...more });
const plain = (more: Partial<CatalogueEntry> = {}): CatalogueEntry => ({ stateful: false, priced: false, newIdentity: true, ...more });
/** A setting or attachment of another object: a replace re-attaches, nothing outside refers to it. */
const attachment = (more: Partial<CatalogueEntry> = {}): CatalogueEntry => ({ stateful: false, priced: false, newIdentity: false, ...more });

export const CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  // Databases and caches
  aws_db_instance: stateful("the database", { secret: ["password"], priced: true }),
  aws_rds_cluster: stateful("the cluster's databases", { secret: ["master_password"] }),
  aws_rds_cluster_instance: plain(),
  aws_db_snapshot: stateful("the snapshot"),
  aws_docdb_cluster: stateful("the cluster's databases", { secret: ["master_password"] }),
  aws_neptune_cluster: stateful("the graph"),
  aws_redshift_cluster: stateful("the warehouse", { secret: ["master_password"] }),
  aws_elasticache_replication_group: stateful("the cache's contents", { secret: ["auth_token"], priced: true }),
  aws_elasticache_cluster: stateful("the cache's contents", { priced: true }),
  aws_elasticache_serverless_cache: stateful("the cache's contents"),
  aws_elasticache_global_replication_group: stateful("the cache's contents"),
  aws_opensearch_domain: stateful("the indexes"),
  aws_elasticsearch_domain: stateful("the indexes"),
  aws_db_parameter_group: plain(),
  aws_db_subnet_group: plain(),
  aws_elasticache_subnet_group: plain(),

  // Storage, queues, streams, logs
  aws_s3_bucket: stateful("the objects", { priced: true }),
  aws_dynamodb_table: stateful("the items"),
  aws_efs_file_system: stateful("the files"),
  aws_ebs_volume: stateful("the volume's blocks"),
  aws_sqs_queue: stateful("the messages not yet consumed"),
  aws_kinesis_stream: stateful("the records not yet consumed"),
  aws_cloudwatch_log_group: stateful("the log events"),
  aws_backup_vault: stateful("the recovery points"),
  aws_ecr_repository: stateful("the images"),
  aws_s3_bucket_lifecycle_configuration: attachment(),
  aws_s3_bucket_policy: attachment(),
  aws_s3_bucket_public_access_block: attachment(),
  aws_s3_bucket_server_side_encryption_configuration: attachment(),
  aws_s3_bucket_versioning: attachment(),
  aws_s3_bucket_object_lock_configuration: attachment(),

  // Secrets and keys
  aws_secretsmanager_secret: stateful("every version of the secret, including values rotated outside terraform", { priced: true }),
  aws_secretsmanager_secret_version: plain({ secret: "all" }),
  aws_kms_alias: attachment(),
  aws_kms_key: stateful("the ability to decrypt what the key encrypted", { priced: true }),
  aws_ssm_parameter: plain({ secret: ["value"] }),
  aws_iam_access_key: plain({ secret: "all" }),
  aws_iam_user_login_profile: plain({ secret: "all" }),
  random_password: plain({ secret: "all" }),
  random_string: plain({ secret: "all" }),
  random_bytes: plain({ secret: "all" }),
  tls_private_key: plain({ secret: "all" }),

  // DNS
  aws_route53_zone: stateful("records added outside terraform, and the zone's name servers (a new zone gets new ones)", { priced: true }),
  aws_route53_record: attachment(),

  // Network
  aws_vpc: plain(),
  aws_subnet: plain(),
  aws_internet_gateway: plain(),
  aws_nat_gateway: plain({ priced: true }),
  aws_eip: plain({ priced: true }),
  aws_route_table: plain(),
  aws_route: attachment(),
  aws_route_table_association: attachment(),
  aws_security_group: plain(),
  aws_vpc_security_group_ingress_rule: attachment(),
  aws_vpc_security_group_egress_rule: attachment(),
  aws_flow_log: plain(),

  // Compute and load balancing
  aws_instance: plain({ priced: true }),
  aws_launch_template: plain(),
  aws_autoscaling_group: plain({ priced: true }),
  aws_autoscaling_policy: attachment(),
  aws_autoscaling_schedule: attachment(),
  aws_lb: plain({ priced: true }),
  aws_lb_listener: plain(),
  aws_lb_target_group: plain(),
  aws_cloudfront_distribution: plain({ priced: true }),
  aws_wafv2_web_acl: plain({ priced: true }),

  // Identity, monitoring, billing
  aws_iam_role: plain(),
  aws_iam_openid_connect_provider: plain(),
  aws_iam_role_policy: attachment(),
  aws_cloudwatch_metric_alarm: plain({ priced: true }),
  aws_sns_topic: plain(),
  aws_budgets_budget: plain(),
};

/** The entry of a type, or undefined for a type the catalogue does not know (then: not stateful, not secret). */
export function catalogueEntry(type: string): CatalogueEntry | undefined {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, type) ? CATALOGUE[type] : undefined;
}

/** Destroying or replacing an object of this type loses data. */
export const isStateful = (type: string): boolean => catalogueEntry(type)?.stateful === true;

/** Every value of this type is secret. */
export const isSecretType = (type: string): boolean => catalogueEntry(type)?.secret === "all";

/** The top-level attributes of this type that hold a secret ("all": every one). */
export function secretAttributes(type: string): "all" | readonly string[] {
  return catalogueEntry(type)?.secret ?? [];
}

/** A replace gives the object a new identity (unknown types: yes). */
export const replaceGivesNewIdentity = (type: string): boolean => catalogueEntry(type)?.newIdentity !== false;

const typesWhere = (f: (e: CatalogueEntry) => boolean) => Object.keys(CATALOGUE).filter((t) => f(CATALOGUE[t])).sort();

/** Resource types that hold data. */
export const STATEFUL_TYPES: readonly string[] = typesWhere((e) => e.stateful);
/** Resource types whose every value is secret. */
export const SECRET_TYPES: readonly string[] = typesWhere((e) => e.secret === "all");
/** Resource types the cost estimate prices. */
export const PRICED_TYPES: readonly string[] = typesWhere((e) => e.priced);

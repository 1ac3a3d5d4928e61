/**
 * POLICY-ENCRYPTION-AT-REST: data at rest is encrypted, explicitly in the code:
 *   - aws_s3_bucket: an aws_s3_bucket_server_side_encryption_configuration for the bucket in the
 *     plan (linked by configuration reference or by the known bucket name), or a known inline
 *     server_side_encryption_configuration (how an existing bucket reports its encryption);
 *   - aws_db_instance, aws_rds_cluster, aws_docdb_cluster, aws_neptune_cluster: storage_encrypted = true;
 *   - aws_elasticache_replication_group: at_rest_encryption_enabled = true;
 *   - aws_elasticache_cluster with engine redis or valkey that is not a member of a replication
 *     group: refused, because provider 5.x cannot set at-rest encryption on it. Use a replication
 *     group, even for one node (num_cache_clusters = 1). Memcached keeps nothing at rest:
 *     not applicable. Members of a replication group inherit the group's setting.
 *   - aws_dynamodb_table: server_side_encryption.enabled = true (a KMS key, AWS-managed or the
 *     env's own, whose use is logged in CloudTrail; the AWS-owned default key is not auditable);
 *   - aws_efs_file_system and aws_ebs_volume: encrypted = true.
 */
import { afterOf, asList, configAddress, configResources, expressionOf, firstBlock, isUnknown, referencedResources, resultingResources, show, UNKNOWN } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, ResourceChange, Violation } from "../types";

/** Resource type → the boolean attribute path that must be true. */
const FLAGS: Readonly<Record<string, readonly (string | number)[]>> = {
  aws_db_instance: ["storage_encrypted"],
  aws_rds_cluster: ["storage_encrypted"],
  aws_docdb_cluster: ["storage_encrypted"],
  aws_neptune_cluster: ["storage_encrypted"],
  aws_elasticache_replication_group: ["at_rest_encryption_enabled"],
  aws_dynamodb_table: ["server_side_encryption", 0, "enabled"],
  aws_efs_file_system: ["encrypted"],
  aws_ebs_volume: ["encrypted"],
};

const BUCKET = "aws_s3_bucket";
const BUCKET_SSE = "aws_s3_bucket_server_side_encryption_configuration";
const isTrue = (v: unknown) => v === true || v === "true";

function valueAtPath(rc: ResourceChange, path: readonly (string | number)[]): unknown {
  let node: unknown = afterOf(rc);
  for (const key of path) node = typeof key === "number" ? asList(node)[key] : firstBlock(node)[key];
  return node;
}

function check(ctx: PolicyContext): CheckResult {
  const config = configResources(ctx.plan);
  const resources = resultingResources(ctx.plan);
  const violations: Violation[] = [];
  let applicable = false;

  for (const rc of resources) {
    const path = FLAGS[rc.type];
    if (!path) continue;
    applicable = true;
    const attribute = path.join(".").replace(/\.(\d+)\./g, "[$1].");
    if (isUnknown(rc, path)) {
      violations.push({ address: rc.address, attribute, expected: "true", found: UNKNOWN });
      continue;
    }
    const v = valueAtPath(rc, path);
    if (!isTrue(v)) violations.push({ address: rc.address, attribute, expected: "true", found: show(v) });
  }

  for (const rc of resources.filter((r) => r.type === "aws_elasticache_cluster")) {
    applicable = true;
    const after = afterOf(rc);
    const member = typeof after.replication_group_id === "string" && after.replication_group_id !== "";
    if (member || isUnknown(rc, ["replication_group_id"]) || after.engine === "memcached") continue;
    violations.push({
      address: rc.address,
      attribute: "engine",
      expected: "an aws_elasticache_replication_group with at_rest_encryption_enabled = true (a standalone cluster cannot encrypt at rest in provider 5.x)",
      found: `standalone aws_elasticache_cluster with engine ${show(after.engine)}`,
    });
  }

  // Buckets and their encryption configuration resources.
  const sse = resources.filter((r) => r.type === BUCKET_SSE);
  const covered = new Set<string>();
  for (const s of sse) {
    const module = config.get(configAddress(s))?.module ?? "";
    for (const a of referencedResources(expressionOf(config, s, "bucket"), BUCKET, module)) covered.add(`cfg:${a}`);
    const name = afterOf(s).bucket;
    if (typeof name === "string" && !isUnknown(s, ["bucket"])) covered.add(`name:${name}`);
  }
  for (const b of resources.filter((r) => r.type === BUCKET)) {
    applicable = true;
    const after = afterOf(b);
    if (covered.has(`cfg:${configAddress(b)}`)) continue;
    if (typeof after.bucket === "string" && !isUnknown(b, ["bucket"]) && covered.has(`name:${after.bucket}`)) continue;
    const inline = firstBlock(firstBlock(firstBlock(after.server_side_encryption_configuration).rule).apply_server_side_encryption_by_default);
    if (!isUnknown(b, ["server_side_encryption_configuration"]) && typeof inline.sse_algorithm === "string" && inline.sse_algorithm !== "") continue;
    violations.push({
      address: b.address,
      attribute: BUCKET_SSE,
      expected: "an aws_s3_bucket_server_side_encryption_configuration for this bucket",
      found: "none in the plan",
    });
  }

  if (!applicable) return { status: "not-applicable" };
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const encryptionAtRest: PolicyRule = {
  id: "POLICY-ENCRYPTION-AT-REST",
  level: "error",
  info: "Buckets, databases, caches, tables, file systems and volumes are encrypted at rest, explicitly in the code.",
  explanation:
    "Encryption at rest protects data on retired disks, in snapshots and in backups; most of these settings cannot be " +
    "turned on later without replacing the resource (and so losing its data), so they must be right at creation.",
  fix:
    "Set storage_encrypted / at_rest_encryption_enabled / encrypted = true, server_side_encryption { enabled = true } on tables, " +
    "add an aws_s3_bucket_server_side_encryption_configuration per bucket, and use a replication group instead of a standalone redis cluster.",
  check,
};

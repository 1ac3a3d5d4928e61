import { Construct } from "constructs";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";

/** The object-key prefix of bundles in a store (the lifecycle rule expires only these). */
export const BUNDLE_PREFIX = "bundles/";

/** Actions on the bucket itself that change what the store guarantees (retention, policy, encryption, history). */
export const STORE_MANAGEMENT_ACTIONS = [
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketVersioning",
  "s3:PutEncryptionConfiguration",
  "s3:PutBucketPublicAccessBlock",
  "s3:DeleteBucket",
] as const;

/** Actions on objects that would remove or shorten history: only the break-glass role may try them. */
export const STORE_HISTORY_ACTIONS = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:PutObjectRetention",
  "s3:PutObjectLegalHold",
  "s3:BypassGovernanceRetention",
] as const;

export interface PromotionStoreProps {
  /** The store bucket's name (globally unique, 3..63 lower-case characters). */
  readonly bucketName: string;
  /** The alias of the KMS key created for the store, `alias/...`. */
  readonly kmsKeyAlias: string;
  /** Days every object version stays under Object Lock COMPLIANCE (the bucket's default retention), 1..36500. */
  readonly retentionDays: number;
  /** Days after which bundle objects (`bundles/`) expire: their plan's TTL plus the grace period. */
  readonly bundleExpiryDays: number;
  /** Role ARNs that may read and write objects (the delivery roles). */
  readonly dataPrincipalArns: readonly string[];
  /** Role ARNs that may also change the bucket's configuration (the bootstrap role). */
  readonly adminPrincipalArns: readonly string[];
  /** The one role that may try to delete objects or change their retention (break glass). */
  readonly breakGlassRoleArn: string;
}

/**
 * An environment's promotion store: its own KMS key, and a bucket with versioning, Object Lock
 * (COMPLIANCE default retention), SSE-KMS with that key, all public access blocked, TLS only, a lifecycle
 * rule expiring bundles, and a policy that admits only the delivery roles, the bootstrap role (bucket
 * configuration, no object data) and a break-glass role. Both bucket and key refuse `terraform destroy`.
 */
export class PromotionStore extends Construct {
  /** The store bucket's name. */
  readonly bucketName: string;
  /** The store bucket's ARN. */
  readonly bucketArn: string;
  /** The KMS key's ARN. */
  readonly kmsKeyArn: string;
  /** The KMS key's alias. */
  readonly kmsKeyAlias: string;

  constructor(scope: Construct, id: string, props: PromotionStoreProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1 || props.retentionDays > 36500) {
      throw new Error(`PromotionStore ${props.bucketName}: retentionDays must be an integer 1..36500, but ${props.retentionDays} was provided`);
    }
    if (!Number.isInteger(props.bundleExpiryDays) || props.bundleExpiryDays < 1) {
      throw new Error(`PromotionStore ${props.bucketName}: bundleExpiryDays must be a positive integer, but ${props.bundleExpiryDays} was provided`);
    }

    const key = new KmsKey(this, "key", {
      description: `promotion store ${props.bucketName}: plan files, bundles, audit`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: true },
    });
    const alias = new KmsAlias(this, "alias", { name: props.kmsKeyAlias, targetKeyId: key.keyId });

    const bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      objectLockEnabled: true,
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    const versioning = new S3BucketVersioningA(this, "versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketObjectLockConfigurationA(this, "object-lock", {
      bucket: bucket.id,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "COMPLIANCE", days: props.retentionDays } },
      dependsOn: [versioning],
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: bucket.id,
      rule: [
        {
          id: "expire-bundles",
          status: "Enabled",
          filter: [{ prefix: BUNDLE_PREFIX }],
          // Current versions get a delete marker after the TTL + grace; the locked versions themselves go
          // once their retention has run out.
          expiration: [{ days: props.bundleExpiryDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.retentionDays + 1 }],
        },
      ],
      dependsOn: [versioning],
    });

    const objects = `${bucket.arn}/*`;
    const data = [...props.dataPrincipalArns, props.breakGlassRoleArn];
    const admins = [...props.adminPrincipalArns, props.breakGlassRoleArn];
    new S3BucketPolicy(this, "policy", {
      bucket: bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, objects],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          {
            Sid: "DenyAllButDeliveryAndAdminRoles",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, objects],
            Condition: { ArnNotLike: { "aws:PrincipalArn": [...new Set([...data, ...admins])] } },
          },
          {
            Sid: "DenyObjectDataButDeliveryRoles",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            Resource: [objects],
            Condition: { ArnNotLike: { "aws:PrincipalArn": data } },
          },
          {
            Sid: "DenyConfigurationButAdmins",
            Effect: "Deny",
            Principal: "*",
            Action: [...STORE_MANAGEMENT_ACTIONS],
            Resource: [bucket.arn],
            Condition: { ArnNotLike: { "aws:PrincipalArn": admins } },
          },
          {
            Sid: "DenyHistoryChangesButBreakGlass",
            Effect: "Deny",
            Principal: "*",
            Action: [...STORE_HISTORY_ACTIONS],
            Resource: [objects],
            Condition: { ArnNotLike: { "aws:PrincipalArn": [props.breakGlassRoleArn] } },
          },
          {
            Sid: "DenyUnencryptedOrForeignKeyWrites",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: [objects],
            Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": key.arn } },
          },
        ],
      }),
      // A policy written before the public-access block can be refused as "public" by S3.
      dependsOn: [publicAccess],
    });

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.kmsKeyAlias = alias.name;
  }
}

import { Construct } from "constructs";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { SecureBucket } from "./secure-bucket";

export interface LogStorageProps {
  /** Globally unique bucket name, 3..63 lower-case characters. */
  readonly bucketName: string;
  /** Days after which log objects (and noncurrent versions) expire, >= 1. */
  readonly retentionDays: number;
  /** Days after which log objects move to GLACIER, less than `retentionDays`. @default - objects stay in STANDARD until they expire */
  readonly coldStorageAfterDays?: number;
}

/** The environment's log bucket: a SecureBucket with expiry and, optionally, a move to cold storage. */
export class LogStorage extends Construct {
  /** The log bucket's name. */
  readonly bucketName: string;
  /** The log bucket's ARN. */
  readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: LogStorageProps) {
    super(scope, id);
    const store = new SecureBucket(this, "logs", { bucketName: props.bucketName });
    this.bucketName = store.bucketName;
    this.bucketArn = store.bucketArn;

    const cold = props.coldStorageAfterDays;
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: store.bucket.id,
      rule: [
        {
          id: "retention",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
          transition: cold === undefined ? undefined : [{ days: cold, storageClass: "GLACIER" }],
        },
      ],
    });
  }
}

import { Construct } from "constructs";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { SecureBucket } from "./secure-bucket";

export interface StateBackendProps {
  /** The state bucket's name (globally unique, 3..63 lower-case characters). */
  readonly bucketName: string;
  /** The lock table's name, 3..255 characters. */
  readonly lockTableName: string;
}

/**
 * Where an environment keeps its terraform state: a SecureBucket and a DynamoDB lock table (LockID),
 * both protected from `terraform destroy`.
 */
export class StateBackend extends Construct {
  /** The state bucket's name. */
  readonly bucketName: string;
  /** The lock table's name. */
  readonly lockTableName: string;

  constructor(scope: Construct, id: string, props: StateBackendProps) {
    super(scope, id);
    const bucket = new SecureBucket(this, "state", { bucketName: props.bucketName, preventDestroy: true });
    const table = new DynamodbTable(this, "lock", {
      name: props.lockTableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      lifecycle: { preventDestroy: true },
    });
    this.bucketName = bucket.bucketName;
    this.lockTableName = table.name;
  }
}

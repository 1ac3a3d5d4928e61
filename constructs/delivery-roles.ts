import { Construct } from "constructs";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { STORE_HISTORY_ACTIONS, STORE_MANAGEMENT_ACTIONS } from "./promotion-store";

/** GitHub Actions' OIDC issuer. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** What a plan reads (terraform's refresh of every resource type the stacks use): describe, get, list; never a write. */
export const PLAN_READ_ACTIONS = [
  "autoscaling:Describe*",
  "budgets:Describe*",
  "budgets:View*",
  "budgets:ListTagsForResource",
  "cloudfront:Get*",
  "cloudfront:List*",
  "cloudwatch:Describe*",
  "cloudwatch:Get*",
  "cloudwatch:List*",
  "dynamodb:Describe*",
  "dynamodb:List*",
  "ec2:Describe*",
  "ec2:Get*",
  "elasticache:Describe*",
  "elasticache:List*",
  "elasticloadbalancing:Describe*",
  "iam:Get*",
  "iam:List*",
  "kms:Describe*",
  "kms:Get*",
  "kms:List*",
  "logs:Describe*",
  "logs:List*",
  "rds:Describe*",
  "rds:List*",
  "route53:Get*",
  "route53:List*",
  "s3:Get*",
  "s3:List*",
  "secretsmanager:Describe*",
  "secretsmanager:GetResourcePolicy",
  "secretsmanager:List*",
  "sns:Get*",
  "sns:List*",
  "ssm:Describe*",
  "ssm:Get*",
  "ssm:List*",
  "sts:GetCallerIdentity",
  "wafv2:Get*",
  "wafv2:List*",
] as const;

/** The prefix of applied records in a store: what a gate reader may read. */
export const APPLIED_PREFIX = "applied/";

export interface DeliveryRolesProps {
  /** The account the roles live in. */
  readonly accountId: string;
  /** owner/name of the GitHub repository whose workflows assume the roles. */
  readonly repository: string;
  /** The GitHub environment the deploy role is trusted for (`repo:<repository>:environment:<name>`). */
  readonly deployEnvironment: string;
  /** Subjects after `repo:<repository>:` the plan role is trusted for, e.g. `ref:refs/heads/main`. */
  readonly planSubjects: readonly string[];
  readonly deployRoleName: string;
  readonly planRoleName: string;
  /** The gate-reader role's name; created only when `gateReaderPrincipalArns` is not empty. */
  readonly gateReaderRoleName: string;
  /** Roles of the next envs in the chain (their plan and deploy roles) that may assume the gate reader. */
  readonly gateReaderPrincipalArns: readonly string[];
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly storeBucketArn: string;
  readonly kmsKeyArn: string;
}

/**
 * The roles CI delivers an env with, in the env's own account: GitHub's OIDC provider, a deploy role
 * trusted only for the repository's `environment:<env>`, a plan role (read-only on the env, the state
 * lock, bundles and audit in the store; cannot write state, applied records or resources) and a gate
 * reader for the next envs' planners (the applied records, nothing else).
 */
export class DeliveryRoles extends Construct {
  readonly deployRoleArn: string;
  readonly planRoleArn: string;
  /** null when no env promotes from this one. */
  readonly gateReaderRoleArn: string | null;

  constructor(scope: Construct, id: string, props: DeliveryRolesProps) {
    super(scope, id);
    const oidc = new IamOpenidConnectProvider(this, "github-oidc", {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: ["sts.amazonaws.com"],
      thumbprintList: ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"],
    });
    const githubTrust = (subjects: readonly string[]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: oidc.arn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
                [`${GITHUB_OIDC_HOST}:sub`]: subjects.map((s) => `repo:${props.repository}:${s}`),
              },
            },
          },
        ],
      });
    const store = props.storeBucketArn;
    const protectStore = {
      Sid: "NeverChangeTheStoreOrTheKey",
      Effect: "Deny",
      Action: [...STORE_MANAGEMENT_ACTIONS, ...STORE_HISTORY_ACTIONS, "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DeleteAlias", "kms:UpdateAlias"],
      Resource: [store, `${store}/*`, props.kmsKeyArn],
    };
    const protectRoles = {
      Sid: "NeverChangeTheDeliveryRoles",
      Effect: "Deny",
      Action: ["iam:*"],
      Resource: [props.deployRoleName, props.planRoleName, props.gateReaderRoleName].map((n) => `arn:aws:iam::${props.accountId}:role/${n}`),
    };
    const useKey = { Sid: "UseTheEnvKey", Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], Resource: [props.kmsKeyArn] };

    // deploy: applies the env; everything but changing the store, the key or the delivery roles.
    const deploy = new IamRole(this, "deploy", { name: props.deployRoleName, assumeRolePolicy: githubTrust([`environment:${props.deployEnvironment}`]), maxSessionDuration: 3600 });
    new IamRolePolicy(this, "deploy-policy", {
      role: deploy.name,
      name: "promote-deploy",
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "ApplyTheEnv", Effect: "Allow", Action: "*", Resource: "*" }, protectStore, protectRoles] }),
    });

    // plan: reads everything, takes the state lock, writes bundles and audit records; never state, applied records or resources.
    const plan = new IamRole(this, "plan", { name: props.planRoleName, assumeRolePolicy: githubTrust(props.planSubjects), maxSessionDuration: 3600 });
    new IamRolePolicy(this, "plan-store", {
      role: plan.name,
      name: "promote-plan",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "ReadTheEnv", Effect: "Allow", Action: [...PLAN_READ_ACTIONS], Resource: "*" },
          // terraform's refresh reads the values of the env's secrets: a plan file holds them (hence SSE-KMS in the store).
          { Sid: "ReadTheEnvSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [`arn:aws:secretsmanager:*:${props.accountId}:secret:*`] },
          { Sid: "StateLock", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"], Resource: [props.lockTableArn] },
          { Sid: "WriteBundlesAndAudit", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${store}/bundles/*`, `${store}/audit/*`] },
          useKey,
          { Sid: "NeverWriteState", Effect: "Deny", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: [`${props.stateBucketArn}/*`] },
          { Sid: "NeverMarkApplied", Effect: "Deny", Action: ["s3:PutObject"], Resource: [`${store}/${APPLIED_PREFIX}*`] },
          protectStore,
          protectRoles,
        ],
      }),
    });

    this.deployRoleArn = deploy.arn;
    this.planRoleArn = plan.arn;
    this.gateReaderRoleArn = null;
    if (props.gateReaderPrincipalArns.length > 0) {
      const reader = new IamRole(this, "gate-reader", {
        name: props.gateReaderRoleName,
        maxSessionDuration: 3600,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: [...props.gateReaderPrincipalArns] }, Action: "sts:AssumeRole" }],
        }),
      });
      new IamRolePolicy(this, "gate-reader-applied", {
        role: reader.name,
        name: "promote-gate-reader",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ReadAppliedRecords", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: [`${store}/${APPLIED_PREFIX}*`] },
            { Sid: "ListAppliedRecords", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions"], Resource: [store], Condition: { StringLike: { "s3:prefix": [`${APPLIED_PREFIX}*`] } } },
            { Sid: "DecryptThem", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [props.kmsKeyArn] },
          ],
        }),
      });
      this.gateReaderRoleArn = reader.arn;
    }
  }
}

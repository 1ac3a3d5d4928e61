import { Construct } from "constructs";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { ephemeralRandomPassword } from "../stacks/ephemeral-blocks";

/** One generated secret. */
export interface SecretSpec {
  /** UPPER_SNAKE name; the secret is stored at `<prefix>/<name>`. */
  readonly name: string;
  /** Length of the generated value, 16..128. */
  readonly length: number;
  /** Rotation period in days, recorded as the secret's `rotation-days` tag. @default - no rotation policy (no tag) */
  readonly rotationDays?: number;
  /**
   * The value's version, a positive integer: bumping it generates a new value and stores it as the
   * secret's current version (the plan shows `secret_string_wo_version` changing, never a value).
   */
  readonly version: number;
}

export interface SecretsProps {
  /** Prefix of every secret's name, e.g. the environment's name: secrets are `<prefix>/<NAME>`. */
  readonly namePrefix: string;
  /** The secrets to generate; names unique. */
  readonly secrets: readonly SecretSpec[];
  /** Days a deleted secret can be restored, 0 (immediate) or 7..30. @default 30 */
  readonly recoveryWindowDays?: number;
}

/**
 * Generated secrets that never enter a plan file or the state: each value comes from an ephemeral
 * `random_password` (exists only during one terraform run) and is written to Secrets Manager through the
 * write-only `secret_string_wo`, with `secret_string_wo_version` = the spec's `version`. Terraform keeps
 * only the version number; the value lives in Secrets Manager alone. A new value is generated and stored
 * when the version changes (on create, and on a bump), never on an unchanged plan.
 */
export class Secrets extends Construct {
  /** Secret ARNs by name. */
  readonly secretArns: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const names = props.secrets.map((s) => s.name);
    if (new Set(names).size !== names.length) {
      throw new Error(`${props.namePrefix}: secret names must be unique, but [${names.join(", ")}] was provided`);
    }
    for (const spec of props.secrets) {
      if (!Number.isInteger(spec.version) || spec.version < 1) {
        throw new Error(`${props.namePrefix}/${spec.name}: version must be a positive integer, but ${spec.version} was provided`);
      }
      const value = ephemeralRandomPassword(this, `${blockName(this)}_${spec.name}`, {
        length: spec.length,
        special: true,
        // Characters every consumer accepts (RDS refuses / @ " and space).
        overrideSpecial: "!#$%&*()-_=+[]{}<>:?",
        minLower: 1,
        minUpper: 1,
        minNumeric: 1,
      });
      const secret = new SecretsmanagerSecret(this, spec.name, {
        name: `${props.namePrefix}/${spec.name}`,
        description: `${spec.name} of ${props.namePrefix} (generated)`,
        recoveryWindowInDays: props.recoveryWindowDays ?? 30,
        tags: spec.rotationDays === undefined ? undefined : { "rotation-days": String(spec.rotationDays) },
      });
      new SecretsmanagerSecretVersion(this, `${spec.name}-version`, {
        secretId: secret.id,
        secretStringWo: value.result,
        secretStringWoVersion: spec.version,
      });
      this.secretArns[spec.name] = secret.arn;
    }
  }
}

/** The construct's path as a block-name prefix (secrets, or app_secrets when nested). */
function blockName(c: Construct): string {
  return c.node.scopes.slice(2).map((s) => s.node.id).join("_").replace(/[^A-Za-z0-9_-]/g, "_");
}

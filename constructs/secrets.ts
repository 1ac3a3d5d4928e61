import { Construct } from "constructs";
import { Password } from "@cdktf/provider-random/lib/password";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";

/** One generated secret. */
export interface SecretSpec {
  /** UPPER_SNAKE name; the secret is stored at `<prefix>/<name>`. */
  readonly name: string;
  /** Length of the generated value, 16..128. */
  readonly length: number;
  /** Rotation period in days, recorded as the secret's `rotation-days` tag. @default - no rotation policy (no tag) */
  readonly rotationDays?: number;
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
 * Generated secrets: a random_password each, stored in Secrets Manager. The synthesized configuration
 * holds only references to the generated values; the values themselves live in state and in AWS.
 */
export class Secrets extends Construct {
  /** Secret ARNs by name. */
  readonly secretArns: Record<string, string> = {};
  private readonly values = new Map<string, string>();

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const names = props.secrets.map((s) => s.name);
    if (new Set(names).size !== names.length) {
      throw new Error(`${props.namePrefix}: secret names must be unique, but [${names.join(", ")}] was provided`);
    }
    for (const spec of props.secrets) {
      const password = new Password(this, `${spec.name}-value`, {
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
        secretString: password.result,
      });
      this.secretArns[spec.name] = secret.arn;
      this.values.set(spec.name, password.result);
    }
  }

  /** A reference to the generated value of secret `name` (for a resource argument such as a password). */
  valueOf(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) {
      throw new Error(`no secret named "${name}": expected one of ${[...this.values.keys()].join(", ")}`);
    }
    return value;
  }
}

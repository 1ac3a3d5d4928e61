/**
 * POLICY-PLAINTEXT-SECRET: no secret value in a plain attribute. Three shapes are refused:
 *   1. a planned value under a secret-looking key (password, secret, token, api_key, private_key,
 *      credentials, passphrase; not *_arn, *_id, *_name, *_length ...) that is a literal string
 *      and not marked sensitive: it is printed in plan output and readable in the summary;
 *   2. a literal string in the configuration for a secret-looking attribute (secret_string,
 *      password, auth_token ...), sensitive or not: it is in the repository, and in the plan file;
 *   3. an aws_ssm_parameter whose name ends in a secret-looking segment (/prod/app/DB_PASSWORD) and
 *      whose type is not SecureString.
 *   4. the gate, in an env whose config sets `requireWriteOnlySecrets` (staging, prod): a secret set
 *      through an argument terraform persists in the plan file and the state (aws_db_instance.password,
 *      aws_secretsmanager_secret_version.secret_string ...), even as a sensitive reference: the finding
 *      names the write-only alternative (`*_wo` + `*_wo_version`, values never persisted).
 * Findings never contain the value, only its length.
 */
import { afterOf, configAddress, configResources, isObject, isSensitive, isUnknown, resultingResources } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, ResourceChange, Violation } from "../types";

const SECRET_WORDS = new Set(["password", "passwd", "secret", "token", "apikey", "credential", "credentials", "passphrase"]);
const SECRET_PAIRS = [
  ["api", "key"],
  ["private", "key"],
  ["access", "key"],
  ["secret", "key"],
];
/** Last words that name metadata about a secret, never the secret itself. */
const METADATA_WORDS = new Set([
  "arn", "arns", "id", "ids", "name", "names", "length", "status", "type", "version", "versions", "stage", "stages",
  "path", "enabled", "rotation", "ttl", "validity", "units", "days", "count", "policy", "required", "kms", "prefix", "url", "algorithm", "strategy", "mode", "format",
]);

/** Splits `DB_PASSWORD`, `api-key`, `masterUserPassword` into lower-case words. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Keys (as words joined by "_") that end in a secret word but name no secret: `lock_token` is the
 * optimistic-locking token every aws_wafv2_* resource carries in its state (returned by every Get, no
 * credential), a known literal in every plan after the first apply.
 */
const NOT_SECRETS = new Set(["lock_token"]);

/** True for keys that name a secret value (password, auth_token, API_KEY), false for secret_arn, password_length, lock_token. */
export function looksSecret(key: string): boolean {
  const w = words(key);
  if (w.length === 0 || METADATA_WORDS.has(w[w.length - 1]) || NOT_SECRETS.has(w.join("_"))) return false;
  if (w.some((x) => SECRET_WORDS.has(x))) return true;
  return SECRET_PAIRS.some(([a, b]) => w.some((x, i) => x === a && w[i + 1] === b));
}

const describeLiteral = (s: string) => `a literal string of ${s.length} characters`;

/**
 * Persisted secret arguments that have a write-only alternative in the AWS provider 5.100 (checked against
 * `terraform providers schema -json`): resource type -> argument -> what to use instead.
 */
export const PERSISTED_SECRET_ARGUMENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  aws_db_instance: { password: "password_wo + password_wo_version (write-only), or manage_master_user_password = true (AWS-managed)" },
  aws_rds_cluster: { master_password: "master_password_wo + master_password_wo_version (write-only), or manage_master_user_password = true (AWS-managed)" },
  aws_docdb_cluster: { master_password: "master_password_wo + master_password_wo_version (write-only)" },
  aws_redshift_cluster: { master_password: "master_password_wo + master_password_wo_version (write-only), or manage_master_password = true (AWS-managed)" },
  aws_secretsmanager_secret_version: {
    secret_string: "secret_string_wo + secret_string_wo_version (write-only), fed by an ephemeral random_password",
    secret_binary: "secret_string_wo + secret_string_wo_version (write-only; there is no write-only secret_binary)",
  },
  aws_ssm_parameter: { value: "value_wo + value_wo_version (write-only) for a SecureString" },
};

/** 4. The gate: a persisted secret argument that is set (a value, a value known after apply, or a reference). */
function persistedSecrets(rc: ResourceChange, expressions: Record<string, unknown> | undefined, out: Violation[]): void {
  const table = PERSISTED_SECRET_ARGUMENTS[rc.type];
  if (!table) return;
  const after = afterOf(rc);
  for (const [arg, alternative] of Object.entries(table)) {
    // An SSM parameter's value is a secret only as a SecureString (shape 3 covers secret-named plain ones).
    if (rc.type === "aws_ssm_parameter" && after.type !== "SecureString") continue;
    const v = after[arg];
    const planned = v !== undefined && v !== null && v !== "";
    const unknown = isUnknown(rc, [arg]);
    const expr = expressions?.[arg];
    // A literal in the configuration is shape 2's finding already; a reference is this rule's business.
    const literal = isObject(expr) && "constant_value" in expr && !(Array.isArray(expr.references) && expr.references.length > 0);
    const referenced = isObject(expr) && Array.isArray(expr.references) && expr.references.length > 0;
    if (literal || !(planned || unknown || referenced)) continue;
    out.push({
      address: rc.address,
      attribute: arg,
      expected: `no secret in ${arg}, which terraform keeps in the plan file and the state: use ${alternative}`,
      found: planned ? (isSensitive(rc, [arg]) ? "a value (sensitive, still persisted)" : "a value, persisted and not marked sensitive") : unknown ? "a value known after apply, to be persisted" : "a reference, to be persisted",
    });
  }
}

function check(ctx: PolicyContext): CheckResult {
  const config = configResources(ctx.plan);
  const violations: Violation[] = [];
  const resources = resultingResources(ctx.plan);
  if (resources.length === 0) return { status: "not-applicable" };

  for (const rc of resources) {
    // 1. Planned values.
    const visit = (v: unknown, path: (string | number)[], secretKey: boolean) => {
      if (typeof v === "string") {
        if (secretKey && v !== "" && !isSensitive(rc, path) && !isUnknown(rc, path)) {
          violations.push({
            address: rc.address,
            attribute: attributePath(path),
            expected: "a sensitive or generated value (Secrets Manager, random_password, a sensitive variable)",
            found: `${describeLiteral(v)}, not marked sensitive`,
          });
        }
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => visit(x, [...path, i], secretKey));
      } else if (isObject(v)) {
        if (isSensitive(rc, path)) return;
        for (const [k, x] of Object.entries(v)) visit(x, [...path, k], looksSecret(k));
      }
    };
    visit(afterOf(rc), [], false);

    // 2. Literals in the configuration.
    const expressions = config.get(configAddress(rc))?.expressions;
    if (expressions) visitConfig(rc, expressions, [], violations);

    // 4. The gate: persisted secret arguments where the env requires write-only ones.
    if (ctx.env.requireWriteOnlySecrets) persistedSecrets(rc, expressions, violations);

    // 3. Parameters named like a secret but stored in plain text.
    if (rc.type === "aws_ssm_parameter") {
      const { name, type } = afterOf(rc);
      const last = typeof name === "string" ? (name.split("/").pop() ?? "") : "";
      if (looksSecret(last) && type !== "SecureString" && !isUnknown(rc, ["type"])) {
        violations.push({
          address: rc.address,
          attribute: "type",
          expected: `"SecureString" for a parameter named like a secret (${name})`,
          found: JSON.stringify(type),
        });
      }
    }
  }
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

function attributePath(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${p}` : p), "");
}

/** Walks configuration expressions; nested blocks are lists of expression maps. */
function visitConfig(rc: ResourceChange, node: unknown, path: (string | number)[], out: Violation[]): void {
  if (Array.isArray(node)) return node.forEach((x, i) => visitConfig(rc, x, [...path, i], out));
  if (!isObject(node)) return;
  for (const [key, expr] of Object.entries(node)) {
    if (!isObject(expr) && !Array.isArray(expr)) continue;
    // A JSON-syntax configuration (what cdktf writes) shows an interpolation as a constant_value
    // holding the "${...}" template beside its references: a reference is never a literal secret.
    if (isObject(expr) && Array.isArray(expr.references) && expr.references.length > 0) {
      continue;
    } else if (isObject(expr) && "constant_value" in expr) {
      literalSecrets(rc, expr.constant_value, [...path, key], looksSecret(key), out);
    } else {
      visitConfig(rc, expr, [...path, key], out);
    }
  }
}

function literalSecrets(rc: ResourceChange, v: unknown, path: (string | number)[], secretKey: boolean, out: Violation[]): void {
  if (typeof v === "string") {
    if (secretKey && v !== "") {
      out.push({
        address: rc.address,
        attribute: `configuration: ${attributePath(path)}`,
        expected: "a reference to a generated or stored secret (random_password, Secrets Manager), never a literal",
        found: describeLiteral(v),
      });
    }
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => literalSecrets(rc, x, [...path, i], secretKey, out));
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) literalSecrets(rc, x, [...path, k], looksSecret(k), out);
  }
}

export const plaintextSecret: PolicyRule = {
  id: "POLICY-PLAINTEXT-SECRET",
  level: "error",
  info:
    "No secret value in plain text: secret-looking attributes are sensitive or generated, never literals in code, secret-named SSM parameters are SecureString, " +
    "and where the env requires write-only secrets (requireWriteOnlySecrets) no secret goes through an argument persisted in the plan or the state.",
  explanation:
    "A literal secret is in git history forever and in every plan file; a non-sensitive one is also printed in plan output, " +
    "CI logs and the review summary. Secrets are generated (random_password) or stored (Secrets Manager) and only referenced. " +
    "Even a sensitive reference is written in clear into the saved plan file and the state: write-only arguments and ephemeral values are not.",
  fix:
    "Generate the value with random_password and store it in Secrets Manager (secret_string = a reference), mark variables sensitive, " +
    "and keep secrets out of appConfig (plain SSM parameters): add them to the env's `secrets` list instead. " +
    "Where the env requires write-only secrets: use the write-only argument the finding names (e.g. secret_string_wo + secret_string_wo_version " +
    "fed by an ephemeral random_password, password_wo), or an AWS-managed password (manage_master_user_password).",
  check,
};

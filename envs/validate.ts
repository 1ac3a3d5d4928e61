/**
 * Validation of environment configs: the schema's structural checks, then a table of rules that
 * relate values, then rules across all environments. Every message names the environment, the
 * field path, what was expected and what was found:
 *
 *   envs/prod: database.backupRetentionDays must be 1..35, but 40 was provided
 */
import { ZodIssue } from "zod";
import { overlaps, parseCidr, subnetCapacity, Cidr } from "./cidr";
import { EnvConfig, envConfigSchema } from "./schema";
import { fingerprint, parseSshPublicKey } from "./ssh-keys";

/** Thrown with every problem found, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment config:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

interface Rule {
  /** True when the config is acceptable. */
  readonly condition: (c: EnvConfig) => boolean;
  /** What is wrong, naming the field, the limit and the value found. */
  readonly message: (c: EnvConfig) => string;
}

/** Retention periods CloudWatch Logs accepts. */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The secret that becomes the database's master password. */
export const DATABASE_PASSWORD_SECRET = "POSTGRES_PASSWORD";

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The first value that occurs twice, or undefined. */
function firstDuplicate(xs: readonly string[]): string | undefined {
  return xs.find((x, i) => xs.indexOf(x) !== i);
}

/** The approvers' keys as fingerprints (the same key written with another comment is the same key). */
function approverKeys(c: EnvConfig): string[] {
  return c.delivery.approvals.approvers.map((a) => {
    const k = parseSshPublicKey(a.publicKey);
    return k.ok ? fingerprint(k.value) : a.publicKey;
  });
}

/** Per approver key: null when it is a readable ssh-ed25519 key, else why not. */
function badApproverKeys(c: EnvConfig): string[] {
  return c.delivery.approvals.approvers.flatMap((a, i) => {
    const k = parseSshPublicKey(a.publicKey);
    return k.ok ? [] : [`delivery.approvals.approvers[${i}].publicKey (${a.principal}) must be an SSH ed25519 public key, but ${k.reason} was provided`];
  });
}

/** Rules within one environment, run in order; every failing one is reported. */
const RULES: readonly Rule[] = [
  {
    condition: (c) => c.app.minSize <= c.app.desiredCapacity && c.app.desiredCapacity <= c.app.maxSize,
    message: (c) =>
      `app: minSize <= desiredCapacity <= maxSize is required, but ${c.app.minSize} / ${c.app.desiredCapacity} / ${c.app.maxSize} was provided`,
  },
  {
    condition: (c) => c.app.allowedInstanceTypes.includes(c.app.instanceType),
    message: (c) =>
      `app.instanceType must be one of allowedInstanceTypes [${c.app.allowedInstanceTypes.join(", ")}], but "${c.app.instanceType}" was provided`,
  },
  {
    condition: (c) => sum(c.app.targetGroups.map((t) => t.weight)) === 100,
    message: (c) =>
      `app.targetGroups weights must add up to 100, but ${c.app.targetGroups.map((t) => `${t.name}=${t.weight}`).join(" + ")} = ${sum(c.app.targetGroups.map((t) => t.weight))} was provided`,
  },
  {
    condition: (c) => new Set(c.app.targetGroups.map((t) => t.name)).size === c.app.targetGroups.length,
    message: (c) => `app.targetGroups names must be unique, but [${c.app.targetGroups.map((t) => t.name).join(", ")}] was provided`,
  },
  {
    condition: (c) => c.app.offHours === null || isTimeZone(c.app.offHours.timeZone),
    message: (c) => `app.offHours.timeZone must be an IANA time zone such as Europe/Berlin, but ${JSON.stringify(c.app.offHours?.timeZone)} was provided`,
  },
  {
    condition: (c) => {
      const o = c.app.offHours;
      return o === null || (o.minSize <= o.desiredCapacity && o.desiredCapacity <= o.maxSize && o.maxSize <= c.app.maxSize && o.desiredCapacity <= c.app.desiredCapacity);
    },
    message: (c) => {
      const o = c.app.offHours!;
      return `app.offHours: minSize <= desiredCapacity <= maxSize, and no larger than the working-hours size (${c.app.desiredCapacity} desired, ${c.app.maxSize} max), is required, but ${o.minSize} / ${o.desiredCapacity} / ${o.maxSize} was provided`;
    },
  },
  {
    condition: (c) => c.network.natGateways <= c.network.azCount,
    message: (c) =>
      `network.natGateways must be 0..azCount (${c.network.azCount}), but ${c.network.natGateways} was provided`,
  },
  {
    condition: (c) => {
      const vpc = parseCidr(c.network.cidr);
      return typeof vpc === "string" || subnetCapacity(vpc, c.network.subnetPrefixLength) >= 2 * c.network.azCount;
    },
    message: (c) => {
      const vpc = parseCidr(c.network.cidr) as Cidr;
      return `network.azCount must fit ${c.network.cidr} (2 subnets of /${c.network.subnetPrefixLength} per AZ: at most ${Math.floor(subnetCapacity(vpc, c.network.subnetPrefixLength) / 2)} AZs), but ${c.network.azCount} was provided`;
    },
  },
  {
    condition: (c) => CLOUDWATCH_RETENTION_DAYS.includes(c.network.flowLogRetentionDays),
    message: (c) =>
      `network.flowLogRetentionDays must be one of CloudWatch's values (${CLOUDWATCH_RETENTION_DAYS.join(", ")}), but ${c.network.flowLogRetentionDays} was provided`,
  },
  {
    condition: (c) => !c.network.adminCidrs.some((a) => a.endsWith("/0")),
    message: (c) => `network.adminCidrs must not contain a /0 range, but [${c.network.adminCidrs.join(", ")}] was provided`,
  },
  {
    condition: (c) => c.database.backupRetentionDays >= 1 && c.database.backupRetentionDays <= 35,
    message: (c) => `database.backupRetentionDays must be 1..35, but ${c.database.backupRetentionDays} was provided`,
  },
  {
    condition: (c) => c.database.memoryGib >= c.database.minMemoryGib,
    message: (c) =>
      `database.memoryGib of ${c.database.instanceClass} must be >= minMemoryGib (${c.database.minMemoryGib}), but ${c.database.memoryGib} was provided`,
  },
  {
    condition: (c) => !c.cache.automaticFailover || c.cache.replicas >= 1,
    message: (c) => `cache.automaticFailover needs cache.replicas >= 1, but ${c.cache.replicas} was provided`,
  },
  {
    condition: (c) => c.logs.coldStorageAfterDays === null || c.logs.coldStorageAfterDays < c.logs.retentionDays,
    message: (c) =>
      `logs.coldStorageAfterDays must be less than logs.retentionDays (${c.logs.retentionDays}), but ${c.logs.coldStorageAfterDays} was provided`,
  },
  {
    condition: (c) => !c.secrets.some((s) => s.name === DATABASE_PASSWORD_SECRET),
    message: (c) =>
      `secrets must not include ${DATABASE_PASSWORD_SECRET}: the database's master password is AWS-managed (RDS keeps it in its own secret, output db_secret_arn), but [${c.secrets.map((s) => s.name).join(", ")}] was provided`,
  },
  {
    condition: (c) => c.secretRecoveryDays === 0 || c.secretRecoveryDays >= 7,
    message: (c) => `secretRecoveryDays must be 0 or 7..30 (Secrets Manager's limits), but ${c.secretRecoveryDays} was provided`,
  },
  {
    condition: (c) => new Set(c.secrets.map((s) => s.name)).size === c.secrets.length,
    message: (c) => `secrets names must be unique, but [${c.secrets.map((s) => s.name).join(", ")}] was provided`,
  },
  {
    condition: (c) => c.delivery.promotesFrom !== c.name,
    message: (c) => `delivery.promotesFrom must name another environment, but "${c.delivery.promotesFrom}" (itself) was provided`,
  },
  {
    condition: (c) => !c.delivery.fourEyes || c.delivery.requireApproval,
    message: () => `delivery.fourEyes needs delivery.requireApproval to be true, but false was provided`,
  },
  {
    condition: (c) => !c.delivery.approvals.requireSigned || c.delivery.requireApproval,
    message: () => `delivery.approvals.requireSigned needs delivery.requireApproval to be true, but false was provided`,
  },
  {
    // Four eyes between two self-declared names is no control: it needs the approver to be proven by a key.
    condition: (c) => !c.delivery.fourEyes || c.delivery.approvals.requireSigned,
    message: () => `delivery.fourEyes needs delivery.approvals.requireSigned to be true (four eyes between typed names proves nothing), but false was provided`,
  },
  {
    condition: (c) => (c.delivery.approvals.requireSigned ? c.delivery.approvals.minApprovers >= 1 : c.delivery.approvals.minApprovers === 0),
    message: (c) =>
      c.delivery.approvals.requireSigned
        ? `delivery.approvals.minApprovers must be >= 1 when requireSigned is true, but ${c.delivery.approvals.minApprovers} was provided`
        : `delivery.approvals.minApprovers must be 0 when requireSigned is false (no approval is counted), but ${c.delivery.approvals.minApprovers} was provided`,
  },
  {
    condition: (c) => c.delivery.approvals.minApprovers <= c.delivery.approvals.approvers.length,
    message: (c) =>
      `delivery.approvals.minApprovers must be <= the number of approvers listed (${c.delivery.approvals.approvers.length}: ${c.delivery.approvals.approvers.map((a) => a.principal).join(", ") || "none"}), but ${c.delivery.approvals.minApprovers} was provided`,
  },
  {
    condition: (c) => firstDuplicate(c.delivery.approvals.approvers.map((a) => a.principal)) === undefined,
    message: (c) => `delivery.approvals.approvers principals must be unique, but ${JSON.stringify(firstDuplicate(c.delivery.approvals.approvers.map((a) => a.principal)))} is listed twice`,
  },
  {
    condition: (c) => badApproverKeys(c).length === 0,
    message: (c) => badApproverKeys(c).join("; "),
  },
  {
    // One key for two principals would let one person count as two approvers.
    condition: (c) => firstDuplicate(approverKeys(c)) === undefined,
    message: (c) => {
      const dup = firstDuplicate(approverKeys(c));
      const who = c.delivery.approvals.approvers.filter((_, i) => approverKeys(c)[i] === dup).map((a) => a.principal);
      return `delivery.approvals.approvers keys must be unique (one key is one person), but key ${dup} is listed for ${who.join(" and ")}`;
    },
  },
  {
    condition: (c) => c.delivery.approvals.approvers.every((a) => a.name === undefined || (a.name.trim() !== "" && !/[\p{Cc}\p{Cf}]/u.test(a.name))),
    message: (c) => {
      const a = c.delivery.approvals.approvers.find((x) => x.name !== undefined && (x.name.trim() === "" || /[\p{Cc}\p{Cf}]/u.test(x.name)));
      return `delivery.approvals.approvers name of ${a?.principal} must be a visible name (no control or invisible characters), but ${JSON.stringify(a?.name)} was provided`;
    },
  },
];

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v !== null && typeof v === "object") return "an object";
  return String(v);
}

/** One zod issue as "<path> must be <expected>, but <found> was provided". */
function describeIssue(issue: ZodIssue, input: unknown): string {
  const path = issue.path.join(".") || "(config)";
  const found = show(valueAt(input, issue.path));
  switch (issue.code) {
    case "unrecognized_keys":
      return `${path}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (not in the schema)`;
    case "invalid_type":
      return issue.received === "undefined"
        ? `${path} is required (${issue.expected}), but nothing was provided`
        : `${path} must be ${issue.expected}, but ${found} (${issue.received}) was provided`;
    case "too_small":
      return `${path} must be ${issue.type === "array" ? "a list of at least " : issue.inclusive ? ">= " : "> "}${issue.minimum}${issue.type === "array" ? " items" : ""}, but ${found} was provided`;
    case "too_big":
      return `${path} must be ${issue.type === "array" ? "a list of at most " : issue.inclusive ? "<= " : "< "}${issue.maximum}${issue.type === "array" ? " items" : ""}, but ${found} was provided`;
    case "invalid_enum_value":
      return `${path} must be one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, but ${found} was provided`;
    case "invalid_string":
      return `${path} must be ${issue.message === "Invalid" ? issue.validation : issue.message}, but ${found} was provided`;
    default:
      return `${path} must be valid (${issue.message}), but ${found} was provided`;
  }
}

/** Structural and per-environment checks; returns the problems (empty when valid). */
export function checkEnvConfig(input: unknown, source: string): { config?: EnvConfig; problems: string[] } {
  const parsed = envConfigSchema.safeParse(input);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => `${source}: ${describeIssue(i, input)}`) };
  }
  const config = parsed.data;
  const problems: string[] = [];
  const vpc = parseCidr(config.network.cidr);
  if (typeof vpc === "string") problems.push(`${source}: network.cidr must be ${vpc}`);
  for (const admin of config.network.adminCidrs) {
    const a = parseCidr(admin);
    if (typeof a === "string") problems.push(`${source}: network.adminCidrs must hold ${a}`);
  }
  if (problems.length === 0) {
    for (const rule of RULES) {
      let ok: boolean;
      try {
        ok = rule.condition(config);
      } catch {
        ok = false; // fail closed: a rule that throws is a rejection
      }
      if (!ok) problems.push(`${source}: ${rule.message(config)}`);
    }
  }
  if (source.startsWith("envs/") && source !== `envs/${config.name}`) {
    problems.push(`${source}: name must match its file (${JSON.stringify(source.slice(5))}), but ${JSON.stringify(config.name)} was provided`);
  }
  return { config: problems.length === 0 ? config : undefined, problems };
}

/** Rules across environments: isolation (networks, accounts, state) and the promotion chain. */
export function checkEnvironmentSet(configs: readonly EnvConfig[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const unique = (kind: string, value: string, env: string) => {
    const other = seen.get(`${kind}=${value}`);
    if (other !== undefined) {
      problems.push(`envs/${env}: ${kind} must be unique across environments, but ${JSON.stringify(value)} is also used by envs/${other}`);
    } else {
      seen.set(`${kind}=${value}`, env);
    }
  };
  for (const c of configs) {
    unique("name", c.name, c.name);
    // An ephemeral env lives in its base env's account and state bucket (its own key): only
    // long-lived envs must each have their own account, bucket and lock table.
    if (c.ephemeralOf === null) {
      unique("account.id", c.account.id, c.name);
      unique("stateBackend.bucket", c.stateBackend.bucket, c.name);
      unique("stateBackend.lockTable", `${c.account.id}/${c.stateBackend.lockTable}`, c.name);
      // One namespace: a store bucket that is another env's state bucket (or the reverse) is shared too.
      unique("bucket (stateBackend.bucket, store.bucket)", c.stateBackend.bucket, c.name);
      unique("bucket (stateBackend.bucket, store.bucket)", c.store.bucket, c.name);
    }
    unique("stateBackend (bucket/key)", `${c.stateBackend.bucket}/${c.stateBackend.key}`, c.name);
    unique("dnsZone", c.dnsZone, c.name);
  }
  for (const c of configs) {
    if (c.ephemeralOf === null) continue;
    const base = configs.find((x) => x.name === c.ephemeralOf);
    if (base === undefined || base.ephemeralOf !== null) {
      problems.push(`envs/${c.name}: ephemeralOf must name a long-lived environment, but "${c.ephemeralOf}" was provided`);
    } else if (base.store.bucket !== c.store.bucket) {
      problems.push(`envs/${c.name}: an ephemeral env must use its base's store (${base.store.bucket}), but ${c.store.bucket} was provided`);
    } else if (base.account.id !== c.account.id || base.stateBackend.bucket !== c.stateBackend.bucket || base.stateBackend.lockTable !== c.stateBackend.lockTable) {
      problems.push(
        `envs/${c.name}: an ephemeral env must use its base's account and state bucket (${base.account.id}, ${base.stateBackend.bucket}, ${base.stateBackend.lockTable}), but ${c.account.id}, ${c.stateBackend.bucket}, ${c.stateBackend.lockTable} was provided`,
      );
    }
  }
  for (let i = 0; i < configs.length; i++) {
    for (let j = i + 1; j < configs.length; j++) {
      const a = parseCidr(configs[i].network.cidr);
      const b = parseCidr(configs[j].network.cidr);
      if (typeof a !== "string" && typeof b !== "string" && overlaps(a, b)) {
        problems.push(
          `envs/${configs[j].name}: network.cidr must not overlap any other environment's, but ${configs[j].network.cidr} overlaps envs/${configs[i].name} (${configs[i].network.cidr})`,
        );
      }
    }
  }
  const names = new Set(configs.map((c) => c.name));
  for (const c of configs) {
    const from = c.delivery.promotesFrom;
    if (from !== null && !names.has(from)) {
      problems.push(`envs/${c.name}: delivery.promotesFrom must name a defined environment (${[...names].join(", ")}), but "${from}" was provided`);
    }
  }
  for (const c of configs) {
    // Follow the chain; a loop means no environment could ever be planned first.
    const visited = new Set<string>([c.name]);
    let cur = c.delivery.promotesFrom;
    while (cur !== null) {
      if (visited.has(cur)) {
        problems.push(`envs/${c.name}: delivery.promotesFrom must form a chain that ends, but it loops through "${cur}"`);
        break;
      }
      visited.add(cur);
      cur = configs.find((x) => x.name === cur)?.delivery.promotesFrom ?? null;
    }
  }
  return problems;
}

/** Validates a set of raw configs; returns them typed or throws a ConfigError listing every problem. */
export function validateEnvironments(inputs: ReadonlyArray<{ source: string; config: unknown }>): EnvConfig[] {
  const problems: string[] = [];
  const configs: EnvConfig[] = [];
  for (const { source, config } of inputs) {
    const r = checkEnvConfig(config, source);
    problems.push(...r.problems);
    if (r.config) configs.push(r.config);
  }
  if (problems.length === 0) problems.push(...checkEnvironmentSet(configs));
  if (problems.length > 0) throw new ConfigError(problems);
  return configs;
}

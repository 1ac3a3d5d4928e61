/**
 * Ephemeral blocks for stacks: cdktf 0.21 has no construct for terraform's `ephemeral` resources, but the
 * synthesized JSON accepts an `ephemeral` block beside `resource` and `data`. This is the one place that
 * writes them (a typed helper per ephemeral type the project uses), so constructs never hand-write
 * overrides. An ephemeral value exists only while one terraform run lasts: it is never written to the
 * plan file or the state, and may only flow into write-only arguments (`*_wo`), provider blocks or other
 * ephemeral blocks (terraform refuses anything else at validate time).
 */
import { Construct } from "constructs";
import { TerraformStack } from "cdktf";

/** Arguments of the random provider's ephemeral `random_password` (3.7.1+). */
export interface EphemeralRandomPasswordArgs {
  /** Length of the value, 1.. */
  readonly length: number;
  /** Include special characters. @default true */
  readonly special?: boolean;
  /** The special characters to draw from (instead of the provider's default set). */
  readonly overrideSpecial?: string;
  readonly minLower?: number;
  readonly minUpper?: number;
  readonly minNumeric?: number;
  readonly minSpecial?: number;
}

/** A reference to an ephemeral value: usable only in write-only arguments. */
export interface EphemeralValue {
  /** The block's address, e.g. ephemeral.random_password.secrets_API_KEY. */
  readonly address: string;
  /** `${ephemeral.random_password.<name>.result}`. */
  readonly result: string;
}

/** Terraform block names: letters, digits, underscores and dashes, starting with a letter or underscore. */
const BLOCK_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Declares `ephemeral "random_password" "<name>"` in the stack of `scope`. `name` must be unique in the
 * stack (a second declaration of the same name throws instead of silently merging the two).
 */
export function ephemeralRandomPassword(scope: Construct, name: string, args: EphemeralRandomPasswordArgs): EphemeralValue {
  if (!BLOCK_NAME.test(name)) {
    throw new Error(`ephemeral block name must match ${BLOCK_NAME} (letters, digits, _ and -), but "${name}" was provided`);
  }
  if (!Number.isInteger(args.length) || args.length < 1) {
    throw new Error(`ephemeral random_password "${name}": length must be a positive integer, but ${args.length} was provided`);
  }
  const stack = TerraformStack.of(scope);
  const declared = declaredNames(stack);
  if (declared.has(name)) throw new Error(`ephemeral random_password "${name}" is declared twice in stack ${stack.node.id}`);
  declared.add(name);
  const body: Record<string, unknown> = {
    length: args.length,
    special: args.special ?? true,
    override_special: args.overrideSpecial,
    min_lower: args.minLower,
    min_upper: args.minUpper,
    min_numeric: args.minNumeric,
    min_special: args.minSpecial,
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  stack.addOverride(`ephemeral.random_password.${name}`, body);
  const address = `ephemeral.random_password.${name}`;
  return { address, result: `\${${address}.result}` };
}

const NAMES = new WeakMap<TerraformStack, Set<string>>();
function declaredNames(stack: TerraformStack): Set<string> {
  let set = NAMES.get(stack);
  if (!set) NAMES.set(stack, (set = new Set()));
  return set;
}

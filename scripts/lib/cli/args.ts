/**
 * The one argument parser of the project's CLIs (the emulator launcher, the demo, the policy command),
 * on node's own `util.parseArgs`: no dependency, the same on Node 20, 22 and 24. Each CLI declares its
 * options once, in a table (name, value placeholder, help); the parser and the help text are both made
 * from that table, so they cannot drift apart.
 *
 * parseArgs runs non-strict with tokens, and this module judges the tokens itself, so every CLI words the
 * same mistakes the same way on every Node version (parseArgs' own messages differ between releases):
 *
 *   unknown option    `unknown option --x`, and the options the command takes
 *   missing value     `--port needs a value (N)`: the flag named, also when the next word is another option
 *   repeated option   `--port was given twice` (unless the option is declared `multiple`)
 *   required option   `--env is required (ENV)`
 *   value on a flag   `--json takes no value`
 *   `-h`, `--help`    the help, generated from the same table
 */
import { parseArgs } from "node:util";

export interface StringOption {
  readonly type: "string";
  /** The value's placeholder in the help and in messages: N, DIR, all|none|a,b. */
  readonly value: string;
  readonly help: string;
  /** May be given more than once: every value, in order. @default false */
  readonly multiple?: boolean;
  /** Must be given: a usage error names it when it is not. @default false */
  readonly required?: boolean;
}

export interface BooleanOption {
  readonly type: "boolean";
  readonly help: string;
}

export type OptionSpec = StringOption | BooleanOption;

/** One command line's declaration: what it is called with, what it does, and its options. */
export interface CommandSpec<O extends Readonly<Record<string, OptionSpec>> = Readonly<Record<string, OptionSpec>>> {
  /** What comes before the options in the usage line: `node dist/scripts/emulator.js start|stop|status`. */
  readonly usage: string;
  /** The paragraph under the usage line. */
  readonly description?: string;
  readonly options: O;
  /** The most positional arguments taken. @default 0 */
  readonly maxPositionals?: number;
}

type ValueOf<S extends OptionSpec> = S extends StringOption ? (S["multiple"] extends true ? string[] : S["required"] extends true ? string : string | undefined) : boolean;

export type Values<O extends Readonly<Record<string, OptionSpec>>> = { -readonly [K in keyof O]: ValueOf<O[K]> };

export interface Parsed<O extends Readonly<Record<string, OptionSpec>>> {
  /** Every declared option: a string (or undefined when not given), a list (multiple), or a boolean. */
  readonly values: Values<O>;
  readonly positionals: string[];
  /** -h or --help was given: print `helpText(spec)`, do nothing else. */
  readonly help: boolean;
}

/** What did not fit: an option the command does not declare, a value missing or repeated, ... */
export type UsageProblem = "unknown-option" | "missing-value" | "repeated-option" | "value-on-flag" | "required-option" | "too-many-arguments" | "other";

/** A command line that does not fit its declaration; the message names the option and what it expected. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage line of the command, for the caller to print under the message ("" when none). */
    readonly usage: string = "",
    readonly problem: UsageProblem = "other",
    /** The option concerned, without dashes ("port"), when there is one. */
    readonly option?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

const HELP = "help";

/** The synopsis of the options: `[--port N] [--json]`. */
function synopsis(options: Readonly<Record<string, OptionSpec>>): string {
  return Object.entries(options)
    .map(([name, o]) => (o.type === "boolean" ? `[--${name}]` : o.required ? `--${name} ${o.value}` : `[--${name} ${o.value}]${o.multiple ? "..." : ""}`))
    .join(" ");
}

/** `usage: <usage> [--a A] [--b]`. */
export function usageLine(spec: CommandSpec): string {
  const options = synopsis(spec.options);
  return `usage: ${spec.usage}${options ? ` ${options}` : ""}`;
}

/** The help: usage line, description, then one line (or more) per option, all from the declaration. */
export function helpText(spec: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(spec.options).map(([name, o]) => [
    o.type === "string" ? `--${name} ${o.value}` : `--${name}`,
    o.type === "string" && o.multiple ? `${o.help} (may be repeated)` : o.type === "string" && o.required ? `${o.help} (required)` : o.help,
  ]);
  rows.push(["-h, --help", "this help"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help.split("\n").join(`\n  ${" ".repeat(width)}  `)}`);
  return `${usageLine(spec)}\n${spec.description ? `\n${spec.description.trimEnd()}\n` : ""}\nOptions:\n${lines.join("\n")}\n`;
}

/** Parses argv (without node and the script) against the declaration; a UsageError when it does not fit. */
export function parseCommandLine<O extends Readonly<Record<string, OptionSpec>>>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> {
  const usage = usageLine(spec);
  if (HELP in spec.options) throw new Error(`option table of "${spec.usage}": --help is built in, do not declare it`);
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { [HELP]: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) config[name] = { type: o.type, multiple: true };
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });

  const fail = (message: string, problem: UsageProblem, option?: string): never => {
    throw new UsageError(message, usage, problem, option);
  };
  const known = () => {
    const names = Object.keys(spec.options).map((n) => `--${n}`);
    return names.length > 0 ? `it takes ${names.join(", ")}, --help` : "it takes no options but --help";
  };
  const seen = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  for (const t of tokens ?? []) {
    if (t.kind === "positional") {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === "option-terminator") continue;
    if (t.name === HELP) {
      help = true;
      continue;
    }
    const o = spec.options[t.name] as OptionSpec | undefined;
    if (o === undefined) fail(`unknown option ${t.rawName}: ${known()}`, "unknown-option", t.name);
    const flag = `--${t.name}`;
    if (o!.type === "boolean") {
      if (t.value !== undefined) fail(`${flag} takes no value, but "${t.rawName}=${t.value}" was given`, "value-on-flag", t.name);
      if (seen.has(t.name)) fail(`${flag} was given twice`, "repeated-option", t.name);
      seen.set(t.name, []);
      continue;
    }
    // A string option: its value inline (--port=N) or the next word, which must not be another option
    // (`--port --json` is a missing value, not the port "--json"; `--port=-1` passes a value that starts with a dash).
    if (t.value === undefined || (!t.inlineValue && /^-./.test(t.value))) fail(`${flag} needs a value (${(o as StringOption).value}), but ${t.value === undefined ? "none was given" : `"${t.value}" is an option`}`, "missing-value", t.name);
    if (seen.has(t.name) && !(o as StringOption).multiple) fail(`${flag} was given twice ("${seen.get(t.name)![0]}", then "${t.value}"): give it once`, "repeated-option", t.name);
    seen.set(t.name, [...(seen.get(t.name) ?? []), t.value!]);
  }
  if (!help && positionals.length > (spec.maxPositionals ?? 0)) {
    const max = spec.maxPositionals ?? 0;
    fail(`too many arguments: expected at most ${max}${max === 0 ? " (options only)" : ""}, found ${positionals.length} (${positionals.map((p) => JSON.stringify(p)).join(" ")})`, "too-many-arguments");
  }

  if (!help) {
    for (const [name, o] of Object.entries(spec.options)) {
      if (o.type === "string" && o.required && !seen.has(name)) fail(`--${name} is required (${o.value}), but it was not given`, "required-option", name);
    }
  }
  const values: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const given = seen.get(name);
    values[name] = o.type === "boolean" ? given !== undefined : o.multiple ? (given ?? []) : given?.[0];
  }
  return { values: values as Values<O>, positionals, help };
}

/**
 * The one argument parser (scripts/lib/cli/args.ts) and the CLIs declared on it: unknown options,
 * missing values (named by their flag), repeated options, required options, and help generated from the
 * same option table the parser reads.
 */
import { helpText, parseCommandLine, usageLine, UsageError, type CommandSpec } from "../../scripts/lib/cli/args";
import { DEMO_CLI } from "../../scripts/demo";
import { EMULATOR_CLI, parse as parseEmulator } from "../../scripts/emulator";
import { POLICY_CLI, runPolicyCli } from "../../scripts/lib/policy/cli";

const SPEC = {
  usage: "tool run",
  description: "Runs the tool.",
  options: {
    port: { type: "string", value: "N", help: "the port" },
    tag: { type: "string", value: "TAG", help: "a tag", multiple: true },
    json: { type: "boolean", help: "print JSON" },
  },
  maxPositionals: 1,
} as const satisfies CommandSpec;

/** The UsageError parseCommandLine throws for argv (fails the test when it throws none). */
function usageError(spec: CommandSpec, argv: string[]): UsageError {
  try {
    parseCommandLine(spec, argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${JSON.stringify(argv)}`);
}

describe("parseCommandLine", () => {
  it("reads values (next word or inline), booleans, repeatable options and positionals", () => {
    expect(parseCommandLine(SPEC, ["start", "--port", "4566", "--json", "--tag", "a", "--tag=b"])).toEqual({
      values: { port: "4566", tag: ["a", "b"], json: true },
      positionals: ["start"],
      help: false,
    });
    expect(parseCommandLine(SPEC, [])).toEqual({ values: { port: undefined, tag: [], json: false }, positionals: [], help: false });
    // A value that starts with a dash is passed inline.
    expect(parseCommandLine(SPEC, ["--port=-1"]).values.port).toBe("-1");
    // After --, everything is a positional.
    expect(parseCommandLine(SPEC, ["--", "--port"]).positionals).toEqual(["--port"]);
  });

  it("refuses an unknown option, naming it and the options the command takes", () => {
    const e = usageError(SPEC, ["--prot", "4566"]);
    expect(e.message).toBe("unknown option --prot: it takes --port, --tag, --json, --help");
    expect(e.usage).toBe("usage: tool run [--port N] [--tag TAG]... [--json]");
    expect(usageError(SPEC, ["-x"]).message).toMatch(/^unknown option -x:/);
  });

  it("names the flag whose value is missing: at the end, or when the next word is another option", () => {
    expect(usageError(SPEC, ["--port"]).message).toBe("--port needs a value (N), but none was given");
    expect(usageError(SPEC, ["--port", "--json"]).message).toBe('--port needs a value (N), but "--json" is an option');
    expect(usageError(SPEC, ["--tag"]).message).toBe("--tag needs a value (TAG), but none was given");
  });

  it("refuses a repeated option unless it is declared multiple", () => {
    expect(usageError(SPEC, ["--port", "1", "--port", "2"]).message).toBe('--port was given twice ("1", then "2"): give it once');
    expect(usageError(SPEC, ["--json", "--json"]).message).toBe("--json was given twice");
    expect(parseCommandLine(SPEC, ["--tag", "a", "--tag", "a"]).values.tag).toEqual(["a", "a"]);
  });

  it("refuses a value on a boolean option, too many positionals, and a missing required option", () => {
    expect(usageError(SPEC, ["--json=yes"]).message).toBe('--json takes no value, but "--json=yes" was given');
    expect(usageError(SPEC, ["a", "b"]).message).toBe('too many arguments: expected at most 1, found 2 ("a" "b")');
    const required = { usage: "t", options: { env: { type: "string", value: "ENV", help: "the env", required: true } } } as const satisfies CommandSpec;
    expect(usageError(required, []).message).toBe("--env is required (ENV), but it was not given");
    expect(parseCommandLine(required, ["--env", "dev"]).values.env).toBe("dev");
    // --help needs nothing else: the required option and the positionals are not checked.
    expect(parseCommandLine(required, ["--help", "x"]).help).toBe(true);
  });

  it("takes -h and --help", () => {
    expect(parseCommandLine(SPEC, ["-h"]).help).toBe(true);
    expect(parseCommandLine(SPEC, ["--port", "1", "--help"]).help).toBe(true);
  });

  it("refuses a table that declares --help itself (it is built in)", () => {
    expect(() => parseCommandLine({ usage: "t", options: { help: { type: "boolean", help: "x" } } }, [])).toThrow(/--help is built in/);
  });
});

describe("help generated from the option table", () => {
  it("has the usage line, the description and one row per option, aligned", () => {
    expect(helpText(SPEC)).toBe(
      [
        "usage: tool run [--port N] [--tag TAG]... [--json]",
        "",
        "Runs the tool.",
        "",
        "Options:",
        "  --port N    the port",
        "  --tag TAG   a tag (may be repeated)",
        "  --json      print JSON",
        "  -h, --help  this help",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["the emulator", EMULATOR_CLI],
    ["the demo", DEMO_CLI],
    ["the policy command", POLICY_CLI],
  ] as Array<[string, CommandSpec]>)("of %s lists every option the parser accepts, and only those", (_, spec) => {
    const help = helpText(spec);
    const listed = [...help.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual([...Object.keys(spec.options).map((n) => `--${n}`), "--help"]);
    for (const name of Object.keys(spec.options)) {
      const o = spec.options[name];
      expect(usageLine(spec)).toContain(o.type === "string" ? `--${name} ${o.value}` : `--${name}`);
      // Every listed option parses (with a value when it takes one).
      const argv = o.type === "string" ? [`--${name}`, "x"] : [`--${name}`];
      const required = Object.entries(spec.options).filter(([n, r]) => r.type === "string" && r.required && n !== name).flatMap(([n]) => [`--${n}`, "x"]);
      expect(() => parseCommandLine(spec, [...argv, ...required])).not.toThrow();
    }
  });
});

describe("the CLIs on the parser", () => {
  it("emulator: a missing value names its flag (it was reported as BAD_PORT for any flag)", () => {
    expect(() => parseEmulator(["start", "--state-dir"])).toThrow(new UsageError("--state-dir needs a value (DIR), but none was given", ""));
    expect(() => parseEmulator(["start", "--patches"])).toThrow(/^--patches needs a value \(all\|none\|a,b\)/);
    expect(() => parseEmulator(["start", "--port", "--json"])).toThrow(/^--port needs a value \(N\), but "--json" is an option/);
    expect(() => parseEmulator(["start", "--verbose"])).toThrow(UsageError);
    expect(parseEmulator(["status", "--port", "4599", "--state-dir", "/tmp/e", "--json"])).toEqual({
      help: false,
      command: "status",
      opts: { port: 4599, stateDir: "/tmp/e" },
      json: true,
    });
    expect(parseEmulator(["--help"]).help).toBe(true);
  });

  it("policy: usage errors exit 2 with the message and the usage line; --help exits 0 with the help", () => {
    const input = () => {
      throw new Error("the plan is not read on a usage error");
    };
    expect(runPolicyCli([], input)).toEqual({
      code: 2,
      out: "policy: --env is required (ENV), but it was not given\nusage: node dist/scripts/lib/policy/cli.js --env ENV [--plan FILE] [--exceptions FILE] [--markdown]\n",
    });
    expect(runPolicyCli(["--env"], input)).toMatchObject({ code: 2, out: expect.stringMatching(/^policy: --env needs a value \(ENV\), but none was given\n/) });
    expect(runPolicyCli(["--env", "prod", "--mardown"], input)).toMatchObject({ code: 2, out: expect.stringMatching(/^policy: unknown option --mardown:/) });
    expect(runPolicyCli(["--env", "prod", "--env", "dev"], input)).toMatchObject({ code: 2, out: expect.stringMatching(/^policy: --env was given twice/) });
    expect(runPolicyCli(["--help"], input)).toEqual({ code: 0, out: helpText(POLICY_CLI) });
  });
});

describe("npx promote on the parser", () => {
  const run = async (argv: string[]) => {
    const { main } = await import("../../scripts/promote");
    const { defaultContext } = await import("../../scripts/lib/engine/commands");
    const out: string[] = [];
    const err: string[] = [];
    const ctx = defaultContext(process.env, { out: (t) => out.push(t), err: (t) => err.push(t) }, { plansDir: "/nonexistent-promote-test" });
    const code = await main(argv, ctx);
    return { code, out: out.join(""), err: err.join("") };
  };

  it("every command's help lists exactly the options of its table", async () => {
    const { COMMANDS, commandHelp } = await import("../../scripts/promote");
    for (const [name, def] of Object.entries(COMMANDS)) {
      const help = commandHelp(name.split(" ")[0]);
      const section = name.startsWith("env ") ? help.slice(help.indexOf(`Usage: npx promote ${def.usage}`)).split("\n\nUsage: ")[0] : help;
      const listed = [...section.matchAll(/^ {2}(?:-h, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]);
      expect({ name, listed }).toEqual({ name, listed: [...Object.keys(def.options).map((o) => `--${o}`), "--help"] });
    }
  });

  it("names an option another command takes as not taken by this one, and refuses unknown, missing and repeated ones (exit 2)", async () => {
    expect(await run(["drift", "prod", "--to", "x"])).toMatchObject({ code: 2, err: "error: drift does not take --to\n" });
    expect(await run(["plan", "prod", "--bogus"])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: unknown option --bogus: it takes --by, --synth, --ttl, --wait, --speculative, --help\n/) });
    expect(await run(["rollback", "prod", "--to"])).toMatchObject({ code: 2, err: "error: --to needs a value (TAG), but none was given\n" });
    expect(await run(["plan", "prod", "--by", "alice", "--by", "bob"])).toMatchObject({ code: 2, err: 'error: --by was given twice ("alice", then "bob"): give it once\n' });
    expect(await run(["env", "list", "--by", "alice"])).toMatchObject({ code: 2, err: "error: env list does not take --by\n" });
  });

  it("prints the help of a command, and of env's four subcommands, with exit 0", async () => {
    const plan = await run(["plan", "--help"]);
    expect(plan.code).toBe(0);
    expect(plan.out).toMatch(/^Usage: npx promote plan <env> \[--by NAME\] \[--synth MODE\] \[--ttl DURATION\] \[--wait SECONDS\] \[--speculative\]\n/);
    const env = await run(["env", "--help"]);
    expect(env.code).toBe(0);
    for (const sub of ["create pr-<n>", "destroy pr-<n>", "list", "reap"]) expect(env.out).toContain(`Usage: npx promote env ${sub} [`);
  });
});

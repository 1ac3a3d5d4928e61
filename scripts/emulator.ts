#!/usr/bin/env node
/**
 * node dist/scripts/emulator.js start|stop|status [--port N] [--state-dir DIR] [--patches all|none|a,b] [--json]
 *
 * The commands and options are declared once (EMULATOR_CLI); `--help` prints them. Exit 2 on a usage
 * error (an unknown option, a missing value: the message names the flag).
 */
import { EmulatorError, EmulatorOptions, emulatorEnv, emulatorStatus, startEmulator, stopEmulator } from "./lib/emulator";
import { helpText, parseCommandLine, UsageError, type CommandSpec } from "./lib/cli/args";

export const EMULATOR_CLI = {
  usage: "node dist/scripts/emulator.js start|stop|status",
  description: `start   starts (or reuses) an emulator and prints its endpoint and the variables to export
status  running / crashed / stopped (exit 0 when running, 1 otherwise)
stop    stops it and removes its record and LOCAL_STATE_DIR`,
  options: {
    port: { type: "string", value: "N", help: "the emulator's port (default EMULATOR_PORT, else a free port on 127.0.0.1)" },
    "state-dir": { type: "string", value: "DIR", help: "folder of its records, logs and state (default EMULATOR_STATE_DIR, else .local/emulator)" },
    patches: { type: "string", value: "all|none|a,b", help: "the project's patches to load (default all; see launcher.py --list-patches)" },
    json: { type: "boolean", help: "print the handle or status as JSON" },
  },
  maxPositionals: 1,
} as const satisfies CommandSpec;

/** The command line as the commands take it; a UsageError names what does not fit. */
export function parse(argv: readonly string[]): { help: boolean; command: string; opts: EmulatorOptions; json: boolean } {
  const p = parseCommandLine(EMULATOR_CLI, argv);
  const v = p.values;
  const opts: EmulatorOptions = {};
  if (v.port !== undefined) opts.port = Number(v.port);
  if (v["state-dir"] !== undefined) opts.stateDir = v["state-dir"];
  if (v.patches !== undefined) opts.patches = v.patches;
  return { help: p.help, command: p.positionals[0] ?? "", opts, json: v.json };
}

function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { help, command, opts, json } = parse(argv);
  if (help) {
    process.stdout.write(helpText(EMULATOR_CLI));
    return 0;
  }
  switch (command) {
    case "start": {
      const h = await startEmulator(opts);
      if (json) console.log(JSON.stringify(h, null, 2));
      else {
        console.log(`emulator ${h.reused ? "already running" : "started"}: ${h.endpoint} (pid ${h.pid}, log ${h.logFile})`);
        console.log(`patches: ${(h.patches ?? []).join(", ") || "none"}`);
        console.log(exportLines(h.env));
      }
      return 0;
    }
    case "status": {
      const s = await emulatorStatus(opts);
      if (json) console.log(JSON.stringify(s, null, 2));
      else if (s.state === "running" && s.record) {
        console.log(`running: ${s.record.endpoint} (pid ${s.record.pid}, since ${s.record.startedAt}, log ${s.record.logFile})`);
        console.log(exportLines(emulatorEnv(s.record)));
      } else if (s.state === "crashed") console.log(`crashed: ${s.reason}. Run \`stop\` to clear the record, then \`start\`.`);
      else console.log("stopped: no emulator recorded" + (opts.port ? ` for port ${opts.port}` : ""));
      return s.state === "running" ? 0 : 1;
    }
    case "stop": {
      const r = await stopEmulator(opts);
      console.log(r ? `stopped: ${r.endpoint} (pid ${r.pid})` : "stopped: nothing was running");
      return 0;
    }
    default:
      console.error(command ? `unknown command "${command}": expected start, stop or status\n${helpText(EMULATOR_CLI)}` : helpText(EMULATOR_CLI));
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`error: ${err.message}\n${err.usage}`);
        process.exit(2);
      }
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(err instanceof EmulatorError && err.code === "VENV_MISSING" ? 3 : 1);
    },
  );
}

#!/usr/bin/env node
/**
 * node dist/scripts/emulator.js start|stop|status [--port N] [--state-dir DIR] [--patches all|none|a,b]
 *
 * start  starts (or reuses) an emulator and prints its endpoint and the variables to export
 * status running / crashed / stopped (exit 0 when running, 1 otherwise)
 * stop   stops it and removes its record and LOCAL_STATE_DIR
 */
import { EmulatorError, EmulatorOptions, emulatorEnv, emulatorStatus, startEmulator, stopEmulator } from "./lib/emulator";

const USAGE = "usage: node dist/scripts/emulator.js start|stop|status [--port N] [--state-dir DIR] [--patches all|none|a,b] [--json]";

function parse(argv: string[]): { command: string; opts: EmulatorOptions; json: boolean } {
  const [command, ...rest] = argv;
  const opts: EmulatorOptions = {};
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new EmulatorError("BAD_PORT", `${arg}: missing value\n${USAGE}`);
      return v;
    };
    if (arg === "--port") opts.port = Number(value());
    else if (arg === "--state-dir") opts.stateDir = value();
    else if (arg === "--patches") opts.patches = value();
    else if (arg === "--json") json = true;
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { command: command ?? "", opts, json };
}

function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { command, opts, json } = parse(argv);
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
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(err instanceof EmulatorError && err.code === "VENV_MISSING" ? 3 : 1);
  },
);

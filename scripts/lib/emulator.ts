/**
 * The local emulator's lifecycle: moto's server from the project's venv, started by
 * scripts/emulator/launcher.py with the project's patches, one instance per port.
 *
 * Each running instance is described by a record `<stateDir>/<port>.json` ({pid, port, endpoint,
 * startedAt, logFile, localStateDir}) beside its log `<stateDir>/<port>.log` and its own folder
 * `<stateDir>/<port>/` (LOCAL_STATE_DIR). The stacks only read the contract below (TARGET=local,
 * LOCAL_ENDPOINT, LOCAL_STATE_DIR); tests, the demo and the benchmark each start their own instance.
 *
 * Node built-ins only.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { LOCAL_DIR, PATHS, PROJECT_ROOT } from "./toolchain";
import { pidAlive } from "./engine/io/lock";

/** Default folder of emulator records, logs and per-instance state. */
export const DEFAULT_STATE_DIR = join(LOCAL_DIR, "emulator");
/** The launcher run by the venv's python. */
export const LAUNCHER = join(PROJECT_ROOT, "scripts", "emulator", "launcher.py");
/** Loopback only: the emulator accepts any credentials and must never listen beyond this host. */
export const EMULATOR_HOST = "127.0.0.1";

export interface EmulatorOptions {
  /** Port to use; default EMULATOR_PORT, else a free port picked on 127.0.0.1. */
  port?: number;
  /** Folder of records/logs/state; default EMULATOR_STATE_DIR, else .local/emulator. */
  stateDir?: string;
  /** How long to wait for the emulator to answer (ms); default 30 000. */
  timeoutMs?: number;
  /** Patches to apply: "all" (default), "none" or "a,b" (see launcher.py --list-patches). */
  patches?: string;
  /** The python to run; default the project venv's (PATHS.venvPython). */
  python?: string;
  /** Environment to read EMULATOR_PORT / EMULATOR_STATE_DIR from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What a running emulator is; written as `<stateDir>/<port>.json`. */
export interface EmulatorRecord {
  pid: number;
  port: number;
  /** http://127.0.0.1:<port> — what the stacks read as LOCAL_ENDPOINT. */
  endpoint: string;
  /** ISO time the emulator first answered. */
  startedAt: string;
  logFile: string;
  /** Per-instance folder for the stacks (LOCAL_STATE_DIR); removed with the instance. */
  localStateDir: string;
  /** Patches the launcher reported as applied. */
  patches?: string[];
  moto?: string;
}

export interface EmulatorHandle extends EmulatorRecord {
  /** Path of the record file. */
  recordFile: string;
  /** True when an already running instance was reused. */
  reused: boolean;
  /** TARGET/LOCAL_ENDPOINT/LOCAL_STATE_DIR plus static test credentials for SDK clients. */
  env: Record<string, string>;
}

export type EmulatorState = "running" | "crashed" | "stopped";

export interface EmulatorStatus {
  state: EmulatorState;
  /** Why it is reported crashed (pid gone / port not answering), for humans. */
  reason?: string;
  record?: EmulatorRecord;
  recordFile?: string;
}

/** A refusal with a name: callers and tests match on `code`. */
export class EmulatorError extends Error {
  constructor(
    public readonly code: "VENV_MISSING" | "LAUNCHER_MISSING" | "START_TIMEOUT" | "START_EXITED" | "NOT_RUNNING" | "BAD_PORT",
    message: string,
  ) {
    super(message);
    this.name = "EmulatorError";
  }
}

/** The environment contract between an emulator instance and the stacks/SDKs. */
export function emulatorEnv(record: Pick<EmulatorRecord, "endpoint" | "localStateDir" | "port">): Record<string, string> {
  return {
    TARGET: "local",
    LOCAL_ENDPOINT: record.endpoint,
    LOCAL_STATE_DIR: record.localStateDir,
    EMULATOR_PORT: String(record.port),
    // Static credentials: the emulator accepts any; real AWS rejects these.
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
  };
}

function resolveStateDir(opts: EmulatorOptions): string {
  const env = opts.env ?? process.env;
  return resolve(opts.stateDir ?? env.EMULATOR_STATE_DIR ?? DEFAULT_STATE_DIR);
}

function configuredPort(opts: EmulatorOptions): number | undefined {
  const env = opts.env ?? process.env;
  const raw = opts.port ?? (env.EMULATOR_PORT ? Number(env.EMULATOR_PORT) : undefined);
  if (raw === undefined) return undefined;
  if (!Number.isInteger(raw) || raw < 1 || raw > 65535) {
    throw new EmulatorError("BAD_PORT", `emulator port: expected an integer 1-65535, found ${JSON.stringify(opts.port ?? env.EMULATOR_PORT)}`);
  }
  return raw;
}

function paths(stateDir: string, port: number) {
  return {
    recordFile: join(stateDir, `${port}.json`),
    logFile: join(stateDir, `${port}.log`),
    localStateDir: join(stateDir, String(port)),
  };
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, EMULATOR_HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error("no free port"))));
    });
  });
}

export { pidAlive };

/** True when moto answers GET /moto-api/ on the port within timeoutMs. */
export function answers(port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ host: EMULATOR_HOST, port, path: "/moto-api/", method: "GET", timeout: timeoutMs }, (r) => {
      r.resume();
      res((r.statusCode ?? 500) < 500);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => res(false));
    req.end();
  });
}

function readRecord(file: string): EmulatorRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as EmulatorRecord;
  } catch {
    return undefined;
  }
}

function tail(file: string, lines = 25): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.split("\n").slice(-lines).join("\n").trim();
  } catch {
    return "(no log)";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function describe(recordFile: string): Promise<EmulatorStatus> {
  const record = readRecord(recordFile);
  if (!record) return { state: "stopped" };
  if (!pidAlive(record.pid)) {
    return { state: "crashed", reason: `pid ${record.pid} is gone (log: ${record.logFile})`, record, recordFile };
  }
  if (!(await answers(record.port))) {
    return { state: "crashed", reason: `pid ${record.pid} is alive but ${record.endpoint} does not answer (log: ${record.logFile})`, record, recordFile };
  }
  return { state: "running", record, recordFile };
}

function handle(record: EmulatorRecord, recordFile: string, reused: boolean): EmulatorHandle {
  return { ...record, recordFile, reused, env: emulatorEnv(record) };
}

/** Records in a state dir, newest first. */
function records(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => join(stateDir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

function checkToolchain(python: string): void {
  if (!existsSync(python)) {
    throw new EmulatorError(
      "VENV_MISSING",
      `emulator: the project venv's python was not found at ${python} (expected moto[server] in .local/venv). Run \`npm run setup\` first.`,
    );
  }
  if (!existsSync(LAUNCHER)) {
    throw new EmulatorError("LAUNCHER_MISSING", `emulator: launcher not found at ${LAUNCHER}`);
  }
}

/** Removes the record and the instance's folder of a stopped or crashed emulator. */
function forget(stateDir: string, port: number): void {
  const p = paths(stateDir, port);
  rmSync(p.recordFile, { force: true });
  rmSync(p.localStateDir, { recursive: true, force: true });
}

/**
 * Starts an emulator (or reuses the running one recorded for that port / in that state dir).
 * With no port configured: reuses the newest running instance in the state dir, else picks a free port.
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const stateDir = resolveStateDir(opts);
  const python = opts.python ?? PATHS.venvPython;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let port = configuredPort(opts);

  // Reuse a running instance: the one for this port, or any in this state dir when no port is asked for.
  for (const file of port !== undefined ? [paths(stateDir, port).recordFile] : records(stateDir)) {
    const status = await describe(file);
    if (status.state === "running" && status.record) return handle(status.record, file, true);
    if (status.state === "crashed" && status.record) forget(stateDir, status.record.port);
  }

  checkToolchain(python);
  mkdirSync(stateDir, { recursive: true });

  const explicit = port !== undefined;
  for (let attempt = 0; ; attempt++) {
    if (!explicit) port = await freePort();
    const p = paths(stateDir!, port!);
    rmSync(p.localStateDir, { recursive: true, force: true });
    mkdirSync(p.localStateDir, { recursive: true });
    try {
      const record = await launch(python, port!, p, opts.patches ?? "all", timeoutMs);
      writeFileSync(p.recordFile, JSON.stringify(record, null, 2) + "\n");
      return handle(record, p.recordFile, false);
    } catch (e) {
      // Someone took the free port between our probe and the bind: pick another one.
      if (!explicit && e instanceof EmulatorError && e.code === "START_EXITED" && /PORT IN USE/.test(e.message) && attempt < 3) continue;
      rmSync(p.localStateDir, { recursive: true, force: true });
      throw e;
    }
  }
}

async function launch(
  python: string,
  port: number,
  p: ReturnType<typeof paths>,
  patches: string,
  timeoutMs: number,
): Promise<EmulatorRecord> {
  const fd = openSync(p.logFile, "w");
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const child = spawn(python, [LAUNCHER, "--host", EMULATOR_HOST, "--port", String(port), "--patches", patches], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, PYTHONUNBUFFERED: "1", EMULATOR_PORT: String(port) },
  });
  closeSync(fd);
  child.on("exit", (code, signal) => (exited = { code, signal }));
  child.on("error", () => (exited = { code: -1, signal: null }));
  child.unref();

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new EmulatorError(
        "START_EXITED",
        `emulator: the launcher exited (code ${exited.code}${exited.signal ? `, signal ${exited.signal}` : ""}) before answering on ${EMULATOR_HOST}:${port}.\n--- ${p.logFile} (tail) ---\n${tail(p.logFile)}`,
      );
    }
    // Ready means: OUR launcher (its pid in its READY line) bound the port, and the port answers. An answer
    // alone could come from another emulator that took the port first (this launcher then exits PORT IN
    // USE): adopting it would make two runs share accounts, state buckets and locks.
    const ready = /EMULATOR READY (\{.*\})/.exec(tail(p.logFile, 200));
    const info = ready ? (JSON.parse(ready[1]) as { pid?: number; patches?: string[]; moto?: string }) : undefined;
    if (info && info.pid === child.pid && (await answers(port, 1000))) {
      return {
        pid: child.pid!,
        port,
        endpoint: `http://${EMULATOR_HOST}:${port}`,
        startedAt: new Date().toISOString(),
        logFile: p.logFile,
        localStateDir: p.localStateDir,
        patches: info.patches,
        moto: info.moto,
      };
    }
    await sleep(150);
  }
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    /* already gone */
  }
  throw new EmulatorError(
    "START_TIMEOUT",
    `emulator: no answer from http://${EMULATOR_HOST}:${port}/moto-api/ within ${timeoutMs} ms (pid ${child.pid}, killed).\n--- ${p.logFile} (tail) ---\n${tail(p.logFile)}`,
  );
}

/** Status of the instance for a port, or of the newest record in the state dir when no port is given. */
export async function emulatorStatus(opts: EmulatorOptions = {}): Promise<EmulatorStatus> {
  const stateDir = resolveStateDir(opts);
  const port = configuredPort(opts);
  const files = port !== undefined ? [paths(stateDir, port).recordFile] : records(stateDir);
  let first: EmulatorStatus | undefined;
  for (const file of files) {
    const status = await describe(file);
    if (status.state === "running") return status;
    first ??= status;
  }
  return first ?? { state: "stopped" };
}

/**
 * Stops the instance (SIGTERM to its process group, SIGKILL after 5 s) and removes its record and
 * LOCAL_STATE_DIR (the emulator keeps everything in memory, so that state dies with it).
 * Returns the record stopped, or undefined when nothing was recorded.
 */
export async function stopEmulator(opts: EmulatorOptions = {}): Promise<EmulatorRecord | undefined> {
  const stateDir = resolveStateDir(opts);
  const status = await emulatorStatus(opts);
  const record = status.record;
  if (!record) return undefined;
  if (pidAlive(record.pid)) {
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-record.pid, sig); // the launcher leads its own process group (detached)
      } catch {
        try {
          process.kill(record.pid, sig);
        } catch {
          /* gone */
        }
      }
    };
    signal("SIGTERM");
    const deadline = Date.now() + 5000;
    while (pidAlive(record.pid) && Date.now() < deadline) await sleep(100);
    if (pidAlive(record.pid)) signal("SIGKILL");
    while (pidAlive(record.pid) && Date.now() < deadline + 2000) await sleep(50);
  }
  forget(stateDir, record.port);
  return record;
}

/**
 * Jest helpers for integration tests that need the local emulator.
 *
 *   const emu = withEmulator();            // beforeAll: start on a free port; afterAll: stop
 *   it("...", () => { emu().endpoint; emu().env.LOCAL_STATE_DIR; });
 *
 * Every call gets its own temporary state dir and a kernel-chosen free port on 127.0.0.1, so two test
 * files (or two jest runs) never share or stop each other's emulator.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmulatorHandle, EmulatorOptions, startEmulator, stopEmulator } from "../../scripts/lib/emulator";

export interface TestEmulator extends EmulatorHandle {
  stateDir: string;
  stop(): Promise<void>;
}

/** Starts an isolated emulator (own temp state dir, free port). Call `stop()` when done. */
export async function startTestEmulator(opts: Omit<EmulatorOptions, "stateDir" | "port"> = {}): Promise<TestEmulator> {
  const stateDir = mkdtempSync(join(tmpdir(), "emulator-test-"));
  // Ignore EMULATOR_PORT / EMULATOR_STATE_DIR from the caller's shell: tests must not reuse a dev instance.
  const env = { ...process.env, EMULATOR_PORT: "", EMULATOR_STATE_DIR: "" };
  try {
    const handle = await startEmulator({ ...opts, stateDir, env });
    return {
      ...handle,
      stateDir,
      stop: async () => {
        await stopEmulator({ stateDir, port: handle.port, env });
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Registers beforeAll/afterAll that start and stop one emulator for the enclosing describe/file.
 * Returns an accessor (the handle exists only once beforeAll ran).
 */
export function withEmulator(opts: Omit<EmulatorOptions, "stateDir" | "port"> = {}, startTimeoutMs = 60_000): () => TestEmulator {
  let emu: TestEmulator | undefined;
  beforeAll(async () => {
    emu = await startTestEmulator(opts);
  }, startTimeoutMs);
  afterAll(async () => {
    await emu?.stop();
  }, 30_000);
  return () => {
    if (!emu) throw new Error("withEmulator(): the emulator is not started (use it inside a test, after beforeAll)");
    return emu;
  };
}

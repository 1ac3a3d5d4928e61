/**
 * The rds_managed_master_password patch: an AWS-managed master password (what the database construct
 * uses since issue 14) is a generated value with the instance's own user name, different per database.
 * Without the patch moto stores the same constant for every database, under the user name "admin".
 */
import { join } from "node:path";
import { PATHS, PROJECT_ROOT } from "../../scripts/lib/toolchain";
import { startTestEmulator, TestEmulator } from "../helpers/emulator";
import { expectExit, run } from "../helpers/integration";

describe.each([
  ["with the patch", "all", true],
  ["without it (moto as shipped)", "none", false],
] as const)("an AWS-managed RDS master password on the emulator, %s", (_, patches, patched) => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ patches });
  }, 60_000);
  afterAll(async () => emu?.stop());

  it(patched ? "is a generated 32-character password under the instance's user name, different per database" : "is one constant under the user name admin", async () => {
    const r = await run(PATHS.venvPython, [join(PROJECT_ROOT, "scripts/emulator/probe.py"), emu.endpoint, "managed-password"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expectExit(r, 0, "probe.py managed-password");
    const out = JSON.parse(r.out) as { usernames: string[]; passwordLengths: number[]; distinct: boolean; constant: boolean };
    expect(out).toEqual(
      patched
        ? { usernames: ["app", "owner"], passwordLengths: [32, 32], distinct: true, constant: false }
        : { usernames: ["admin", "admin"], passwordLengths: [9, 9], distinct: false, constant: true },
    );
  }, 60_000);
});

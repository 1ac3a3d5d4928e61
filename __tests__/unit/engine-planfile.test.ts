/**
 * engine/io/planfile.ts: the prior state a plan file records (its zip entry `tfstate`), read from plan
 * files terraform 1.11.4 wrote (fixtures/planfile) and from archives made here to try each refusal.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { planPriorState, zipEntry } from "../../scripts/lib/engine/io/planfile";

const FIXTURES = join(__dirname, "..", "fixtures", "planfile");

/** A zip of the given entries, as Go's archive/zip streams them: sizes 0 in the local header, right in the central directory. */
function zip(entries: Array<{ name: string; data: Buffer; method?: 0 | 8 | 12 }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0x08, 6); // data descriptor follows: sizes unknown here
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(name.length, 26);
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(body.length, 8);
    descriptor.writeUInt32LE(e.data.length, 12);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x08, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body, descriptor);
    centrals.push(central, name);
    offset += local.length + name.length + body.length + descriptor.length;
  }
  const dir = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(dir.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, eocd]);
}

describe("the prior state of a saved plan", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "planfile-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };

  it("is the serial and lineage of the state terraform planned against (a real plan file)", () => {
    expect(planPriorState(join(FIXTURES, "after-apply.tfplan"))).toEqual({ serial: 1, lineage: "9c5125cf-7ec7-2893-30f0-db6e07c5d122" });
  });

  it("is none for a plan made before any state existed (a real plan file)", () => {
    expect(planPriorState(join(FIXTURES, "no-state.tfplan"))).toBeNull();
  });

  it("reads stored and deflated entries by name, and names none that is absent", () => {
    const z = zip([
      { name: "tfplan", data: Buffer.from("x") },
      { name: "a", data: Buffer.from("stored bytes"), method: 0 },
      { name: "tfstate", data: Buffer.from('{"version":4,"serial":42,"lineage":"l-1"}') },
    ]);
    expect(zipEntry(z, "a")?.toString()).toBe("stored bytes");
    expect(zipEntry(z, "tfstate")?.toString()).toContain('"serial":42');
    expect(zipEntry(z, "tfstate-prev")).toBeNull();
    expect(planPriorState(file("made.tfplan", z))).toEqual({ serial: 42, lineage: "l-1" });
  });

  it("refuses, naming why, a file that is no plan: not a zip, no tfstate entry, an unreadable state, another compression", () => {
    expect(() => planPriorState(file("text.tfplan", Buffer.from("not a zip at all, just some text")))).toThrow(/not a readable zip archive: no end of central directory/);
    expect(() => planPriorState(file("empty.tfplan", Buffer.alloc(0)))).toThrow(/no end of central directory/);
    expect(() => planPriorState(file("nostate.tfplan", zip([{ name: "tfplan", data: Buffer.from("x") }])))).toThrow(/not a terraform plan file with a prior state \(no "tfstate" entry\)/);
    expect(() => planPriorState(file("badstate.tfplan", zip([{ name: "tfstate", data: Buffer.from('{"version":4}') }])))).toThrow(/the plan's prior state is unreadable \(state has no serial\/lineage\)/);
    expect(() => planPriorState(file("bzip.tfplan", zip([{ name: "tfstate", data: Buffer.from("{}"), method: 12 }])))).toThrow(/compression method 12/);
  });

  it("refuses an archive whose directory points past its end (a cut-off plan file)", () => {
    const z = zip([{ name: "tfstate", data: Buffer.from('{"serial":1,"lineage":"l"}') }]);
    const cut = Buffer.concat([z.subarray(0, 10), z.subarray(z.length - 22 - 46 - 7)]);
    expect(() => zipEntry(cut, "tfstate")).toThrow(/not a readable zip archive/);
  });
});

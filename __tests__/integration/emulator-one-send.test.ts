/**
 * The http_response_one_send patch, with and without: a response leaves the emulator in one send (its
 * headers with its body), so a client that read the headers has the body too.
 *
 * Without it werkzeug sends the headers, then the body; on a loaded machine terraform's SDK could find
 * its connection closed between the two (net/http ends the request write with an error after the bytes
 * left), retry a state-lock PutItem the emulator had already stored, and stop with "Error acquiring the
 * state lock" on a lock of its own (see the patch's docstring). That gap is short; the test hook
 * test_slow_response_body (never in "all") holds every response 300 ms after its headers were written,
 * which makes it certain: without the patch the first read holds the headers alone and the body comes
 * about 300 ms later; with it the first read holds both. An interim "100 Continue" still leaves before the
 * server waits for the body (HTTP/1.1 and 1.0), and a client that is gone before its answer leaves no
 * traceback (the buffered answer cannot be flushed: the patch ignores that, as werkzeug does).
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { startTestEmulator, type TestEmulator } from "../helpers/emulator";

const HOOK = "test_slow_response_body";
const PATCH = "http_response_one_send";
/** The hook's pause (its default, EMULATOR_TEST_BODY_DELAY_MS unset). */
const HOLD_MS = 300;

/** A DynamoDB ListTables request as an SDK would send it (moto does not check the signature). */
function listTables(port: number, extraHeaders: readonly string[] = [], version = "HTTP/1.1", body = "{}"): { head: string; body: string } {
  const head = [
    `POST / ${version}`,
    `Host: 127.0.0.1:${port}`,
    "Content-Type: application/x-amz-json-1.0",
    "X-Amz-Target: DynamoDB_20120810.ListTables",
    "Authorization: AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extraHeaders,
    "",
    "",
  ].join("\r\n");
  return { head, body };
}

interface Chunk {
  readonly text: string;
  readonly at: number;
}

/** Connects, lets `send` write, and collects what arrives (each read as it came) until the server closes. */
function exchange(port: number, send: (s: Socket, chunks: Chunk[]) => void): Promise<Chunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: Chunk[] = [];
    const t0 = Date.now();
    const s = connect(port, "127.0.0.1", () => send(s, chunks));
    s.setNoDelay(true);
    s.on("data", (d) => chunks.push({ text: d.toString("utf8"), at: Date.now() - t0 }));
    s.on("end", () => resolve(chunks));
    s.on("error", reject);
    s.setTimeout(10_000, () => s.destroy(new Error(`no answer within 10 s; read so far: ${JSON.stringify(chunks)}`)));
  });
}

/** The response's declared body length and the body bytes in `text` (after the blank line). */
function split(text: string): { headers: string; declared: number; body: string } {
  const end = text.indexOf("\r\n\r\n");
  const headers = end < 0 ? text : text.slice(0, end);
  const declared = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? NaN);
  return { headers, declared, body: end < 0 ? "" : text.slice(end + 4) };
}

describe.each([
  ["with the patch", `${HOOK},${PATCH}`, true],
  ["without it (werkzeug as shipped)", HOOK, false],
] as const)("a response's headers and body on the emulator, %s", (_, patches, oneSend) => {
  let emu: TestEmulator;

  beforeAll(async () => {
    emu = await startTestEmulator({ patches });
    expect(emu.patches).toEqual(patches.split(","));
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it(`the first read holds ${oneSend ? "the headers and the whole body" : "the headers alone; the body follows later"}`, async () => {
    const req = listTables(emu.port);
    const chunks = await exchange(emu.port, (s) => s.write(req.head + req.body));
    const all = split(chunks.map((c) => c.text).join(""));
    expect(all.headers).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(all.body)).toEqual({ TableNames: [] });
    expect(Buffer.byteLength(all.body)).toBe(all.declared);

    const first = split(chunks[0].text);
    if (oneSend) {
      expect(first.body).toBe(all.body);
    } else {
      expect(first.body).toBe("");
      const bodyAt = chunks.find((c, i) => i > 0 && c.text.length > 0)!.at;
      expect(bodyAt - chunks[0].at).toBeGreaterThanOrEqual(HOLD_MS - 50);
    }
  }, 30_000);

  // http.server answers Expect for HTTP/1.1 requests, werkzeug (its run_wsgi) for any version: an HTTP/1.1
  // request gets both, one or more 100s; an HTTP/1.0 request only werkzeug's.
  it.each(["HTTP/1.1", "HTTP/1.0"])("%s with Expect: 100-continue: the interim 100 Continue comes before the body was sent, the answer after it", async (version) => {
    const req = listTables(emu.port, ["Expect: 100-continue"], version);
    const chunks = await exchange(emu.port, (s, got) => {
      s.write(req.head);
      // The body only once the server said to go on (what a client that sent Expect does, minus its timeout).
      const wait = setInterval(() => {
        if (got.map((c) => c.text).join("").startsWith("HTTP/1.1 100")) {
          clearInterval(wait);
          s.write(req.body);
        }
      }, 5);
      s.on("close", () => clearInterval(wait));
    });
    const text = chunks.map((c) => c.text).join("");
    expect(text).toMatch(/^(HTTP\/1\.1 100 Continue\r\n\r\n)+HTTP\/1\.1 200 /);
    expect(JSON.parse(split(text.slice(text.indexOf("HTTP/1.1 200"))).body)).toEqual({ TableNames: [] });
  }, 30_000);

  it("a client gone (its connection reset) before the answer was sent leaves no traceback in the emulator's log", async () => {
    const req = listTables(emu.port);
    await new Promise<void>((resolve, reject) => {
      const s = connect(emu.port, "127.0.0.1", () => s.write(req.head + req.body, () => setTimeout(() => (s.resetAndDestroy(), resolve()), 50)));
      s.on("error", reject);
    });
    const log = () => readFileSync(emu.logFile, "utf8");
    // the answer is written once the hook's pause is over; whatever follows it is in the log by then
    for (let i = 0; i < 100 && !/"POST \/ HTTP\/1\.1" 200/.test(log()); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(log()).toMatch(/"POST \/ HTTP\/1\.1" 200/);
    expect(log()).not.toMatch(/Traceback|BrokenPipeError/);
  }, 30_000);
});

/**
 * A fault injector in front of the emulator: an HTTP proxy on 127.0.0.1 that forwards every request to
 * the emulator unless a rule says to cut it (the socket is destroyed, as when the emulator stops or the
 * network drops mid-request). Everything the engine and terraform reach (LOCAL_ENDPOINT) goes through
 * it, so a rule can take away exactly one thing: the store bucket, one object's write, and so on.
 *
 *   const proxy = await startFaultProxy(emu().endpoint);
 *   proxy.cut((r) => r.method === "PUT" && r.path.includes("/complete.json"));   // until cleared
 *   proxy.lose((r) => r.target === "DynamoDB_20120810.PutItem", 1);              // forwarded, answer lost
 *   proxy.clear();
 *   proxy.cutCount                                                               // requests cut so far
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  readonly method: string;
  /** Path and query, e.g. /promote-store-dev-111111111111/bundles/<id>/complete.json?x-id=PutObject */
  readonly path: string;
  /** The X-Amz-Target header of a JSON-protocol call (DynamoDB_20120810.PutItem), else null. */
  readonly target: string | null;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Cut every request `rule` matches (replaces an earlier rule). */
  cut(rule: (r: SeenRequest) => boolean): void;
  /**
   * Forward the first `times` requests `rule` matches, let the emulator carry them out, and drop their
   * answers (the client's socket is destroyed once the emulator answered): a request that succeeded
   * while its client saw the connection break.
   */
  lose(rule: (r: SeenRequest) => boolean, times: number): void;
  clear(): void;
  readonly cutCount: number;
  /** Answers dropped by `lose` so far. */
  readonly lostCount: number;
  /** Requests forwarded or cut since the last `clear`, in order. */
  readonly seen: readonly SeenRequest[];
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let rule: ((r: SeenRequest) => boolean) | null = null;
  let loseRule: ((r: SeenRequest) => boolean) | null = null;
  let loseLeft = 0;
  let cutCount = 0;
  let lostCount = 0;
  let seen: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const target = req.headers["x-amz-target"];
    const r: SeenRequest = { method: req.method ?? "GET", path: req.url ?? "/", target: typeof target === "string" ? target : null };
    seen.push(r);
    if (rule !== null && rule(r)) {
      cutCount += 1;
      req.socket.destroy();
      return;
    }
    const loseAnswer = loseRule !== null && loseLeft > 0 && loseRule(r);
    if (loseAnswer) loseLeft -= 1;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (loseAnswer) {
        up.resume();
        up.on("end", () => {
          lostCount += 1;
          req.socket.destroy();
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: (r) => {
      rule = r;
    },
    lose: (r, times) => {
      loseRule = r;
      loseLeft = times;
    },
    clear: () => {
      rule = null;
      loseRule = null;
      loseLeft = 0;
      seen = [];
    },
    get cutCount() {
      return cutCount;
    },
    get lostCount() {
      return lostCount;
    },
    get seen() {
      return seen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

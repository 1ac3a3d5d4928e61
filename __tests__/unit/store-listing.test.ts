/**
 * The store's listings page through S3's answers until the last page, and refuse an answer that cannot be
 * paged: a truncated page without a new continuation token or new markers would otherwise be taken for the
 * whole listing (an audit record or a bundle left out) or listed again forever, and so would pages that
 * cycle. The S3 client is a fake that answers canned pages and records what it was asked (the paging is
 * the unit under test); for removeState (which makes its own client) the SDK module is replaced by one
 * whose client answers the same way.
 */
import type { AwsClients } from "../../scripts/lib/store/aws";
import { StoreError } from "../../scripts/lib/store/errors";
import { StoreBucket, unfollowablePage } from "../../scripts/lib/store/s3";
import { CidrClaims } from "../../scripts/lib/store/lease-lock";
import { removeState } from "../../scripts/lib/engine/io/state-store";
import { EngineError } from "../../scripts/lib/engine/core/errors";

/** What removeState's own S3 client answers (shifted per call) and was asked. */
const sdk = { pages: [] as object[], asked: [] as Array<{ command: string; input: Record<string, unknown> }> };

jest.mock("@aws-sdk/client-s3", () => {
  const command = (name: string) =>
    class {
      readonly command = name;
      constructor(readonly input: Record<string, unknown>) {}
    };
  return {
    ListObjectsV2Command: command("ListObjectsV2"),
    ListObjectVersionsCommand: command("ListObjectVersions"),
    DeleteObjectsCommand: command("DeleteObjects"),
    S3Client: class {
      async send(c: { command: string; input: Record<string, unknown> }) {
        sdk.asked.push({ command: c.command, input: c.input });
        if (sdk.asked.length > 10) throw new Error("more than 10 calls: the listing loops");
        const page = sdk.pages.shift();
        if (page === undefined) throw new Error("no page left");
        return page;
      }
    },
  };
});

function bucketAnswering(pages: object[]): { bucket: StoreBucket; asked: Array<Record<string, unknown>> } {
  const asked: Array<Record<string, unknown>> = [];
  const s3 = {
    send: async (command: { input: Record<string, unknown> }) => {
      asked.push(command.input);
      if (asked.length > 10) throw new Error("more than 10 pages asked: the listing loops");
      const page = pages.shift();
      if (page === undefined) throw new Error("no page left");
      return page;
    },
  };
  const clients = { connection: { timeouts: { attempts: 1, requestMs: 1000, connectMs: 1000 } }, s3: async () => s3 } as unknown as AwsClients;
  return { bucket: new StoreBucket(clients, "store-111111111111", "111111111111"), asked };
}

const version = (key: string, id: string) => ({ Key: key, VersionId: id, IsLatest: true });

describe("StoreBucket.listKeys", () => {
  it("follows continuation tokens to the last page and returns every key, sorted", async () => {
    const { bucket, asked } = bucketAnswering([
      { Contents: [{ Key: "audit/dev/000002" }], IsTruncated: true, NextContinuationToken: "t1" },
      { Contents: [{ Key: "audit/dev/000001" }], IsTruncated: false },
    ]);
    expect(await bucket.listKeys("audit/dev/")).toEqual(["audit/dev/000001", "audit/dev/000002"]);
    expect(asked.map((a) => a.ContinuationToken)).toEqual([undefined, "t1"]);
    expect(asked.every((a) => a.ExpectedBucketOwner === "111111111111")).toBe(true);
  });

  it("refuses a truncated page without a token instead of returning part of the listing", async () => {
    const { bucket } = bucketAnswering([{ Contents: [{ Key: "a" }], IsTruncated: true }]);
    const e = await bucket.listKeys("bundles/").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as Error).message).toMatch(/s3:\/\/store-111111111111\/bundles\/: a truncated page without a new continuation token \(expected NextContinuationToken, found none\)/);
  });

  it("refuses a token that does not move instead of listing the same page forever", async () => {
    const { bucket, asked } = bucketAnswering([
      { Contents: [{ Key: "a" }], IsTruncated: true, NextContinuationToken: "t1" },
      { Contents: [{ Key: "b" }], IsTruncated: true, NextContinuationToken: "t1" },
    ]);
    await expect(bucket.listKeys("bundles/")).rejects.toThrow(/found one an earlier page gave \("t1": the pages cycle\)/);
    expect(asked).toHaveLength(2);
  });

  it("refuses pages that cycle (t1, t2, t1 again) and an empty token", async () => {
    const cycle = bucketAnswering([
      { Contents: [{ Key: "a" }], IsTruncated: true, NextContinuationToken: "t1" },
      { Contents: [{ Key: "b" }], IsTruncated: true, NextContinuationToken: "t2" },
      { Contents: [{ Key: "a" }], IsTruncated: true, NextContinuationToken: "t1" },
    ]);
    await expect(cycle.bucket.listKeys("bundles/")).rejects.toThrow(/found one an earlier page gave \("t1": the pages cycle\)/);
    expect(cycle.asked.map((a) => a.ContinuationToken)).toEqual([undefined, "t1", "t2"]);
    const empty = bucketAnswering([{ Contents: [{ Key: "a" }], IsTruncated: true, NextContinuationToken: "" }]);
    await expect(empty.bucket.listKeys("bundles/")).rejects.toThrow(/found an empty one/);
  });
});

describe("StoreBucket.listVersions", () => {
  it("follows key and version markers to the last page, versions and delete markers", async () => {
    const { bucket, asked } = bucketAnswering([
      { Versions: [version("k1", "v1")], IsTruncated: true, NextKeyMarker: "k1", NextVersionIdMarker: "v1" },
      { Versions: [version("k2", "v2")], DeleteMarkers: [{ Key: "k3", VersionId: "d3", IsLatest: true }], IsTruncated: false },
    ]);
    const found = await bucket.listVersions("audit/");
    expect(found.map((v) => [v.key, v.versionId, v.deleteMarker])).toEqual([["k1", "v1", false], ["k2", "v2", false], ["k3", "d3", true]]);
    expect(asked.map((a) => [a.KeyMarker, a.VersionIdMarker])).toEqual([[undefined, undefined], ["k1", "v1"]]);
  });

  it("refuses a truncated page without markers, and markers that do not move", async () => {
    const none = bucketAnswering([{ Versions: [version("k1", "v1")], IsTruncated: true }]);
    await expect(none.bucket.listVersions("audit/")).rejects.toThrow(/audit\/: a truncated page without new markers \(expected NextKeyMarker, found none\)/);
    const same = bucketAnswering([
      { Versions: [version("k1", "v1")], IsTruncated: true, NextKeyMarker: "k1", NextVersionIdMarker: "v1" },
      { Versions: [version("k1", "v1")], IsTruncated: true, NextKeyMarker: "k1", NextVersionIdMarker: "v1" },
    ]);
    const e = await same.bucket.listVersions("audit/").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as Error).message).toMatch(/found one an earlier page gave \("k1 v1": the pages cycle\)/);
    expect(same.asked).toHaveLength(2);
  });
});

describe("CidrClaims.list (a DynamoDB Scan of the lock table's claims)", () => {
  function claimsAnswering(pages: object[]): { claims: CidrClaims; asked: Array<Record<string, unknown>> } {
    const asked: Array<Record<string, unknown>> = [];
    const ddb = {
      send: async (command: { input: Record<string, unknown> }) => {
        asked.push(command.input);
        if (asked.length > 10) throw new Error("more than 10 pages asked: the scan loops");
        const page = pages.shift();
        if (page === undefined) throw new Error("no page left");
        return page;
      },
    };
    const clients = { connection: { timeouts: { attempts: 1, requestMs: 1000, connectMs: 1000 } }, dynamodb: async () => ddb } as unknown as AwsClients;
    return { claims: new CidrClaims(clients, "tfstate-lock-dev"), asked };
  }
  const claim = (cidr: string) => ({ LockID: { S: `promote-cidr/${cidr}` }, cidr: { S: cidr }, owner: { S: "pr-1" }, by: { S: "x" }, since: { S: "2030-01-01T00:00:00Z" } });
  const key = (id: string) => ({ LockID: { S: id } });

  it("follows LastEvaluatedKey to the last page", async () => {
    const { claims, asked } = claimsAnswering([{ Items: [claim("10.9.0.0/16")], LastEvaluatedKey: key("a") }, { Items: [claim("10.2.0.0/16")] }]);
    expect((await claims.list()).map((c) => c.cidr)).toEqual(["10.2.0.0/16", "10.9.0.0/16"]);
    expect(asked.map((a) => a.ExclusiveStartKey)).toEqual([undefined, key("a")]);
  });

  it("refuses pages whose keys cycle (a, b, a again) instead of scanning forever", async () => {
    const { claims, asked } = claimsAnswering([
      { Items: [claim("10.1.0.0/16")], LastEvaluatedKey: key("a") },
      { Items: [], LastEvaluatedKey: key("b") },
      { Items: [claim("10.1.0.0/16")], LastEvaluatedKey: key("a") },
    ]);
    const e = await claims.list().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as Error).message).toMatch(/DynamoDB Scan claims of tfstate-lock-dev: expected a new LastEvaluatedKey, found one an earlier page gave .*the pages cycle/);
    expect(asked).toHaveLength(3);
  });
});

describe("unfollowablePage", () => {
  it("lets each new marker through once and names what stops a listing", () => {
    const seen = new Set<string>();
    expect([unfollowablePage(seen, "a"), unfollowablePage(seen, "b")]).toEqual([null, null]);
    expect(unfollowablePage(seen, "a")).toMatch(/^one an earlier page gave/);
    expect(unfollowablePage(seen, undefined)).toBe("none");
    expect(unfollowablePage(seen, "")).toBe("an empty one");
  });
});

describe("removeState (destroying an ephemeral env's state)", () => {
  const backend = {
    bucket: "tfstate-dev-111111111111",
    key: "env/pr-7/terraform.tfstate",
    region: "us-east-1",
    lockTable: null,
    endpoints: { s3: "http://127.0.0.1:1", dynamodb: null, sts: null },
    accessKey: "test",
    secretKey: "test",
    roleArn: null,
    sessionName: null,
    usePathStyle: true,
  };
  beforeEach(() => {
    sdk.pages = [];
    sdk.asked = [];
  });

  it("follows the markers to the last page and deletes only the state's own versions, then finds none left", async () => {
    sdk.pages = [
      { Versions: [version(backend.key, "v1"), version(`${backend.key}-other`, "x")], IsTruncated: true, NextKeyMarker: backend.key, NextVersionIdMarker: "v1" },
      { DeleteMarkers: [{ Key: `${backend.key}.tflock`, VersionId: "d2" }], IsTruncated: false },
      {},
      { IsTruncated: false },
    ];
    expect(await removeState(backend)).toEqual({ versions: 2, digestItem: false });
    expect(sdk.asked.map((a) => a.command)).toEqual(["ListObjectVersions", "ListObjectVersions", "DeleteObjects", "ListObjectVersions"]);
    expect(sdk.asked[1].input).toMatchObject({ KeyMarker: backend.key, VersionIdMarker: "v1" });
    expect(sdk.asked[2].input.Delete).toEqual({ Objects: [{ Key: backend.key, VersionId: "v1" }, { Key: `${backend.key}.tflock`, VersionId: "d2" }], Quiet: true });
  });

  it("deletes nothing when a page cannot be followed (markers that cycle), naming the page", async () => {
    sdk.pages = [
      { Versions: [version(backend.key, "v1")], IsTruncated: true, NextKeyMarker: backend.key, NextVersionIdMarker: "v1" },
      { Versions: [version(backend.key, "v2")], IsTruncated: true, NextKeyMarker: backend.key, NextVersionIdMarker: "v2" },
      { Versions: [version(backend.key, "v1")], IsTruncated: true, NextKeyMarker: backend.key, NextVersionIdMarker: "v1" },
    ];
    const e = await removeState(backend).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as Error).message).toMatch(/ListObjectVersions s3:\/\/tfstate-dev-111111111111\/env\/pr-7\/terraform\.tfstate: a truncated page without new markers \(expected NextKeyMarker, found one an earlier page gave/);
    expect(sdk.asked.map((a) => a.command)).toEqual(["ListObjectVersions", "ListObjectVersions", "ListObjectVersions"]);
  });
});

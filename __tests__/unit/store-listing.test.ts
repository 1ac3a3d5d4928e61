/**
 * The store's listings page through S3's answers until the last page, and refuse an answer that cannot be
 * paged: a truncated page without a new continuation token or new markers would otherwise be taken for the
 * whole listing (an audit record or a bundle left out) or listed again forever. The S3 client is a fake
 * that answers canned pages and records what it was asked (the paging is the unit under test).
 */
import type { AwsClients } from "../../scripts/lib/store/aws";
import { StoreError } from "../../scripts/lib/store/errors";
import { StoreBucket } from "../../scripts/lib/store/s3";

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
    await expect(bucket.listKeys("bundles/")).rejects.toThrow(/found the same as the last page's/);
    expect(asked).toHaveLength(2);
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
    expect((e as Error).message).toMatch(/found the last page's again/);
    expect(same.asked).toHaveLength(2);
  });
});

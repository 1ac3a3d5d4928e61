/**
 * The two atomic-write patches, with and without: s3_conditional_put_atomic (PutObject with
 * If-None-Match: * or If-Match) and dynamodb_conditional_write_atomic (PutItem with a ConditionExpression).
 * The store's one-winner guarantees rest on them: the applied record and the audit sequence (S3), the
 * env's lease and the ephemeral CIDR claims (DynamoDB).
 *
 * moto checks a condition and stores the write as two steps; the window between them is short, so
 * racers rarely land in it by chance. The test hook test_slow_conditional_writes (never in "all") holds
 * every conditional write in that window for 200 ms, which makes the race certain: eight writers racing
 * for one key, exactly one wins with the patches, several win without them.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { startTestEmulator, type TestEmulator } from "../helpers/emulator";

const RACERS = 8;
const HOOK = "test_slow_conditional_writes";
const PATCHES = "s3_conditional_put_atomic,dynamodb_conditional_write_atomic";

/** How many of the racers' writes succeeded; any failure other than the condition's own is thrown. */
async function winners(writes: Array<() => Promise<unknown>>, conditionFailed: (e: unknown) => boolean): Promise<number> {
  const results = await Promise.allSettled(writes.map((w) => w()));
  for (const r of results) if (r.status === "rejected" && !conditionFailed(r.reason)) throw r.reason;
  return results.filter((r) => r.status === "fulfilled").length;
}

const preconditionFailed = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
const conditionalCheckFailed = (e: unknown) => (e as { name?: string }).name === "ConditionalCheckFailedException";

describe.each([
  ["with the atomic patches", `${HOOK},${PATCHES}`, true],
  ["without them (moto as shipped)", HOOK, false],
] as const)("conditional writes racing for one key on the emulator, %s", (_, patches, atomic) => {
  let emu: TestEmulator;
  let s3: S3Client;
  let ddb: DynamoDBClient;
  const expectWinners = (n: number) => (atomic ? expect(n).toBe(1) : expect(n).toBeGreaterThan(1));

  beforeAll(async () => {
    emu = await startTestEmulator({ patches });
    expect(emu.patches).toEqual(patches.split(","));
    const config = { endpoint: emu.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 };
    s3 = new S3Client({ ...config, forcePathStyle: true });
    ddb = new DynamoDBClient(config);
    await s3.send(new CreateBucketCommand({ Bucket: "race" }));
    await ddb.send(
      new CreateTableCommand({
        TableName: "race",
        AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    ddb?.destroy();
    await emu?.stop();
  });

  const racers = <T>(write: (i: number) => Promise<T>) => Array.from({ length: RACERS }, (_, i) => () => write(i));

  it(`S3 PutObject If-None-Match: * (create-only): ${atomic ? "exactly one" : "more than one"} of ${RACERS} racers creates the key`, async () => {
    const n = await winners(racers((i) => s3.send(new PutObjectCommand({ Bucket: "race", Key: "applied.json", Body: `racer ${i}`, IfNoneMatch: "*" }))), preconditionFailed);
    expectWinners(n);
  }, 60_000);

  it(`S3 PutObject If-Match (compare-and-swap): ${atomic ? "exactly one" : "more than one"} of ${RACERS} racers replaces the version they all read`, async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: "race", Key: "head.json", Body: "sequence 1" }));
    const n = await winners(racers((i) => s3.send(new PutObjectCommand({ Bucket: "race", Key: "head.json", Body: `sequence 2 by racer ${i}`, IfMatch: ETag }))), preconditionFailed);
    expectWinners(n);
  }, 60_000);

  it(`DynamoDB PutItem attribute_not_exists (a lease, a CIDR claim): ${atomic ? "exactly one" : "more than one"} of ${RACERS} racers takes the item`, async () => {
    const n = await winners(
      racers((i) =>
        ddb.send(
          new PutItemCommand({
            TableName: "race",
            Item: { LockID: { S: "promote-cidr/10.200.0.0/16" }, owner: { S: `racer ${i}` } },
            ConditionExpression: "attribute_not_exists(LockID)",
          }),
        ),
      ),
      conditionalCheckFailed,
    );
    expectWinners(n);
  }, 60_000);
});

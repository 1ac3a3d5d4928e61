/**
 * The s3_secure_transport patch: a TLS-only bucket policy (what every state and log bucket carries) lets
 * requests through on the emulator, as on AWS's HTTPS endpoints, while a Deny that does not depend on
 * the transport still denies. Without the patch moto answers 403 to every object request.
 */
import { DeleteObjectCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client, CreateBucketCommand } from "@aws-sdk/client-s3";
import { startTestEmulator, TestEmulator } from "../helpers/emulator";

const BUCKET = "tls-only-policy-test";

function policy(extra: object[] = []) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      ...extra,
    ],
  });
}

async function objectRoundTrip(s3: S3Client): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "state", Body: "serial 1" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "state" }));
  return got.Body!.transformToString();
}

describe.each([
  ["with the patch", "all", true],
  ["without it (moto as shipped)", "none", false],
] as const)("a TLS-only bucket policy on the emulator, %s", (_, patches, passes) => {
  let emu: TestEmulator;
  let s3: S3Client;
  beforeAll(async () => {
    emu = await startTestEmulator({ patches });
    s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy() }));
  }, 60_000);
  afterAll(async () => emu?.stop());

  it(passes ? "lets object reads and writes through" : "refuses every object request with 403", async () => {
    if (passes) {
      expect(await objectRoundTrip(s3)).toBe("serial 1");
    } else {
      await expect(objectRoundTrip(s3)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    }
  });

  if (passes) {
    it("still applies a Deny that does not depend on the transport", async () => {
      const denyDelete = { Effect: "Deny", Principal: "*", Action: "s3:DeleteObject", Resource: `arn:aws:s3:::${BUCKET}/*` };
      await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy([denyDelete]) }));
      await expect(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "state" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      expect(await objectRoundTrip(s3)).toBe("serial 1");
    });
  }
});

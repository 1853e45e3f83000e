/**
 * Checks bench/net_proxy.ts against moto with the AWS SDK v3 and the aws CLI: uploads are
 * paced by one shared bucket (1 MB at 5 MB/s ≈ 0.2 s; ten parallel 1 MB ≈ 2 s), latency
 * is added once per request, bodies arrive intact (single and multipart uploads, copies,
 * downloads), and requests and bytes are counted. Exits 1 on a mismatch.
 *
 * Usage: `deno run --allow-all bench/net_proxy_check.ts`
 *
 * @module
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { benchClient, benchEnv } from "./bench_env.ts";
import { type MotoServer, startMoto } from "./moto_server.ts";
import { type NetProxy, startNetProxy } from "./net_proxy.ts";
import { removeTree } from "./tree.ts";

const MB = 1_000_000;
const BUCKET = "proxy-check";
let failures = 0;

function check(what: string, ok: boolean, detail = ""): void {
  if (!ok) failures++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}${detail ? ` — ${detail}` : ""}`);
}

function random(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, (performance.now() - start) / 1000];
}

async function aws(args: string[], env: Record<string, string>): Promise<number> {
  const output = await new Deno.Command("aws", { args, env, clearEnv: true, stdout: "null" })
    .output();
  if (!output.success) console.log(new TextDecoder().decode(output.stderr));
  return output.code;
}

async function sizeOf(moto: MotoServer, key: string): Promise<number | undefined> {
  const page = await moto.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
  return page.Contents?.find((object) => object.Key === key)?.Size;
}

const base = Deno.makeTempDirSync({ prefix: "s3ss-proxycheck-" });
let moto: MotoServer | undefined;
let proxy: NetProxy | undefined;
let sdk: S3Client | undefined;
try {
  moto = await startMoto();
  await moto.createBucket(BUCKET);
  proxy = await startNetProxy({
    upstream: moto.endpoint,
    latencyMs: 30,
    uploadBytesPerSecond: 5 * MB,
  });
  sdk = benchClient(proxy.endpoint);
  console.log(`net proxy check: moto ${moto.endpoint}, proxy ${proxy.endpoint} (30 ms, 5 MB/s up)`);
  const one = random(MB);
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "warm", Body: new Uint8Array(10) }));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the bucket refill
  proxy.reset();
  const [, oneSeconds] = await timed(() =>
    sdk!.send(new PutObjectCommand({ Bucket: BUCKET, Key: "one", Body: one }))
  );
  check(
    "1 MB upload at 5 MB/s ≈ 0.2 s + 30 ms",
    oneSeconds > 0.18 && oneSeconds < 0.45,
    `${oneSeconds.toFixed(3)} s`,
  );
  check("bytesUp counts the body", proxy.stats().bytesUp === MB, `${proxy.stats().bytesUp}`);
  const [, tenSeconds] = await timed(() =>
    Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        sdk!.send(new PutObjectCommand({ Bucket: BUCKET, Key: `ten/${index}`, Body: random(MB) }))),
    )
  );
  check(
    "ten parallel 1 MB uploads share the link: ≈ 2 s",
    tenSeconds > 1.8 && tenSeconds < 2.6,
    `${tenSeconds.toFixed(3)} s`,
  );
  const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: "one" }));
  const back = await got.Body!.transformToByteArray();
  check(
    "GetObject returns the same bytes",
    back.length === MB && back.every((byte, at) => byte === one[at]),
  );
  const [, headSeconds] = await timed(async () => {
    for (let index = 0; index < 10; index++) {
      await sdk!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "one" }));
    }
  });
  check(
    "10 sequential HeadObject take ≥ 10 × 30 ms",
    headSeconds >= 0.3 && headSeconds < 0.6,
    `${headSeconds.toFixed(3)} s`,
  );
  await sdk.send(
    new CopyObjectCommand({ Bucket: BUCKET, Key: "copy of one", CopySource: `${BUCKET}/one` }),
  );
  check("CopyObject through the proxy", (await sizeOf(moto, "copy of one")) === MB);

  proxy.setLink({ uploadBytesPerSecond: 50 * MB });
  const { UploadId } = await sdk.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "multi" }),
  );
  const parts = [];
  for (const [number, size] of [[1, 5 * 1024 * 1024], [2, 1024]] as const) {
    const { ETag } = await sdk.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: "multi",
        UploadId,
        PartNumber: number,
        Body: random(size),
      }),
    );
    parts.push({ ETag, PartNumber: number });
  }
  await sdk.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: "multi",
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  check(
    "multipart upload through the proxy",
    (await sizeOf(moto, "multi")) === 5 * 1024 * 1024 + 1024,
  );
  await sdk.send(
    new DeleteObjectsCommand({
      Bucket: BUCKET,
      Delete: { Objects: [{ Key: "warm" }, { Key: "copy of one" }] },
    }),
  );
  check("DeleteObjects through the proxy", (await sizeOf(moto, "warm")) === undefined);

  Deno.mkdirSync(`${base}/home`);
  Deno.mkdirSync(`${base}/dir/sub folder`, { recursive: true });
  Deno.writeFileSync(`${base}/two.bin`, random(2 * MB));
  Deno.writeFileSync(`${base}/big.bin`, random(20 * MB));
  for (let index = 0; index < 5; index++) {
    Deno.writeFileSync(`${base}/dir/sub folder/f+${index} é.txt`, random(1000 + index));
  }
  const env = benchEnv(`${base}/home`);
  const endpoint = ["--endpoint-url", proxy.endpoint];
  proxy.reset();
  const cp = await aws(
    ["s3", "cp", `${base}/two.bin`, `s3://${BUCKET}/aws/two.bin`, ...endpoint],
    env,
  );
  check(
    "aws s3 cp 2 MB (Expect: 100-continue)",
    cp === 0 && (await sizeOf(moto, "aws/two.bin")) === 2 * MB,
  );
  const big = await aws(
    ["s3", "cp", `${base}/big.bin`, `s3://${BUCKET}/aws/big.bin`, ...endpoint],
    env,
  );
  check(
    "aws s3 cp 20 MB (multipart)",
    big === 0 && (await sizeOf(moto, "aws/big.bin")) === 20 * MB,
  );
  const sync = await aws(["s3", "sync", `${base}/dir`, `s3://${BUCKET}/aws/dir`, ...endpoint], env);
  check(
    "aws s3 sync of 5 files",
    sync === 0 && (await sizeOf(moto, "aws/dir/sub folder/f+4 é.txt")) === 1004,
  );
  const stats = proxy.stats();
  console.log(`    aws requests: ${JSON.stringify(stats.requests)}, ${stats.bytesUp} bytes up`);
  const content = 22 * MB + 5010;
  check(
    "bytesUp = the bytes aws uploaded + CompleteMultipartUpload's XML",
    stats.bytesUp >= content && stats.bytesUp < content + 1000,
    `${stats.bytesUp} = ${content} + ${stats.bytesUp - content}`,
  );
} finally {
  sdk?.destroy();
  await proxy?.stop();
  await moto?.stop();
  removeTree(base);
}
console.log(failures === 0 ? "all checks passed" : `${failures} check(s) FAILED`);
Deno.exit(failures === 0 ? 0 : 1);

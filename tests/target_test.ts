import assert from "node:assert/strict";
import { deleteGuard } from "../lib/plan/delete_guard.ts";
import { UsageError } from "../lib/errors.ts";
import { formatBytes } from "../lib/report/format.ts";
import { copySource } from "../lib/s3/aws_store.ts";
import { partSizeFor } from "../lib/s3/parts.ts";
import { bucketNameProblem, formatS3Url, parseS3Url } from "../lib/s3/location.ts";
import { parseConnection } from "../lib/cli/options.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

Deno.test("parseS3Url() normalises the prefix to empty or ending in '/'", () => {
  const cases: Array<[string, string, string]> = [
    ["s3://backup", "backup", ""],
    ["s3://backup/", "backup", ""],
    ["s3://backup//", "backup", ""],
    ["s3://backup/photos", "backup", "photos/"],
    ["s3://backup/photos/", "backup", "photos/"],
    ["s3://backup/nas/photos", "backup", "nas/photos/"],
    ["s3://backup//nas//photos//", "backup", "nas/photos/"],
    ["s3://my.bucket-1/a b/é+%", "my.bucket-1", "a b/é+%/"],
  ];
  for (const [url, bucket, prefix] of cases) {
    assert.deepEqual(parseS3Url(url), { bucket, prefix }, url);
  }
});

Deno.test("parseS3Url() and formatS3Url() round-trip a location", () => {
  const location = parseS3Url("s3://backup/nas/photos");
  assert.equal(formatS3Url(location), "s3://backup/nas/photos/");
  assert.equal(formatS3Url(location, "2023/a.jpg"), "s3://backup/nas/photos/2023/a.jpg");
  assert.equal(formatS3Url(parseS3Url("s3://backup")), "s3://backup/");
});

Deno.test("parseS3Url() throws UsageError for URLs that are not s3://bucket[/prefix]", () => {
  for (
    const url of ["", "backup/photos", "https://backup/photos", "s3:/backup", "s3://", "s3:///x"]
  ) {
    assert.throws(() => parseS3Url(url), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${url}: ${error}`);
      assert.match(error.message, /s3:\/\/bucket/);
      return true;
    });
  }
});

Deno.test("parseS3Url() throws UsageError naming an invalid bucket", () => {
  for (const bucket of ["My_Bucket", "ab", "a..b", "192.168.1.1", "-abc", "abc-", "x".repeat(64)]) {
    assert.throws(() => parseS3Url(`s3://${bucket}/p`), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${bucket}: ${error}`);
      assert.ok(error.message.includes(`"${bucket}"`), error.message);
      return true;
    });
  }
});

Deno.test("bucketNameProblem() accepts valid names and explains invalid ones", () => {
  for (const name of ["abc", "my-bucket", "a.b.c", "0bucket9", "x".repeat(63), "a-b.c-d"]) {
    assert.equal(bucketNameProblem(name), undefined, name);
  }
  const problems: Array<[string, RegExp]> = [
    ["ab", /3 to 63/],
    ["x".repeat(64), /3 to 63/],
    ["", /3 to 63/],
    ["My-Bucket", /lower-case/],
    ["my_bucket", /lower-case/],
    ["-bucket", /start and end/],
    ["bucket.", /start and end/],
    ["a..b", /'\.\.'/],
    ["10.0.0.1", /IP address/],
  ];
  for (const [name, expected] of problems) {
    const problem = bucketNameProblem(name);
    assert.ok(problem !== undefined, name);
    assert.match(problem, expected, name);
  }
});

Deno.test("copySource() URL-encodes the bucket and each key segment, keeping '/'", () => {
  assert.equal(copySource("backup", "photos/a.jpg"), "backup/photos/a.jpg");
  assert.equal(copySource("backup", "a b/c+d.txt"), "backup/a%20b/c%2Bd.txt");
  assert.equal(copySource("backup", "100%/x%20y"), "backup/100%25/x%2520y");
  assert.equal(copySource("backup", "été/日本.jpg"), "backup/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC.jpg");
  assert.equal(copySource("backup", "q?&=#.txt"), "backup/q%3F%26%3D%23.txt");
  assert.equal(copySource("backup", "dir//x/"), "backup/dir//x/");
  // Decoding each segment gives the key back.
  const key = "a b/+%/é?/x";
  const [bucket, ...segments] = copySource("b.k-t", key).split("/");
  assert.equal(bucket, "b.k-t");
  assert.equal(segments.map(decodeURIComponent).join("/"), key);
});

Deno.test("partSizeFor() fits any size up to 5 TiB in 10,000 parts of at most 5 GiB", () => {
  const minimum = 16 * MiB;
  const sizes = [0, 1, 16 * MiB, 100 * GiB, 156.25 * GiB, 160 * GiB + 1, TiB, 3.3 * TiB, 5 * TiB];
  for (const size of sizes) {
    const part = partSizeFor(size, minimum);
    assert.ok(part >= minimum, `${size}: ${part} below the minimum`);
    assert.ok(Math.ceil(size / part) <= 10_000, `${size}: ${Math.ceil(size / part)} parts`);
    assert.ok(part <= 5 * GiB, `${size}: part ${part} above 5 GiB`);
    assert.equal(part % MiB, 0, `${size}: whole MiB`);
  }
  assert.equal(partSizeFor(GiB, minimum), minimum, "small files keep the minimum part size");
  assert.equal(partSizeFor(5 * TiB, 5 * MiB), 525 * MiB);
  assert.equal(partSizeFor(10 * MiB, 5 * MiB), 5 * MiB);
});

Deno.test("deleteGuard() lets small deletes and forced deletes through", () => {
  assert.equal(deleteGuard({ localFiles: 0, remoteObjects: 5000, deletes: 0 }), undefined);
  assert.equal(deleteGuard({ localFiles: 100, remoteObjects: 100, deletes: 3 }), undefined);
  assert.equal(deleteGuard({ localFiles: 1, remoteObjects: 10, deletes: 10 }), undefined);
  assert.equal(deleteGuard({ localFiles: 11, remoteObjects: 22, deletes: 11 }), undefined);
  assert.equal(
    deleteGuard({ localFiles: 0, remoteObjects: 5000, deletes: 5000, force: true }),
    undefined,
  );
});

Deno.test("deleteGuard() refuses any delete when no local file was found", () => {
  const reason = deleteGuard({ localFiles: 0, remoteObjects: 5000, deletes: 5000 });
  assert.ok(reason !== undefined);
  assert.match(reason, /no files/);
  assert.match(reason, /5000/);
  assert.match(reason, /mounted/);
  assert.ok(deleteGuard({ localFiles: 0, remoteObjects: 1, deletes: 1 }) !== undefined);
});

Deno.test("deleteGuard() refuses deleting more than half of the objects, beyond ten", () => {
  const reason = deleteGuard({ localFiles: 10, remoteObjects: 22, deletes: 12 });
  assert.ok(reason !== undefined);
  assert.match(reason, /12 of 22/);
  assert.match(reason, /55%/);
  assert.match(reason, /50%/);
  assert.equal(
    deleteGuard({ localFiles: 10, remoteObjects: 22, deletes: 12, threshold: 0.9 }),
    undefined,
  );
  assert.ok(
    deleteGuard({ localFiles: 90, remoteObjects: 100, deletes: 20, threshold: 0.1 }) !== undefined,
  );
});

Deno.test("deleteGuard() applies maxDelete instead of the fraction", () => {
  const over = deleteGuard({ localFiles: 50, remoteObjects: 100, deletes: 6, maxDelete: 5 });
  assert.ok(over !== undefined);
  assert.match(over, /6 objects/);
  assert.match(over, /--max-delete 5/);
  assert.equal(
    deleteGuard({ localFiles: 10, remoteObjects: 100, deletes: 90, maxDelete: 90 }),
    undefined,
  );
});

Deno.test("deleteGuard() still refuses deletes under maxDelete when no local file was found", () => {
  // An unmounted share run from cron with --max-delete must not wipe the backup.
  const reason = deleteGuard({ localFiles: 0, remoteObjects: 5000, deletes: 500, maxDelete: 1000 });
  assert.ok(reason !== undefined, "deletes allowed although the directory is empty");
  assert.match(reason, /mounted/);
});

Deno.test("formatBytes() shows bytes below 1 KiB as whole bytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1), "1 B");
  assert.equal(formatBytes(1023), "1023 B");
});

Deno.test("formatBytes() picks the binary unit that keeps the number below 1024", () => {
  const cases: Array<[number, number, string]> = [
    [1024, 1, "KiB"],
    [10 * 1024, 10, "KiB"],
    [1023 * 1024, 1023, "KiB"],
    [1.25 * MiB, 1.25, "MiB"],
    [42 * GiB, 42, "GiB"],
    [5 * TiB, 5, "TiB"],
    [3 * 1024 * TiB, 3, "PiB"],
    [2048 * 1024 * TiB, 2048, "PiB"],
  ];
  for (const [bytes, value, unit] of cases) {
    const text = formatBytes(bytes);
    const match = /^(\d+(?:\.\d+)?) ([A-Za-z]+)$/.exec(text);
    assert.ok(match, text);
    assert.equal(match[2], unit, text);
    assert.equal(Number(match[1]), value, text);
  }
});

Deno.test("formatBytes() formats 1536 bytes as in its JSDoc example", () => {
  assert.equal(formatBytes(1536), "1.50 KiB");
});

Deno.test("parseConnection() takes sizes from 5MiB to 5GiB, S3's limits of a part and of one request", () => {
  const transfer = (values: Record<string, string>) => parseConnection(values).transfer!;
  assert.equal(transfer({ "multipart-chunksize": "5GiB" }).partSize, 5 * 1024 ** 3);
  assert.equal(transfer({ "copy-part-size": "64MiB" }).copyPartSize, 64 * 1024 ** 2);
  for (const name of ["multipart-threshold", "multipart-chunksize", "copy-part-size"]) {
    assert.throws(
      () => transfer({ [name]: "6GiB" }),
      (error: Error) =>
        error instanceof UsageError && error.message.includes(`--${name}`) &&
        error.message.includes("at most 5GiB"),
    );
    assert.throws(() => transfer({ [name]: "1MiB" }), /at least 5242880 bytes/);
  }
  assert.throws(() => transfer({ "copy-multipart-threshold": "5.5GiB" }), /at most 5GiB/);
});

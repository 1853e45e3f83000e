/**
 * Checks bench/list_server.ts against real clients: the AWS SDK v3 (with and without
 * EncodingType url, StartAfter, Delimiter, small MaxKeys), `aws s3 ls --recursive` and
 * `aws s3 sync --dryrun` (which must find nothing to upload), on a tree of ~20,000 files
 * with spaces, `+`, `%`, `&`, quotes, accents, CJK, emoji and U+E000–U+FFFF characters in
 * their names. Then times 1,000 pages of 1,000 keys built in-process. Exits 1 on a mismatch.
 *
 * Usage: `deno run --allow-all bench/list_server_check.ts [--files=20000]`
 *
 * @module
 */
import { ListObjectsV2Command, type ListObjectsV2CommandInput, S3Client } from "@aws-sdk/client-s3";
import { benchClient, benchEnv } from "./bench_env.ts";
import { KeyIndex } from "./key_index.ts";
import { listPage } from "./list_page.ts";
import { startListServer } from "./list_server.ts";
import { removeTree } from "./tree.ts";

const FILES = Number(Deno.args.find((arg) => arg.startsWith("--files="))?.slice(8) ?? 20_000);
const NAMES = [
  "plain",
  "with space",
  "a+b",
  "100%",
  "café é",
  "日本",
  "📷 photo",
  "ｆｕｌｌ",
  "\uE000private",
  "a&b<c>'q'\"",
  "~tilde!(x)*",
  "z",
];
const BUCKET = "check-bucket";
const PREFIX = "nas/photos/";
const UTF8 = new TextEncoder();

/** Independent reference order: compare the UTF-8 bytes. */
function byUtf8(a: string, b: string): number {
  const x = UTF8.encode(a);
  const y = UTF8.encode(b);
  for (let index = 0; index < Math.min(x.length, y.length); index++) {
    if (x[index] !== y[index]) return x[index]! - y[index]!;
  }
  return x.length - y.length;
}

function buildTree(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  const folders = Math.ceil(FILES / 1000);
  for (let folder = 0; folder < folders; folder++) {
    const name = `${NAMES[folder % NAMES.length]} ${folder}`;
    Deno.mkdirSync(`${dir}/${name}`);
    for (let file = 0; file < 1000 && files.size < FILES; file++) {
      const path = `${name}/${NAMES[file % NAMES.length]}-${file}.jpg`;
      const size = (file * 7) % 97;
      Deno.writeFileSync(`${dir}/${path}`, new Uint8Array(size));
      files.set(PREFIX + path, size);
    }
  }
  Deno.symlinkSync("/etc/hostname", `${dir}/a symlink`);
  Deno.writeFileSync(`${dir}/.s3-smart-sync.db`, new Uint8Array(3));
  return files;
}

let failures = 0;
function check(what: string, ok: boolean, detail = ""): void {
  if (!ok) failures++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}${detail ? ` — ${detail}` : ""}`);
}

function sameList(a: string[], b: string[]): string {
  if (a.length !== b.length) return `${a.length} vs ${b.length} keys`;
  const index = a.findIndex((key, at) => key !== b[at]);
  return index === -1 ? "" : `first difference at ${index}: ${a[index]} vs ${b[index]}`;
}

const decodeUrl = (key: string) => decodeURIComponent(key.replace(/\+/g, " "));

async function sdkList(client: S3Client, input: Partial<ListObjectsV2CommandInput>) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  const sizes = new Map<string, number>();
  let etagsOk = true;
  let lastModified = 0;
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, ...input, ContinuationToken: token }),
    );
    pages++;
    const decode = page.EncodingType === "url" ? decodeUrl : (key: string) => key;
    for (const object of page.Contents ?? []) {
      keys.push(decode(object.Key!));
      sizes.set(decode(object.Key!), object.Size!);
      etagsOk &&= /^"[0-9a-f]{32}"$/.test(object.ETag ?? "");
      lastModified = object.LastModified!.getTime();
    }
    for (const common of page.CommonPrefixes ?? []) prefixes.push(decode(common.Prefix!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (pages > 100_000) throw new Error("listing does not end");
  } while (token);
  return { keys, prefixes, sizes, etagsOk, lastModified, pages };
}

async function aws(args: string[], env: Record<string, string>) {
  const output = await new Deno.Command("aws", { args, env, clearEnv: true }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

function timePages(): void {
  const objects = [];
  for (let index = 0; index < 1_000_000; index++) {
    objects.push({
      key: `${PREFIX}album-${index % 100}/event ${index % 977}/IMG_${index}.jpg`,
      size: index % 512,
    });
  }
  let start = performance.now();
  const index = new KeyIndex(objects);
  const sortMs = performance.now() - start;
  start = performance.now();
  let bytes = 0;
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const xml = listPage(index, {
      bucket: BUCKET,
      prefix: PREFIX,
      startAfter: after,
      maxKeys: 1000,
      encodingType: "url",
      lastModified: "2025-01-01T00:00:00.000Z",
    });
    bytes += xml.length;
    after = index.keys[(page + 1) * 1000 - 1];
  }
  const pagesMs = performance.now() - start;
  console.log(
    `  1,000,000 keys: sorted in ${
      (sortMs / 1000).toFixed(2)
    }s; 1,000 pages of 1,000 keys (url-encoded) built in ${(pagesMs / 1000).toFixed(2)}s (${
      (bytes / 1e6).toFixed(0)
    } MB of XML)`,
  );
  check("1,000 pages built in under 3 s", pagesMs < 3000);
}

const base = Deno.makeTempDirSync({ prefix: "s3ss-listcheck-" });
const dir = `${base}/tree`;
Deno.mkdirSync(dir);
Deno.mkdirSync(`${base}/home`);
const env = benchEnv(`${base}/home`);
let server: Awaited<ReturnType<typeof startListServer>> | undefined;
let sdk: S3Client | undefined;
try {
  const files = buildTree(dir);
  const expected = [...files.keys()].sort(byUtf8);
  console.log(`list server check: ${expected.length} files under ${dir}`);
  server = await startListServer({ root: dir, bucket: BUCKET, prefix: PREFIX });
  sdk = benchClient(server.endpoint);

  const raw = await sdkList(sdk, { Prefix: PREFIX });
  check(
    "SDK listing (no encoding) = sorted walk",
    sameList(raw.keys, expected) === "",
    sameList(raw.keys, expected),
  );
  check("sizes match", expected.every((key) => raw.sizes.get(key) === files.get(key)));
  check("ETags look like quoted MD5s", raw.etagsOk);
  const newest = Math.max(
    ...[...files.keys()].map((key) =>
      Deno.statSync(`${dir}/${key.slice(PREFIX.length)}`).mtime!.getTime()
    ),
  );
  check(
    "LastModified ≥ every mtime, whole second",
    raw.lastModified >= newest && raw.lastModified % 1000 === 0,
  );
  const url = await sdkList(sdk, { Prefix: PREFIX, EncodingType: "url" });
  check(
    "SDK listing with EncodingType url, decoded = sorted walk",
    sameList(url.keys, expected) === "",
    sameList(url.keys, expected),
  );
  const middle = Math.floor(expected.length / 2);
  const after = await sdkList(sdk, {
    Prefix: PREFIX,
    EncodingType: "url",
    StartAfter: expected[middle],
  });
  check(
    "StartAfter in the middle",
    sameList(after.keys, expected.slice(middle + 1)) === "",
    sameList(after.keys, expected.slice(middle + 1)),
  );
  const small = await sdkList(sdk, { Prefix: `${PREFIX}${NAMES[1]} 1/`, MaxKeys: 7 });
  const inFolder = expected.filter((key) => key.startsWith(`${PREFIX}${NAMES[1]} 1/`));
  check(
    `MaxKeys 7 (${small.pages} pages)`,
    sameList(small.keys, inFolder) === "" && small.pages === Math.ceil(inFolder.length / 7),
  );
  const delimited = await sdkList(sdk, {
    Prefix: PREFIX,
    Delimiter: "/",
    EncodingType: "url",
    MaxKeys: 5,
  });
  const folders = [
    ...new Set(expected.map((key) => key.slice(0, key.indexOf("/", PREFIX.length) + 1))),
  ];
  check(
    "Delimiter / → CommonPrefixes (5 per page)",
    sameList(delimited.prefixes, folders) === "" && delimited.keys.length === 0,
    sameList(delimited.prefixes, folders),
  );
  const none = await sdkList(sdk, { Prefix: "nothing/" });
  check("empty prefix range", none.keys.length === 0 && none.pages === 1);

  await server.reset();
  const endpoint = ["--endpoint-url", server.endpoint];
  const ls = await aws(["s3", "ls", "--recursive", `s3://${BUCKET}/${PREFIX}`, ...endpoint], env);
  const lsKeys = ls.stdout.trimEnd().split("\n").map((line) => line.replace(/^\S+ +\S+ +\d+ /, ""));
  check(
    "aws s3 ls --recursive = sorted walk",
    ls.code === 0 && sameList(lsKeys, expected) === "",
    `exit ${ls.code} ${sameList(lsKeys, expected)} ${ls.stderr.slice(0, 200)}`,
  );
  console.log(`    aws s3 ls requests: ${JSON.stringify(await server.requests())}`);
  console.log(`    first: ${(await server.recent())[0]}`);
  await server.reset();
  const sync = await aws([
    "s3",
    "sync",
    dir,
    `s3://${BUCKET}/${PREFIX}`,
    "--dryrun",
    "--no-follow-symlinks",
    "--exclude",
    "*.s3-smart-sync.db*",
    ...endpoint,
  ], env);
  const uploads = sync.stdout.split("\n").filter((line) => line.includes("upload:"));
  check(
    "aws s3 sync --dryrun finds nothing to upload",
    sync.code === 0 && uploads.length === 0,
    `exit ${sync.code}, ${uploads.length} uploads ${uploads[0] ?? ""} ${sync.stderr.slice(0, 300)}`,
  );
  console.log(`    aws s3 sync requests: ${JSON.stringify(await server.requests())}`);
  console.log(`    first: ${(await server.recent())[0]}`);
  const bad = await fetch(`${server.endpoint}/${BUCKET}/some/key`, { method: "PUT", body: "x" });
  check(
    "PutObject → 501 NotImplemented",
    bad.status === 501 && (await bad.text()).includes("<Code>NotImplemented</Code>"),
  );
  timePages();
} finally {
  sdk?.destroy();
  await server?.stop();
  removeTree(base);
}
console.log(failures === 0 ? "all checks passed" : `${failures} check(s) FAILED`);
Deno.exit(failures === 0 ? 0 : 1);

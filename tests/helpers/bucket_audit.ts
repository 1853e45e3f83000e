/**
 * Audits for tests that try to make a sync lose data: what the bucket holds (by exact
 * key and by content), what the local tree holds, what the state DB claims, and which
 * multipart uploads were left open. Keys are listed with `EncodingType=url`, so that a
 * key holding a carriage return or a control character is seen as it is stored.
 *
 * @module
 */
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import type { S3TestServer } from "./s3_server.ts";

/** MD5 of bytes, hex: what S3 puts in the ETag of an object written in one part. */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** One listed object. */
export interface ListedObject {
  /** The key exactly as stored. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** ETag with its quotes. */
  etag: string;
}

function decodeListedKey(encoded: string): string {
  // EncodingType=url: S3 encodes a space as "+", moto as "%20"; both encode "+" itself.
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

/** Lists every object of a bucket (under `prefix`) with the exact keys. */
export async function listExact(
  server: S3TestServer,
  bucket: string,
  prefix = "",
): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await server.client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix || undefined,
        ContinuationToken: token,
        EncodingType: "url",
      }),
    );
    for (const object of page.Contents ?? []) {
      objects.push({
        key: decodeListedKey(object.Key!),
        size: object.Size ?? 0,
        etag: object.ETag ?? "",
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** Reads one object's bytes. */
export async function getObject(
  server: S3TestServer,
  bucket: string,
  key: string,
): Promise<Uint8Array> {
  const response = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await response.Body!.transformToByteArray();
}

/**
 * The MD5 of every object's content, by key. Objects written in one part carry it in
 * their ETag; the others (multipart uploads) are downloaded once per ETag and hashed.
 */
export class BucketContents {
  readonly #byEtag = new Map<string, string>();

  constructor(private readonly server: S3TestServer, private readonly bucket: string) {}

  /**
   * Key → MD5 hex of the content, for the whole bucket. A request a killed CLI sent
   * just before dying may still run in the server and delete a listed key: then list again.
   */
  async md5ByKey(): Promise<Map<string, string>> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#md5ByKeyOnce();
      } catch (error) {
        if ((error as Error).name !== "NoSuchKey" || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async #md5ByKeyOnce(): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    for (const object of await listExact(this.server, this.bucket)) {
      const plain = /^"([0-9a-f]{32})"$/.exec(object.etag);
      if (plain) {
        result.set(object.key, plain[1]!);
        continue;
      }
      let hash = this.#byEtag.get(object.etag);
      if (hash === undefined) {
        hash = md5Hex(await getObject(this.server, this.bucket, object.key));
        this.#byEtag.set(object.etag, hash);
      }
      result.set(object.key, hash);
    }
    return result;
  }
}

/** A regular file of a local tree. */
export interface TreeFile {
  /** MD5 hex of its bytes. */
  md5: string;
  /** Size in bytes. */
  size: number;
  /** mtime in ms, as the scanner records it. */
  mtimeMs: number;
}

/**
 * Every regular file under `root` (symbolic links, FIFOs and the state DB's files left
 * out), by relative path.
 */
export function treeFiles(root: string): Map<string, TreeFile> {
  const result = new Map<string, TreeFile>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir === "" ? root : `${root}/${dir}`)) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && !(dir === "" && entry.name.startsWith(".s3-smart-sync.db"))) {
        const full = `${root}/${path}`;
        const info = Deno.lstatSync(full);
        result.set(path, {
          md5: md5Hex(Deno.readFileSync(full)),
          size: info.size,
          mtimeMs: info.mtime?.getTime() ?? 0,
        });
      }
    }
  };
  walk("");
  return result;
}

/** A row of the state DB's `files` table. */
export interface StateRow {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  inS3: boolean;
}

/** What the state DB of a tree holds, read from a copy so the run's files stay as they are. */
export interface StateSnapshot {
  /** `PRAGMA integrity_check`: "ok" when sound. */
  integrity: string;
  /** Rows of the `files` table, all targets together. */
  rows: StateRow[];
}

/**
 * Copies the state DB of `root` and its write-ahead log (what a run killed mid-write
 * leaves) into a temp folder, opens the copy and reads it: the next run would see the same.
 */
export function snapshotState(root: string): StateSnapshot {
  const copy = Deno.makeTempDirSync({ prefix: "s3ss-state-" });
  try {
    for (const suffix of ["", "-wal"]) {
      try {
        Deno.copyFileSync(`${root}/.s3-smart-sync.db${suffix}`, `${copy}/state.db${suffix}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    const db = new DatabaseSync(`${copy}/state.db`);
    try {
      const integrity = (db.prepare("PRAGMA integrity_check").all() as Array<
        Record<string, unknown>
      >).map((row) => String(Object.values(row)[0])).join("\n");
      const rows = (db.prepare("SELECT path, size, mtime_ms, ino, in_s3 FROM files").all() as Array<
        { path: string; size: number; mtime_ms: number; ino: number; in_s3: number }
      >).map((row) => ({
        path: row.path,
        size: Number(row.size),
        mtimeMs: Number(row.mtime_ms),
        ino: Number(row.ino),
        inS3: Number(row.in_s3) === 1,
      }));
      return { integrity, rows };
    } finally {
      db.close();
    }
  } finally {
    Deno.removeSync(copy, { recursive: true });
  }
}

/**
 * Rows that would make the next run trust wrong content: the row says the object at its
 * key holds the local file (same size and mtime, so the planner would call it
 * unchanged), the object is there with that size, but its content is another.
 */
export function untrustworthyRows(
  state: StateSnapshot,
  context: { tree: Map<string, TreeFile>; bucket: Map<string, string>; prefix: string },
): string[] {
  const problems: string[] = [];
  for (const row of state.rows) {
    if (!row.inS3) continue;
    const local = context.tree.get(row.path);
    if (!local || local.size !== row.size || local.mtimeMs !== row.mtimeMs) continue;
    const remote = context.bucket.get(context.prefix + row.path);
    if (remote !== undefined && remote !== local.md5) {
      problems.push(
        `${JSON.stringify(row.path)}: the DB says S3 holds the local file, it does not`,
      );
    }
  }
  return problems;
}

/** Multipart uploads left open in a bucket, as "key (upload id)". */
export async function openUploads(server: S3TestServer, bucket: string): Promise<string[]> {
  const response = await server.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (response.Uploads ?? []).map((upload) => `${upload.Key} (${upload.UploadId})`);
}

/**
 * Asserts-by-message that the bucket under `prefix` holds exactly the local tree: same
 * keys (NFC) and the same bytes. Returns the differences (empty when it mirrors).
 */
export async function mirrorDifferences(
  server: S3TestServer,
  context: { bucket: string; prefix: string; root: string },
): Promise<string[]> {
  const expected = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir === "" ? context.root : `${context.root}/${dir}`)) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && !(dir === "" && entry.name.startsWith(".s3-smart-sync.db"))) {
        expected.set(
          context.prefix + path,
          Deno.readFileSync(`${context.root}/${path}`),
        );
      }
    }
  };
  walk("");
  const problems: string[] = [];
  const listed = await listExact(server, context.bucket);
  const seen = new Set<string>();
  for (const object of listed) {
    seen.add(object.key);
    const local = expected.get(object.key);
    if (!local) {
      problems.push(`extra key ${JSON.stringify(object.key)}`);
      continue;
    }
    const remote = await getObject(server, context.bucket, object.key);
    if (md5Hex(remote) !== md5Hex(local)) {
      problems.push(`other content at ${JSON.stringify(object.key)}`);
    }
  }
  for (const key of expected.keys()) {
    if (!seen.has(key)) problems.push(`missing key ${JSON.stringify(key)}`);
  }
  return problems.sort();
}

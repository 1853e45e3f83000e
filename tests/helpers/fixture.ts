/**
 * A test fixture: a temp folder with a local tree, a home, a log dir and a bucket on a
 * shared S3 test server (moto or Ceph RGW, see tests/helpers/servers.ts), plus shortcuts to
 * run the CLI against them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type CliResult, readTree, runCli, writeTree } from "./moto.ts";
import type { S3TestServer } from "./s3_server.ts";

/** One scenario's folders and bucket. */
export class Fixture {
  private constructor(
    readonly server: S3TestServer,
    readonly base: string,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  /** Makes a temp folder with `src/`, `home/` and `logs/`, and a new bucket. */
  static async create(server: S3TestServer, options: { prefix?: string } = {}): Promise<Fixture> {
    const base = await Deno.makeTempDir({ prefix: "s3ss-e2e-" });
    await Deno.mkdir(`${base}/src`);
    await Deno.mkdir(`${base}/home`);
    const bucket = await server.bucket();
    return new Fixture(server, base, bucket, options.prefix ?? "backup/");
  }

  /** The local tree's root. */
  get src(): string {
    return `${this.base}/src`;
  }

  /** `s3://bucket/prefix`. */
  get url(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  /** Writes files under src/. */
  write(files: Record<string, string>): Promise<void> {
    return writeTree(this.src, files);
  }

  /** Runs a command on src/ and the bucket, with --json, the endpoint and the log dir. */
  run(command: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli(
      [
        command,
        this.src,
        this.url,
        "--endpoint-url",
        this.server.endpoint,
        "--log-dir",
        `${this.base}/logs`,
        "--json",
        ...extra,
      ],
      { home: `${this.base}/home`, env },
    );
  }

  /** Runs a command and asserts its exit code, showing the output when it differs. */
  async runOk(command: string, extra: string[] = [], expectedCode = 0): Promise<CliResult> {
    const result = await this.run(command, extra);
    assert.equal(
      result.code,
      expectedCode,
      `exit code ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
    return result;
  }

  /** Asserts that the bucket under the prefix holds exactly the local tree, byte for byte. */
  async assertMirrors(): Promise<void> {
    const remote = await this.server.contents(this.bucket);
    const expected = new Map<string, string>();
    for (const [path, bytes] of readTree(this.src)) {
      expected.set(this.prefix + path, new TextDecoder().decode(bytes));
    }
    const actual = new Map<string, string>();
    for (const [key, bytes] of remote) actual.set(key, new TextDecoder().decode(bytes));
    assert.deepEqual(
      new Map([...actual].sort()),
      new Map([...expected].sort()),
      "the bucket does not mirror the local tree",
    );
  }

  /**
   * Asserts that the bucket mirrors the local tree by key and ETag (the MD5 of each
   * file): for archived objects, which S3 will not let anyone read.
   */
  async assertMirrorsByEtag(): Promise<void> {
    const actual = new Map(
      (await this.server.list(this.bucket)).map((object) => [object.key, object.etag]),
    );
    const expected = new Map<string, string>();
    for (const [path, bytes] of readTree(this.src)) {
      expected.set(
        this.prefix + path,
        `"${createHash("md5").update(bytes).digest("hex")}"`,
      );
    }
    assert.deepEqual(new Map([...actual].sort()), new Map([...expected].sort()));
  }

  /** Removes the temp folder. */
  async cleanup(): Promise<void> {
    await Deno.remove(this.base, { recursive: true });
  }
}

/** Requests of a JSON summary, with absent operations as 0. */
export function requests(json: { requests: Record<string, number> }, operation: string): number {
  return json.requests[operation] ?? 0;
}

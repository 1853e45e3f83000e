/**
 * A real S3 server for end-to-end tests: moto started on a free loopback port, and
 * helpers to drive the CLI as a subprocess against it.
 *
 * @module
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Credentials moto accepts; never real ones. */
export const TEST_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
};

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running moto S3 server. Stop it with {@linkcode MotoServer.stop}. */
export class MotoServer {
  readonly client: S3Client;
  #buckets = 0;

  private constructor(
    private readonly process: Deno.ChildProcess,
    readonly endpoint: string,
  ) {
    this.client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /** Starts `python3 -m moto.server` on a free loopback port and waits until it answers. */
  static async start(): Promise<MotoServer> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      const process = new Deno.Command("python3", {
        args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
        stdout: "null",
        stderr: "null",
        env: { ...TEST_ENV },
      }).spawn();
      const endpoint = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        try {
          const response = await fetch(endpoint + "/moto-api/");
          await response.body?.cancel();
          if (response.ok) return new MotoServer(process, endpoint);
        } catch {
          // not up yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      try {
        process.kill("SIGKILL");
      } catch {
        // already gone
      }
      await process.status;
    }
    throw new Error("moto did not start: is `python3 -m moto.server` available?");
  }

  /** Creates a bucket with a unique name and returns it. */
  async bucket(label = "test"): Promise<string> {
    const name = `${label}-${++this.#buckets}-${crypto.randomUUID().slice(0, 8)}`;
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }

  /** All objects of a bucket: key → bytes. */
  async contents(bucket: string): Promise<Map<string, Uint8Array>> {
    const result = new Map<string, Uint8Array>();
    for (const object of await this.list(bucket)) {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: object.key }),
      );
      result.set(object.key, await response.Body!.transformToByteArray());
    }
    return result;
  }

  /** Lists a bucket: key, size, storage class, last modified. */
  async list(
    bucket: string,
    prefix = "",
  ): Promise<Array<{ key: string; size: number; storageClass?: string; etag?: string }>> {
    const objects = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        objects.push({
          key: object.Key!,
          size: object.Size ?? 0,
          storageClass: object.StorageClass,
          etag: object.ETag,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** Puts an object directly (as another tool would). */
  async put(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options: {
      storageClass?: string;
      contentType?: string;
      metadata?: Record<string, string>;
      tagging?: string;
      contentDisposition?: string;
      cacheControl?: string;
      contentEncoding?: string;
    } = {},
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        StorageClass: options.storageClass as StorageClass | undefined,
        ContentType: options.contentType,
        Metadata: options.metadata,
        Tagging: options.tagging,
        ContentDisposition: options.contentDisposition,
        CacheControl: options.cacheControl,
        ContentEncoding: options.contentEncoding,
      }),
    );
  }

  /** HeadObject of a key. */
  head(bucket: string, key: string) {
    return this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** Tags of an object as a plain record. */
  async tags(bucket: string, key: string): Promise<Record<string, string>> {
    const response = await this.client.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: key }),
    );
    return Object.fromEntries((response.TagSet ?? []).map((tag) => [tag.Key!, tag.Value!]));
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    this.client.destroy();
    try {
      this.process.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.process.status;
  }
}

const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/**
 * The environment of a CLI subprocess: this one's (certificates, proxies, PATH) minus
 * every AWS_ variable, so that no real credential or endpoint leaks into a test, plus
 * test credentials. DENO_DIR is pinned so that a test's own HOME keeps Deno's cache.
 */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  return { ...env, ...TEST_ENV, DENO_DIR };
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON object on stdout's last line, when --json was given. */
  // deno-lint-ignore no-explicit-any
  json?: any;
}

/**
 * Runs `main.ts` as a subprocess with test credentials, HOME in `home` and the given
 * extra environment.
 */
export async function runCli(
  args: string[],
  options: { home: string; env?: Record<string, string>; unset?: string[]; cwd?: string },
): Promise<CliResult> {
  const env: Record<string, string> = { ...childEnv(), HOME: options.home, ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  let json;
  if (args.includes("--json")) {
    const last = stdout.trim().split("\n").at(-1);
    try {
      json = last ? JSON.parse(last) : undefined;
    } catch {
      json = undefined;
    }
  }
  return { code: output.code, stdout, stderr, json };
}

/** Writes files (path → content) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
}

/** Reads every regular file under `root` (except the state DB): relative path → bytes. */
export function readTree(root: string): Map<string, Uint8Array> {
  const result = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${root}/${dir}`)) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && !entry.name.startsWith(".s3-smart-sync.db")) {
        result.set(path, Deno.readFileSync(`${root}/${path}`));
      }
    }
  };
  walk("");
  return result;
}

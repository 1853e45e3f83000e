/**
 * A loopback S3 endpoint that serves ListObjectsV2 of a local tree, for listings far too
 * large for moto (1,000,000 objects): every regular file under `--root` is an object
 * `--prefix + relative path` with the file's size, a LastModified of the server's start
 * rounded up to the next second (no object looks older than its file, as after an
 * `aws s3 sync` upload) and a fake, deterministic ETag.
 *
 * It also answers HeadBucket, GetBucketLocation and ListMultipartUploads (empty); every
 * other request gets a 501 NotImplemented S3 error, so that a client sending something
 * unexpected shows up. Any SigV4 credentials are accepted (signatures are not checked).
 * Requests are counted by S3 operation: `GET /__counts` (JSON), `POST /__reset`;
 * `GET /__recent` shows the last 100 request lines;
 * `POST /__latency?ms=N` changes the delay added to every request.
 *
 * Run as its own process, so that its memory is not counted in a measured client:
 *
 *     deno run --allow-all bench/list_server.ts --root DIR --bucket NAME --prefix P \
 *       --port 0 --latency-ms N [--exit-on-eof]
 *
 * prints `listening http://127.0.0.1:PORT` when ready, and stops on SIGTERM, SIGINT, or
 * with `--exit-on-eof` when its stdin ends (so it never outlives the bench that started
 * it, however that ends); or use {@linkcode startListServer}.
 *
 * @module
 */
import { KeyIndex, walkTree } from "./key_index.ts";
import { ListHandler } from "./list_handler.ts";

/** What the server lists. */
export interface ListServerOptions {
  /** Directory whose files are the objects. */
  root: string;
  /** The one bucket it serves. */
  bucket: string;
  /** Prefix of every key (e.g. `photos/`), may be empty. */
  prefix?: string;
  /** Delay added to every request, ms (default 0). */
  latencyMs?: number;
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
}

/** A running list server (a child process). */
export interface ListServer {
  /** `http://127.0.0.1:PORT`, for `--endpoint-url`. */
  endpoint: string;
  /** Requests so far by S3 operation. */
  requests(): Promise<Record<string, number>>;
  /** The last (at most 100) requests, `METHOD path?query`. */
  recent(): Promise<string[]>;
  /** Forgets the counts and the recent requests. */
  reset(): Promise<void>;
  /** Changes the delay added to every request. */
  setLatency(ms: number): Promise<void>;
  /** Stops the process and waits for it. */
  stop(): Promise<void>;
}

function flag(args: string[], name: string): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === `--${name}`) return args[index + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

async function serveMain(args: string[]): Promise<void> {
  const root = flag(args, "root");
  const bucket = flag(args, "bucket");
  if (!root || !bucket) {
    console.error(
      "usage: list_server.ts --root DIR --bucket NAME [--prefix P] [--port N] [--latency-ms N]",
    );
    Deno.exit(2);
  }
  const prefix = flag(args, "prefix") ?? "";
  const index = new KeyIndex(await walkTree(root, prefix));
  const lister = new ListHandler(index, bucket, Number(flag(args, "latency-ms") ?? 0));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: Number(flag(args, "port") ?? 0), onListen() {} },
    (request) => lister.handle(request),
  );
  const stop = async () => {
    await server.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  console.log(`listening http://127.0.0.1:${server.addr.port}`);
  if (args.includes("--exit-on-eof")) {
    // The parent holds our stdin open; when it ends (even killed with SIGKILL), so do we.
    for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
    await stop();
  }
}

/**
 * Starts the list server as a child process (`deno run`), waits until it has indexed the
 * tree and listens, and returns its endpoint and controls.
 *
 * @example
 * ```ts
 * const server = await startListServer({ root: "/tmp/tree", bucket: "b", prefix: "p/" });
 * try {
 *   // … run a client with --endpoint-url server.endpoint …
 *   console.log(await server.requests()); // { ListObjectsV2: 100 }
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startListServer(
  options: ListServerOptions,
  timeoutMs = 600_000,
): Promise<ListServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL(import.meta.url).pathname,
      `--root=${options.root}`,
      `--bucket=${options.bucket}`,
      `--prefix=${options.prefix ?? ""}`,
      `--port=${options.port ?? 0}`,
      `--latency-ms=${options.latencyMs ?? 0}`,
      "--exit-on-eof",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    await child.stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    clearTimeout(timer);
  };
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let endpoint: string | undefined;
  const deadline = setTimeout(() => lines.cancel(), timeoutMs);
  try {
    while (endpoint === undefined) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
      endpoint = /^listening (http:\/\/\S+)$/m.exec(seen)?.[1];
    }
  } finally {
    clearTimeout(deadline);
  }
  if (endpoint === undefined) {
    await stop();
    throw new Error(`list server did not start (output: ${JSON.stringify(seen)})`);
  }
  // Keep draining stdout so that a later line can never block the child.
  (async () => {
    while (!(await lines.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  const base = endpoint;
  const post = async (path: string) => {
    const response = await fetch(base + path, { method: "POST" });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  };
  return {
    endpoint: base,
    requests: async () =>
      (await (await fetch(`${base}/__counts`)).json()) as Record<string, number>,
    recent: async () => (await (await fetch(`${base}/__recent`)).json()) as string[],
    reset: () => post("/__reset"),
    setLatency: (ms) => post(`/__latency?ms=${ms}`),
    stop,
  };
}

if (import.meta.main) await serveMain(Deno.args);

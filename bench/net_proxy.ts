/**
 * A loopback "home NAS link" in front of a real S3 server (moto): every request waits
 * `latencyMs` before it is forwarded, and request bodies (uploads) go through ONE token
 * bucket shared by all connections, as on a real uplink; response bodies optionally
 * through another. Bodies are streamed in 64 KiB pieces (a 100 MB upload is never held
 * in memory), and every header is forwarded as sent — Host, Content-Length and the SigV4
 * ones — with the same path and query (node:http, since fetch would drop Content-Length
 * of a streamed body and send it chunked). Requests are counted by S3 operation, and
 * body bytes in both directions.
 *
 * @module
 */
import http from "node:http";
import { Readable } from "node:stream";
import { s3ErrorResponse, s3Operation } from "./s3_operation.ts";
import { TokenBucket } from "./token_bucket.ts";

/** The link's properties. */
export interface LinkOptions {
  /** Delay added once to every request before it is forwarded, ms. */
  latencyMs: number;
  /** Cap on request-body bytes per second over all connections (0 or Infinity: none). */
  uploadBytesPerSecond: number;
  /** Cap on response-body bytes per second over all connections (default: none). */
  downloadBytesPerSecond?: number;
}

/** Options of {@linkcode startNetProxy}. */
export interface NetProxyOptions extends LinkOptions {
  /** The S3 server, `http://host:port`. */
  upstream: string;
}

/** What went through the proxy since the start or the last reset. */
export interface NetProxyStats {
  /** Requests by S3 operation. */
  requests: Record<string, number>;
  /** All requests. */
  total: number;
  /** Request-body bytes forwarded (uploads). */
  bytesUp: number;
  /** Response-body bytes returned (downloads, XML answers). */
  bytesDown: number;
}

/** A running proxy. */
export interface NetProxy {
  /** `http://127.0.0.1:PORT`, for `--endpoint-url`. */
  endpoint: string;
  /** A copy of the counts. */
  stats(): NetProxyStats;
  /** Zeroes the counts. */
  reset(): void;
  /** Changes latency and rates (e.g. none while setting up, then the measured link). */
  setLink(link: Partial<LinkOptions>): void;
  /** Stops listening and closes the upstream connections. */
  stop(): Promise<void>;
}

const PIECE = 64 * 1024;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "expect", "upgrade"]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pieces(chunk: Uint8Array): Uint8Array[] {
  if (chunk.length <= PIECE) return [chunk];
  const out = [];
  for (let at = 0; at < chunk.length; at += PIECE) out.push(chunk.subarray(at, at + PIECE));
  return out;
}

/** Forwarding with the link applied. */
class Link {
  stats: NetProxyStats = { requests: {}, total: 0, bytesUp: 0, bytesDown: 0 };
  latencyMs: number;
  readonly up: TokenBucket;
  readonly down: TokenBucket;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  readonly upstream: URL;

  constructor(options: NetProxyOptions) {
    this.upstream = new URL(options.upstream);
    this.latencyMs = options.latencyMs;
    this.up = new TokenBucket(options.uploadBytesPerSecond);
    this.down = new TokenBucket(options.downloadBytesPerSecond ?? 0);
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const operation = s3Operation(request.method, url, request.headers);
    this.stats.requests[operation] = (this.stats.requests[operation] ?? 0) + 1;
    this.stats.total++;
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    try {
      return await this.forward(request, url);
    } catch (error) {
      await request.body?.cancel().catch(() => {});
      return s3ErrorResponse(502, "BadGateway", `net proxy: ${error}`, url.pathname);
    }
  }

  forward(request: Request, url: URL): Promise<Response> {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    });
    return new Promise((resolve, reject) => {
      const outgoing = http.request({
        host: this.upstream.hostname,
        port: Number(this.upstream.port),
        method: request.method,
        path: url.pathname + url.search,
        headers,
        agent: this.agent,
      });
      outgoing.on("response", (incoming) => resolve(this.response(request.method, incoming)));
      outgoing.on("error", reject);
      this.sendBody(request.body, outgoing).catch((error) => outgoing.destroy(error));
    });
  }

  async sendBody(body: ReadableStream<Uint8Array> | null, outgoing: http.ClientRequest) {
    if (body) {
      for await (const chunk of body) {
        for (const piece of pieces(chunk)) {
          await this.up.take(piece.length);
          this.stats.bytesUp += piece.length;
          if (!outgoing.write(piece)) {
            await new Promise((resolve) => outgoing.once("drain", resolve));
          }
        }
      }
    }
    outgoing.end();
  }

  response(method: string, incoming: http.IncomingMessage): Response {
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
    }
    const status = incoming.statusCode ?? 502;
    if (method === "HEAD" || status === 204 || status === 304) {
      incoming.resume();
      return new Response(null, { status, headers });
    }
    const counted = new TransformStream<Uint8Array, Uint8Array>({
      transform: async (chunk, controller) => {
        for (const piece of pieces(chunk)) {
          await this.down.take(piece.length);
          this.stats.bytesDown += piece.length;
          controller.enqueue(piece);
        }
      },
    });
    const body = (Readable.toWeb(incoming) as ReadableStream<Uint8Array>).pipeThrough(counted);
    return new Response(body, { status, headers });
  }
}

/**
 * Starts the proxy on a free loopback port in this process.
 *
 * @example
 * ```ts
 * const proxy = await startNetProxy({
 *   upstream: "http://127.0.0.1:5000", // moto
 *   latencyMs: 30,
 *   uploadBytesPerSecond: 5_000_000,
 * });
 * // … run a client with --endpoint-url proxy.endpoint …
 * console.log(proxy.stats()); // { requests: { PutObject: 10 }, total: 10, bytesUp: … }
 * await proxy.stop();
 * ```
 */
export function startNetProxy(options: NetProxyOptions): Promise<NetProxy> {
  const link = new Link(options);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => link.handle(request),
  );
  return Promise.resolve({
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    stats: () => structuredClone(link.stats),
    reset: () => {
      link.stats = { requests: {}, total: 0, bytesUp: 0, bytesDown: 0 };
    },
    setLink: (change) => {
      if (change.latencyMs !== undefined) link.latencyMs = change.latencyMs;
      if (change.uploadBytesPerSecond !== undefined) link.up.setRate(change.uploadBytesPerSecond);
      if (change.downloadBytesPerSecond !== undefined) {
        link.down.setRate(change.downloadBytesPerSecond);
      }
    },
    stop: async () => {
      await server.shutdown();
      link.agent.destroy();
    },
  });
}

/**
 * Loopback proxies between the CLI and the S3 test server, to make S3 misbehave on purpose:
 * {@linkcode HttpProxy} sees every request and may answer, hold or forward it;
 * {@linkcode TcpProxy} forwards bytes and can cut every connection and refuse new ones
 * (S3 gone), then listen again on the same port (S3 back).
 *
 * @module
 */
import http from "node:http";

/** What {@linkcode HttpProxy} knows about a request when it decides. */
export interface ProxiedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query, as sent. */
  url: URL;
  /** Request headers. */
  headers: Headers;
}

/** Decides about a request: a Response to answer it here, undefined to forward it. */
export type Intercept = (
  request: ProxiedRequest,
) => Response | undefined | Promise<Response | undefined>;

/** The S3 operation a request is, as far as these tests need to tell them apart. */
export function operationOf(request: ProxiedRequest): string {
  const query = request.url.searchParams;
  const method = request.method;
  if (method === "PUT" && request.headers.has("x-amz-copy-source")) {
    return query.has("partNumber") ? "UploadPartCopy" : "CopyObject";
  }
  if (method === "PUT" && query.has("partNumber")) return "UploadPart";
  if (method === "PUT") return "PutObject";
  if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
  if (method === "POST" && query.has("uploadId")) return "CompleteMultipartUpload";
  if (method === "POST" && query.has("delete")) return "DeleteObjects";
  if (method === "DELETE" && query.has("uploadId")) return "AbortMultipartUpload";
  if (method === "HEAD") return "HeadObject";
  if (method === "GET" && query.has("uploads")) return "ListMultipartUploads";
  if (method === "GET" && (query.has("list-type") || request.url.pathname.split("/").length <= 2)) {
    return "ListObjects";
  }
  return `${method}`;
}

/** Hop-by-hop headers, not passed on in either direction. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "expect", "upgrade"];

/**
 * Sends `request` on to `upstream` (an http://host:port URL) with every end-to-end header
 * as received, the Host header included (fetch would replace it with the upstream's, and a
 * server that checks SigV4 signatures, as Ceph RGW does, would refuse the request), and
 * returns the upstream's answer as is. The body is buffered; each request gets its own
 * connection, closed after the answer.
 */
export async function forward(upstream: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const target = new URL(upstream);
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.includes(name)) headers[name] = value;
  });
  const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
  if (body !== undefined) headers["content-length"] = String(body.length);
  const answer = await new Promise<
    { status: number; headers: Headers; body: Uint8Array<ArrayBuffer> }
  >(
    (resolve, reject) => {
      const outgoing = http.request({
        host: target.hostname,
        port: Number(target.port || 80),
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        agent: false,
      }, (incoming) => {
        const chunks: Uint8Array[] = [];
        incoming.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value === undefined || HOP_BY_HOP.includes(name)) continue;
            for (const one of Array.isArray(value) ? value : [value]) {
              responseHeaders.append(name, one);
            }
          }
          resolve({
            status: incoming.statusCode ?? 502,
            headers: responseHeaders,
            body: concat(chunks),
          });
        });
      });
      outgoing.on("error", reject);
      outgoing.end(body);
    },
  );
  const empty = request.method === "HEAD" || answer.status === 204 || answer.status === 304;
  return new Response(empty ? null : answer.body, {
    status: answer.status,
    headers: answer.headers,
  });
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** An S3 error answer. */
export function s3Error(status: number, code: string, message: string): Response {
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );
}

/**
 * An HTTP proxy on a free loopback port that forwards to `upstream` (bodies buffered),
 * unless `intercept` answers the request itself. `intercept` may be replaced at any time.
 *
 * @example
 * ```ts
 * const proxy = HttpProxy.start(moto.endpoint);
 * proxy.intercept = (request) =>
 *   operationOf(request) === "CopyObject" ? s3Error(403, "AccessDenied", "no") : undefined;
 * ```
 */
export class HttpProxy {
  /** Decides about each request; forwards everything when it returns undefined. */
  intercept: Intercept = () => undefined;
  /** Requests seen, by operation. */
  readonly seen = new Map<string, number>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor(readonly upstream: string) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => this.#handle(request),
    );
  }

  /** Starts a proxy to `upstream` (an http://host:port URL). */
  static start(upstream: string): HttpProxy {
    return new HttpProxy(upstream);
  }

  /** The URL to give the CLI as --endpoint-url. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const proxied = { method: request.method, url, headers: request.headers };
    const operation = operationOf(proxied);
    this.seen.set(operation, (this.seen.get(operation) ?? 0) + 1);
    const answer = await this.intercept(proxied);
    if (answer) {
      await request.body?.cancel();
      return answer;
    }
    return await forward(this.upstream, request);
  }

  /** Stops the proxy. */
  async stop(): Promise<void> {
    await this.#server.shutdown();
  }
}

/**
 * A TCP proxy on a loopback port that forwards every connection to `upstream`.
 * {@linkcode TcpProxy.cut} closes what is open and the port (connections are refused);
 * {@linkcode TcpProxy.restore} listens on the same port again; {@linkcode TcpProxy.pause}
 * and {@linkcode TcpProxy.resume} stop and restart the flow of bytes (a silent server).
 */
export class TcpProxy {
  #listener?: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  #resumed: Promise<void> = Promise.resolve();
  #resume: (() => void) | undefined;
  /** Connections accepted so far. */
  connections = 0;

  private constructor(
    readonly port: number,
    private readonly upstream: { hostname: string; port: number },
  ) {}

  /** Starts a proxy to `upstream` (an http://host:port URL) on a free loopback port. */
  static start(upstream: string): TcpProxy {
    const target = new URL(upstream);
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const proxy = new TcpProxy(port, { hostname: target.hostname, port: Number(target.port) });
    proxy.restore();
    return proxy;
  }

  /** The URL to give the CLI as --endpoint-url. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the proxy's port and forwards new connections. */
  restore(): void {
    if (this.#listener) return;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    (async () => {
      try {
        for await (const conn of listener) this.#forward(conn);
      } catch {
        // closed by cut()
      }
    })();
  }

  async #forward(client: Deno.Conn): Promise<void> {
    this.connections++;
    this.#open.add(client);
    let server: Deno.Conn | undefined;
    try {
      server = await Deno.connect(this.upstream);
      this.#open.add(server);
      // When either side is done, the connection is: close both so the other pump ends.
      await Promise.race([this.#pump(client, server), this.#pump(server, client)]);
    } catch {
      // either side went away
    } finally {
      for (const conn of [client, server]) {
        if (!conn) continue;
        this.#open.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) return;
        // Paused: the bytes wait here, so S3 looks silent in both directions.
        await this.#resumed;
        for (let written = 0; written < read;) {
          written += await to.write(buffer.subarray(written, read));
        }
      }
    } catch {
      // closed by cut(), or by the other side
    }
  }

  /** S3 falls silent: connections stay open (and new ones are accepted) but nothing flows. */
  pause(): void {
    if (this.#resume) return;
    this.#resumed = new Promise((resolve) => this.#resume = resolve);
  }

  /** S3 answers again: what was held flows on. */
  resume(): void {
    this.#resume?.();
    this.#resume = undefined;
    this.#resumed = Promise.resolve();
  }

  /** S3 goes away: open connections are closed and the port refuses new ones. */
  cut(): void {
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    this.#listener = undefined;
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    this.#open.clear();
  }

  /** Stops the proxy for good. */
  stop(): void {
    this.cut();
    this.resume();
  }
}

/**
 * A TCP proxy on loopback between the CLI and moto that a test can switch between
 * forwarding and failing: refusing connections (the listener is closed, as when the
 * server is down) or accepting and closing them at once (as when something in between
 * resets them). Switching to a failing mode closes every open connection, so kept-alive
 * sockets fail too. moto keeps its state in memory; this lets it live on.
 *
 * It looks at the first bytes of each chunk the client sends to count HTTP requests,
 * and can switch itself to a failing mode after the n-th request that matches.
 *
 * @module
 */

/** What the proxy does with connections. */
export type ProxyMode = "forward" | "refuse" | "reset";

/** A request line (and headers, as far as they are in the first chunk) seen by the proxy. */
export type RequestMatcher = (head: string) => boolean;

const REQUEST_LINE = /^(GET|PUT|POST|DELETE|HEAD) /;

/** The proxy. Start it with {@linkcode FaultProxy.start}; close it with `close()`. */
export class FaultProxy {
  #listener: Deno.Listener | undefined;
  #mode: ProxyMode = "forward";
  readonly #connections = new Set<Deno.Conn>();
  #trigger: { matches: RequestMatcher; remaining: number; mode: ProxyMode } | undefined;
  #accepting: Promise<void> | undefined;
  /** Requests forwarded, by method. */
  readonly requests: Record<string, number> = {};
  /** Requests that matched the trigger, whether forwarded or not. */
  matched = 0;

  private constructor(readonly port: number, private readonly target: Deno.ConnectOptions) {}

  /** Starts a proxy on a free loopback port in front of `endpoint` (http://host:port). */
  static start(endpoint: string): FaultProxy {
    const url = new URL(endpoint);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const proxy = new FaultProxy((listener.addr as Deno.NetAddr).port, {
      hostname: url.hostname,
      port: Number(url.port),
    });
    proxy.#listen(listener);
    return proxy;
  }

  /** The endpoint URL the CLI should use. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The current mode. */
  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Switches mode. Failing modes close every open connection at once. */
  setMode(mode: ProxyMode): void {
    this.#mode = mode;
    if (mode !== "forward") {
      for (const conn of this.#connections) this.#close(conn);
      this.#connections.clear();
    }
    if (mode === "refuse" && this.#listener) {
      this.#listener.close();
      this.#listener = undefined;
    } else if (mode !== "refuse" && !this.#listener) {
      this.#listen(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
    }
  }

  /**
   * After `count` requests that match have been forwarded, the next matching request
   * is not forwarded: the proxy switches to `mode` instead.
   */
  failAfter(matches: RequestMatcher, count: number, mode: ProxyMode): void {
    this.#trigger = { matches, remaining: count, mode };
  }

  /** Stops and closes everything. */
  async close(): Promise<void> {
    this.#trigger = undefined;
    this.#mode = "refuse";
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#connections) this.#close(conn);
    this.#connections.clear();
    await this.#accepting?.catch(() => {});
  }

  #close(conn: Deno.Conn): void {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }

  #listen(listener: Deno.Listener): void {
    this.#listener = listener;
    this.#accepting = (async () => {
      try {
        for await (const conn of listener) {
          if (this.#mode !== "forward") {
            this.#close(conn);
            continue;
          }
          this.#serve(conn);
        }
      } catch {
        // the listener was closed
      }
    })();
  }

  #serve(client: Deno.Conn): void {
    this.#connections.add(client);
    (async () => {
      let upstream: Deno.Conn | undefined;
      try {
        upstream = await Deno.connect(this.target);
        this.#connections.add(upstream);
        const up = upstream;
        const down = up.readable.pipeTo(client.writable).catch(() => {});
        const buffer = new Uint8Array(64 * 1024);
        const writer = up.writable.getWriter();
        while (true) {
          const read = await client.read(buffer);
          if (read === null) break;
          const chunk = buffer.subarray(0, read);
          const head = new TextDecoder().decode(chunk.subarray(0, Math.min(read, 4096)));
          const request = REQUEST_LINE.exec(head);
          if (request) {
            if (this.#trigger && this.#trigger.matches(head)) {
              this.matched++;
              if (this.#trigger.remaining-- <= 0) {
                const mode = this.#trigger.mode;
                this.#trigger = undefined;
                this.setMode(mode);
              }
            }
            if (this.#mode === "forward") {
              this.requests[request[1]!] = (this.requests[request[1]!] ?? 0) + 1;
            }
          }
          if (this.#mode !== "forward") break;
          await writer.write(chunk.slice());
        }
        await down;
      } catch {
        // closed by a mode switch or by either side
      } finally {
        this.#close(client);
        if (upstream) this.#close(upstream);
        this.#connections.delete(client);
        if (upstream) this.#connections.delete(upstream);
      }
    })();
  }
}

/** Matches a PutObject or UploadPart (a PUT without a copy source). */
export const isUpload: RequestMatcher = (head) =>
  head.startsWith("PUT ") && !/\r\nx-amz-copy-source:/i.test(head);

/** Matches a CopyObject (a PUT with a copy source). */
export const isCopy: RequestMatcher = (head) =>
  head.startsWith("PUT ") && /\r\nx-amz-copy-source:/i.test(head);

/** Matches an UploadPart. */
export const isUploadPart: RequestMatcher = (head) =>
  head.startsWith("PUT ") && /[?&]partNumber=/.test(head.slice(0, head.indexOf("\r\n")));

/**
 * An HTTP proxy on loopback in front of moto (Deno.serve forwarding with fetch) whose
 * answers a test can replace: throttling, server errors, errors inside a 200.
 *
 * @module
 */

/** Decides, per request, whether to answer in moto's place (return a Response) or forward. */
export type Interceptor = (
  request: Request,
  url: URL,
) => Response | undefined | Promise<Response | undefined>;

/** A running proxy. */
export interface HttpProxy {
  /** The endpoint URL the CLI should use. */
  endpoint: string;
  /** Stops it. */
  shutdown(): Promise<void>;
}

/** Starts a proxy to `target` (moto's endpoint) that asks `intercept` first. */
export function startHttpProxy(target: string, intercept: Interceptor): HttpProxy {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const answer = await intercept(request, url);
      if (answer) {
        await request.body?.cancel();
        return answer;
      }
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
      const response = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body,
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    },
  );
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    shutdown: () => server.shutdown(),
  };
}

/** An S3 error document with its status. */
export function s3Error(status: number, code: string, message: string): Response {
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );
}

/**
 * The HTTP transport of the listing. A run sends a ListObjectsV2 request per 1,000 keys,
 * 16 at a time; through Deno's `node:http` each answer leaves buffers behind that only a
 * garbage collection frees, ~20 MB more peak memory at a million keys than through
 * Deno's own `fetch`. So listings go through `fetch` (the SDK's FetchHttpHandler), and
 * everything else — uploads stream Node streams — through `node:http` as before.
 *
 * Two differences are smoothed over: a request `fetch` could not send (refused, reset,
 * DNS) is a bare `TypeError("fetch failed")` that the SDK would not retry, so it is
 * given the `ECONNRESET` code the SDK retries; and `fetch` follows HTTP(S)_PROXY and
 * refuses some ports where `node:http` does neither, so with a proxy in the environment
 * or an endpoint on such a port the listing keeps `node:http`, like every other request.
 *
 * @module
 */
import { FetchHttpHandler } from "@smithy/fetch-http-handler";

/** Ports the Fetch standard blocks (and Deno's `fetch` with it). */
const BLOCKED_PORTS = new Set(
  (
    "1 7 9 11 13 15 17 19 20 21 22 23 25 37 42 43 53 69 77 79 87 95 101 102 103 104 109 110 " +
    "111 113 115 117 119 123 135 137 139 143 161 179 389 427 465 512 513 514 515 526 530 531 " +
    "532 540 548 554 556 563 587 601 636 989 990 993 995 1719 1720 1723 2049 3659 4045 4190 " +
    "5060 5061 6000 6566 6665 6666 6667 6668 6669 6679 6697 10080"
  ).split(" ").map(Number),
);

const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];

/**
 * Whether listings to `endpoint` (undefined: AWS) may go through `fetch`: not when a
 * proxy is configured in the environment (only `fetch` would use it) or the endpoint's
 * port is one `fetch` refuses.
 *
 * @example
 * ```ts
 * fetchListingAllowed("http://127.0.0.1:9000"); // true, unless HTTP_PROXY or the like is set
 * fetchListingAllowed("http://nas.local:6000"); // false: fetch refuses port 6000
 * ```
 */
export function fetchListingAllowed(endpoint: string | undefined): boolean {
  const proxy = PROXY_VARIABLES.some((name) =>
    Deno.env.get(name) || Deno.env.get(name.toLowerCase())
  );
  if (proxy) return false;
  if (endpoint === undefined) return true;
  try {
    return !BLOCKED_PORTS.has(Number(new URL(endpoint).port));
  } catch {
    return false; // an endpoint URL the SDK will refuse anyway
  }
}

/**
 * The request handler of listings: `fetch`, with a request that could not be sent made
 * retryable (see the module's description).
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 *
 * const listClient = new S3Client({
 *   requestHandler: new ListingHandler({ requestTimeout: 120_000 }),
 * });
 * ```
 */
export class ListingHandler extends FetchHttpHandler {
  override async handle(
    ...args: Parameters<FetchHttpHandler["handle"]>
  ): ReturnType<FetchHttpHandler["handle"]> {
    try {
      return await super.handle(...args);
    } catch (error) {
      throw retryable(error);
    }
  }
}

/**
 * A request `fetch` could not send, as an error the SDK retries and that reads like
 * `node:http`'s: the cause's text ("tcp connect error: Connection refused …") and
 * the code `ECONNRESET`. Other errors pass unchanged.
 */
function retryable(error: unknown): unknown {
  if (!(error instanceof TypeError)) return error;
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return Object.assign(new Error(cause ?? error.message, { cause: error }), {
    name: "NetworkError",
    code: "ECONNRESET",
  });
}

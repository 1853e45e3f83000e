/**
 * The request handler of bench/list_server.ts.
 *
 * @module
 */
import type { KeyIndex } from "./key_index.ts";
import { listPage, type ListParams, xmlEscape } from "./list_page.ts";
import { s3ErrorResponse, s3Operation } from "./s3_operation.ts";

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function xml(body: string, status = 200): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { "content-type": "application/xml" },
  });
}

/**
 * Answers the requests of bench/list_server.ts for one tree: ListObjectsV2 from the
 * index, HeadBucket, GetBucketLocation, an empty ListMultipartUploads, a 501 S3 error for
 * anything else; control paths under `/__`. Counts requests by S3 operation.
 */
export class ListHandler {
  /** Requests by S3 operation. */
  readonly counts: Record<string, number> = {};
  /** The last requests, `METHOD path?query`, newest last (at most 100). */
  readonly recent: string[] = [];
  /** LastModified of every object: the start, rounded up to the next whole second. */
  readonly lastModified: string;

  /** Serves `index` as the objects of `bucket`, adding `latencyMs` to every request. */
  constructor(
    readonly index: KeyIndex,
    readonly bucket: string,
    public latencyMs: number,
  ) {
    this.lastModified = new Date(Math.ceil(Date.now() / 1000) * 1000).toISOString();
  }

  /** Answers a control path: /__counts, /__recent, /__info, /__reset, /__latency?ms=N. */
  control(request: Request, url: URL): Response {
    if (url.pathname === "/__counts") return Response.json(this.counts);
    if (url.pathname === "/__recent") return Response.json(this.recent);
    if (url.pathname === "/__info") {
      return Response.json({
        objects: this.index.length,
        lastModified: this.lastModified,
        latencyMs: this.latencyMs,
      });
    }
    if (request.method === "POST" && url.pathname === "/__reset") {
      for (const operation of Object.keys(this.counts)) delete this.counts[operation];
      this.recent.length = 0;
      return new Response(null, { status: 204 });
    }
    if (request.method === "POST" && url.pathname === "/__latency") {
      this.latencyMs = Number(url.searchParams.get("ms") ?? 0);
      return new Response(null, { status: 204 });
    }
    return new Response("unknown control path\n", { status: 404 });
  }

  /** Answers a request (after the latency). */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__")) return this.control(request, url);
    const operation = s3Operation(request.method, url, request.headers);
    this.counts[operation] = (this.counts[operation] ?? 0) + 1;
    this.recent.push(`${request.method} ${url.pathname}${url.search}`);
    if (this.recent.length > 100) this.recent.shift();
    await request.body?.cancel();
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const bucket = url.pathname.replace(/^\/+/, "").split("/")[0]!;
    if (bucket !== "" && bucket !== this.bucket) {
      return s3ErrorResponse(404, "NoSuchBucket", "The specified bucket does not exist", bucket);
    }
    const query = url.searchParams;
    switch (operation) {
      case "HeadBucket":
        return new Response(null, { headers: { "x-amz-bucket-region": "us-east-1" } });
      case "GetBucketLocation":
        return xml(`<LocationConstraint xmlns="${XMLNS}"></LocationConstraint>`);
      case "ListMultipartUploads":
        return xml(
          `<ListMultipartUploadsResult xmlns="${XMLNS}"><Bucket>${xmlEscape(bucket)}</Bucket>` +
            `<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
            `<Prefix>${xmlEscape(query.get("prefix") ?? "")}</Prefix>` +
            `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
            `</ListMultipartUploadsResult>`,
        );
      case "ListObjectsV2":
        return this.list(query);
      default:
        return s3ErrorResponse(
          501,
          "NotImplemented",
          `The bench list server does not implement ${operation}`,
          url.pathname,
        );
    }
  }

  /** Answers ListObjectsV2. */
  list(query: URLSearchParams): Response {
    const maxKeysText = query.get("max-keys");
    const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      return s3ErrorResponse(
        400,
        "InvalidArgument",
        "Provided max-keys not an integer or within integer range",
      );
    }
    const encodingType = query.get("encoding-type") ?? undefined;
    if (encodingType !== undefined && encodingType !== "url") {
      return s3ErrorResponse(
        400,
        "InvalidArgument",
        "Invalid Encoding Method specified in Request",
      );
    }
    const delimiter = query.get("delimiter") || undefined;
    const params: ListParams = {
      bucket: this.bucket,
      prefix: query.get("prefix") ?? "",
      startAfter: query.get("start-after") ?? undefined,
      continuationToken: query.get("continuation-token") ?? undefined,
      maxKeys: Math.min(maxKeys, 1000),
      delimiter,
      encodingType,
      lastModified: this.lastModified,
    };
    try {
      return xml(listPage(this.index, params));
    } catch {
      return s3ErrorResponse(
        400,
        "InvalidArgument",
        "The continuation token provided is incorrect",
      );
    }
  }
}

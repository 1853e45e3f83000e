/**
 * The S3 servers end-to-end suites run against, behind one {@linkcode S3TestServer} type:
 * moto (AWS's semantics as moto models them) and Ceph's RADOS Gateway (a real S3
 * implementation, with its own answers). {@linkcode forEachServer} registers a suite once
 * per server, as `name [moto]` and `name [rgw]`; each test starts its own server, runs the
 * suite's steps on it and stops it (by process id) in a finally.
 *
 * Where a server answers differently and the tool is not expected to hide it (how many
 * requests something takes, whether an archived object is readable), a test makes its
 * expectation depend on `server.kind`, with a comment saying why.
 *
 * @example
 * ```ts
 * import { forEachServer } from "./servers.ts";
 * import { Fixture } from "./fixture.ts";
 *
 * forEachServer("sync against a real S3 server", async (t, server) => {
 *   await t.step("a renamed file is moved", async () => {
 *     const f = await Fixture.create(server);
 *     try {
 *       await f.write({ "a.txt": "a" });
 *       await f.runOk("sync");
 *     } finally {
 *       await f.cleanup();
 *     }
 *   });
 * });
 * ```
 *
 * @module
 */
import { MotoServer } from "./moto.ts";
import { missingRgwBinaries, type RgwOptions, type RgwProcess, startRgw } from "./rgw.ts";
import { S3ClientServer, type S3TestServer, type ServerKind } from "./s3_server.ts";

export type { ListedS3Object, PutOptions, S3TestServer, ServerKind } from "./s3_server.ts";

/** Every server a suite registered with {@linkcode forEachServer} runs on, in this order. */
export const SERVER_KINDS: readonly ServerKind[] = ["moto", "rgw"];

/**
 * Set to 1 to make a missing RGW fail the [rgw] tests instead of ignoring them (CI, which
 * installs RGW first, sets it).
 */
export const REQUIRE_RGW_ENV = "S3SS_REQUIRE_RGW";

/** Ceph RGW on a throw-away single-node cluster (tests/helpers/rgw.ts), as an S3TestServer. */
export class RgwServer extends S3ClientServer {
  readonly kind = "rgw" as const;
  readonly name = "Ceph RGW";

  private constructor(private readonly rgw: RgwProcess) {
    super(rgw.endpoint);
  }

  /** Starts the cluster and radosgw (about 1.5 s) with test credentials testing/testing. */
  static async start(options: RgwOptions = {}): Promise<RgwServer> {
    return new RgwServer(await startRgw(options));
  }

  /** Process ids of the daemons (mon, osd, radosgw). */
  get pids(): readonly number[] {
    return this.rgw.pids;
  }

  /** Where its config, data and logs are (removed by stop()). */
  get dir(): string {
    return this.rgw.dir;
  }

  /** Stops the daemons by process id and removes the temp dir. */
  async stop(): Promise<void> {
    this.client.destroy();
    await this.rgw.stop();
  }
}

/** Per-server start options. */
export interface ServerOptions {
  /** Options of RGW's start (e.g. `rgwConfig`); moto takes none. */
  rgw?: RgwOptions;
}

/** Starts a server of the given kind. */
export async function startServer(
  kind: ServerKind,
  options: ServerOptions = {},
): Promise<S3TestServer> {
  switch (kind) {
    case "moto":
      return await MotoServer.start();
    case "rgw":
      return await RgwServer.start(options.rgw);
  }
}

/**
 * Why a server cannot run on this machine, or undefined when it can. moto is always
 * expected (the README's requirement): a missing moto fails its tests.
 */
export function unavailableReason(kind: ServerKind): string | undefined {
  if (kind !== "rgw" || Deno.env.get(REQUIRE_RGW_ENV) === "1") return undefined;
  const missing = missingRgwBinaries();
  if (missing.length === 0) return undefined;
  return `Ceph RGW is not installed (${missing.join(", ")} not on PATH); ` +
    `scripts/install_rgw.sh installs it`;
}

/** Options of {@linkcode forEachServer}. */
export interface ForEachServerOptions extends ServerOptions {
  /** Deno.test's sanitizers, passed through. */
  sanitizeOps?: boolean;
  sanitizeResources?: boolean;
  sanitizeExit?: boolean;
}

/**
 * Registers `body` as one test per server: `${name} [moto]` and `${name} [rgw]`. Each
 * starts its server, runs `body(t, server)` and stops the server in a finally. A server
 * that cannot run here (RGW not installed) is registered as ignored, and one line says
 * which test was skipped and why.
 */
export function forEachServer(
  name: string,
  body: (t: Deno.TestContext, server: S3TestServer) => Promise<void>,
  options: ForEachServerOptions = {},
): void {
  const { rgw, ...sanitizers } = options;
  for (const kind of SERVER_KINDS) {
    const testName = `${name} [${kind}]`;
    const reason = unavailableReason(kind);
    if (reason !== undefined) {
      console.warn(`SKIPPED "${testName}": ${reason}`);
      Deno.test({ name: testName, ignore: true, fn: () => {} });
      continue;
    }
    Deno.test({
      name: testName,
      ...sanitizers,
      async fn(t) {
        const server = await startServer(kind, { rgw });
        try {
          await body(t, server);
        } finally {
          await server.stop();
        }
      },
    });
  }
}

/**
 * moto's S3 server on a free loopback port, for benches that need a real S3 server
 * (the same way tests/helpers/moto.ts starts it; not imported, tests/ may change).
 *
 * @module
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { BENCH_CREDENTIALS, benchClient } from "./bench_env.ts";

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** An SDK client for it (path-style, test credentials). */
  client: S3Client;
  /** Creates a bucket. */
  createBucket(name: string): Promise<void>;
  /** Stops the server (by pid) and waits for it. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function stopProcess(process: Deno.ChildProcess): Promise<void> {
  const timer = setTimeout(() => {
    try {
      process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, 5_000);
  try {
    process.kill("SIGTERM");
  } catch {
    // already gone
  }
  await process.status;
  clearTimeout(timer);
}

/** Starts `python3 -m moto.server -H 127.0.0.1 -p PORT` and waits until `/moto-api/` answers. */
export async function startMoto(): Promise<MotoServer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const process = new Deno.Command("python3", {
      args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: BENCH_CREDENTIALS,
    }).spawn();
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${endpoint}/moto-api/`);
        await response.body?.cancel();
        if (response.ok) {
          const client = benchClient(endpoint);
          return {
            endpoint,
            client,
            createBucket: async (name) => {
              await client.send(new CreateBucketCommand({ Bucket: name }));
            },
            stop: async () => {
              client.destroy();
              await stopProcess(process);
            },
          };
        }
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stopProcess(process);
  }
  throw new Error("moto did not start: is `python3 -m moto.server` available?");
}

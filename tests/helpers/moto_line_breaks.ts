/**
 * moto's S3 server with one routing fix: its URL rules use `.+`, which stops at a line
 * break, so stock moto answers 404 to any key holding "\n" while real S3 stores such
 * keys. `moto_line_breaks.py` widens those rules and runs the stock server otherwise.
 *
 * @module
 */
import { MotoServer, TEST_ENV } from "./moto.ts";

const SCRIPT = new URL("./moto_line_breaks.py", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts the patched moto on a free loopback port; stop it with `stop()` as usual. */
export async function startMotoAllowingLineBreaks(): Promise<MotoServer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const child = new Deno.Command("python3", {
      args: [SCRIPT, "-H", "127.0.0.1", "-p", String(port)],
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
        if (response.ok) {
          // MotoServer's constructor is private to keep tests on `start()`; this helper
          // is the one other way in, for the same class around another process.
          const Server = MotoServer as unknown as new (
            process: Deno.ChildProcess,
            endpoint: string,
          ) => MotoServer;
          return new Server(child, endpoint);
        }
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }
  throw new Error("the patched moto did not start");
}

/**
 * A real S3 server for end-to-end tests: moto started on a free loopback port (one
 * {@linkcode S3TestServer}; tests/helpers/servers.ts runs suites on moto and Ceph RGW), and
 * helpers to drive the CLI as a subprocess against it.
 *
 * @module
 */
import { S3ClientServer } from "./s3_server.ts";

export type { S3TestServer } from "./s3_server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Credentials moto and the test RGW accept; never real ones. */
export const TEST_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
};

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running moto S3 server. Stop it with {@linkcode MotoServer.stop}. */
export class MotoServer extends S3ClientServer {
  readonly kind = "moto" as const;
  readonly name = "moto";

  private constructor(
    private readonly process: Deno.ChildProcess,
    endpoint: string,
  ) {
    super(endpoint);
  }

  /** Starts `python3 -m moto.server` on a free loopback port and waits until it answers. */
  static async start(): Promise<MotoServer> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      const process = new Deno.Command("python3", {
        args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
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
          if (response.ok) return new MotoServer(process, endpoint);
        } catch {
          // not up yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      try {
        process.kill("SIGKILL");
      } catch {
        // already gone
      }
      await process.status;
    }
    throw new Error("moto did not start: is `python3 -m moto.server` available?");
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    this.client.destroy();
    try {
      this.process.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.process.status;
  }
}

const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/**
 * The environment of a CLI subprocess: this one's (certificates, proxies, PATH) minus
 * every AWS_ variable, so that no real credential or endpoint leaks into a test, plus
 * test credentials. DENO_DIR is pinned so that a test's own HOME keeps Deno's cache.
 */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  return { ...env, ...TEST_ENV, DENO_DIR };
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON object on stdout's last line, when --json was given. */
  // deno-lint-ignore no-explicit-any
  json?: any;
}

/**
 * Runs `main.ts` as a subprocess with test credentials, HOME in `home` and the given
 * extra environment.
 */
export async function runCli(
  args: string[],
  options: { home: string; env?: Record<string, string>; unset?: string[]; cwd?: string },
): Promise<CliResult> {
  const env: Record<string, string> = { ...childEnv(), HOME: options.home, ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  let json;
  if (args.includes("--json")) {
    const last = stdout.trim().split("\n").at(-1);
    try {
      json = last ? JSON.parse(last) : undefined;
    } catch {
      json = undefined;
    }
  }
  return { code: output.code, stdout, stderr, json };
}

/** Writes files (path → content) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
}

/** Reads every regular file under `root` (except the state DB): relative path → bytes. */
export function readTree(root: string): Map<string, Uint8Array> {
  const result = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${root}/${dir}`)) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && !entry.name.startsWith(".s3-smart-sync.db")) {
        result.set(path, Deno.readFileSync(`${root}/${path}`));
      }
    }
  };
  walk("");
  return result;
}

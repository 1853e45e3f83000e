/**
 * The environment of the processes a bench runs (our CLI, aws): this process's, minus
 * every AWS_ variable (no real credential or endpoint can leak in), plus test
 * credentials and a HOME of the bench's own.
 *
 * @module
 */
import { S3Client } from "@aws-sdk/client-s3";

/** Credentials the bench servers accept; never real ones. */
export const BENCH_CREDENTIALS: Record<string, string> = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
};

/** An SDK client for a bench server at `endpoint` (path-style, the test credentials). */
export function benchClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/**
 * Environment for a child process with HOME in `home`. DENO_DIR is pinned so that a
 * bench HOME keeps Deno's cache (no download, no network).
 */
export function benchEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  return { ...env, ...BENCH_CREDENTIALS, DENO_DIR, HOME: home };
}

/**
 * Path of the CLI's entry point: this checkout's main.ts, or `S3SS_BENCH_MAIN` (e.g. the
 * main.ts of an exported commit, to measure it while this working tree is being changed).
 */
export const MAIN_TS = Deno.env.get("S3SS_BENCH_MAIN") ??
  new URL("../main.ts", import.meta.url).pathname;

/**
 * The V8 flags the binary is built with (deno.json's `compile` task, which `start` repeats):
 * the CLI is measured as it ships.
 */
export const V8_FLAGS: string = (() => {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  ) as { tasks: { compile: { command: string } } };
  const flags = /--v8-flags=\S+/.exec(config.tasks.compile.command)?.[0];
  if (!flags) throw new Error("deno.json's compile task has no --v8-flags");
  return flags;
})();

/** The command line that runs our CLI: `deno run --allow-all --quiet --v8-flags=… main.ts …args`. */
export function cliCommand(args: string[]): string[] {
  return [Deno.execPath(), "run", "--allow-all", "--quiet", V8_FLAGS, MAIN_TS, ...args];
}

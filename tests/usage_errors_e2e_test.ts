/**
 * Mistakes a user makes on the command line end in one line that says what to write
 * instead, exit code 2, and nothing changed (no state DB, no request to any server):
 * the CLI as a subprocess.
 */
import assert from "node:assert/strict";
import { childEnv } from "./helpers/moto.ts";
import { endpointProblem } from "../lib/s3/location.ts";
import { profileProblem } from "../lib/s3/profiles.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; stdout: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env: { ...childEnv(), ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-usage-" });
  try {
    Deno.mkdirSync(`${dir}/src`);
    Deno.mkdirSync(`${dir}/home`);
    Deno.writeTextFileSync(`${dir}/src/a.txt`, "a");
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts one error line matching `pattern`, exit 2, and no state DB written. */
function refused(
  result: { code: number; stderr: string },
  pattern: RegExp,
  dir: string,
): void {
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, pattern);
  assert.throws(() => Deno.statSync(`${dir}/src/.s3-smart-sync.db`), Deno.errors.NotFound);
}

Deno.test("a bad --endpoint-url is refused in one line before any request", async () => {
  await withDir(async (dir) => {
    const run = (endpoint: string) =>
      cli([
        "sync",
        `${dir}/src`,
        "s3://backup/p",
        "--endpoint-url",
        endpoint,
        "--log-dir",
        `${dir}/logs`,
      ], {
        HOME: `${dir}/home`,
      });
    refused(await run("127.0.0.1:9000"), /has no scheme: write http:\/\/127\.0\.0\.1:9000/, dir);
    refused(await run("ftp://127.0.0.1:9000"), /must start with http:\/\/ or https:\/\//, dir);
    refused(
      await run("http://127.0.0.1:9000/backup"),
      /ends with the bucket's name: give the server only \(--endpoint-url http:\/\/127\.0\.0\.1:9000\)/,
      dir,
    );
  });
});

Deno.test("an endpoint from AWS_ENDPOINT_URL_S3 is checked too, and named so", async () => {
  await withDir(async (dir) => {
    const result = await cli(["status", `${dir}/src`, "s3://backup/p"], {
      HOME: `${dir}/home`,
      AWS_ENDPOINT_URL_S3: "localhost:9000",
    });
    refused(result, /^error: AWS_ENDPOINT_URL_S3 "localhost:9000" has no scheme/, dir);
  });
});

Deno.test("an unknown --profile is one line naming the profiles there are", async () => {
  await withDir(async (dir) => {
    Deno.mkdirSync(`${dir}/home/.aws`);
    Deno.writeTextFileSync(
      `${dir}/home/.aws/config`,
      "[default]\nregion = eu-west-1\n[profile nas]\n",
    );
    Deno.writeTextFileSync(`${dir}/home/.aws/credentials`, "[backup]\naws_access_key_id = x\n");
    const result = await cli(["sync", `${dir}/src`, "s3://backup/p", "--profile", "nsa"], {
      HOME: `${dir}/home`,
    });
    refused(result, /Profile "nsa" is not defined .*defined: backup, default, nas/, dir);
  });
});

Deno.test("https:// to a server that speaks plain HTTP says to use http://", async () => {
  await withDir(async (dir) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("plain"),
    );
    try {
      const port = server.addr.port;
      const result = await cli([
        "sync",
        `${dir}/src`,
        "s3://backup/p",
        "--endpoint-url",
        `https://127.0.0.1:${port}`,
        "--log-dir",
        `${dir}/logs`,
      ], { HOME: `${dir}/home` });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`does not speak TLS.*use --endpoint-url http://127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("a local path that is a file is refused, naming it", async () => {
  await withDir(async (dir) => {
    const result = await cli(["sync", `${dir}/src/a.txt`, "s3://backup/p"], {
      HOME: `${dir}/home`,
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /a\.txt" is not a directory/);
  });
});

Deno.test("endpointProblem() accepts servers, with or without a proxy path", () => {
  for (const endpoint of ["http://nas:9000", "https://s3.example.com/", "http://nas/minio"]) {
    assert.equal(endpointProblem(endpoint, "backup", "--endpoint-url"), undefined, endpoint);
  }
  assert.match(
    endpointProblem("http://nas:9000/?x=1", "backup", "--endpoint-url")!,
    /query or fragment/,
  );
  assert.match(
    endpointProblem("http://nas/minio/backup/", "backup", "--endpoint-url")!,
    /--endpoint-url http:\/\/nas\/minio\)/,
  );
});

Deno.test("profileProblem() reads AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-profiles-" });
  const saved = {
    config: Deno.env.get("AWS_CONFIG_FILE"),
    credentials: Deno.env.get("AWS_SHARED_CREDENTIALS_FILE"),
  };
  try {
    Deno.writeTextFileSync(
      `${dir}/config`,
      "[profile sso-user]\nsso_session = corp\n[sso-session corp]\n",
    );
    Deno.writeTextFileSync(`${dir}/credentials`, "  [ keys ]  \n");
    Deno.env.set("AWS_CONFIG_FILE", `${dir}/config`);
    Deno.env.set("AWS_SHARED_CREDENTIALS_FILE", `${dir}/credentials`);
    assert.equal(profileProblem("sso-user"), undefined);
    assert.equal(profileProblem("keys"), undefined);
    assert.match(profileProblem("corp")!, /defined: keys, sso-user\)/);
  } finally {
    for (
      const [name, value] of [
        ["AWS_CONFIG_FILE", saved.config],
        ["AWS_SHARED_CREDENTIALS_FILE", saved.credentials],
      ] as const
    ) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    await Deno.remove(dir, { recursive: true });
  }
});

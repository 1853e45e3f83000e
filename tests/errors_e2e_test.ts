/**
 * What S3 answers when the configuration is wrong, played by a loopback server that
 * answers every request with one S3 error: each becomes one line naming the problem
 * and what to do, exit code 2, and nothing changed.
 */
import assert from "node:assert/strict";
import { runCli } from "./helpers/moto.ts";

const CASES = [
  {
    name: "unknown access key",
    status: 403,
    code: "InvalidAccessKeyId",
    message: "The AWS Access Key Id you provided does not exist in our records.",
    expect: /S3 rejected the credentials \(InvalidAccessKeyId\).*Set AWS_ACCESS_KEY_ID/,
  },
  {
    name: "wrong secret key",
    status: 403,
    code: "SignatureDoesNotMatch",
    message: "The request signature we calculated does not match the signature you provided.",
    expect: /S3 rejected the credentials \(SignatureDoesNotMatch\)/,
  },
  {
    name: "access denied",
    status: 403,
    code: "AccessDenied",
    message: "Access Denied",
    expect: /Access to bucket "some-bucket".* was denied\. The credentials need s3:ListBucket/,
  },
  {
    name: "missing bucket",
    status: 404,
    code: "NoSuchBucket",
    message: "The specified bucket does not exist",
    expect: /Bucket "some-bucket" does not exist.*Create it, or check the bucket name/,
  },
];

for (const errorCase of CASES) {
  Deno.test(`an S3 answer of ${errorCase.code} (${errorCase.name}) is one clear line and exit code 2`, async () => {
    const home = await Deno.makeTempDir({ prefix: "s3ss-errors-" });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        await request.body?.cancel();
        return new Response(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${errorCase.code}</Code><Message>${errorCase.message}</Message></Error>`,
          { status: errorCase.status, headers: { "content-type": "application/xml" } },
        );
      },
    );
    try {
      await Deno.mkdir(`${home}/src`);
      await Deno.writeTextFile(`${home}/src/a.txt`, "a");
      const result = await runCli(
        [
          "sync",
          `${home}/src`,
          "s3://some-bucket/p",
          "--endpoint-url",
          `http://127.0.0.1:${server.addr.port}`,
        ],
        { home },
      );
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, errorCase.expect);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /testing/, "no credential in the message");
    } finally {
      await server.shutdown();
      await Deno.remove(home, { recursive: true });
    }
  });
}

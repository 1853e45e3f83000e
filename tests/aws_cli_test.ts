/**
 * Unit tests of the `aws s3 sync` command line builder and output reader.
 */
import assert from "node:assert/strict";
import {
  awsAction,
  awsSyncArgs,
  countAwsLine,
  findOnPath,
  formatCommandLine,
  runAwsSync,
} from "../lib/cli/batch/aws_cli.ts";

function excludesOf(args: string[]): string[] {
  return args.flatMap((arg, i) => args[i - 1] === "--exclude" ? [arg] : []);
}

Deno.test("awsSyncArgs() builds sync --delete with the state DB excluded", () => {
  assert.deepEqual(awsSyncArgs("/volume1/photos", { bucket: "backup", prefix: "photos/" }), [
    "s3",
    "sync",
    "/volume1/photos",
    "s3://backup/photos/",
    "--delete",
    "--no-progress",
    "--no-follow-symlinks",
    "--exclude",
    ".s3-smart-sync.db*",
    "--exclude",
    "*/.s3-smart-sync.db*",
  ]);
  assert.equal(awsSyncArgs("/d", { bucket: "backup", prefix: "" })[3], "s3://backup/");
});

Deno.test("awsSyncArgs() leaves out --delete when deletes are held", () => {
  const args = awsSyncArgs("/volume1/photos", { bucket: "backup", prefix: "p/" }, {
    deleteRemote: false,
  });
  assert.ok(!args.includes("--delete"), args.join(" "));
  assert.deepEqual(excludesOf(args), [".s3-smart-sync.db*", "*/.s3-smart-sync.db*"]);
});

Deno.test("awsSyncArgs() passes each configured exclude and the connection options", () => {
  const args = awsSyncArgs("/volume1/photos", { bucket: "backup", prefix: "p/" }, {
    excludes: ["*.tmp", "./@eaDir/*", "has space/*"],
    endpoint: "http://127.0.0.1:9000",
    profile: "nas",
    region: "eu-west-1",
    storageClass: "DEEP_ARCHIVE",
    dryRun: true,
  });
  assert.deepEqual(excludesOf(args), [
    "*.tmp",
    "@eaDir/*",
    "has space/*",
    ".s3-smart-sync.db*",
    "*/.s3-smart-sync.db*",
  ]);
  const tail = args.slice(args.lastIndexOf("--exclude") + 2);
  assert.deepEqual(tail, [
    "--endpoint-url",
    "http://127.0.0.1:9000",
    "--profile",
    "nas",
    "--region",
    "eu-west-1",
    "--storage-class",
    "DEEP_ARCHIVE",
    "--dryrun",
  ]);
});

Deno.test("awsAction() reads upload, delete and copy lines, also with --dryrun", () => {
  assert.equal(awsAction("upload: src/a.txt to s3://b/p/a.txt"), "upload");
  assert.equal(awsAction("(dryrun) upload: src/a.txt to s3://b/p/a.txt"), "upload");
  assert.equal(awsAction("delete: s3://b/p/old.txt"), "delete");
  assert.equal(awsAction("copy: s3://b/x to s3://b/y"), "copy");
  assert.equal(awsAction("upload failed: src/a.txt to s3://b/p/a.txt An error"), undefined);
  assert.equal(awsAction("warning: Skipping file /x. File does not exist."), undefined);
  const counts = { uploads: 0, deletes: 0, copies: 0 };
  for (
    const line of ["upload: a to s3://b/a", "upload: c to s3://b/c", "delete: s3://b/d", "x"]
  ) countAwsLine(counts, line);
  assert.deepEqual(counts, { uploads: 2, deletes: 1, copies: 0 });
});

Deno.test("findOnPath() finds executables only, in PATH order", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/a`);
    Deno.mkdirSync(`${dir}/b`);
    Deno.writeTextFileSync(`${dir}/a/tool`, "not executable");
    Deno.writeTextFileSync(`${dir}/b/tool`, "#!/bin/sh\n", { mode: 0o755 });
    Deno.chmodSync(`${dir}/b/tool`, 0o755);
    assert.equal(findOnPath("tool", { path: `${dir}/a:${dir}/b` }), `${dir}/b/tool`);
    assert.equal(findOnPath("tool", { path: `${dir}/a` }), undefined);
    assert.equal(findOnPath("tool", { path: "" }), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("runAwsSync() counts stdout actions, keeps the last stderr lines and the exit code", async () => {
  const seen: string[] = [];
  const outcome = await runAwsSync(["s3", "sync"], {
    runner: {
      locate: () => "/usr/bin/aws",
      run(args, options) {
        assert.deepEqual(args, ["s3", "sync"]);
        options.onLine("upload: a to s3://b/a", "stdout");
        options.onLine("delete: s3://b/old", "stdout");
        for (let i = 1; i <= 7; i++) options.onLine(`warning: skipped ${i}`, "stderr");
        return Promise.resolve(2);
      },
    },
    onLine: (line) => seen.push(line),
  });
  assert.equal(outcome.exitCode, 2);
  assert.equal(outcome.uploads, 1);
  assert.equal(outcome.deletes, 1);
  assert.equal(seen.length, 9);
  assert.deepEqual(outcome.errorLines, [3, 4, 5, 6, 7].map((i) => `warning: skipped ${i}`));
});

Deno.test("formatCommandLine() quotes only the arguments a shell would split", () => {
  assert.equal(
    formatCommandLine(["s3", "sync", "/v/my photos", "--exclude", "*.tmp", "it's"]),
    "s3 sync '/v/my photos' --exclude '*.tmp' 'it'\\''s'",
  );
});

Deno.test("awsSyncArgs() refuses a local path or prefix with * ? [, which aws would misread", () => {
  for (
    const [local, prefix] of [["/volume1/photos [old]", "p/"], ["/v", "best?/"], ["/v*", ""]]
  ) {
    assert.throws(
      () => awsSyncArgs(local!, { bucket: "backup", prefix: prefix! }),
      /contains \*, \? or \[.*--engine native/,
    );
  }
  assert.ok(awsSyncArgs("/volume1/photos (old)]", { bucket: "backup", prefix: "a]/" }));
});

/**
 * Unit tests of the batch config parser and of `init`.
 */
import assert from "node:assert/strict";
import { parseConfig, readConfig, SAMPLE_CONFIG } from "../lib/cli/batch/config.ts";
import { initCommand, parseInit, runInit } from "../lib/cli/init.ts";
import { parseOptions } from "../lib/cli/options.ts";
import { UsageError } from "../lib/errors.ts";

const existing = new Set(["/volume1/photos", "/volume1/docs", "/home/me/music", "/"]);
const checkPath = (path: string) =>
  existing.has(path) ? undefined : `local path "${path}" does not exist`;

function parse(text: string) {
  return parseConfig(text, { path: "/etc/nas.conf", checkPath, home: "/home/me" });
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parse(text), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("parseConfig() reads targets with comments, blank lines and surrounding spaces", () => {
  const targets = parse(
    [
      "# my NAS",
      "",
      "   /volume1/photos  |  backup  | nas/photos |  *.tmp , @eaDir/* ,, .DS_Store  ",
      "\t# indented comment",
      "/volume1/docs|backup|docs/|",
    ].join("\n"),
  );
  assert.deepEqual(targets, [
    {
      localPath: "/volume1/photos",
      location: { bucket: "backup", prefix: "nas/photos/" },
      excludes: ["*.tmp", "@eaDir/*", ".DS_Store"],
      line: 3,
    },
    {
      localPath: "/volume1/docs",
      location: { bucket: "backup", prefix: "docs/" },
      excludes: [],
      line: 5,
    },
  ]);
});

Deno.test("parseConfig() accepts an empty prefix, no excludes field, ~ and CRLF lines", () => {
  const targets = parse("~/music/ | music-bucket\r\n/volume1/photos | other-bucket |  | \r\n");
  assert.deepEqual(targets.map((t) => [t.localPath, t.location, t.excludes]), [
    ["/home/me/music", { bucket: "music-bucket", prefix: "" }, []],
    ["/volume1/photos", { bucket: "other-bucket", prefix: "" }, []],
  ]);
});

Deno.test("parseConfig() names the file and line of a missing field", () => {
  rejects("# c\n/volume1/photos\n", /"\/etc\/nas\.conf" line 2: missing field bucket/);
  rejects("/volume1/photos |  | p |", /line 1: missing field bucket/);
  rejects(" | backup | p |", /line 1: missing field local_path/);
  rejects("/volume1/photos | b1b | p | x | y", /line 1: 5 fields, expected 4/);
});

Deno.test("parseConfig() rejects an invalid bucket name with bucketNameProblem's reason", () => {
  rejects(
    "\n\n/volume1/photos | My_Bucket | p |",
    /"\/etc\/nas\.conf" line 3: invalid bucket name "My_Bucket": bucket names use only lower-case/,
  );
  rejects("/volume1/photos | s3://backup/photos | |", /write the bucket name alone/);
});

Deno.test("parseConfig() rejects a relative or non-directory local path, not a missing one", () => {
  rejects("photos | backup | p |", /line 1: local path "photos" is not absolute/);
  const file = Deno.makeTempFileSync();
  try {
    assert.throws(
      () => parseConfig(`${file} | backup | p |`, { path: "c.conf" }),
      new RegExp(`"c\\.conf" line 1: local path "${file}" is not a directory`),
    );
    // A missing path is an unplugged volume: batch skips that target when it comes to it.
    const gone = `${file}-gone/photos`;
    assert.deepEqual(parseConfig(`${gone} | backup | p |`, { path: "c.conf" })[0]!.localPath, gone);
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("parseConfig() rejects duplicate and overlapping targets, naming both lines", () => {
  rejects(
    "/volume1/photos | backup | p |\n/volume1/photos | backup | p/ | *.tmp",
    /line 2: duplicate target: \/volume1\/photos → s3:\/\/backup\/p\/ is already on line 1/,
  );
  rejects(
    "/volume1/photos | backup | p |\n/volume1/docs | backup | p |",
    /line 2: duplicate target: s3:\/\/backup\/p\/ is also the target of line 1/,
  );
  rejects(
    "/volume1/photos | backup | |\n/volume1/docs | backup | docs |",
    /line 2: s3:\/\/backup\/docs\/ overlaps s3:\/\/backup\/ of line 1/,
  );
  assert.equal(parse("/volume1/photos | backup | p |\n/volume1/docs | backup | p2 |").length, 2);
});

Deno.test("parseConfig() reports every bad line at once", () => {
  rejects(
    "/volume1/photos\n/volume1/docs | B |\n",
    /line 1: missing field bucket[\s\S]*line 2: invalid bucket name "B"[\s\S]*Nothing was changed/,
  );
});

Deno.test("the sample config parses to no targets, and each example line parses", () => {
  assert.deepEqual(parse(SAMPLE_CONFIG), []);
  const examples = SAMPLE_CONFIG.split("\n").filter((line) => /^# [/~]\S* +\|/.test(line));
  assert.equal(examples.length, 3);
  const targets = parseConfig(examples.map((line) => line.slice(2)).join("\n"), {
    path: "sample",
    checkPath: () => undefined,
    home: "/home/me",
  });
  assert.deepEqual(targets.map((target) => target.location.prefix), ["photos/", "documents/", ""]);
});

Deno.test("readConfig() says to run init when the file is missing, and rejects an empty one", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(
      () => readConfig(`${dir}/none.conf`),
      /Config file ".*none\.conf" does not exist\. Run "s3-smart-sync init --config .*none\.conf"/,
    );
    Deno.writeTextFileSync(`${dir}/empty.conf`, "# nothing yet\n");
    assert.throws(() => readConfig(`${dir}/empty.conf`), /has no targets/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init writes the sample with mode 0600 and never overwrites without --force", () => {
  const dir = Deno.makeTempDirSync();
  const log = console.log;
  console.log = () => {};
  try {
    const path = `${dir}/sub/s3.conf`;
    const options = parseInit(parseOptions("init", ["--config", path], initCommand.options));
    assert.equal(runInit(options).exitCode, 0);
    assert.equal(Deno.readTextFileSync(path), SAMPLE_CONFIG);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);

    Deno.writeTextFileSync(path, "/mine | bucket | |\n");
    assert.throws(() => runInit(options), /already exists; it was left unchanged\. Pass --force/);
    assert.equal(Deno.readTextFileSync(path), "/mine | bucket | |\n");

    Deno.chmodSync(path, 0o644);
    assert.equal(runInit({ ...options, force: true }).exitCode, 0);
    assert.equal(Deno.readTextFileSync(path), SAMPLE_CONFIG);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.throws(() => parseInit({ values: {}, positionals: ["extra"] }), UsageError);
  } finally {
    console.log = log;
    Deno.removeSync(dir, { recursive: true });
  }
});

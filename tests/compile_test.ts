/**
 * The single binary: `deno compile` needs Deno's `denort` runtime, which it downloads.
 * Where it cannot be downloaded, point DENORT_BIN at a denort executable; without it
 * this test says it was skipped.
 */
import assert from "node:assert/strict";

const denort = Deno.env.get("DENORT_BIN");
const compileTask = (JSON.parse(
  Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
) as { tasks: { compile: { command: string } } }).tasks.compile.command;
const v8Flags = /--v8-flags=\S+/.exec(compileTask)![0];

Deno.test({
  name: "deno compile builds a binary that runs --version and --help",
  ignore: !denort,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "s3ss-compile-" });
    try {
      const output = `${dir}/s3-smart-sync`;
      const main = new URL("../main.ts", import.meta.url).pathname;
      const build = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          "--allow-all",
          v8Flags,
          "--include",
          new URL("../lib/scan/walk_worker.ts", import.meta.url).pathname,
          "--output",
          output,
          main,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const version = await new Deno.Command(output, { args: ["--version"], stdout: "piped" })
        .output();
      assert.equal(version.code, 0);
      assert.match(new TextDecoder().decode(version.stdout), /^s3-smart-sync \d+\.\d+\.\d+/);
      const help = await new Deno.Command(output, { args: ["sync", "--help"], stdout: "piped" })
        .output();
      assert.equal(help.code, 0);
      assert.match(new TextDecoder().decode(help.stdout), /Usage: s3-smart-sync sync/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (!denort) {
  console.log(
    "compile_test: SKIPPED — DENORT_BIN is not set, and deno compile cannot download denort here. " +
      "Set DENORT_BIN=/path/to/denort to build and run the binary.",
  );
}

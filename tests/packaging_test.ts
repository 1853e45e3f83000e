/**
 * The ways the CLI is built and started agree: the compile task, the release workflow
 * and the `start` task use the same V8 flags, and every module the binary loads at run
 * time (the scan's worker) is included and exists.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))) as {
  tasks: Record<string, { command: string }>;
};
const release = Deno.readTextFileSync(new URL(".github/workflows/release.yml", root));

const flagsOf = (command: string) => /--v8-flags=(\S+)/.exec(command)?.[1];
const includesOf = (command: string) =>
  [...command.matchAll(/--include\s+(\S+)/g)].map((match) => match[1]!).sort();

Deno.test("the binary, the release build and `deno task start` run with the same V8 flags", () => {
  const compile = config.tasks.compile!.command;
  const flags = flagsOf(compile);
  assert.ok(flags, "deno.json's compile task sets --v8-flags");
  // Each flag is one V8 knows (deno exits on an unknown one).
  for (const flag of flags.split(",")) assert.match(flag, /^--[a-z-]+(=\d+)?$/);
  assert.equal(flagsOf(config.tasks.start!.command), flags);
  assert.equal(flagsOf(release), flags);
});

Deno.test("the compile task and the release build include the scan's worker, which exists", async () => {
  const included = includesOf(config.tasks.compile!.command);
  assert.deepEqual(includesOf(release.replace(/\n\s*/g, " ")), included);
  assert.ok(included.includes("lib/scan/walk_worker.ts"));
  for (const path of included) assert.ok((await Deno.stat(new URL(path, root))).isFile, path);
  const stream = Deno.readTextFileSync(new URL("lib/scan/stream.ts", root));
  assert.match(stream, /new URL\("\.\/walk_worker\.ts", import\.meta\.url\)/);
});

Deno.test("V8 accepts the flags: `deno run` with them starts the CLI", async () => {
  const flags = flagsOf(config.tasks.compile!.command)!;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--v8-flags=${flags}`,
      new URL("main.ts", root).pathname,
      "--version",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(new TextDecoder().decode(output.stdout), /^s3-smart-sync \d/);
});

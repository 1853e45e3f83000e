/**
 * Permission errors need a user that file modes apply to: root reads any folder whatever
 * its mode. As root, these tests run the walk as nobody (65534) in a child process; as
 * anyone else, as that user.
 */
import assert from "node:assert/strict";

const NOBODY = 65534;

/** Runs `source` (a module) with `args` as a user that file permissions apply to. */
async function runUnprivileged(
  dir: string,
  source: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const asRoot = Deno.uid() === 0;
  const script = `${dir}/probe.ts`;
  Deno.writeTextFileSync(script, source);
  // Deno's cache must be writable by that user; the probe imports only local modules.
  const denoDir = `${dir}/deno-dir`;
  Deno.mkdirSync(denoDir);
  if (asRoot) Deno.chownSync(denoDir, NOBODY, NOBODY);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-config", "--quiet", script, ...args],
    env: { DENO_DIR: denoDir, HOME: dir, NO_COLOR: "1" },
    clearEnv: true,
    cwd: dir,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
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

const PROBE = `
import { scan } from ${JSON.stringify(new URL("../lib/scan/walk.ts", import.meta.url).href)};
import { systemFs, systemLstatKind } from ${
  JSON.stringify(new URL("../lib/scan/system_fs.ts", import.meta.url).href)
};
const [root, unsearchable] = Deno.args;
const { files, skipped, directories } = scan(root);
let lstatError = "";
try {
  systemFs.lstat(unsearchable);
} catch (error) {
  lstatError = error.name + ": " + error.message;
}
console.log(JSON.stringify({
  kind: systemLstatKind(),
  files: files.map((file) => file.path),
  skipped,
  directories,
  lstatError,
}));
`;

Deno.test("walk() run by an unprivileged user reports what it may not read and walks the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-permissions-" });
  const tree = `${dir}/tree`;
  try {
    Deno.chmodSync(dir, 0o755);
    for (const folder of ["ok", "locked", "unsearchable"]) {
      Deno.mkdirSync(`${tree}/${folder}`, { recursive: true });
    }
    Deno.writeTextFileSync(`${tree}/a.txt`, "a");
    Deno.writeTextFileSync(`${tree}/ok/b.txt`, "b");
    Deno.writeTextFileSync(`${tree}/locked/hidden.txt`, "h");
    Deno.writeTextFileSync(`${tree}/unsearchable/listed.txt`, "l");
    Deno.writeTextFileSync(`${tree}/z.txt`, "z");
    Deno.chmodSync(`${tree}/locked`, 0o000); // cannot be listed
    Deno.chmodSync(`${tree}/unsearchable`, 0o444); // listed, but its files cannot be statted
    const run = await runUnprivileged(dir, PROBE, [tree, `${tree}/unsearchable/listed.txt`]);
    assert.equal(run.code, 0, run.stderr);
    const seen = JSON.parse(run.stdout);
    assert.deepEqual(seen.files, ["a.txt", "ok/b.txt", "z.txt"]);
    assert.deepEqual(
      seen.skipped.map((entry: { path: string; kind: string }) => [
        entry.path,
        entry.kind,
      ]),
      [
        ["locked", "unreadable"],
        ["unsearchable/listed.txt", "unreadable"],
      ],
    );
    assert.match(seen.skipped[0].reason, /^cannot read directory: Permission denied/);
    assert.match(seen.skipped[1].reason, /Permission denied \(os error 13\)/);
    assert.equal(seen.directories, 3);
    if (Deno.build.os === "linux") assert.equal(seen.kind, "statx");
    assert.match(seen.lstatError, /^PermissionDenied: /);
  } finally {
    for (const folder of ["locked", "unsearchable"]) Deno.chmodSync(`${tree}/${folder}`, 0o755);
    await Deno.remove(dir, { recursive: true });
  }
});

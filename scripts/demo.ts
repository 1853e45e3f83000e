/**
 * `deno task demo`: starts a local S3 server (moto), syncs a sample photo tree, renames
 * a folder and a file, and syncs again to show the server-side moves (0 bytes
 * uploaded), next to what `aws s3 sync --delete` would have sent for the same change.
 * Cleans up after itself.
 */
import { MotoServer, TEST_ENV, writeTree } from "../tests/helpers/moto.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const V8_FLAGS = /--v8-flags=\S+/.exec(
  (JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
    tasks: { compile: { command: string } };
  }).tasks.compile.command,
)?.[0];

/** Runs our CLI, shows what it prints, and returns its exit code and output. */
async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  console.log(`\n$ s3-smart-sync ${args.join(" ")}`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", ...(V8_FLAGS ? [V8_FLAGS] : []), MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  Deno.stdout.writeSync(output.stdout);
  return { code: output.code, stdout };
}

/** What `aws s3 sync --delete` would send for the tree as it is now (its own --dryrun). */
async function awsWouldSend(
  root: string,
  target: string,
  env: Record<string, string>,
): Promise<{ uploads: number; bytes: number; deletes: number } | undefined> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("aws", {
      args: [
        "s3",
        "sync",
        root,
        target,
        "--delete",
        "--dryrun",
        "--no-follow-symlinks",
        "--exclude",
        ".s3-smart-sync.db*",
        "--exclude",
        "*/.s3-smart-sync.db*",
      ],
      env,
      stdout: "piped",
      stderr: "null",
    }).output();
  } catch {
    return undefined; // no aws CLI here
  }
  if (!output.success) return undefined;
  let uploads = 0;
  let bytes = 0;
  let deletes = 0;
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    const upload = /^\(dryrun\) upload: (.+) to s3:\/\//.exec(line);
    if (upload) {
      uploads++;
      bytes += Deno.statSync(upload[1]!).size;
    } else if (line.startsWith("(dryrun) delete: ")) deletes++;
  }
  return { uploads, bytes, deletes };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const base = await Deno.makeTempDir({ prefix: "s3-smart-sync-demo-" });
console.log("Starting a local S3 server (moto) …");
const moto = await MotoServer.start();
try {
  const bucket = await moto.bucket("demo-photos");
  const root = `${base}/photos`;
  const files: Record<string, string> = { "notes.txt": "shopping list\n" };
  for (let i = 1; i <= 40; i++) {
    files[`2024/trip/IMG_${String(i).padStart(4, "0")}.jpg`] = `jpeg ${i} `.repeat(25_000);
  }
  await writeTree(root, files);
  const env = { ...TEST_ENV, HOME: base, AWS_ENDPOINT_URL_S3: moto.endpoint };
  const target = `s3://${bucket}/nas/photos`;
  const logDir = ["--log-dir", `${base}/logs`];
  console.log(`S3 server at ${moto.endpoint}, bucket "${bucket}", local tree ${root} (41 files).`);

  let code = (await cli(["sync", root, target, ...logDir], env)).code;

  console.log("\n$ mv photos/2024/trip photos/2024/rome-italy && mv notes.txt todo.txt");
  await Deno.rename(`${root}/2024/trip`, `${root}/2024/rome-italy`);
  await Deno.rename(`${root}/notes.txt`, `${root}/todo.txt`);

  const aws = await awsWouldSend(root, target, { ...env, AWS_ENDPOINT_URL: moto.endpoint });
  code ||= (await cli(["status", root, target, "--delete", ...logDir], env)).code;
  const ours = await cli(["sync", root, target, "--delete", ...logDir], env);
  code ||= ours.code;

  console.log(`\nBucket now holds ${(await moto.list(bucket)).length} objects under nas/photos/.`);
  const uploaded = /uploaded [\d,]+ \(([^)]*)\)/.exec(ours.stdout)?.[1] ?? "?";
  const requests = /^S3 requests: ([^;]*)/m.exec(ours.stdout)?.[1] ?? "?";
  console.log(`s3-smart-sync: uploaded ${uploaded}; requests: ${requests}.`);
  if (aws) {
    console.log(
      `aws s3 sync --delete would have uploaded ${aws.uploads} files (${mb(aws.bytes)}) again ` +
        `and deleted ${aws.deletes} objects: ${aws.uploads} PutObject + ${aws.deletes} ` +
        `DeleteObject requests, besides its listing (measured with its own --dryrun).`,
    );
  } else {
    console.log(
      "(Install the aws CLI to see, next to this, what aws s3 sync --delete would upload.)",
    );
  }
  if (code !== 0) Deno.exitCode = code;
} finally {
  await moto.stop();
  await Deno.remove(base, { recursive: true });
}

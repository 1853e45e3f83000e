/**
 * `deno task demo`: starts a local S3 server (moto), syncs a sample photo tree, renames
 * a folder and a file, and syncs again to show the server-side moves (0 bytes
 * uploaded). Cleans up after itself.
 */
import { MotoServer, TEST_ENV, writeTree } from "../tests/helpers/moto.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string>): Promise<number> {
  console.log(`\n$ s3-smart-sync ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, ...args],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
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

  let code = await cli(["sync", root, target, ...logDir], env);

  console.log("\n$ mv photos/2024/trip photos/2024/rome-italy && mv notes.txt todo.txt");
  await Deno.rename(`${root}/2024/trip`, `${root}/2024/rome-italy`);
  await Deno.rename(`${root}/notes.txt`, `${root}/todo.txt`);

  code ||= await cli(["status", root, target, "--delete", ...logDir], env);
  code ||= await cli(["sync", root, target, "--delete", ...logDir], env);

  console.log(`\nBucket now holds ${(await moto.list(bucket)).length} objects under nas/photos/.`);
  console.log("The renamed folder was moved with CopyObject + DeleteObjects: 0 bytes uploaded.");
  if (code !== 0) Deno.exitCode = code;
} finally {
  await moto.stop();
  await Deno.remove(base, { recursive: true });
}

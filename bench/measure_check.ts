/**
 * Checks bench/measure.ts: compares the sampled VmHWM with /usr/bin/time's %M on a
 * long-lived process, a short spike before exit, and a process shorter than one sample;
 * then prints the RSS floors of our CLI: `deno run` of an empty script, and of a script
 * that imports @aws-sdk/client-s3 and creates a client.
 *
 * Usage: `deno run --allow-all bench/measure_check.ts`
 *
 * @module
 */
import { bestOf, measure, measureFind, type Measurement } from "./measure.ts";
import { removeTree } from "./tree.ts";

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

function line(label: string, run: Measurement): void {
  console.log(
    `  ${label.padEnd(58)} wall ${(run.wallMs / 1000).toFixed(3)}s  sampled ${
      mib(run.sampledPeakBytes).padStart(10)
    }  time %M ${mib(run.timePeakBytes).padStart(10)}  exit ${run.code}`,
  );
}

const base = Deno.makeTempDirSync({ prefix: "s3ss-measurecheck-" });
const config = new URL("../deno.json", import.meta.url).pathname;
try {
  const python = (code: string) => measure(["python3", "-c", code]);
  line(
    "python: 300 MB for 1 s",
    await python("b = bytearray(300_000_000)\nimport time; time.sleep(1)"),
  );
  line(
    "python: 300 MB touched after 0.5 s, exits at once",
    await python("import time; time.sleep(0.5)\nb = bytearray(300_000_000)"),
  );
  for (let run = 1; run <= 3; run++) {
    line(
      `python: 300 MB at the very end, then os._exit (run ${run})`,
      await python("import os\nb = bytearray(300_000_000)\nos._exit(0)"),
    );
  }
  line("sh -c true (shorter than a sample)", await measure(["sh", "-c", "true"]));
  line("exit code 3 is kept", await measure(["sh", "-c", "exit 3"]));

  Deno.writeTextFileSync(`${base}/empty.ts`, "");
  Deno.writeTextFileSync(
    `${base}/sdk.ts`,
    'import { S3Client } from "@aws-sdk/client-s3";\n' +
      'new S3Client({ region: "us-east-1" }).destroy();\n',
  );
  const deno = (script: string) => () =>
    measure([Deno.execPath(), "run", "--allow-all", "--quiet", "--config", config, script]);
  line("deno run (empty script), best of 3", await bestOf(3, deno(`${base}/empty.ts`)));
  line("deno run (imports @aws-sdk/client-s3), best of 3", await bestOf(3, deno(`${base}/sdk.ts`)));
  line("find /usr -type f -printf …", await measureFind("/usr"));
} finally {
  removeTree(base);
}

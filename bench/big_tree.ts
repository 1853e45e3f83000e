/**
 * Builds trees of up to millions of small files quickly: the same names, sizes (0–511
 * bytes) and contents as `buildTree` in bench/tree.ts, written by Python processes (each
 * writes whole top folders with os.open/os.write; Deno.writeFileSync costs ~80 µs a file
 * here). On ext4 one writer is fastest (~25,000–45,000 files/s on a quiet machine; two
 * writers contend in the kernel and are 2–4× slower); on tmpfs one writer per core
 * (~200,000 files/s with two).
 *
 * Usage as a script: `deno run --allow-all bench/big_tree.ts DIR [--files=N] [--writers=K]`
 * builds DIR (100 × 100 folders × N/10,000 files) and prints how long it took.
 *
 * @module
 */
import type { TreeShape } from "./tree.ts";

/** The writer: argv = root, sub folders, files per folder, then top folder numbers. */
const WRITER = `
import os, sys
root, subs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
content = bytes((i * 31 + 7) & 0xff for i in range(512))
exts = [".jpg", ".txt", ".pdf", ".mov", ".json", ""]
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
for top in map(int, sys.argv[4:]):
    top_dir = "%s/album-%03d" % (root, top)
    os.mkdir(top_dir)
    for sub in range(subs):
        sub_dir = "%s/%d event %d" % (top_dir, 2000 + sub, sub)
        os.mkdir(sub_dir)
        count = (top * subs + sub) * per
        for file in range(per):
            size = (count * 7919) % 512
            fd = os.open("%s/IMG_%05d%s" % (sub_dir, file, exts[count % 6]), flags, 0o644)
            if size:
                os.write(fd, content[:size])
            os.close(fd)
            count += 1
`;

/** The shape of a tree of `files` files: 100 × 100 folders × files/10,000 (at least 1). */
export function shapeFor(files: number): TreeShape {
  if (files >= 10_000) {
    return { top: 100, sub: 100, perDir: Math.max(1, Math.round(files / 10_000)) };
  }
  return { top: Math.max(1, Math.round(files / 100)), sub: 1, perDir: 100 };
}

/** The file system type of `path` (`tmpfs`, `ext2/ext3`, …), from `stat -f`. */
export async function fileSystemOf(path: string): Promise<string> {
  const output = await new Deno.Command("stat", { args: ["-f", "-c", "%T", path] }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

/**
 * Writes a tree of `shape` under `root` (which must exist and be empty) with `writers`
 * parallel Python processes (default: one per core on tmpfs, else one). Same layout and
 * bytes as bench/tree.ts's `buildTree`. Returns the number of files.
 */
export async function buildBigTree(
  root: string,
  shape: TreeShape,
  writers?: number,
): Promise<number> {
  writers ??= (await fileSystemOf(root)) === "tmpfs" ? navigator.hardwareConcurrency : 1;
  const tops: number[][] = Array.from({ length: Math.min(writers, shape.top) }, () => []);
  for (let top = 0; top < shape.top; top++) tops[top % tops.length]!.push(top);
  const results = await Promise.all(tops.map((mine) =>
    new Deno.Command("python3", {
      args: ["-c", WRITER, root, String(shape.sub), String(shape.perDir), ...mine.map(String)],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output()
  ));
  if (results.some((result) => !result.success)) throw new Error("a tree writer failed");
  return shape.top * shape.sub * shape.perDir;
}

if (import.meta.main) {
  const dir = Deno.args.find((arg) => !arg.startsWith("--"));
  const option = (name: string) =>
    Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!dir) {
    console.error("usage: big_tree.ts DIR [--files=N] [--writers=K]");
    Deno.exit(2);
  }
  const shape = shapeFor(Number(option("files") ?? 1_000_000));
  const writers = option("writers");
  Deno.mkdirSync(dir, { recursive: true });
  const start = performance.now();
  const files = await buildBigTree(dir, shape, writers ? Number(writers) : undefined);
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${files.toLocaleString("en")} files (${shape.top} × ${shape.sub} × ${shape.perDir}) ` +
      `in ${seconds.toFixed(1)} s (${
        Math.round(files / seconds).toLocaleString("en")
      } files/s) at ${dir}`,
  );
}

/**
 * Builds and removes the synthetic trees the benchmarks walk.
 *
 * @module
 */

/** Shape of a synthetic tree: `top` folders × `sub` folders × `perDir` files. */
export interface TreeShape {
  /** Folders in the root. */
  top: number;
  /** Folders in each top folder. */
  sub: number;
  /** Files in each sub folder. */
  perDir: number;
}

/** How many files a tree of this shape holds. */
export function fileCount(shape: TreeShape): number {
  return shape.top * shape.sub * shape.perDir;
}

const EXTENSIONS = [".jpg", ".txt", ".pdf", ".mov", ".json", ""];

/**
 * Writes a tree of small files with varied sizes (0 to 511 bytes) and names under
 * `root`, which must exist and be empty. Returns the number of files written.
 */
export function buildTree(root: string, shape: TreeShape): number {
  const content = new Uint8Array(512);
  for (let index = 0; index < content.length; index++) content[index] = (index * 31 + 7) & 0xff;
  let count = 0;
  for (let top = 0; top < shape.top; top++) {
    const topDir = `${root}/album-${String(top).padStart(3, "0")}`;
    Deno.mkdirSync(topDir);
    for (let sub = 0; sub < shape.sub; sub++) {
      const subDir = `${topDir}/${2000 + sub} event ${sub}`;
      Deno.mkdirSync(subDir);
      for (let file = 0; file < shape.perDir; file++) {
        const size = (count * 7919) % 512;
        const name = `IMG_${String(file).padStart(5, "0")}${EXTENSIONS[count % EXTENSIONS.length]}`;
        Deno.writeFileSync(`${subDir}/${name}`, content.subarray(0, size));
        count++;
      }
    }
  }
  return count;
}

/** Removes a tree (with `rm -rf`, much faster than a recursive `Deno.remove`). */
export function removeTree(root: string): void {
  const { success } = new Deno.Command("rm", { args: ["-rf", "--", root] }).outputSync();
  if (!success) Deno.removeSync(root, { recursive: true });
}

import assert from "node:assert/strict";
import { ALWAYS_EXCLUDED, excluder, filter, globToRegExp } from "../lib/scan/filter.ts";
import { STATE_DB_NAME } from "../lib/model.ts";

/** Asserts which of `paths` the pattern matches, as `aws s3 sync --exclude` would. */
function expectGlob(pattern: string, matches: string[], misses: string[]): void {
  const expression = globToRegExp(pattern);
  for (const path of matches) assert.ok(expression.test(path), `${pattern} should match ${path}`);
  for (const path of misses) {
    assert.ok(!expression.test(path), `${pattern} should not match ${path}`);
  }
}

Deno.test("globToRegExp() lets '*' match across '/' as aws s3 sync does", () => {
  expectGlob("*.tmp", ["a.tmp", "dir/sub/b.tmp", ".tmp", "x\ny.tmp"], ["a.tmpx", "a.TMP"]);
  expectGlob("photos/*", ["photos/a.jpg", "photos/2023/b.jpg", "photos/"], [
    "photos",
    "x/photos/a",
  ]);
  expectGlob("*", ["", "a", "a/b/c"], []);
  expectGlob("a*b*c", ["abc", "a/x/b/y/c"], ["acb", "abcd"]);
});

Deno.test("globToRegExp() anchors the pattern at both ends of the whole path", () => {
  expectGlob("@eaDir/*", ["@eaDir/thumb.jpg"], ["photos/@eaDir/thumb.jpg", "x@eaDir/t"]);
  expectGlob("*/@eaDir/*", ["photos/@eaDir/thumb.jpg"], ["@eaDir/thumb.jpg"]);
  expectGlob("a.txt", ["a.txt"], ["a.txt.bak", "dir/a.txt", "ba.txt"]);
});

Deno.test("globToRegExp() matches exactly one character, '/' included, with '?'", () => {
  expectGlob("file?.txt", ["file1.txt", "fileé.txt", "file/.txt"], ["file.txt", "file10.txt"]);
  expectGlob("??", ["ab", "a/"], ["a", "abc"]);
});

Deno.test("globToRegExp() reads [abc], ranges and [!abc] as character sets", () => {
  expectGlob("[abc].jpg", ["a.jpg", "c.jpg"], ["d.jpg", "ab.jpg", "A.jpg"]);
  expectGlob("img[0-9].png", ["img0.png", "img9.png"], ["imga.png", "img10.png"]);
  expectGlob("[!abc].jpg", ["d.jpg", "/.jpg", "1.jpg"], ["a.jpg", "b.jpg"]);
  // "^" is literal in fnmatch sets, not a negation.
  expectGlob("[^a]", ["^", "a"], ["b"]);
  // A set that is never closed is a literal "[".
  expectGlob("[abc", ["[abc"], ["a", "abc"]);
  expectGlob("[[]x", ["[x"], ["x", "[[x"]);
});

Deno.test("globToRegExp() reads ']' first in a set as a member, as fnmatch does", () => {
  expectGlob("[]]", ["]"], ["a", "[]]"]);
  expectGlob("[]abc]", ["]", "b"], ["d"]);
  expectGlob("[!]]", ["a", "/"], ["]"]);
});

Deno.test("globToRegExp() treats dots and regex metacharacters in names literally", () => {
  expectGlob("a.b", ["a.b"], ["axb", "a/b"]);
  expectGlob("a+b (1).txt", ["a+b (1).txt"], ["aab (1).txt", "a+b 1.txt"]);
  expectGlob("$HOME^{x}|y", ["$HOME^{x}|y"], ["HOME{x}", "y"]);
  expectGlob("back\\slash", ["back\\slash"], ["backslash", "back/slash"]);
  expectGlob("[a\\]", ["a", "\\"], ["]", "b"]);
  expectGlob("fotos/é*", ["fotos/été.jpg"], ["fotos/ete.jpg"]);
  expectGlob("100%.txt", ["100%.txt"], ["100.txt"]);
});

Deno.test("excluder() ignores a leading './' or '/' in patterns", () => {
  for (const pattern of ["./tmp/*", "/tmp/*", "tmp/*"]) {
    const excluded = excluder([pattern]);
    assert.equal(excluded("tmp/a"), true, pattern);
    assert.equal(excluded("tmp"), false, pattern);
    assert.equal(excluded("x/tmp/a"), false, pattern);
  }
});

Deno.test("excluder() matches any of several patterns", () => {
  const excluded = excluder(["*.tmp", "@eaDir/*", "*/.DS_Store"]);
  assert.equal(excluded("a/b.tmp"), true);
  assert.equal(excluded("@eaDir/x.jpg"), true);
  assert.equal(excluded("photos/.DS_Store"), true);
  assert.equal(excluded(".DS_Store"), false);
  assert.equal(excluded("photos/a.jpg"), false);
});

Deno.test("excluder() always excludes the state DB, its side files and its locks, in any folder", () => {
  assert.deepEqual([...ALWAYS_EXCLUDED].sort(), [`*/${STATE_DB_NAME}*`, `${STATE_DB_NAME}*`]);
  assert.equal(STATE_DB_NAME, ".s3-smart-sync.db");
  for (const excluded of [excluder([]), excluder(["*.tmp"])]) {
    for (
      const name of [
        STATE_DB_NAME,
        `${STATE_DB_NAME}-wal`,
        `${STATE_DB_NAME}-shm`,
        `${STATE_DB_NAME}-journal`,
        `${STATE_DB_NAME}.lock-0123456789ab`,
        // A directory synced on its own, nested in this one, keeps its state out of S3 too.
        `photos/${STATE_DB_NAME}`,
        `photos/2024/${STATE_DB_NAME}-wal`,
        `photos/2024/${STATE_DB_NAME}.lock-0123456789ab`,
      ]
    ) assert.equal(excluded(name), true, name);
    assert.equal(excluded("notes.txt"), false);
    assert.equal(excluded("x.s3-smart-sync.db"), false);
    assert.equal(excluded("photos/x.s3-smart-sync.db"), false);
  }
});

Deno.test("filter() splits items into kept and excluded ones, keeping their order", () => {
  const items = [
    { path: "a.jpg", n: 1 },
    { path: "b.tmp", n: 2 },
    { path: STATE_DB_NAME, n: 3 },
    { path: "dir/c.jpg", n: 4 },
    { path: "dir/d.tmp", n: 5 },
  ];
  const { kept, excluded } = filter(items, {
    isExcluded: excluder(["*.tmp"]),
    pathOf: (item) => item.path,
  });
  assert.deepEqual(kept.map((item) => item.n), [1, 4]);
  assert.deepEqual(excluded.map((item) => item.n), [2, 3, 5]);
  assert.deepEqual(filter([], { isExcluded: () => true, pathOf: String }), {
    kept: [],
    excluded: [],
  });
});

Deno.test("filter() takes the path from pathOf, so keys and files filter alike", () => {
  const keys = ["x/1.tmp", "x/2.jpg"];
  const { kept } = filter(keys, { isExcluded: excluder(["x/*.tmp"]), pathOf: (key) => key });
  assert.deepEqual(kept, ["x/2.jpg"]);
});

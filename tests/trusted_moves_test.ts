/**
 * Moves of a run that trusts the state copy on the ETags the state recorded: on S3 itself
 * the copy's own precondition protects them; on other servers, which may ignore it, each
 * source is checked with a HeadObject (If-Match) first. runTarget on a real folder, with
 * an in-memory bucket that honours the precondition as S3 does.
 */
import assert from "node:assert/strict";
import { runTarget } from "../lib/run_target.ts";
import { MemoryStore, requestDelta } from "../lib/s3/memory_store.ts";

const location = { bucket: "backup", prefix: "p/" };

async function trustedRename(endpoint: string): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-trusted-moves-" });
  try {
    Deno.writeTextFileSync(`${dir}/a.jpg`, "photo a");
    Deno.writeTextFileSync(`${dir}/b.jpg`, "photo b");
    const store = new MemoryStore();
    await runTarget({ localDir: dir, location, endpoint, mode: "sync" }, { store });
    Deno.renameSync(`${dir}/a.jpg`, `${dir}/c.jpg`);
    const before = store.requestCounts();
    const report = await runTarget({
      localDir: dir,
      location,
      endpoint,
      mode: "sync",
      trustState: true,
    }, { store });
    assert.equal(report.listing.kind, "trusted");
    assert.equal(report.outcome.moves.length, 1);
    return requestDelta(before, store.requestCounts());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("trusting the state on S3 itself, a move is one CopyObject (its precondition checks)", async () => {
  assert.deepEqual(await trustedRename(""), { CopyObject: 1, DeleteObjects: 1 });
});

Deno.test("trusting the state on a custom endpoint, each source is checked before its copy", async () => {
  assert.deepEqual(await trustedRename("http://127.0.0.1:9000"), {
    HeadObject: 1,
    CopyObject: 1,
    DeleteObjects: 1,
  });
});

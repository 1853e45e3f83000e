/**
 * Finding the deferred moves of every target for `restore` and `restore-status`: from
 * the registry, and from the archive log for targets synced before the registry existed;
 * with --state-dir, the registry says where the state is, whatever happened to the
 * (snapshot) paths it was synced from.
 */
import assert from "node:assert/strict";
import { updateArchiveLog } from "../lib/state/archive_log.ts";
import { deferredEverywhere } from "../lib/state/deferred_targets.ts";
import type { RegisteredTarget } from "../lib/state/registry.ts";
import { statePathOf, StateStore } from "../lib/state/store.ts";

const target = { endpoint: "", bucket: "backup", prefix: "photos/" };
const move = { from: "a.jpg", to: "b.jpg", size: 5, storageClass: "GLACIER", reason: "archived" };

Deno.test("snapshots synced with one --state-dir: one group from the state, no 'not mounted'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-deferred-targets-" });
  try {
    const stateDir = `${dir}/state`;
    Deno.mkdirSync(stateDir);
    const state = StateStore.open(stateDir);
    const id = state.target(target)!;
    const [deferred] = state.saveDeferred(id, { moves: [move], nowMs: 1_700_000_000_000 });
    state.close();
    // Two snapshots, both deleted since; each run registered its path and logged its moves.
    const registered: RegisteredTarget[] = [1, 2].map((n) => ({
      localDir: `${dir}/snapshot-${n}`,
      stateDb: statePathOf(stateDir),
      ...target,
    }));
    const archiveLog = `${dir}/archive_restore_needed.log`;
    for (const entry of registered) {
      updateArchiveLog(archiveLog, { target: { ...entry }, deferred: [deferred!] });
    }
    const search = deferredEverywhere({
      registry: { register() {}, targets: () => registered },
      archiveLog,
    });
    assert.deepEqual(search.problems, []);
    assert.equal(search.groups.length, 1);
    assert.deepEqual(search.groups[0]!.moves.map((m) => [m.from, m.to]), [["a.jpg", "b.jpg"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a target only in the archive log is still found, and a missing one named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "s3ss-deferred-targets-" });
  try {
    const local = `${dir}/photos`;
    Deno.mkdirSync(local);
    const state = StateStore.open(local);
    const [deferred] = state.saveDeferred(state.target(target)!, { moves: [move], nowMs: 1 });
    state.close();
    const archiveLog = `${dir}/archive_restore_needed.log`;
    updateArchiveLog(archiveLog, { target: { localDir: local, ...target }, deferred: [deferred!] });
    updateArchiveLog(archiveLog, {
      target: { localDir: `${dir}/unmounted`, ...target },
      deferred: [deferred!],
    });
    const search = deferredEverywhere({
      registry: { register() {}, targets: () => [] },
      archiveLog,
    });
    assert.equal(search.groups.length, 1);
    assert.equal(search.groups[0]!.localDir, local);
    assert.equal(search.problems.length, 1);
    assert.match(search.problems[0]!, /unmounted" is not there \(is the volume mounted\?\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

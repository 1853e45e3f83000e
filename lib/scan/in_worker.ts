/**
 * Runs {@linkcode scan} on a second thread, so that the walk of the local tree overlaps
 * with loading the state and listing the bucket (a NAS has at least two cores; a
 * no-change run of 200,000 files is bound by these three).
 *
 * @module
 */
import { type PackedScan, unpackScan } from "./pack.ts";
import { scan, type ScanResult } from "./scan.ts";

type Reply = { ok: true; packed: PackedScan } | { ok: false; name: string; message: string };

/**
 * Starts a scan of `root` in a worker and returns a function that waits for its result.
 * Where a worker cannot be started, the scan runs on this thread when awaited.
 *
 * @throws {Deno.errors.NotFound} (from the returned function) when `root` does not exist.
 *
 * @example
 * ```ts
 * const pending = startScan("/volume1/photos");
 * // … meanwhile, load the state and list the bucket …
 * const { files } = await pending();
 * console.log(files.length);
 * ```
 */
export function startScan(root: string): PendingScan {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  } catch {
    return Object.assign(() => Promise.resolve(scan(root)), { cancel() {} });
  }
  const result = new Promise<ScanResult>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<Reply>) => {
      worker.terminate();
      const reply = event.data;
      if (reply.ok) resolve(unpackScan(reply.packed));
      else if (reply.name === "NotFound") reject(new Deno.errors.NotFound(reply.message));
      else reject(new Error(reply.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      // The worker itself failed (not the scan): scan here instead.
      try {
        resolve(scan(root));
      } catch (error) {
        reject(error);
      }
    };
  });
  worker.postMessage({ root });
  return Object.assign(() => result, {
    cancel() {
      worker.terminate();
      result.catch(() => {});
    },
  });
}

/** Waits for a scan started by {@linkcode startScan}; `cancel` stops it. */
export type PendingScan = (() => Promise<ScanResult>) & { cancel(): void };

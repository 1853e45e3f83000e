/**
 * Streams the walk of a local tree from a second thread, in S3 key order and with
 * backpressure, so that the walk overlaps with reading the state and listing the bucket
 * while memory stays flat however large the tree and however slow the consumer.
 *
 * @module
 */
import type { ScanBatch } from "../model.ts";
import { withSlash } from "../fs.ts";
import { unpackBatch } from "./batch_pack.ts";
import type { ScanFs } from "./scan_fs.ts";
import { systemFs } from "./system_fs.ts";
import { DEFAULT_BATCH_SIZE, walk } from "./walk.ts";
import type { FromWalkWorker, ToWalkWorker } from "./walk_messages.ts";

/** Batches the worker may walk ahead of the consumer unless told otherwise. */
export const DEFAULT_BATCHES_IN_FLIGHT = 4;

/** Options of {@linkcode startScan}. */
export interface ScanStreamOptions {
  /** Files per batch; default 1,000 (see `DEFAULT_BATCH_SIZE`). */
  batchSize?: number;
  /** Batches posted but not yet taken by the consumer, at most; default 4. */
  maxBatchesInFlight?: number;
  /** A file system to walk instead of the real one (tests); the walk then runs here. */
  fs?: ScanFs;
  /** The worker module; default walk_worker.ts beside this module (tests pass a broken one). */
  workerUrl?: URL;
}

/**
 * The batches of a walk, in S3 key order (see `walk`), as they come.
 *
 * @example
 * ```ts
 * const root = Deno.makeTempDirSync();
 * const stream: ScanStream = startScan(root);
 * for await (const batch of stream) console.log(batch.files.length);
 * console.log(stream.rootDev, stream.directories); // 2049 1
 * Deno.removeSync(root);
 * ```
 */
export interface ScanStream extends AsyncIterable<ScanBatch> {
  /** Device number of the root; NaN when the root could not be read (iterating rejects). */
  readonly rootDev: number;
  /** Directories read; known once the iteration has ended, 0 before. */
  readonly directories: number;
  /**
   * Batches the worker has delivered that the consumer has not taken yet: at most
   * `maxBatchesInFlight`, and 0 when the walk runs on this thread.
   */
  readonly batchesWaiting: number;
  /** Stops the walk: its worker is terminated, and iterating ends. Harmless once ended. */
  cancel(): void;
}

/** What the worker, a crash of it, or `cancel` put in the mailbox. */
type Delivery = FromWalkWorker | { type: "crashed"; message: string } | { type: "cancelled" };

/**
 * Starts walking `root` on a Worker thread and returns the stream of its batches. The
 * worker stays at most `maxBatchesInFlight` batches ahead of the consumer, which
 * acknowledges each batch it takes; so a slow consumer holds the walk back instead of
 * letting batches pile up. Where a worker cannot be started, the walk runs on this
 * thread as the stream is read, letting timers and I/O run between batches; so it does
 * with `options.fs` (a fake file system cannot cross into a worker).
 *
 * Iterate the stream once; leaving the loop early (or `cancel()`) stops the worker. A
 * stream that is neither read to its end, nor left, nor cancelled keeps its worker, and
 * so the process, alive: where other work may throw before the loop, cancel it in a
 * `finally` (cancelling a finished stream does nothing).
 *
 * @param root an existing directory.
 * @param options batch size, batches in flight, and a file system for tests.
 * @returns the stream.
 * @throws {Deno.errors.NotFound} (when iterated) if `root` does not exist.
 *
 * @example
 * ```ts
 * const root = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${root}/a.jpg`, "photo");
 * const scanned = startScan(root, { batchSize: 2000 });
 * // … meanwhile, read the state and list the bucket …
 * for await (const { files, skipped } of scanned) {
 *   for (const file of files) console.log(file.path, file.ino);
 *   for (const entry of skipped) console.warn(`${entry.path}: ${entry.reason}`);
 * }
 * Deno.removeSync(root, { recursive: true });
 * ```
 */
export function startScan(root: string, options: ScanStreamOptions = {}): ScanStream {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxBatchesInFlight = options.maxBatchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT;
  if (!(maxBatchesInFlight >= 1)) {
    throw new RangeError(`At least 1 batch must be allowed in flight, not ${maxBatchesInFlight}.`);
  }
  const totals = { rootDev: NaN, directories: 0, batchesWaiting: 0, cancelled: false };
  let batches: AsyncGenerator<ScanBatch, void, undefined>;
  let stop = () => {};
  try {
    // The trailing "/" makes lstat resolve a root that is a link to a folder.
    const rootInfo = (options.fs ?? systemFs).lstat(withSlash(root));
    if (!rootInfo.isDirectory) {
      throw new Deno.errors.NotADirectory(`Cannot scan "${root}": it is not a folder.`);
    }
    totals.rootDev = rootInfo.dev;
    const worker = options.fs ? undefined : tryWorker(options.workerUrl);
    if (worker === undefined) {
      batches = onThisThread(root, { fs: options.fs, batchSize }, totals);
    } else {
      const mailbox = new Mailbox<Delivery>();
      worker.onmessage = (event: MessageEvent<FromWalkWorker>) => {
        if (event.data.type === "batch") totals.batchesWaiting++;
        mailbox.put(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        mailbox.put({ type: "crashed", message: event.message });
      };
      worker.postMessage(
        { type: "start", root, batchSize, maxBatchesInFlight } satisfies ToWalkWorker,
      );
      batches = fromWorker(worker, mailbox, { root, batchSize }, totals);
      stop = () => {
        worker.terminate();
        mailbox.put({ type: "cancelled" });
      };
    }
  } catch (error) {
    batches = failing(error);
  }
  return {
    get rootDev() {
      return totals.rootDev;
    },
    get directories() {
      return totals.directories;
    },
    get batchesWaiting() {
      return totals.batchesWaiting;
    },
    cancel() {
      totals.cancelled = true;
      stop();
    },
    [Symbol.asyncIterator]: () => batches,
  };
}

function tryWorker(url = new URL("./walk_worker.ts", import.meta.url)): Worker | undefined {
  try {
    return new Worker(url, { type: "module" });
  } catch {
    return undefined;
  }
}

async function* fromWorker(
  worker: Worker,
  mailbox: Mailbox<Delivery>,
  walkOptions: { root: string; batchSize: number },
  totals: { directories: number; batchesWaiting: number; cancelled: boolean },
): AsyncGenerator<ScanBatch, void, undefined> {
  let received = 0;
  try {
    while (!totals.cancelled) {
      const delivery = await mailbox.take();
      switch (delivery.type) {
        case "batch":
          received++;
          totals.batchesWaiting--;
          worker.postMessage({ type: "credit" } satisfies ToWalkWorker);
          yield unpackBatch(delivery.batch);
          break;
        case "done":
          totals.directories = delivery.directories;
          return;
        case "error":
          throw rebuildError(delivery.name, delivery.message);
        case "crashed":
          // A worker that never started (its module missing from a compiled binary, say)
          // is replaced by this thread; one that failed midway cannot be resumed.
          if (received === 0) {
            yield* onThisThread(walkOptions.root, { batchSize: walkOptions.batchSize }, totals);
            return;
          }
          throw new Error(
            `The scan of "${walkOptions.root}" stopped: its worker failed (${delivery.message}).`,
          );
        case "cancelled":
          return;
      }
    }
  } finally {
    worker.terminate();
  }
}

async function* onThisThread(
  root: string,
  walkOptions: { fs?: ScanFs; batchSize: number },
  totals: { directories: number; cancelled: boolean },
): AsyncGenerator<ScanBatch, void, undefined> {
  const batches = walk(root, walkOptions);
  while (!totals.cancelled) {
    const step = batches.next();
    if (step.done) {
      totals.directories = step.value.directories;
      return;
    }
    yield step.value;
    // Lets timers and I/O (reading the state, the listing) run between batches.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

// deno-lint-ignore require-yield
async function* failing(error: unknown): AsyncGenerator<ScanBatch, void, undefined> {
  throw error;
}

/** The worker's error as the class it had there (`Deno.errors.NotFound`, …). */
function rebuildError(name: string, message: string): Error {
  const errors = Deno.errors as unknown as Record<string, new (message: string) => Error>;
  const ErrorClass = Object.hasOwn(errors, name) ? errors[name]! : Error;
  return new ErrorClass(message);
}

/** A queue that one consumer awaits. */
class Mailbox<T> {
  #items: T[] = [];
  #waiting: ((item: T) => void) | undefined;

  put(item: T): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(item);
    else this.#items.push(item);
  }

  take(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve) => this.#waiting = resolve);
  }
}

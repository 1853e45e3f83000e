/**
 * Worker entry of `startScan` (stream.ts): walks the root it is sent and posts the
 * batches in packed form, never more than the stream has given it credit for. It
 * imports only relative modules, so `deno compile --include lib/scan/walk_worker.ts`
 * embeds it with everything it needs.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { packBatch, transferablesOf } from "./batch_pack.ts";
import { walk } from "./walk.ts";
import type { FromWalkWorker, ToWalkWorker } from "./walk_messages.ts";

let credit = 0;
let creditArrived: (() => void) | undefined;

self.onmessage = (event: MessageEvent<ToWalkWorker>) => {
  const message = event.data;
  if (message.type === "credit") {
    credit++;
    creditArrived?.();
    creditArrived = undefined;
  } else {
    credit = message.maxBatchesInFlight;
    walkAndPost(message.root, message.batchSize).finally(() => self.close());
  }
};

async function walkAndPost(root: string, batchSize: number): Promise<void> {
  try {
    const batches = walk(root, { batchSize });
    for (;;) {
      // The next batch is walked while earlier ones wait to be taken.
      const step = batches.next();
      if (step.done) {
        post({ type: "done", ...step.value });
        return;
      }
      while (credit === 0) await new Promise<void>((resolve) => creditArrived = resolve);
      credit--;
      const batch = packBatch(step.value);
      self.postMessage({ type: "batch", batch } satisfies FromWalkWorker, transferablesOf(batch));
    }
  } catch (error) {
    post({ type: "error", name: (error as Error).name, message: (error as Error).message });
  }
}

function post(message: FromWalkWorker): void {
  self.postMessage(message);
}

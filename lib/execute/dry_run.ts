/**
 * The executor of `--dry-run` and `status`: it reports every action of a plan, in the
 * order a real run would take them, and changes nothing.
 *
 * @module
 */
import { type Plan, TEMP_FOLDER } from "../model.ts";
import { orderMoves } from "../plan/move_order.ts";
import {
  countMove,
  emptyOutcome,
  type ExecutionReporter,
  type Executor,
  type Outcome,
  totalsOf,
} from "./executor.ts";

/**
 * An executor that changes nothing: it reports every action of the plan as if it had
 * been done, so `--dry-run` and `status` print exactly what a real run would do.
 *
 * @example
 * ```ts
 * import { MemoryUploadQueue } from "../plan/upload_queue.ts";
 * const outcome = await new DryRunExecutor().execute({
 *   moves: [], uploads: new MemoryUploadQueue(), deletes: [], record: { upsert: [], forget: [] },
 *   unchanged: 0, adopted: 0, inodeUpdates: 0, skipped: [], deferred: [], waiting: [],
 * });
 * console.log(outcome.uploads); // 0
 * ```
 */
export class DryRunExecutor implements Executor {
  constructor(private readonly reporter: ExecutionReporter = {}) {}

  execute(plan: Plan): Promise<Outcome> {
    const outcome = emptyOutcome();
    outcome.waiting = plan.waiting.length;
    this.reporter.planned?.(totalsOf(plan));
    let temp = 0;
    for (const sequence of orderMoves(plan.moves, () => `${TEMP_FOLDER}dry-run-${++temp}`)) {
      for (const step of sequence) countMove(outcome, step, this.reporter);
    }
    for (const batch of plan.uploads.batches()) {
      for (const action of batch) {
        outcome.uploads++;
        outcome.bytesUploaded += action.file.size;
        this.reporter.uploaded?.(action);
      }
    }
    for (const action of plan.deletes) {
      outcome.deletes++;
      this.reporter.deleted?.(action);
    }
    plan.uploads.close();
    return Promise.resolve(outcome);
  }
}

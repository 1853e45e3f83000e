/**
 * The executor of `--dry-run` and `status`: it reports every action of a plan, in the
 * order a real run would take them, and changes nothing.
 *
 * @module
 */
import { emptyOutcome, type ExecutionReporter, type Executor, type Outcome } from "./live.ts";
import { orderMoves } from "../plan/move_order.ts";
import { type Plan, TEMP_FOLDER } from "../model.ts";

/**
 * An executor that changes nothing: it reports every action of the plan as if it had
 * been done, so `--dry-run` and `status` print exactly what a real run would do.
 */
export class DryRunExecutor implements Executor {
  constructor(private readonly reporter: ExecutionReporter = {}) {}

  execute(plan: Plan): Promise<Outcome> {
    const outcome = emptyOutcome();
    let temp = 0;
    for (const sequence of orderMoves(plan.moves, () => `${TEMP_FOLDER}dry-run-${++temp}`)) {
      for (const step of sequence) {
        if (!step.viaTemp || step.file) {
          outcome.moves.push(step);
          outcome.bytesMovedServerSide += step.size;
        }
        this.reporter.moved?.(step);
      }
    }
    for (const action of plan.uploads) {
      outcome.uploads.push(action);
      outcome.bytesUploaded += action.file.size;
      this.reporter.uploaded?.(action);
    }
    for (const action of plan.deletes) {
      outcome.deletes.push(action);
      this.reporter.deleted?.(action);
    }
    return Promise.resolve(outcome);
  }
}

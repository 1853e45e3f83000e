/**
 * The planner run on in-memory listings, for unit tests: the rows written while merging
 * and the uploads are folded into one plan-like object whose arrays tests can compare.
 *
 * @module
 */
import type { FileRecord, LocalFile, Plan, RemoteEntry, UploadAction } from "../../lib/model.ts";
import { plan, type PlanOptions } from "../../lib/plan/plan.ts";

/** A plan with its uploads as an array and every row it writes in `record.upsert`. */
export type TestPlan = Omit<Plan, "uploads"> & { uploads: UploadAction[] };

/** Plans from rows, files and listed objects (keys relative to the prefix). */
export async function runPlan(
  previous: readonly FileRecord[],
  local: readonly LocalFile[],
  remote: Record<string, RemoteEntry> | undefined,
  options: PlanOptions = { mode: "sync" },
): Promise<TestPlan> {
  const result = await plan({
    previous: new Map(previous.map((record) => [record.path, record])),
    local,
    remote: remote ? new Map(Object.entries(remote)) : undefined,
  }, options);
  return {
    ...result.plan,
    uploads: [...result.uploads.actions],
    record: {
      upsert: [...result.written, ...result.plan.record.upsert],
      forget: result.plan.record.forget,
    },
  };
}

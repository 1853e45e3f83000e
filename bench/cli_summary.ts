/**
 * The `--json` summary our CLI prints as the last line of stdout, as far as the benches
 * read it.
 *
 * @module
 */

/** Fields of the `--json` summary the benches use. */
export interface CliSummary {
  /** Objects uploaded. */
  uploads: number;
  /** Server-side moves. */
  moves: number;
  /** Objects deleted. */
  deletes: number;
  /** Objects already in S3 adopted without upload. */
  adopted: number;
  /** Files found unchanged. */
  unchanged: number;
  /** Requests by S3 operation, as the CLI counted them. */
  requests: Record<string, number>;
  /** Bytes uploaded. */
  bytesUploaded: number;
  /** The CLI's own duration, ms. */
  durationMs: number;
  /** Exit code it reported. */
  exitCode: number;
  /** Milliseconds per phase (open, merge, plan, execute and its parts), when reported. */
  phasesMs?: Record<string, number>;
}

/** Parses the last non-empty stdout line; undefined when it is not a JSON object. */
export function cliSummary(stdout: string): CliSummary | undefined {
  const last = stdout.trimEnd().split("\n").at(-1);
  if (!last?.startsWith("{")) return undefined;
  try {
    const json = JSON.parse(last);
    return {
      uploads: json.uploads ?? 0,
      moves: json.moves ?? 0,
      deletes: json.deletes ?? 0,
      adopted: json.adopted ?? 0,
      unchanged: json.unchanged ?? 0,
      requests: json.requests ?? {},
      bytesUploaded: json.bytesUploaded ?? 0,
      durationMs: json.durationMs ?? 0,
      exitCode: json.exitCode ?? -1,
      phasesMs: json.phasesMs,
    };
  } catch {
    return undefined;
  }
}

/** The last `lines` lines of a text, for error reports. */
export function tail(text: string, lines = 5): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * The version of s3-smart-sync, from deno.json.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** The version string, e.g. "0.1.0". */
export const VERSION: string = config.version;

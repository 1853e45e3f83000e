/**
 * Turns AWS SDK errors into errors that say what failed and what to do, with the
 * exit code they deserve.
 *
 * @module
 */
import { errorMessage, OperationError, UsageError } from "./errors.ts";
import { redactUrl } from "./log.ts";

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const CREDENTIAL_ERRORS = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "UnrecognizedClientException",
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EPIPE",
  "TimeoutError",
  "RequestTimeout",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, name } = current as SdkError;
    if (code && NETWORK_CODES.has(code)) return code;
    if (name && NETWORK_CODES.has(name)) return name;
    if (current instanceof TypeError && /connect|network|fetch/i.test(current.message)) {
      return "network";
    }
    current = (current as SdkError).cause;
  }
  return undefined;
}

/** True when an error means S3 could not be reached (refused, reset, timed out, DNS). */
export function isNetworkError(error: unknown): boolean {
  return networkCode(error) !== undefined;
}

/**
 * Classifies an error from the first request of a run (the listing). Bad credentials,
 * a missing bucket or access denied are configuration errors (exit 2: nothing was
 * changed); an unreachable server is an operation error (exit 1).
 *
 * @example
 * ```ts
 * try { await list(); } catch (error) { throw explainS3Error(error, { bucket: "b", endpoint }); }
 * ```
 */
export function explainS3Error(
  error: unknown,
  context: { bucket: string; endpoint?: string },
): Error {
  const sdk = error as SdkError;
  const name = sdk.name ?? "";
  const where = context.endpoint ? ` at ${redactUrl(context.endpoint)}` : "";
  if (name === "NoSuchBucket") {
    return new UsageError(
      `Bucket "${context.bucket}" does not exist${where}. Create it, or check the bucket name and --endpoint-url.`,
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/i.test(sdk.message ?? "")) {
    return new UsageError(
      `S3 rejected the credentials (${name || "no credentials"}): ${
        errorMessage(error)
      }. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile.`,
    );
  }
  if (name === "AccessDenied" || sdk.$metadata?.httpStatusCode === 403) {
    return new UsageError(
      `Access to bucket "${context.bucket}"${where} was denied. The credentials need s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on it.`,
    );
  }
  if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed") {
    return new UsageError(
      `Bucket "${context.bucket}" is in another region: ${errorMessage(error)}. Pass --region.`,
    );
  }
  const network = networkCode(error);
  if (network) {
    return new OperationError(
      `Cannot reach S3${where || " (AWS)"}: ${
        errorMessage(error)
      }. Check the network and --endpoint-url; nothing was changed.`,
    );
  }
  return new OperationError(
    `S3 request failed${where}: ${name ? name + ": " : ""}${errorMessage(error)}`,
  );
}

/**
 * What S3's errors mean, in one place: their codes and statuses (not found, changed,
 * archived, restore under way, unreachable), sentences for the user that also read well
 * when the server sends no message, and the exit code a failed listing deserves.
 *
 * @module
 */
import { errorMessage, OperationError, UsageError } from "../errors.ts";
import { redactUrl } from "../report/log.ts";

/** The fields the AWS SDK (and Node's network layer) put on the errors it throws. */
interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** The HTTP status of an S3 error answer, if it came from one. */
export function statusOf(error: unknown): number | undefined {
  return (error as SdkError)?.$metadata?.httpStatusCode;
}

/** The S3 error code of an error (`NoSuchKey`, `PreconditionFailed`…), or "". */
export function codeOf(error: unknown): string {
  const sdk = error as SdkError;
  return sdk?.Code ?? sdk?.name ?? "";
}

/**
 * An S3 error as a sentence fragment: its code and message, or its code and HTTP status
 * when the server sent no message (Ceph RGW sends an empty `<Message>`).
 *
 * @example
 * ```ts
 * s3ErrorText({ name: "NoSuchKey", message: "", $metadata: { httpStatusCode: 404 } });
 * // "NoSuchKey (HTTP 404)"
 * s3ErrorText({ name: "Unknown", message: "UnknownError", $metadata: { httpStatusCode: 412 } });
 * // "PreconditionFailed (HTTP 412)"
 * ```
 */
export function s3ErrorText(error: unknown): string {
  const named = codeOf(error);
  const status = statusOf(error);
  // An answer without a body (HEAD) or code: the SDK calls it "Unknown".
  const code = UNNAMED.has(named) ? (status && STATUS_NAMES[status]) || "Error" : named;
  const message = errorMessage(error).trim().replace(/\.+$/, "");
  if (message === "" || message === named || UNNAMED.has(message)) {
    return `${code}${status ? ` (HTTP ${status})` : ""}`;
  }
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** What the SDK names an error it has no code for. */
const UNNAMED = new Set(["", "Unknown", "UnknownError", "Error"]);

/** Names of the HTTP statuses S3 answers with, for answers without a code. */
const STATUS_NAMES: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  411: "LengthRequired",
  412: "PreconditionFailed",
  416: "InvalidRange",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
};

/** One key's failure in a DeleteObjects answer, as a sentence fragment. */
export function deleteErrorText(error: { Code?: string; Message?: string }): string {
  const code = error.Code ?? "Error";
  return error.Message ? `${code}: ${error.Message}` : code;
}

/** True when S3 says that the object (or its version) is not there. */
export function isNotFound(error: unknown): boolean {
  const code = codeOf(error);
  return code === "NotFound" || code === "NoSuchKey" || statusOf(error) === 404;
}

/** True when the server does not implement what was asked (501), e.g. a copy RGW cannot make. */
export function isNotImplemented(error: unknown): boolean {
  return codeOf(error) === "NotImplemented" || statusOf(error) === 501;
}

/** True when S3 refused a conditional request because the object changed (412). */
export function isPreconditionFailed(error: unknown): boolean {
  return codeOf(error) === "PreconditionFailed" || statusOf(error) === 412;
}

/** S3 error codes that mean "this object is archived; restore it first". */
export const ARCHIVED_ERRORS: ReadonlySet<string> = new Set([
  "InvalidObjectState",
  "ObjectNotInActiveTierError",
]);

/** True when an error from CopyObject or GetObject says that the source is archived. */
export function isArchivedError(error: unknown): boolean {
  const { name, Code } = error as SdkError;
  return ARCHIVED_ERRORS.has(name ?? "") || ARCHIVED_ERRORS.has(Code ?? "");
}

/**
 * What a RestoreObject error means when it is not a failure: a restore already under
 * way, or an object that needs none. Undefined for real failures.
 */
export function restoreOutcomeOfError(
  error: unknown,
): "in progress" | "not archived" | undefined {
  const code = codeOf(error);
  if (code === "RestoreAlreadyInProgress") return "in progress";
  if (code === "ObjectAlreadyInActiveTierError") return "not archived";
  return undefined;
}

/** Explains a failed CopyObject in a sentence fragment. */
export function describeCopyError(error: unknown): string {
  if (isPreconditionFailed(error)) {
    return "the source object changed in S3 since it was listed; the next run will look again";
  }
  if (isNotFound(error)) return "the source object no longer exists in S3";
  if (isNotImplemented(error)) {
    return `the server cannot copy this object (${s3ErrorText(error)})`;
  }
  return s3ErrorText(error);
}

/** The messages of every error in a chain of causes. */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    messages.push(String((current as SdkError).message ?? ""));
    current = (current as SdkError).cause;
  }
  return messages.join(" | ");
}

/**
 * What went wrong with TLS, as a sentence saying what to do, or undefined: an https
 * endpoint that answers in plain HTTP, or a certificate this machine does not trust.
 */
function tlsProblem(error: unknown, endpoint: string | undefined): string | undefined {
  const text = messagesOf(error);
  const where = endpoint ? redactUrl(endpoint) : "S3";
  if (
    /InvalidContentType|wrong version number|corrupt message|HTTP request to an HTTPS/i.test(text)
  ) {
    const plain = endpoint?.replace(/^https:/i, "http:");
    return endpoint?.startsWith("https:")
      ? `${where} does not speak TLS (it answered in plain HTTP). If the server serves http, use --endpoint-url ${plain}; nothing was changed.`
      : `${where} and this machine disagree on TLS (${
        text.split(" | ")[0]
      }): check the scheme of --endpoint-url; nothing was changed.`;
  }
  if (/certificate|UnknownIssuer|CaUsedAsEndEntity|NotValidForName|self[- ]signed/i.test(text)) {
    return `The TLS certificate of ${where} is not trusted here (${
      /invalid peer certificate: [^|)]*/i.exec(text)?.[0] ?? "certificate error"
    }). Give the CA that signed it with DENO_CERT=/path/to/ca.pem, or check the host name in --endpoint-url; nothing was changed.`;
  }
  return undefined;
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
 * const error = Object.assign(new Error("The specified bucket does not exist"), {
 *   name: "NoSuchBucket",
 * });
 * explainS3Error(error, { bucket: "backup" }).message;
 * // 'Bucket "backup" does not exist. Create it, or check the bucket name and --endpoint-url.'
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
        s3ErrorText(error)
      }. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile.`,
    );
  }
  if (name === "AccessDenied" || statusOf(error) === 403) {
    return new UsageError(
      `Access to bucket "${context.bucket}"${where} was denied. The credentials need s3:ListBucket on it and s3:GetObject, s3:PutObject and s3:DeleteObject on its objects (the README's IAM section has the whole policy).`,
    );
  }
  if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed") {
    return new UsageError(
      `Bucket "${context.bucket}" is in another region: ${s3ErrorText(error)}. Pass --region.`,
    );
  }
  const tls = tlsProblem(error, context.endpoint);
  if (tls) return new UsageError(tls);
  const network = networkCode(error);
  if (network) {
    return new OperationError(
      `Cannot reach S3${where || " (AWS)"}: ${
        errorMessage(error)
      }. Check the network and --endpoint-url; nothing was changed.`,
    );
  }
  return new OperationError(
    `S3 request failed${where}: ${s3ErrorText(error)}`,
  );
}

/**
 * What S3's errors say to the user, also when the server says little: Ceph RGW answers
 * with an empty <Message>, and a HEAD answer has no body at all.
 */
import assert from "node:assert/strict";
import { OperationError, UsageError } from "../lib/errors.ts";
import {
  describeCopyError,
  explainS3Error,
  isNotFound,
  isPreconditionFailed,
  restoreOutcomeOfError,
  s3ErrorText,
} from "../lib/s3/errors.ts";

function sdkError(name: string, message: string, status?: number): Error {
  return Object.assign(new Error(message), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

Deno.test("s3ErrorText() names the code and the status when the server sends no message", () => {
  assert.equal(s3ErrorText(sdkError("NoSuchKey", "", 404)), "NoSuchKey (HTTP 404)");
  assert.equal(s3ErrorText(sdkError("NoSuchKey", "UnknownError", 404)), "NoSuchKey (HTTP 404)");
  // A HEAD answer has no body: the SDK calls it "Unknown".
  assert.equal(
    s3ErrorText(sdkError("Unknown", "UnknownError", 412)),
    "PreconditionFailed (HTTP 412)",
  );
  assert.equal(s3ErrorText(sdkError("Unknown", "UnknownError", 501)), "NotImplemented (HTTP 501)");
  assert.equal(s3ErrorText(sdkError("Unknown", "UnknownError")), "Error");
});

Deno.test("s3ErrorText() keeps a server's message, once, without its final period", () => {
  assert.equal(
    s3ErrorText(sdkError("AccessDenied", "Access Denied.", 403)),
    "AccessDenied: Access Denied",
  );
  assert.equal(
    s3ErrorText(sdkError("SlowDown", "SlowDown: reduce your rate", 503)),
    "SlowDown: reduce your rate",
  );
});

Deno.test("conditions are read from the status when the code is missing", () => {
  assert.ok(isPreconditionFailed(sdkError("Unknown", "UnknownError", 412)));
  assert.ok(isNotFound(sdkError("Unknown", "UnknownError", 404)));
  assert.match(describeCopyError(sdkError("Unknown", "", 412)), /changed in S3/);
  assert.equal(restoreOutcomeOfError(sdkError("NotImplemented", "", 501)), undefined);
});

Deno.test("explainS3Error() gives one sentence per cause, with what to do and no doubled period", () => {
  const credentials = explainS3Error(
    sdkError(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
      403,
    ),
    { bucket: "b" },
  );
  assert.ok(credentials instanceof UsageError);
  assert.doesNotMatch(credentials.message, /\.\./);
  assert.match(credentials.message, /--profile/);
  const missing = explainS3Error(sdkError("NoSuchBucket", "", 404), {
    bucket: "b",
    endpoint: "http://127.0.0.1:9000",
  });
  assert.ok(missing instanceof UsageError);
  assert.match(missing.message, /Bucket "b" does not exist at http:\/\/127\.0\.0\.1:9000/);
  const other = explainS3Error(sdkError("InternalError", "", 500), { bucket: "b" });
  assert.ok(other instanceof OperationError);
  assert.equal(other.message, "S3 request failed: InternalError (HTTP 500)");
});

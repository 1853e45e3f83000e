import assert from "node:assert/strict";
import type { ObjectStore } from "../lib/s3/store.ts";
import { guardUnreachable, StoreUnreachableError } from "../lib/s3/unreachable_guard.ts";

function refusing(calls: string[], failing: () => boolean): ObjectStore {
  const refuse = (name: string) => {
    calls.push(name);
    if (!failing()) return Promise.resolve();
    return Promise.reject(
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
    );
  };
  return {
    async *list() {},
    upload: () => refuse("upload").then(() => ({})),
    copy: () => refuse("copy").then(() => ({})),
    deleteMany: () => refuse("delete").then(() => []),
    head: () => refuse("head").then(() => undefined),
    restore: () => refuse("restore").then(() => "started" as const),
    readable: () => refuse("readable").then(() => true),
    abortMultipartUploads: () => refuse("abort").then(() => 0),
    requestCounts: () => ({}),
  };
}

Deno.test("guardUnreachable() stops calling S3 after three network failures in a row", async () => {
  const calls: string[] = [];
  const store = guardUnreachable(refusing(calls, () => true));
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      store.copy("a", "b"),
      (error: Error) => error.name !== "StoreUnreachableError",
    );
  }
  await assert.rejects(store.copy("a", "b"), StoreUnreachableError);
  await assert.rejects(store.upload("k", { path: "/x", size: 1 }), /S3 became unreachable/);
  assert.equal(calls.length, 3, "no request is sent once S3 is known to be unreachable");
});

Deno.test("guardUnreachable() resets its count on a success and ignores S3 errors", async () => {
  const calls: string[] = [];
  let fail = true;
  const store = guardUnreachable(refusing(calls, () => fail));
  await assert.rejects(store.copy("a", "b"));
  await assert.rejects(store.copy("a", "b"));
  fail = false;
  await store.copy("a", "b");
  fail = true;
  await assert.rejects(store.copy("a", "b"));
  await assert.rejects(store.copy("a", "b"));
  await assert.rejects(store.copy("a", "b"), StoreUnreachableError);
  const denied = guardUnreachable({
    ...refusing([], () => false),
    copy: () => Promise.reject(Object.assign(new Error("Access Denied"), { name: "AccessDenied" })),
  });
  for (let i = 0; i < 5; i++) await assert.rejects(denied.copy("a", "b"), /Access Denied/);
});

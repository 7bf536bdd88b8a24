import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay, pollResult } from "../src/lib/poll.js";

/** A fake clock: sleep() advances time instantly and records each delay. */
function fakeClock() {
  let t = 0;
  const delays = [];
  return { now: () => t, sleep: async (ms) => { delays.push(ms); t += ms; }, delays };
}

test("backoff grows by 1.5 and is capped at 2 s", () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n)), [250, 375, 563, 844]);
  assert.equal(backoffDelay(20), 2000);
});

test("polls through 404 and intermediate states until done", async () => {
  const answers = [null, null, { status: "received" }, { status: "features_ready" }, { status: "done", label: "dry" }];
  const seen = [];
  const clock = fakeClock();
  const outcome = await pollResult({
    fetchResult: async () => answers.shift(),
    onUpdate: (doc) => seen.push(doc.status),
    ...clock,
  });
  assert.equal(outcome, "final");
  assert.deepEqual(seen, ["received", "features_ready", "done"]);
  assert.deepEqual(clock.delays, [250, 375, 563, 844]);
});

test("a network error is reported and polling goes on", async () => {
  const errors = [];
  const answers = [() => { throw new Error("offline"); }, () => ({ status: "failed" })];
  const outcome = await pollResult({
    fetchResult: async () => answers.shift()(),
    onUpdate: () => {},
    onError: (err) => errors.push(err.message),
    ...fakeClock(),
  });
  assert.equal(outcome, "final");
  assert.deepEqual(errors, ["offline"]);
});

test("a permanent error ends polling", async () => {
  let calls = 0;
  const outcome = await pollResult({
    fetchResult: async () => {
      calls += 1;
      throw Object.assign(new Error("bad name"), { status: 400 });
    },
    onUpdate: () => {},
    isPermanent: (err) => err.status === 400,
    ...fakeClock(),
  });
  assert.equal(outcome, "error");
  assert.equal(calls, 1);
});

test("gives up at the deadline, and stops when aborted", async () => {
  const clock = fakeClock();
  const outcome = await pollResult({ fetchResult: async () => null, onUpdate: () => {}, deadlineMs: 10_000, ...clock });
  assert.equal(outcome, "timeout");
  assert.ok(clock.now() >= 10_000);

  const controller = new AbortController();
  let calls = 0;
  const aborted = await pollResult({
    fetchResult: async () => {
      calls += 1;
      controller.abort();
      return { status: "received" };
    },
    onUpdate: () => {},
    signal: controller.signal,
    ...fakeClock(),
  });
  assert.equal(aborted, "aborted");
  assert.equal(calls, 1);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { warmThenLoad } from "../src/lib/signedIn.js";

test("signed in: the page warms the pipeline first, then loads the history", async () => {
  const order = [];
  const api = {
    warm: async () => {
      order.push("warm");
      return true;
    },
  };
  await warmThenLoad(api, () => order.push("history"));
  assert.deepEqual(order, ["warm", "history"]);
});

test("signed in: a warm-up that did not happen still loads the history", async () => {
  let loaded = false;
  await warmThenLoad({ warm: async () => false }, () => (loaded = true));
  assert.equal(loaded, true);
});

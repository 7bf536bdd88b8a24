import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createHistoryPager,
  entryFromResult,
  forgetLegacyHistory,
  mergeEntries,
  withoutEntry,
} from "../src/lib/history.js";

const doc = (n, extra = {}) => ({
  key: `k${n}`,
  name: `users/uid-a/web/20261204T0${n}0000Z-0000000${n}-cough${n}.wav`,
  owner: "uid-a",
  status: "done",
  label: "dry",
  model: { name: "cough-classifier", version: "1.1.0", labels: ["dry", "wet"], display_names: { dry: "Dry cough" } },
  created_at: `2026-12-04T0${n}:00:00.000000+00:00`,
  expire_at: "2027-01-03T00:00:00+00:00",
  ...extra,
});

test("a result document becomes an entry named after the visitor's file", () => {
  assert.deepEqual(entryFromResult(doc(1)), {
    name: "users/uid-a/web/20261204T010000Z-00000001-cough1.wav",
    fileName: "cough1.wav",
    uploadedAt: "2026-12-04T01:00:00.000000+00:00",
    status: "done",
    label: "dry",
    labelText: "Dry cough",
    expireAt: "2027-01-03T00:00:00+00:00",
  });
  const pending = entryFromResult({ name: "users/uid-a/x.wav", status: "received" });
  assert.deepEqual([pending.label, pending.labelText, pending.expireAt, pending.uploadedAt], [null, null, null, null]);
});

test("merging: updates in place by name, new entries by time, newest first", () => {
  const older = [entryFromResult(doc(2)), entryFromResult(doc(1))];
  // An upload of this session, not recorded by the pipeline yet (a client-side ISO time).
  const fresh = { name: "users/uid-a/web/new.wav", fileName: "new.wav", uploadedAt: "2026-12-04T05:00:00.000Z", status: "uploaded" };
  let list = mergeEntries(older, [fresh]);
  assert.deepEqual(list.map((e) => e.fileName), ["new.wav", "cough2.wav", "cough1.wav"]);
  list = mergeEntries(list, [{ name: fresh.name, status: "done", label: "wet" }]);
  assert.deepEqual(list[0], { ...fresh, status: "done", label: "wet" });
  assert.equal(list.length, 3);
  assert.deepEqual(older.map((e) => e.fileName), ["cough2.wav", "cough1.wav"], "the input is not changed");
});

test("deleting an entry leaves the others in order", () => {
  const list = [doc(3), doc(2), doc(1)].map(entryFromResult);
  assert.deepEqual(withoutEntry(list, list[1].name).map((e) => e.fileName), ["cough3.wav", "cough1.wav"]);
});

test("paging: the first page, then each next page with the token of the one before, until there is none", async () => {
  const pages = {
    "": { results: [doc(6), doc(5)], next_page_token: "t1" },
    t1: { results: [doc(4), doc(3)], next_page_token: "t2" },
    t2: { results: [doc(2)], next_page_token: null },
  };
  const asked = [];
  const api = {
    listResults: async ({ limit, pageToken }) => {
      asked.push([limit, pageToken]);
      return pages[pageToken ?? ""];
    },
  };
  const pager = createHistoryPager(api, 2);
  assert.equal(pager.hasMore, false, "nothing known before the first page");
  let list = mergeEntries([], await pager.firstPage());
  assert.equal(pager.hasMore, true);
  while (pager.hasMore) list = mergeEntries(list, await pager.nextPage());
  assert.deepEqual(list.map((e) => e.fileName), ["cough6.wav", "cough5.wav", "cough4.wav", "cough3.wav", "cough2.wav"]);
  assert.deepEqual(asked, [[2, null], [2, "t1"], [2, "t2"]]);

  // Starting over (another visitor, or a reload) forgets the old token.
  await pager.firstPage();
  assert.deepEqual(asked.at(-1), [2, null]);
});

test("an empty history is one page with no token", async () => {
  const pager = createHistoryPager({ listResults: async () => ({ results: [], next_page_token: null }) });
  assert.deepEqual(await pager.firstPage(), []);
  assert.equal(pager.hasMore, false);
});

test("the list older pages kept in this browser is dropped", () => {
  const removed = [];
  forgetLegacyHistory({ removeItem: (key) => removed.push(key) });
  assert.deepEqual(removed, ["coughcloud.history.v1"]);
});

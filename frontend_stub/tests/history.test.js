import assert from "node:assert/strict";
import { test } from "node:test";
import { HISTORY_KEY, HISTORY_LIMIT, clearHistory, loadHistory, upsertHistory } from "../src/lib/history.js";

function memoryStorage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

test("new entries go first; updates merge in place", () => {
  const storage = memoryStorage();
  upsertHistory(storage, { name: "web/a", fileName: "a.wav", status: "uploaded" });
  upsertHistory(storage, { name: "web/b", fileName: "b.wav", status: "uploaded" });
  const list = upsertHistory(storage, { name: "web/a", status: "done", label: "wet" });
  assert.deepEqual(list.map((e) => e.name), ["web/b", "web/a"]);
  assert.deepEqual(list[1], { name: "web/a", fileName: "a.wav", status: "done", label: "wet" });
  assert.deepEqual(loadHistory(storage), list);
});

test("keeps only the newest entries", () => {
  const storage = memoryStorage();
  for (let i = 0; i < HISTORY_LIMIT + 5; i += 1) upsertHistory(storage, { name: `web/${i}` });
  const list = loadHistory(storage);
  assert.equal(list.length, HISTORY_LIMIT);
  assert.equal(list[0].name, `web/${HISTORY_LIMIT + 4}`);
});

test("unreadable storage reads as empty; clear forgets", () => {
  const storage = memoryStorage();
  storage.setItem(HISTORY_KEY, "{not json");
  assert.deepEqual(loadHistory(storage), []);
  storage.setItem(HISTORY_KEY, JSON.stringify([{ name: "web/x" }, null, { nope: 1 }]));
  assert.deepEqual(loadHistory(storage), [{ name: "web/x" }]);
  assert.deepEqual(clearHistory(storage), []);
  assert.deepEqual(loadHistory(storage), []);
});

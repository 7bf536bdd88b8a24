import assert from "node:assert/strict";
import { test } from "node:test";
import { friendlyError } from "../src/lib/errorMessages.js";
import { extensionFor, levelFromSamples, pickMimeType } from "../src/lib/recorder.js";
import { keptUntilText } from "../src/lib/retention.js";
import { contentTypeFor } from "../src/lib/upload.js";

const PIPELINE_CODES = [
  "invalid_name", "too_large", "unsupported_format", "corrupt_audio", "empty_audio",
  "too_short", "too_long", "silent_audio", "model_error", "internal",
];

test("every pipeline error code has its own plain sentence", () => {
  const generic = friendlyError("no_such_code");
  const sentences = PIPELINE_CODES.map(friendlyError);
  for (const sentence of sentences) assert.notEqual(sentence, generic);
  assert.equal(new Set(sentences).size, PIPELINE_CODES.length);
  assert.equal(friendlyError("not_found", ""), "");
});

test("content type: declared type without parameters, else from the extension", () => {
  assert.equal(contentTypeFor({ name: "r.webm", type: "audio/webm;codecs=opus" }), "audio/webm");
  assert.equal(contentTypeFor({ name: "c.M4A", type: "" }), "audio/mp4");
  assert.equal(contentTypeFor({ name: "blob", type: "" }), "application/octet-stream");
});

test("recording type: the first supported, Chrome's webm/opus first", () => {
  assert.equal(pickMimeType(() => true), "audio/webm;codecs=opus");
  assert.equal(pickMimeType((t) => t === "audio/mp4"), "audio/mp4");
  assert.equal(pickMimeType(() => false), "");
  assert.equal(extensionFor("audio/mp4"), "m4a");
  assert.equal(extensionFor("audio/webm;codecs=opus"), "webm");
});

test("level meter: silence is 0, full scale is 1, -30 dBFS is half", () => {
  assert.equal(levelFromSamples(new Float32Array(512)), 0);
  assert.equal(levelFromSamples(new Float32Array(512).fill(1)), 1);
  const amplitude = 10 ** (-30 / 20);
  assert.ok(Math.abs(levelFromSamples(new Float32Array(512).fill(amplitude)) - 0.5) < 1e-6);
});

test("retention: the date a result is kept until, in words; nothing for a missing or bad date", () => {
  const inUtc = { locale: "en-GB", timeZone: "UTC" };
  assert.equal(keptUntilText("2027-01-03T09:30:00+00:00", inUtc), "Kept until 3 January 2027");
  assert.equal(keptUntilText("2027-01-03T23:30:00-05:00", inUtc), "Kept until 4 January 2027");
  assert.equal(keptUntilText(null, inUtc), "");
  assert.equal(keptUntilText("not a date", inUtc), "");
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { labelText, probabilityRows } from "../src/lib/labels.js";

const SHIPPED = JSON.parse(readFileSync(new URL("../../models/cough-classifier/1.1.0/metadata.json", import.meta.url), "utf8"));
// A result's `model` object as predict writes it: the metadata's labels, negatives and display names.
const cough = { name: SHIPPED.name, version: SHIPPED.version, labels: SHIPPED.labels, display_names: SHIPPED.display_names };
const sounds = {
  name: "sound-classifier",
  version: "1.0.0",
  labels: ["cough", "speech", "noise"],
  negative_labels: ["speech", "noise"],
  display_names: { cough: "A cough", noise: "Background noise" },
};

test("a label is shown by the model's display name, else in words; inconclusive is the page's own", () => {
  assert.equal(labelText("not_cough", cough), "Not a cough");
  assert.equal(labelText("dry", cough), "Dry cough");
  assert.equal(labelText("noise", sounds), "Background noise");
  assert.equal(labelText("speech", sounds), "Speech"); // no display name: the label in words
  assert.equal(labelText("not_cough", { name: "old" }), "Not cough"); // a result without display names
  assert.equal(labelText("inconclusive", sounds), "Inconclusive");
  assert.equal(labelText("inconclusive", null), "Inconclusive");
});

test("the bars follow the model's order, whatever order the probabilities come in", () => {
  const rows = probabilityRows({ noise: 0.1, cough: 0.7, speech: 0.2 }, sounds);
  assert.deepEqual(rows.map((row) => [row.label, row.name, row.percent, row.top]), [
    ["cough", "A cough", 70, true],
    ["speech", "Speech", 20, false],
    ["noise", "Background noise", 10, false],
  ]);
  const shipped = probabilityRows({ not_cough: 0.05, wet: 0.15, dry: 0.8 }, cough);
  assert.deepEqual(shipped.map((row) => row.name), ["Dry cough", "Wet cough", "Not a cough"]);
});

test("labels the model does not list, or a result without labels, come after by name", () => {
  const rows = probabilityRows({ zeta: 0.1, cough: 0.5, alpha: 0.4 }, sounds);
  assert.deepEqual(rows.map((row) => row.label), ["cough", "alpha", "zeta"]);
  const unlisted = probabilityRows({ wet: 0.3, dry: 0.7 }, null);
  assert.deepEqual(unlisted.map((row) => [row.label, row.name, row.top]), [["dry", "Dry", true], ["wet", "Wet", false]]);
});

test("no component keeps a list of labels of its own", () => {
  for (const file of ["components/ProbabilityBars.vue", "components/ResultPanel.vue", "components/UploadHistory.vue", "App.vue", "lib/errorMessages.js", "lib/history.js"]) {
    const source = readFileSync(new URL(`../src/${file}`, import.meta.url), "utf8");
    for (const label of ["not_cough", '"dry"', '"wet"']) assert.ok(!source.includes(label), `${file} names ${label}`);
  }
});

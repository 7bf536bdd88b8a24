import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { modelCard, modelNotice } from "../src/lib/modelNotice.js";

test("the notice says demonstration and not a diagnosis, by the model's training data", () => {
  const synthetic = modelNotice({ name: "cough-classifier", version: "1.0.0", training_data: "synthetic" });
  assert.match(synthetic, /^Demonstration model trained on synthetic sounds/);
  assert.match(synthetic, /not a medical diagnosis/);
  assert.match(modelNotice({ training_data: "mixed" }), /partly on synthetic/);
  assert.match(modelNotice({ training_data: "real" }), /real recordings — not a medical diagnosis/);
  assert.equal(new Set(["synthetic", "mixed", "real"].map((k) => modelNotice({ training_data: k }))).size, 3);
});

test("a model that does not say what it learned from gets the cautious notice", () => {
  assert.equal(modelNotice({ name: "old" }), modelNotice({ training_data: "synthetic" }));
  assert.equal(modelNotice(null), modelNotice({ training_data: "synthetic" }));
});

test("the model card names the model, its version and its training data", () => {
  assert.deepEqual(modelCard({ name: "my-model", version: "0.1.0", training_data: "synthetic" }), [
    ["Model", "my-model"],
    ["Version", "0.1.0"],
    ["Trained on", "synthetic sounds only (generated, no real recordings)"],
  ]);
  assert.equal(modelCard({})[2][1], "not stated");
});

test("a shipped version's card says what it learned from and how it was measured on held-out coughs", () => {
  const card = Object.fromEntries(modelCard({ name: "cough-classifier", version: "1.2.0", training_data: "mixed" }));
  assert.match(card["Trained on"], /randomized recipes/);
  assert.match(card.Evaluated, /^On \d+ synthetic coughs from two recipes it never saw, it called [\d.]+ % a cough/);
  assert.match(card.Evaluated, /never measured on real coughs/);
  const older = Object.fromEntries(modelCard({ name: "cough-classifier", version: "1.1.0", training_data: "mixed" }));
  assert.match(older["Trained on"], /one recipe/);
  assert.notEqual(older.Evaluated, card.Evaluated);
});

test("a shipped version's notice adds its recall on held-out coughs; another model's does not", () => {
  const notice = modelNotice({ name: "cough-classifier", version: "1.2.0", training_data: "mixed" });
  assert.match(notice, /^Demonstration model trained partly on synthetic sounds — not a medical diagnosis\. /);
  assert.match(notice, /It called [\d.]+ % of test coughs from recipes it never saw a cough\.$/);
  assert.equal(modelNotice({ name: "my-model", version: "1.2.0", training_data: "mixed" }), modelNotice({ training_data: "mixed" }));
});

test("every answer carries the notice: the result panel shows it with the model", () => {
  const panel = readFileSync(new URL("../src/components/ResultPanel.vue", import.meta.url), "utf8");
  assert.match(panel, /<ModelNotice v-if="result\.model" :model="result\.model" \/>/);
  const answer = panel.slice(panel.indexOf(`v-if="status === 'done'"`), panel.indexOf("</template>", panel.indexOf(`v-if="status === 'done'"`)));
  assert.match(answer, /<ModelNotice/);
});

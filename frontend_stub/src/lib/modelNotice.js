// What the page says next to every answer about the model that gave it (its model.training_data),
// and, for the versions this project ships, what each learned from and how it was measured.

const NOTICES = {
  synthetic: "Demonstration model trained on synthetic sounds — not a medical diagnosis.",
  mixed: "Demonstration model trained partly on synthetic sounds — not a medical diagnosis.",
  real: "Research model trained on real recordings — not a medical diagnosis.",
};

const TRAINING_DATA = {
  synthetic: "synthetic sounds only (generated, no real recordings)",
  mixed: "real recordings and synthetic sounds",
  real: "real recordings",
};

// The shipped versions in plain words, from their metadata.json (model_card, metrics.held_out);
// tests/unit/training/test_model_notice.py checks every figure here against it.
const NEVER_REAL = "It was never measured on real coughs: none could be had.";
const SHIPPED = {
  "cough-classifier@1.2.0": {
    trainedOn:
      "synthetic coughs from a broad family of randomized recipes, each heard through a varied room, " +
      "microphone and codec, against real speech, music and everyday sounds as non-coughs",
    evaluated: `On 160 synthetic coughs from two recipes it never saw, it called 56 % a cough and got dry or wet right on 81 % of those; it called 4.4 % of 839 real non-cough recordings it never heard a cough. ${NEVER_REAL}`,
  },
  "cough-classifier@1.1.0": {
    trainedOn: "synthetic coughs from one recipe, against real speech, music and everyday sounds as non-coughs",
    evaluated: `On 160 synthetic coughs from two recipes it never saw, it called 20 % a cough and got dry or wet right on 100 % of those; it called 1.7 % of 839 real non-cough recordings it never heard a cough. ${NEVER_REAL}`,
  },
  "cough-classifier@1.0.0": {
    trainedOn: "synthetic coughs and synthetic non-coughs from one recipe, no real recordings",
    evaluated: `On 160 synthetic coughs from two recipes it never saw, it called 44 % a cough and got dry or wet right on 86 % of those; it called 9.9 % of 839 real non-cough recordings it never heard a cough. ${NEVER_REAL}`,
  },
};

/** The one plain sentence for a result's model; an unknown or missing kind is the cautious one. */
export function modelNotice(model) {
  return NOTICES[model?.training_data] ?? NOTICES.synthetic;
}

/** The model card's rows: name, version, what it learned from and, when known, how it was measured. */
export function modelCard(model) {
  const shipped = SHIPPED[`${model?.name}@${model?.version}`];
  return [
    ["Model", model?.name ?? "unknown"],
    ["Version", model?.version ?? "unknown"],
    ["Trained on", shipped?.trainedOn ?? TRAINING_DATA[model?.training_data] ?? "not stated"],
    ...(shipped ? [["Evaluated", shipped.evaluated]] : []),
  ];
}

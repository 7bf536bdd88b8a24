// What the page says next to every answer about the model that gave it (its model.training_data).

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

/** The one plain sentence for a result's model; an unknown or missing kind is the cautious one. */
export function modelNotice(model) {
  return NOTICES[model?.training_data] ?? NOTICES.synthetic;
}

/** The model card's rows: name, version and what it learned from. */
export function modelCard(model) {
  return [
    ["Model", model?.name ?? "unknown"],
    ["Version", model?.version ?? "unknown"],
    ["Trained on", TRAINING_DATA[model?.training_data] ?? "not stated"],
  ];
}

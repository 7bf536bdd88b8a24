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

// The shipped versions in plain words and their figures on held-out data, from their metadata.json
// (model_card, metrics.held_out, in %); tests/unit/training/test_model_notice.py checks them against it.
// 1.3.0, 1.4.0 and 1.5.0 learned from the same kinds of clip; 1.4.0 and 1.5.0 are networks that
// listen past the colour (1.5.0 also hears it through a side branch).
const WITH_LOOK_ALIKES =
  "synthetic coughs from a broad family of randomized recipes, each heard through a varied room, " +
  "microphone and codec, against real speech, music, everyday sounds and synthetic sounds shaped " +
  "like a cough (knocks, clicks, laughter) as non-coughs";
const LISTENS_PAST_COLOUR =
  WITH_LOOK_ALIKES + "; three networks that listen past a recording's overall colour, averaged";

const SHIPPED = {
  "cough-classifier@1.5.0": {
    trainedOn: LISTENS_PAST_COLOUR,
    heldOut: { coughs: 160, recall: 84.4, dryWetRight: 80, realClips: 839, realCalledCough: 2.6 },
  },
  "cough-classifier@1.4.0": {
    trainedOn: LISTENS_PAST_COLOUR,
    heldOut: { coughs: 160, recall: 83.8, dryWetRight: 73.9, realClips: 839, realCalledCough: 4.5 },
  },
  "cough-classifier@1.3.0": {
    trainedOn: WITH_LOOK_ALIKES,
    heldOut: { coughs: 160, recall: 62.5, dryWetRight: 80, realClips: 839, realCalledCough: 4.4 },
  },
  "cough-classifier@1.2.0": {
    trainedOn:
      "synthetic coughs from a broad family of randomized recipes, each heard through a varied room, " +
      "microphone and codec, against real speech, music and everyday sounds as non-coughs",
    heldOut: { coughs: 160, recall: 55.6, dryWetRight: 80.9, realClips: 839, realCalledCough: 4.4 },
  },
  "cough-classifier@1.1.0": {
    trainedOn: "synthetic coughs from one recipe, against real speech, music and everyday sounds as non-coughs",
    heldOut: { coughs: 160, recall: 20, dryWetRight: 100, realClips: 839, realCalledCough: 1.7 },
  },
  "cough-classifier@1.0.0": {
    trainedOn: "synthetic coughs and synthetic non-coughs from one recipe, no real recordings",
    heldOut: { coughs: 160, recall: 44.4, dryWetRight: 85.9, realClips: 839, realCalledCough: 9.9 },
  },
};

function shipped(model) {
  return SHIPPED[`${model?.name}@${model?.version}`];
}

function evaluated(h) {
  return (
    `On ${h.coughs} synthetic coughs from two recipes it never saw, it called ${h.recall} % a cough and ` +
    `got dry or wet right on ${h.dryWetRight} % of those; it called ${h.realCalledCough} % of ${h.realClips} ` +
    "real non-cough recordings it never heard a cough. It was never measured on real coughs: none could be had."
  );
}

/** The plain words for a result's model; an unknown or missing kind is the cautious one. A shipped
 * version also says how many coughs from recipes it never saw it recognised. */
export function modelNotice(model) {
  const notice = NOTICES[model?.training_data] ?? NOTICES.synthetic;
  const known = shipped(model);
  if (!known) return notice;
  return `${notice} It called ${known.heldOut.recall} % of test coughs from recipes it never saw a cough.`;
}

/** The model card's rows: name, version, what it learned from and, when known, how it was measured. */
export function modelCard(model) {
  const known = shipped(model);
  return [
    ["Model", model?.name ?? "unknown"],
    ["Version", model?.version ?? "unknown"],
    ["Trained on", known?.trainedOn ?? TRAINING_DATA[model?.training_data] ?? "not stated"],
    ...(known ? [["Evaluated", evaluated(known.heldOut)]] : []),
  ];
}

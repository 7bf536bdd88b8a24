// A model's labels as the page shows them. Every result carries its model's labels (in the
// model's output order) and their display names (`model.labels`, `model.display_names`, from
// the model's metadata.json), so the page knows no label of its own but `inconclusive`.

const INCONCLUSIVE = "inconclusive";

/** The label in words when the model gives no display name: `not_cough` → "Not cough". */
function inWords(label) {
  const text = String(label ?? "").replaceAll(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What the page calls `label` of a result whose model is `model`. */
export function labelText(label, model) {
  if (label === INCONCLUSIVE) return "Inconclusive";
  return model?.display_names?.[label] ?? inWords(label);
}

/**
 * One bar per label: in the model's order (a label the model does not list comes after, by name),
 * with its text and percent; the most likely one is marked `top`.
 */
export function probabilityRows(probabilities, model) {
  const order = Array.isArray(model?.labels) ? model.labels : [];
  const rank = (label) => (order.includes(label) ? order.indexOf(label) : order.length);
  const entries = Object.entries(probabilities ?? {});
  const top = Math.max(...entries.map(([, p]) => p));
  return entries
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([label, p]) => ({
      label,
      name: labelText(label, model),
      percent: Math.round(p * 1000) / 10,
      top: p === top,
    }));
}

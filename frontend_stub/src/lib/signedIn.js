// What the page does once a visitor is signed in (a guest on a first visit, or with an email).

/**
 * Warm the pipeline, then load the visitor's history. In this order, not at once: results_api
 * serves one request at a time per instance, so two at once would start two of them after a
 * quiet spell, and POST /warm answers as soon as it has asked the functions to start.
 */
export async function warmThenLoad(api, loadHistory) {
  await api.warm();
  return loadHistory();
}

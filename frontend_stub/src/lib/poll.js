// Following a result until it is final: GET with exponential backoff, 404 meaning "not yet".

export const FINAL_STATUSES = new Set(["done", "failed"]);

/** Delay before poll number `attempt` (0-based): 250 ms growing ×1.5 up to 2 s. */
export function backoffDelay(attempt, { first = 250, factor = 1.5, max = 2000 } = {}) {
  return Math.min(max, Math.round(first * factor ** attempt));
}

const defaultSleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Poll `fetchResult()` (resolves to a document, or null for "not there yet") until the
 * document's status is final, the deadline passes or `signal` aborts.
 * Every new document goes to `onUpdate`; a thrown error goes to `onError` and polling goes on
 * (a network blip must not end the wait, but the visitor must see it), unless `isPermanent(err)`.
 * Resolves to "final", "timeout", "aborted" or "error" (a permanent error).
 */
export async function pollResult({
  fetchResult,
  onUpdate,
  onError = () => {},
  isPermanent = () => false,
  signal,
  deadlineMs = 180_000,
  now = () => Date.now(),
  sleep = defaultSleep,
}) {
  const start = now();
  for (let attempt = 0; ; attempt += 1) {
    if (signal?.aborted) return "aborted";
    try {
      const doc = await fetchResult();
      if (doc) {
        onUpdate(doc);
        if (FINAL_STATUSES.has(doc.status)) return "final";
      }
    } catch (err) {
      if (signal?.aborted) return "aborted";
      onError(err);
      if (isPermanent(err)) return "error";
    }
    if (now() - start >= deadlineMs) return "timeout";
    await sleep(backoffDelay(attempt), signal);
  }
}

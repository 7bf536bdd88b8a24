// Object names for uploads: unique per upload, valid under the bucket's name rules
// (1–512 bytes of UTF-8, no control characters, no ".." segment, no leading "/").

const MAX_BASENAME_CHARS = 100;

/** A compact UTC timestamp, e.g. 20261121T100502Z. */
function timestamp(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Eight random hex digits from the platform's CSPRNG. */
function randomHex(crypto) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The original file name reduced to safe characters, never empty and never "..". */
export function safeBaseName(originalName) {
  const base = String(originalName ?? "").split(/[\\/]/).pop();
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/^[._]+/, "")
    .slice(-MAX_BASENAME_CHARS);
  return cleaned || "audio";
}

/** `web/<timestamp>-<random>-<original name>`: two uploads of one file never collide. */
export function makeObjectName(originalName, now = new Date(), crypto = globalThis.crypto) {
  return `web/${timestamp(now)}-${randomHex(crypto)}-${safeBaseName(originalName)}`;
}

/**
 * The visitor's file name inside an object name, e.g. `users/<uid>/web/20261121T100502Z-abababab-cough.wav`
 * → `cough.wav`; for a name not made by this page, its last segment.
 */
export function fileNameOf(objectName) {
  const last = String(objectName).split("/").pop();
  return last.match(/^\d{8}T\d{6}Z-[0-9a-f]{8}-(.+)$/)?.[1] ?? last;
}

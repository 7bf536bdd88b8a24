// Plain-words explanations for the pipeline's error codes (docs/design/contracts.md, "Error codes").

const FRIENDLY = {
  invalid_name: "The file name is not accepted. Rename the file and try again.",
  too_large: "The file is too big. Upload a shorter recording (under 30 seconds).",
  unsupported_format:
    "This kind of file is not supported. Upload an audio file such as WAV, WebM, OGG, MP3 or M4A.",
  corrupt_audio: "The file could not be read as audio: it may be damaged, or not an audio file at all.",
  empty_audio: "The file contains no audio.",
  too_short: "The recording is too short. Record at least one whole cough.",
  too_long: "The recording is too long. Keep it under 30 seconds.",
  silent_audio: "The recording is silent. Check the microphone and cough closer to it.",
  model_error: "The classifier could not process this recording. Please try again later.",
  internal: "Something went wrong on our side. Please try again in a moment.",
};

/** A sentence a visitor understands for an error code; `fallback` for codes without one. */
export function friendlyError(code, fallback = "The recording could not be classified.") {
  return FRIENDLY[code] ?? fallback;
}

// Microphone recording (MediaRecorder) with a live input level (Web Audio AnalyserNode).

export const MAX_RECORD_SECONDS = 30;

// Chrome records webm/opus; Safari only mp4.
const PREFERRED_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];

/** The first recording type the browser supports, or "" to let it choose. */
export function pickMimeType(isSupported) {
  return PREFERRED_TYPES.find((type) => isSupported(type)) ?? "";
}

/** A file extension for a recorded MIME type. */
export function extensionFor(mimeType) {
  const base = mimeType.split(";")[0].trim();
  return { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a" }[base] ?? "webm";
}

/** Input level 0..1 from time-domain samples: RMS in dBFS, -60 dB → 0, 0 dB → 1. */
export function levelFromSamples(samples) {
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  const dbfs = 20 * Math.log10(rms || 1e-9);
  return Math.min(1, Math.max(0, (dbfs + 60) / 60));
}

/** A sentence for a getUserMedia / MediaRecorder failure. */
export function microphoneError(err) {
  if (!globalThis.navigator?.mediaDevices || !globalThis.MediaRecorder) {
    return "This browser cannot record here: recording needs a secure page (https or localhost) and a recent browser.";
  }
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Permission to use the microphone was refused. Allow it in the browser's site settings and try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one and try again.";
    case "NotReadableError":
      return "The microphone is in use by another program, or could not be started.";
    default:
      return `Recording failed: ${err?.message ?? err}`;
  }
}

/** Start recording; `onLevel(0..1)` is called every animation frame until stop() resolves to a File. */
export async function startRecording({ onLevel }) {
  if (!navigator.mediaDevices?.getUserMedia || !globalThis.MediaRecorder) throw new Error("unsupported");
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const mimeType = pickMimeType((type) => MediaRecorder.isTypeSupported(type));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks = [];
  recorder.ondataavailable = (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  };
  const stopped = new Promise((resolve) => {
    recorder.onstop = resolve;
  });

  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let frame = 0;
  const tick = () => {
    analyser.getFloatTimeDomainData(samples);
    onLevel(levelFromSamples(samples));
    frame = requestAnimationFrame(tick);
  };
  tick();
  recorder.start(250);

  return {
    async stop() {
      cancelAnimationFrame(frame);
      if (recorder.state !== "inactive") recorder.stop();
      await stopped;
      for (const track of stream.getTracks()) track.stop();
      await context.close();
      onLevel(0);
      const type = recorder.mimeType || mimeType || "audio/webm";
      const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
      return new File(chunks, `recording-${stamp}.${extensionFor(type)}`, { type });
    },
  };
}

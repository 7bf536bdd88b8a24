// One upload the production way: POST /uploads for a signed URL, then PUT straight to the bucket.

import { putToSignedUrl } from "./api.js";
import { makeObjectName } from "./objectName.js";

const TYPES_BY_EXTENSION = {
  wav: "audio/wav",
  webm: "audio/webm",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  mp4: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/flac",
};

/** The file's MIME type without parameters (the signed URL binds it), guessed from the name if absent. */
export function contentTypeFor(file) {
  const declared = (file.type ?? "").split(";")[0].trim().toLowerCase();
  if (declared) return declared;
  const extension = (file.name ?? "").split(".").pop().toLowerCase();
  return TYPES_BY_EXTENSION[extension] ?? "application/octet-stream";
}

/** Upload `file` under a fresh object name; resolves to that name once the bucket has it. */
export async function uploadFile(api, file, onProgress) {
  const name = makeObjectName(file.name);
  const upload = await api.requestUpload({ name, contentType: contentTypeFor(file), size: file.size });
  await putToSignedUrl(upload, file, onProgress);
  return upload.name ?? name;
}

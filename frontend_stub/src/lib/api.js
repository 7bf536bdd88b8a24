// The results API (uploads, results, deletion) and the signed-URL PUT to the bucket.
// Every API call carries the visitor's Firebase ID token; every failure becomes an ApiError
// whose message says what went wrong in plain words.
import { authErrorMessage, isSessionEnded } from "./account.js";

export class ApiError extends Error {
  /** kind: "config" | "unreachable" | "cors" | "auth" | "http" | "upload". */
  constructor(kind, message, { status, code, serverMessage } = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
  }
}

/** The page's configuration, served next to it by the local stack or the deployment. */
export async function loadConfig(url = "config.json") {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ApiError("config", "Could not load the page's configuration (config.json): the network is down.");
  }
  const config = response.ok ? await response.json().catch(() => null) : null;
  if (!config?.apiUrl) {
    throw new ApiError(
      "config",
      `The page's configuration (config.json) is missing or has no apiUrl (HTTP ${response.status}).`,
    );
  }
  if (!config.firebase?.apiKey || !config.firebase?.projectId) {
    throw new ApiError(
      "config",
      "The page's configuration (config.json) has no Firebase settings (firebase.apiKey and " +
        "firebase.projectId), so the page cannot sign you in.",
    );
  }
  return { ...config, apiUrl: config.apiUrl.replace(/\/+$/, "") };
}

/**
 * A fetch that failed without a response is either an unreachable server or a CORS refusal;
 * the browser hides which. An opaque (no-cors) request to /healthz tells them apart.
 */
async function diagnoseNetworkFailure(apiUrl) {
  try {
    await fetch(`${apiUrl}/healthz`, { mode: "no-cors", cache: "no-store" });
  } catch {
    return new ApiError(
      "unreachable",
      `Could not reach the results API at ${apiUrl}. Check your connection, or try again when the service is back.`,
    );
  }
  return new ApiError(
    "cors",
    `The results API at ${apiUrl} refused this page's origin (${globalThis.location?.origin}): ` +
      "it is not in the API's CORS allow-list (CORS_ALLOWED_ORIGINS).",
  );
}

async function errorFromResponse(response) {
  const body = await response.json().catch(() => null);
  const code = body?.error?.code;
  const serverMessage = body?.error?.message;
  if (response.status === 401) {
    return new ApiError(
      "auth",
      "The results API did not accept your sign-in" +
        (serverMessage ? ` (${serverMessage})` : "") +
        ". Sign out and sign in again; if that does not help, try again later.",
      { status: 401, code, serverMessage },
    );
  }
  const message = serverMessage
    ? `The results API answered HTTP ${response.status}: ${serverMessage}`
    : `The results API answered HTTP ${response.status} ${response.statusText}`.trim();
  return new ApiError("http", message, { status: response.status, code, serverMessage });
}

/** A failure to get an ID token (the session over, the sign-in service unreachable) in plain words. */
function tokenError(err) {
  const message = isSessionEnded(err)
    ? "Your sign-in is no longer valid: the account was deleted or disabled, or signed out everywhere " +
      "(perhaps from another browser)."
    : `Could not prove who you are to the results API. ${authErrorMessage(err)}`;
  return new ApiError("auth", message, { code: err?.code });
}

/**
 * The results API at `apiUrl`. `getIdToken(forceRefresh)` resolves to the signed-in visitor's
 * Firebase ID token; a 401 is retried once with a freshly minted token before it is reported.
 * `getAppCheckToken()` resolves to an App Check token, sent as X-Firebase-AppCheck, or null
 * (App Check off).
 */
export function createApi(apiUrl, getIdToken, getAppCheckToken = async () => null) {
  async function send(path, init, forceRefresh) {
    let token;
    let appCheck;
    try {
      [token, appCheck] = await Promise.all([getIdToken(forceRefresh), getAppCheckToken()]);
    } catch (err) {
      throw tokenError(err);
    }
    const headers = { ...init?.headers, Authorization: `Bearer ${token}` };
    if (appCheck) headers["X-Firebase-AppCheck"] = appCheck;
    try {
      return await fetch(`${apiUrl}${path}`, { cache: "no-store", ...init, headers });
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      throw await diagnoseNetworkFailure(apiUrl);
    }
  }

  async function call(path, init) {
    const response = await send(path, init, false);
    return response.status === 401 ? send(path, init, true) : response;
  }

  async function callForJson(path, init) {
    const response = await call(path, init);
    if (!response.ok) throw await errorFromResponse(response);
    return response.json();
  }

  async function callToDelete(path, { goneIsDone }) {
    const response = await call(path, { method: "DELETE" });
    if (response.ok || (goneIsDone && response.status === 404)) return;
    throw await errorFromResponse(response);
  }

  return {
    apiUrl,

    /** A signed upload: {url, method, headers, name, key, bucket, expires_at}; `name` is the final name. */
    requestUpload({ name, contentType, size }) {
      return callForJson("/uploads", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name, content_type: contentType, size }),
      });
    },

    /** The result document for an object name, or null while there is none yet (404). */
    async getResult(name, signal) {
      const response = await call(`/results?name=${encodeURIComponent(name)}`, { signal });
      if (response.status === 404) return null;
      if (!response.ok) throw await errorFromResponse(response);
      return response.json();
    },

    /** One page of the visitor's results, newest first: {results, next_page_token}. */
    listResults({ limit, pageToken } = {}) {
      const query = new URLSearchParams();
      if (limit) query.set("limit", String(limit));
      if (pageToken) query.set("page_token", pageToken);
      const suffix = query.size ? `?${query}` : "";
      return callForJson(`/results${suffix}`);
    },

    /** Erase one recording and its result; one already gone (404) counts as erased. */
    deleteResult(name) {
      return callToDelete(`/results?name=${encodeURIComponent(name)}`, { goneIsDone: true });
    },

    /**
     * Ask the API to start the pipeline's functions now, while the visitor picks or records a
     * cough (POST /warm, answered at once). Never throws: without it the page works the same,
     * the first upload after a quiet spell is only slower. Resolves to whether the API agreed.
     */
    async warm() {
      try {
        return (await call("/warm", { method: "POST" })).ok;
      } catch {
        return false;
      }
    },

    /** Erase every recording and result of the visitor, and their account. */
    deleteAccount() {
      return callToDelete("/me", { goneIsDone: false });
    },
  };
}

// Headers a page may not set on a request; the browser sets them itself.
const BROWSER_OWNED_HEADERS = new Set(["content-length", "host", "connection"]);

/** PUT `file` to a signed URL with exactly its headers, reporting progress as 0..1. */
export function putToSignedUrl(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "PUT", upload.url);
    for (const [key, value] of Object.entries(upload.headers ?? {})) {
      if (!BROWSER_OWNED_HEADERS.has(key.toLowerCase())) xhr.setRequestHeader(key, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        // 412: the URL is create-only (it signs x-goog-if-generation-match: 0) and the name exists.
        const why =
          xhr.status === 412
            ? "a recording already exists under this name, and an upload link writes only once; upload again"
            : `HTTP ${xhr.status}`;
        reject(
          new ApiError("upload", `The storage bucket refused the upload (${why}).`, {
            status: xhr.status,
            serverMessage: xhr.responseText.slice(0, 300),
          }),
        );
      }
    };
    xhr.onerror = () =>
      reject(
        new ApiError(
          "upload",
          "The upload to the storage bucket failed: the network is down, or the bucket refused this page's origin (CORS).",
        ),
      );
    xhr.send(file);
  });
}

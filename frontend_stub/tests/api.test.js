import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ApiError, createApi, loadConfig } from "../src/lib/api.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Replace fetch with `handler(url, init)`; record every call. */
function fakeFetch(handler) {
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    calls.push({ url, init });
    return handler(url, init);
  };
  return calls;
}

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const FIREBASE = { apiKey: "fake-api-key", authDomain: "localhost", projectId: "demo-coughcloud" };

/** A token source like the Firebase session's: "token-1", then a new token on each forced refresh. */
function tokens() {
  const asked = [];
  let minted = 1;
  const getIdToken = async (forceRefresh = false) => {
    asked.push(forceRefresh);
    if (forceRefresh) minted += 1;
    return `token-${minted}`;
  };
  return { getIdToken, asked };
}

const api = () => createApi("http://api", tokens().getIdToken);
const authorization = (call) => call.init.headers.Authorization;

test("config: the API URL without trailing slashes, and the Firebase settings as given", async () => {
  const firebase = { ...FIREBASE, authEmulatorUrl: "http://127.0.0.1:9099" };
  fakeFetch(() => json(200, { apiUrl: "http://127.0.0.1:9000//", firebase }));
  const config = await loadConfig();
  assert.equal(config.apiUrl, "http://127.0.0.1:9000");
  assert.deepEqual(config.firebase, firebase);
});

test("with App Check on every call also carries its token; off, no such header is sent", async () => {
  const calls = fakeFetch(() => json(200, { status: "done" }));
  await createApi("http://api", tokens().getIdToken, async () => "app-check-1").getResult("web/x.wav");
  await api().getResult("web/x.wav");
  assert.equal(calls[0].init.headers["X-Firebase-AppCheck"], "app-check-1");
  assert.equal(authorization(calls[0]), "Bearer token-1");
  assert.equal("X-Firebase-AppCheck" in calls[1].init.headers, false);
});

test("config: missing or without apiUrl is a config error", async () => {
  fakeFetch(() => json(404, {}));
  await assert.rejects(loadConfig(), (err) => err instanceof ApiError && err.kind === "config");
  fakeFetch(() => json(200, { other: 1, firebase: FIREBASE }));
  await assert.rejects(loadConfig(), (err) => err.kind === "config" && /apiUrl/.test(err.message));
});

test("config: without Firebase settings the page says it cannot sign the visitor in", async () => {
  for (const firebase of [undefined, {}, { apiKey: "k" }, { projectId: "p" }]) {
    fakeFetch(() => json(200, { apiUrl: "http://api", firebase }));
    await assert.rejects(loadConfig(), (err) => err.kind === "config" && /cannot sign you in/.test(err.message));
  }
});

test("every API call carries the visitor's ID token as a bearer token", async () => {
  const calls = fakeFetch((url, init) =>
    init.method === "DELETE" ? new Response(null, { status: 204 }) : json(200, { results: [], status: "done" }),
  );
  const client = api();
  await client.requestUpload({ name: "web/x.wav", contentType: "audio/wav", size: 12 });
  await client.getResult("web/x.wav");
  await client.listResults();
  await client.deleteResult("web/x.wav");
  await client.deleteAccount();
  assert.equal(calls.length, 5);
  for (const call of calls) assert.equal(authorization(call), "Bearer token-1");
  assert.equal(calls[0].init.headers["Content-Type"], "application/json");
});

test("a 401 is retried once with a freshly minted token, and then succeeds", async () => {
  const source = tokens();
  const calls = fakeFetch((url, init) =>
    authorization({ init }) === "Bearer token-1"
      ? json(401, { error: { code: "unauthenticated", message: "The ID token has expired." } })
      : json(200, { status: "done" }),
  );
  assert.deepEqual(await createApi("http://api", source.getIdToken).getResult("web/x.wav"), { status: "done" });
  assert.deepEqual(calls.map(authorization), ["Bearer token-1", "Bearer token-2"]);
  assert.deepEqual(source.asked, [false, true]);
});

test("a second 401 is reported as a sign-in problem, with the server's reason", async () => {
  const calls = fakeFetch(() => json(401, { error: { code: "unauthenticated", message: "The ID token was revoked." } }));
  await assert.rejects(api().listResults(), (err) => {
    assert.equal(err.kind, "auth");
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthenticated");
    assert.equal(
      err.message,
      "The results API did not accept your sign-in (The ID token was revoked.). " +
        "Sign out and sign in again; if that does not help, try again later.",
    );
    return true;
  });
  assert.equal(calls.length, 2);
});

const failingTokens = (code) => async () => {
  throw Object.assign(new Error(`Firebase: Error (${code}).`), { code });
};

test("no token to be had (the sign-in service unreachable) is a sign-in problem, and nothing is sent", async () => {
  const calls = fakeFetch(() => json(200, {}));
  await assert.rejects(createApi("http://api", failingTokens("auth/network-request-failed")).getResult("web/x.wav"), {
    kind: "auth",
    code: "auth/network-request-failed",
    message:
      "Could not prove who you are to the results API. " +
      "Could not reach the sign-in service. Check your connection and try again.",
  });
  assert.equal(calls.length, 0);
});

test("a session ended elsewhere (account deleted, tokens revoked) is said as such", async () => {
  fakeFetch(() => json(200, {}));
  for (const code of ["auth/invalid-refresh-token", "auth/user-token-expired", "auth/user-not-found", "auth/user-disabled"]) {
    await assert.rejects(createApi("http://api", failingTokens(code)).listResults(), (err) => {
      assert.equal(err.kind, "auth");
      assert.equal(err.code, code);
      assert.match(err.message, /^Your sign-in is no longer valid: the account was deleted or disabled, or signed out everywhere/);
      return true;
    });
  }
});

test("history pages: limit and page_token in the query, the reply as it is", async () => {
  const page = { results: [{ key: "k", name: "users/u/web/a.wav" }], next_page_token: "abc/+=" };
  const calls = fakeFetch(() => json(200, page));
  const client = api();
  assert.deepEqual(await client.listResults({ limit: 10 }), page);
  await client.listResults({ limit: 10, pageToken: "abc/+=" });
  await client.listResults();
  assert.deepEqual(
    calls.map((c) => c.url),
    ["http://api/results?limit=10", "http://api/results?limit=10&page_token=abc%2F%2B%3D", "http://api/results"],
  );
});

test("deleting: a result by name (404 = already gone), the account with DELETE /me", async () => {
  const calls = fakeFetch((url) =>
    url.includes("gone") ? json(404, { error: { code: "not_found", message: "no" } }) : new Response(null, { status: 204 }),
  );
  const client = api();
  await client.deleteResult("users/u/web/a b.wav");
  await client.deleteResult("users/u/web/gone.wav");
  await client.deleteAccount();
  assert.deepEqual(
    calls.map((c) => [c.init.method, c.url]),
    [
      ["DELETE", "http://api/results?name=users%2Fu%2Fweb%2Fa%20b.wav"],
      ["DELETE", "http://api/results?name=users%2Fu%2Fweb%2Fgone.wav"],
      ["DELETE", "http://api/me"],
    ],
  );
});

test("a failed account deletion is an error, 404 included", async () => {
  fakeFetch(() => json(404, { error: { code: "not_found", message: "No route /me." } }));
  await assert.rejects(api().deleteAccount(), (err) => err.kind === "http" && /No route \/me/.test(err.message));
  fakeFetch(() => json(503, { error: { code: "unavailable", message: "A backing service is unavailable; try again." } }));
  await assert.rejects(api().deleteResult("users/u/a.wav"), (err) => err.status === 503 && err.code === "unavailable");
});

test("getResult: 404 is 'not yet', 200 is the document, the name is URL-encoded", async () => {
  const calls = fakeFetch((url) =>
    url.includes("missing") ? json(404, { error: { code: "not_found", message: "no" } }) : json(200, { status: "done" }),
  );
  const client = api();
  assert.equal(await client.getResult("web/missing.wav"), null);
  assert.deepEqual(await client.getResult("web/a b&c.wav"), { status: "done" });
  assert.equal(calls[1].url, "http://api/results?name=web%2Fa%20b%26c.wav");
});

test("an error reply keeps the server's code and message", async () => {
  fakeFetch(() => json(413, { error: { code: "too_large", message: "The file is 30000000 bytes" } }));
  await assert.rejects(api().requestUpload({ name: "web/x.wav", contentType: "audio/wav", size: 30_000_000 }), (err) => {
    assert.equal(err.kind, "http");
    assert.equal(err.status, 413);
    assert.equal(err.code, "too_large");
    assert.match(err.message, /30000000 bytes/);
    return true;
  });
});

test("requestUpload posts the contract's JSON body", async () => {
  const calls = fakeFetch(() => json(200, { url: "http://bucket/x", method: "PUT", headers: {} }));
  await api().requestUpload({ name: "web/x.wav", contentType: "audio/wav", size: 12 });
  assert.equal(calls[0].url, "http://api/uploads");
  assert.equal(calls[0].init.method, "POST");
  assert.deepEqual(JSON.parse(calls[0].init.body), { name: "web/x.wav", content_type: "audio/wav", size: 12 });
});

test("no response + an opaque /healthz answer = refused by CORS", async () => {
  const calls = fakeFetch((url, init) => {
    if (init.mode === "no-cors") return new Response(null, { status: 200 });
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(api().getResult("web/x.wav"), (err) => err.kind === "cors");
  assert.equal(calls[1].url, "http://api/healthz");
});

test("no response at all = unreachable", async () => {
  fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(
    api().getResult("web/x.wav"),
    (err) => err.kind === "unreachable" && /Could not reach/.test(err.message),
  );
});

test("an aborted poll is not reported as a network failure", async () => {
  const controller = new AbortController();
  controller.abort();
  const calls = fakeFetch(() => {
    throw new DOMException("aborted", "AbortError");
  });
  await assert.rejects(api().getResult("web/x.wav", controller.signal), { name: "AbortError" });
  assert.equal(calls.length, 1);
});

test("warm: POST /warm with the visitor's token; true when the API agreed", async () => {
  const calls = fakeFetch(() => new Response(null, { status: 204 }));
  assert.equal(await api().warm(), true);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "http://api/warm");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(authorization(calls[0]), "Bearer token-1");
});

test("warm: a refused token is retried once with a fresh one, as every call", async () => {
  const calls = fakeFetch((url, init) =>
    init.headers.Authorization === "Bearer token-1" ? json(401, {}) : new Response(null, { status: 204 }),
  );
  assert.equal(await api().warm(), true);
  assert.deepEqual(calls.map(authorization), ["Bearer token-1", "Bearer token-2"]);
});

test("warm: never throws, whatever fails (an error reply, the network, the sign-in)", async () => {
  fakeFetch(() => json(503, { error: { code: "unavailable", message: "down" } }));
  assert.equal(await api().warm(), false);
  fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });
  assert.equal(await api().warm(), false);
  const noToken = createApi("http://api", async () => {
    throw Object.assign(new Error("offline"), { code: "auth/network-request-failed" });
  });
  fakeFetch(() => new Response(null, { status: 204 }));
  assert.equal(await noToken.warm(), false);
});

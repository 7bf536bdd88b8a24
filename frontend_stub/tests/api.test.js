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

test("config: the API URL without trailing slashes", async () => {
  fakeFetch(() => json(200, { apiUrl: "http://127.0.0.1:9000//" }));
  assert.equal((await loadConfig()).apiUrl, "http://127.0.0.1:9000");
});

test("config: missing or without apiUrl is a config error", async () => {
  fakeFetch(() => json(404, {}));
  await assert.rejects(loadConfig(), (err) => err instanceof ApiError && err.kind === "config");
  fakeFetch(() => json(200, { other: 1 }));
  await assert.rejects(loadConfig(), (err) => err.kind === "config" && /apiUrl/.test(err.message));
});

test("getResult: 404 is 'not yet', 200 is the document, the name is URL-encoded", async () => {
  const calls = fakeFetch((url) =>
    url.includes("missing") ? json(404, { error: { code: "not_found", message: "no" } }) : json(200, { status: "done" }),
  );
  const api = createApi("http://api");
  assert.equal(await api.getResult("web/missing.wav"), null);
  assert.deepEqual(await api.getResult("web/a b&c.wav"), { status: "done" });
  assert.equal(calls[1].url, "http://api/results?name=web%2Fa%20b%26c.wav");
});

test("an error reply keeps the server's code and message", async () => {
  fakeFetch(() => json(413, { error: { code: "too_large", message: "The file is 30000000 bytes" } }));
  const api = createApi("http://api");
  await assert.rejects(api.requestUpload({ name: "web/x.wav", contentType: "audio/wav", size: 30_000_000 }), (err) => {
    assert.equal(err.kind, "http");
    assert.equal(err.status, 413);
    assert.equal(err.code, "too_large");
    assert.match(err.message, /30000000 bytes/);
    return true;
  });
});

test("requestUpload posts the contract's JSON body", async () => {
  const calls = fakeFetch(() => json(200, { url: "http://bucket/x", method: "PUT", headers: {} }));
  await createApi("http://api").requestUpload({ name: "web/x.wav", contentType: "audio/wav", size: 12 });
  assert.equal(calls[0].url, "http://api/uploads");
  assert.equal(calls[0].init.method, "POST");
  assert.deepEqual(JSON.parse(calls[0].init.body), { name: "web/x.wav", content_type: "audio/wav", size: 12 });
});

test("no response + an opaque /healthz answer = refused by CORS", async () => {
  const calls = fakeFetch((url, init) => {
    if (init.mode === "no-cors") return new Response(null, { status: 200 });
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(createApi("http://api").getResult("web/x.wav"), (err) => err.kind === "cors");
  assert.equal(calls[1].url, "http://api/healthz");
});

test("no response at all = unreachable", async () => {
  fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(
    createApi("http://api").getResult("web/x.wav"),
    (err) => err.kind === "unreachable" && /Could not reach/.test(err.message),
  );
});

test("an aborted poll is not reported as a network failure", async () => {
  const controller = new AbortController();
  controller.abort();
  const calls = fakeFetch(() => {
    throw new DOMException("aborted", "AbortError");
  });
  await assert.rejects(createApi("http://api").getResult("web/x.wav", controller.signal), { name: "AbortError" });
  assert.equal(calls.length, 1);
});

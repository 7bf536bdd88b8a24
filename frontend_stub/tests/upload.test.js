import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ApiError } from "../src/lib/api.js";
import { uploadFile } from "../src/lib/upload.js";

const RealXHR = globalThis.XMLHttpRequest;
afterEach(() => {
  globalThis.XMLHttpRequest = RealXHR;
});

/** A stand-in XMLHttpRequest answering every PUT with `status`; records what was sent. */
function fakeXhr(status) {
  const sent = [];
  globalThis.XMLHttpRequest = class {
    constructor() {
      this.headers = {};
      this.upload = {};
      this.responseText = "";
    }
    open(method, url) {
      Object.assign(this, { method, url });
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    send(body) {
      sent.push({ method: this.method, url: this.url, headers: this.headers, body });
      this.status = status;
      queueMicrotask(() => this.onload());
    }
  };
  return sent;
}

// What POST /uploads answers: the signed headers, create-only among them.
const SIGNED = {
  url: "http://bucket/users/u1/web/x.wav?X-Goog-Signature=abc",
  method: "PUT",
  headers: {
    "Content-Type": "audio/wav",
    "x-goog-content-length-range": "4,4",
    "x-goog-if-generation-match": "0",
  },
  name: "users/u1/web/x.wav",
};
const api = { requestUpload: async () => SIGNED };
const file = { name: "x.wav", type: "audio/wav", size: 4 };

test("the PUT sends every signed header, the create-only precondition included", async () => {
  const sent = fakeXhr(200);
  const progress = [];
  assert.equal(await uploadFile(api, file, (p) => progress.push(p)), SIGNED.name);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].method, "PUT");
  assert.equal(sent[0].url, SIGNED.url);
  assert.deepEqual(sent[0].headers, SIGNED.headers);
  assert.deepEqual(progress, [1]);
});

test("a second write to the name (412) is explained, not shown as a bare status", async () => {
  fakeXhr(412);
  await assert.rejects(uploadFile(api, file, () => {}), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.kind, "upload");
    assert.equal(error.status, 412);
    assert.match(error.message, /writes only once/);
    return true;
  });
});

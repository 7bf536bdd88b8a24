import assert from "node:assert/strict";
import { test } from "node:test";
import {
  accountLabel,
  authErrorMessage,
  continueWithEmail,
  isSessionEnded,
  runAuthAction,
  sessionScope,
  signInOutcomeMessage,
} from "../src/lib/account.js";

const firebaseError = (code) => Object.assign(new Error(`Firebase: Error (${code}).`), { code });

/** Fake Firebase calls that record what was asked; `linkFails`/`signInFails` are error codes. */
function fakeAuth({ linkFails, signInFails } = {}) {
  const calls = [];
  return {
    calls,
    link: async (user, email, password) => {
      calls.push(["link", user.uid, email, password]);
      if (linkFails) throw firebaseError(linkFails);
    },
    signIn: async (email, password) => {
      calls.push(["signIn", email, password]);
      if (signInFails) throw firebaseError(signInFails);
    },
  };
}

const guest = { uid: "guest-1", isAnonymous: true, email: null };

test("the signed-in state in words: a guest, an email, or not yet", () => {
  assert.equal(accountLabel(guest), "Guest (anonymous account on this browser)");
  assert.equal(accountLabel({ uid: "u", isAnonymous: false, email: "ana@example.com" }), "ana@example.com");
  assert.equal(accountLabel(null), "Signing you in…");
});

test("on the origin every public bucket shares, a sign-in is kept for the tab only, and the guest is told", () => {
  assert.equal(sessionScope("https://storage.googleapis.com"), "tab");
  for (const own of ["https://coughcloud.example.org", "http://127.0.0.1:5173", "https://storage.googleapis.com.evil.test"]) {
    assert.equal(sessionScope(own), "browser", own);
  }
  const guest = { uid: "g", isAnonymous: true, email: null };
  assert.match(accountLabel(guest, "tab"), /until this tab closes/);
  assert.equal(accountLabel({ uid: "u", isAnonymous: false, email: "ana@example.com" }, "tab"), "ana@example.com");
});

test("a guest with a new email is linked: same account, so the uploads carry over", async () => {
  const auth = fakeAuth();
  assert.equal(await continueWithEmail({ user: guest, ...auth }, "ana@example.com", "secret1"), "linked");
  assert.deepEqual(auth.calls, [["link", "guest-1", "ana@example.com", "secret1"]]);
});

test("an email that already has an account: sign in to it instead", async () => {
  for (const code of ["auth/email-already-in-use", "auth/credential-already-in-use"]) {
    const auth = fakeAuth({ linkFails: code });
    assert.equal(await continueWithEmail({ user: guest, ...auth }, "ana@example.com", "secret1"), "signed-in");
    assert.deepEqual(auth.calls.map((c) => c[0]), ["link", "signIn"]);
  }
});

test("an existing account with the wrong password: the sign-in error, in plain words", async () => {
  const auth = fakeAuth({ linkFails: "auth/email-already-in-use", signInFails: "auth/wrong-password" });
  await assert.rejects(continueWithEmail({ user: guest, ...auth }, "ana@example.com", "nope00"), (err) => {
    assert.equal(authErrorMessage(err), "This email has an account, and that is not its password.");
    return true;
  });
});

test("other link failures are not papered over by a sign-in attempt", async () => {
  const auth = fakeAuth({ linkFails: "auth/weak-password" });
  await assert.rejects(continueWithEmail({ user: guest, ...auth }, "ana@example.com", "123"), { code: "auth/weak-password" });
  assert.deepEqual(auth.calls.map((c) => c[0]), ["link"]);
});

test("a visitor who is not a guest (or not signed in yet) simply signs in", async () => {
  for (const user of [{ uid: "u", isAnonymous: false, email: "bo@example.com" }, null]) {
    const auth = fakeAuth();
    assert.equal(await continueWithEmail({ user, ...auth }, "ana@example.com", "secret1"), "signed-in");
    assert.deepEqual(auth.calls, [["signIn", "ana@example.com", "secret1"]]);
  }
});

test("every error the email form can meet has its own sentence; others keep Firebase's words", () => {
  const codes = [
    "auth/invalid-email", "auth/missing-password", "auth/weak-password", "auth/wrong-password",
    "auth/invalid-credential", "auth/user-not-found", "auth/user-disabled", "auth/too-many-requests",
    "auth/network-request-failed",
  ];
  const sentences = codes.map((code) => authErrorMessage(firebaseError(code)));
  assert.equal(new Set(sentences).size, codes.length);
  for (const sentence of sentences) assert.doesNotMatch(sentence, /Firebase|auth\//);
  assert.equal(
    authErrorMessage(firebaseError("auth/internal-error")),
    "Signing in failed: Firebase: Error (auth/internal-error).",
  );
});

test("after signing in, the visitor is told what happened to their uploads", () => {
  assert.match(signInOutcomeMessage("linked", "ana@example.com"), /^Account created for ana@example.com: your uploads so far are in it/);
  assert.match(signInOutcomeMessage("signed-in", "ana@example.com"), /^ana@example.com already had an account: you are now signed in to it\. Uploads made as a guest/);
});

test("a session is over when the SDK cannot refresh it, not when a sign-in attempt fails", () => {
  for (const code of ["auth/invalid-refresh-token", "auth/user-token-expired", "auth/user-disabled"]) {
    assert.ok(isSessionEnded(firebaseError(code)), code);
  }
  for (const code of ["auth/network-request-failed", "auth/wrong-password", "auth/too-many-requests"]) {
    assert.ok(!isSessionEnded(firebaseError(code)), code);
  }
  assert.ok(!isSessionEnded(new Error("no code")));
});

test("an auth action shows busy while it runs and puts a failure in words", async () => {
  const state = { busy: { value: false }, problem: { value: "old problem" } };
  let busyDuring = null;
  assert.equal(await runAuthAction(async () => (busyDuring = state.busy.value), state), true);
  assert.deepEqual([busyDuring, state.busy.value, state.problem.value], [true, false, ""]);
  assert.equal(await runAuthAction(async () => Promise.reject(firebaseError("auth/wrong-password")), state), false);
  assert.equal(state.problem.value, "This email has an account, and that is not its password.");
  assert.equal(state.busy.value, false);
});

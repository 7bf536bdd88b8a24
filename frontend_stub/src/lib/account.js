// Who the visitor is, in words, and the email sign-in decision: a guest's account is linked to
// the email (so its uploads carry over); an email that already has an account is signed in to.
// Pure logic: the Firebase calls are passed in (src/lib/firebaseSession.js wires the real ones).

// Origins many sites share: every public Cloud Storage bucket is served from this one, so a
// session kept in its storage would be readable by a page from any other bucket. There the
// sign-in is kept for the tab only; on the page's own domain (or localhost) for the browser.
const SHARED_ORIGINS = new Set(["https://storage.googleapis.com"]);

/** How long the sign-in is kept on `origin`: "tab" (a shared origin) or "browser". */
export function sessionScope(origin) {
  return SHARED_ORIGINS.has(origin) ? "tab" : "browser";
}

/** The signed-in state in words: the email, or a guest for an anonymous account. */
export function accountLabel(user, scope = "browser") {
  if (!user) return "Signing you in…";
  if (user.isAnonymous) {
    return scope === "tab"
      ? "Guest (anonymous account, kept until this tab closes: sign in with an email to come back)"
      : "Guest (anonymous account on this browser)";
  }
  return user.email ?? "Signed in";
}

// Firebase's error codes the email form can meet, in plain words.
const AUTH_MESSAGES = {
  "auth/invalid-email": "That is not a valid email address.",
  "auth/missing-email": "Enter your email address.",
  "auth/missing-password": "Enter a password.",
  "auth/weak-password": "Choose a longer password: at least 6 characters.",
  "auth/wrong-password": "This email has an account, and that is not its password.",
  "auth/invalid-credential": "The email or the password is not right.",
  "auth/user-not-found": "There is no account with this email.",
  "auth/user-disabled": "This account has been disabled.",
  "auth/too-many-requests": "Too many attempts. Wait a minute, then try again.",
  "auth/network-request-failed": "Could not reach the sign-in service. Check your connection and try again.",
  "auth/operation-not-allowed": "This way of signing in is not enabled for CoughCloud.",
  "auth/admin-restricted-operation": "This way of signing in is not enabled for CoughCloud.",
};

/** A sentence for a failed sign-in, sign-up or sign-out. */
export function authErrorMessage(err) {
  return AUTH_MESSAGES[err?.code] ?? `Signing in failed: ${err?.message ?? err}`;
}

/**
 * Run a sign-in or sign-out `action` with `busy.value` true meanwhile; a failure is put in words
 * into `problem.value`. Whether it succeeded. (`busy` and `problem`: a component's refs.)
 */
export async function runAuthAction(action, { busy, problem }) {
  problem.value = "";
  busy.value = true;
  try {
    await action();
    return true;
  } catch (err) {
    problem.value = authErrorMessage(err);
    return false;
  } finally {
    busy.value = false;
  }
}

// With these, the SDK says the session itself is over: the account was deleted or disabled, or
// its refresh tokens were revoked (e.g. by "Delete my data and account" in another browser).
const SESSION_ENDED = new Set([
  "auth/invalid-refresh-token",
  "auth/user-token-expired",
  "auth/invalid-user-token",
  "auth/user-not-found",
  "auth/user-disabled",
]);

/** Whether getting a token failed because the visitor's session can never work again. */
export function isSessionEnded(err) {
  return SESSION_ENDED.has(err?.code);
}

// Linking fails with these when the email (or that exact credential) already has an account.
const ALREADY_AN_ACCOUNT = new Set(["auth/email-already-in-use", "auth/credential-already-in-use"]);

/**
 * Email sign-in for the visitor `user`: a guest is linked to the email, keeping their uploads
 * ("linked"); when the email already has an account (or the visitor is no guest), sign in to it
 * ("signed-in": the guest's uploads stay with the guest account).
 * `link(user, email, password)` and `signIn(email, password)` are the Firebase calls.
 */
export async function continueWithEmail({ user, link, signIn }, email, password) {
  if (user?.isAnonymous) {
    try {
      await link(user, email, password);
      return "linked";
    } catch (err) {
      if (!ALREADY_AN_ACCOUNT.has(err?.code)) throw err;
    }
  }
  await signIn(email, password);
  return "signed-in";
}

/** What to tell the visitor after `continueWithEmail`'s outcome. */
export function signInOutcomeMessage(outcome, email) {
  return outcome === "linked"
    ? `Account created for ${email}: your uploads so far are in it, and you can sign in from any browser.`
    : `${email} already had an account: you are now signed in to it. ` +
        "Uploads made as a guest before stay with the guest session and expire with it.";
}

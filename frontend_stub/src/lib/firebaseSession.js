// The visitor's Firebase Auth session: a guest (anonymous) account by default, so a first visit
// needs no action; optional email sign-in; ID tokens for the results API, and App Check tokens when
// the deployment turns App Check on. Only firebase/app and firebase/auth are imported up front, to
// keep the page's bundle small; firebase/app-check is loaded only when App Check is on.
import { initializeApp } from "firebase/app";
import {
  EmailAuthProvider,
  browserLocalPersistence,
  browserSessionPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  linkWithCredential,
  onAuthStateChanged,
  signInAnonymously,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import { continueWithEmail, sessionScope } from "./account.js";

/** The plain facts the page shows about a Firebase user (never the user object itself). */
function snapshot(user) {
  return user ? { uid: user.uid, isAnonymous: user.isAnonymous, email: user.email } : null;
}

/**
 * Start the session from config.json's `firebase` settings. `onUser(user | null)` hears every
 * change of visitor; `onError(err)` hears a failed guest sign-in.
 */
export function startSession(firebase, { onUser, onError }) {
  const app = initializeApp({
    apiKey: firebase.apiKey,
    authDomain: firebase.authDomain,
    projectId: firebase.projectId,
    ...(firebase.appId ? { appId: firebase.appId } : {}),
  });
  // App Check (infra/terraform/app_check.tf): only when config.json names a site key; never on
  // the local stack, where reCAPTCHA cannot attest the page.
  const appCheck = firebase.appCheckSiteKey
    ? import("firebase/app-check").then((sdk) => ({
        sdk,
        instance: sdk.initializeAppCheck(app, {
          provider: new sdk.ReCaptchaEnterpriseProvider(firebase.appCheckSiteKey),
          isTokenAutoRefreshEnabled: true,
        }),
      }))
    : null;
  // getAuth() would add the popup/redirect resolver, which can load Google's auth iframe on its
  // own; email and anonymous sign-in need none of it (and the local stack must work offline).
  // On a shared origin (sessionScope) the session lives in sessionStorage: out of reach of
  // other tabs' pages from other buckets, and gone with the tab.
  const scope = sessionScope(window.location.origin);
  const persistence =
    scope === "tab" ? [browserSessionPersistence] : [indexedDBLocalPersistence, browserLocalPersistence];
  const auth = initializeAuth(app, { persistence });
  if (firebase.authEmulatorUrl) connectAuthEmulator(auth, firebase.authEmulatorUrl, { disableWarnings: true });

  onAuthStateChanged(auth, (user) => {
    onUser(snapshot(user));
    // Nobody signed in (first visit, or just signed out): start a new guest session.
    if (!user) signInAnonymously(auth).catch(onError);
  });

  return {
    /** "tab" or "browser": how long this sign-in is kept (see sessionScope). */
    scope,

    /** An App Check token for the results API, or null when App Check is off. */
    async appCheckToken() {
      if (!appCheck) return null;
      const { sdk, instance } = await appCheck;
      return (await sdk.getToken(instance)).token;
    },

    /** The current visitor's ID token; the SDK refreshes it, or mints a new one when forced. */
    async idToken(forceRefresh = false) {
      await auth.authStateReady();
      if (!auth.currentUser) throw new Error("you are not signed in yet; wait a moment and try again.");
      return auth.currentUser.getIdToken(forceRefresh);
    },

    /** Link the guest to an email account, or sign in to the existing one: "linked" | "signed-in". */
    async continueWithEmail(email, password) {
      const outcome = await continueWithEmail(
        {
          user: auth.currentUser,
          link: (user, e, p) => linkWithCredential(user, EmailAuthProvider.credential(e, p)),
          signIn: (e, p) => signInWithEmailAndPassword(auth, e, p),
        },
        email,
        password,
      );
      // Linking keeps the same user (no state change is announced), but it now has an email.
      onUser(snapshot(auth.currentUser));
      return outcome;
    },

    /** Sign out; a new guest session starts by itself. */
    signOut: () => signOut(auth),
  };
}

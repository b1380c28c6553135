// The app's shell: who is signed in, which page the path names, and the header around it.

import { html, render, useEffect, useState } from "./vendor/preact-htm.module.js";
import { auth, whenSignedOut } from "./api.js";
import { Account } from "./account.js";
import { SignIn, SignUp } from "./auth.js";
import { TaskList } from "./tasks.js";
import { Link, here, navigate, safeNext, useLocation } from "./router.js";
import { Page, StatusRegion, announce, clearStatus } from "./ui.js";

/** Paths that need a session; anyone else is sent to sign in first. */
const PRIVATE = new Set(["/tasks", "/account"]);

function App() {
  const where = useLocation();
  const [signedIn, setSignedIn] = useState({ status: "checking", user: null, sessionId: null });
  const [notice, setNotice] = useState(null);
  // A refusal that concerns the whole app (a sign-out the server did not do), shown above the page.
  const [problem, setProblem] = useState(null);
  const [signingOut, setSigningOut] = useState(false);

  const checkSession = async () => {
    try {
      const current = await auth.session();
      setSignedIn({ status: "known", user: current?.user ?? null, sessionId: current?.session.id ?? null });
    } catch (error) {
      setSignedIn({ status: "failed", user: null, sessionId: null, error: error.message });
    }
  };
  useEffect(() => {
    checkSession();
    // A 401 anywhere: the session has ended. Sign in again, then come back here.
    whenSignedOut(() => {
      setSignedIn({ status: "known", user: null, sessionId: null });
      setNotice("Your session has ended. Please sign in again.");
      if (!location.pathname.startsWith("/sign-"))
        navigate(`/sign-in?next=${encodeURIComponent(here())}`, { replace: true });
    });
  }, []);

  const next = new URLSearchParams(where.search).get("next");
  const isPrivate = PRIVATE.has(where.path) || where.path === "/";

  // Redirects, once the session is known.
  useEffect(() => {
    if (signedIn.status !== "known") return;
    if (where.path === "/") navigate(signedIn.user ? "/tasks" : "/sign-in", { replace: true });
    else if (isPrivate && !signedIn.user) navigate(`/sign-in?next=${encodeURIComponent(here())}`, { replace: true });
    else if (signedIn.user && (where.path === "/sign-in" || where.path === "/sign-up"))
      navigate(safeNext(next), { replace: true });
  }, [signedIn, where.path]);

  // A problem is about the page it happened on.
  useEffect(() => setProblem(null), [where.path]);

  const onSignedIn = async (user) => {
    setNotice(null);
    // "You are signed out." from before must not greet the person who just signed in.
    clearStatus();
    // The session's id (for "this device") comes with get-session, as does the first token. The
    // sign-in itself succeeded: if that look-up fails, go on with its answer (the token is asked
    // for again with the first call).
    let current = null;
    try {
      current = await auth.session();
    } catch {
      current = null;
    }
    setSignedIn({ status: "known", user: current?.user ?? user, sessionId: current?.session.id ?? null });
    navigate(safeNext(next));
  };

  /** The session is over on the server: show it, and go to sign-in. */
  const signedOut = (message) => {
    setSignedIn({ status: "known", user: null, sessionId: null });
    setNotice(null);
    setProblem(null);
    navigate("/sign-in");
    announce(message);
  };

  // Only the server's answer says whether the session ended: a refusal (403, 503, ...) or no answer
  // leaves the person signed in, and says so. A 401 means there was no session to end.
  const signOut = async () => {
    setSigningOut(true);
    setProblem(null);
    try {
      await auth.signOut();
      signedOut("You are signed out.");
    } catch (error) {
      if (error.status === 401) signedOut("You are signed out.");
      else setProblem(`Signing out failed: ${sentence(error.message)} You are still signed in.`);
    } finally {
      setSigningOut(false);
    }
  };

  let page;
  if (signedIn.status === "checking") {
    page = html`<p class="placeholder" role="status">Loading…</p>`;
  } else if (signedIn.status === "failed") {
    page = html`<${Page} title="Cannot reach taskgate">
      <p class="alert" role="alert">${signedIn.error}</p>
      <button type="button" onClick=${checkSession}>Try again</button>
    <//>`;
  } else if (where.path === "/sign-in" && !signedIn.user) {
    page = html`<${SignIn}
      next=${next}
      notice=${notice ?? (next ? "Sign in to continue." : null)}
      onSignedIn=${onSignedIn}
    />`;
  } else if (where.path === "/sign-up" && !signedIn.user) {
    page = html`<${SignUp} next=${next} onSignedIn=${onSignedIn} />`;
  } else if (where.path === "/tasks" && signedIn.user) {
    page = html`<${TaskList} key=${signedIn.sessionId} />`;
  } else if (where.path === "/account" && signedIn.user) {
    page = html`<${Account}
      key=${signedIn.sessionId}
      user=${signedIn.user}
      sessionId=${signedIn.sessionId}
      onUserChanged=${(user) => setSignedIn((before) => ({ ...before, user }))}
      onSessionReplaced=${checkSession}
      onSignedOut=${signedOut}
    />`;
  } else if (isPrivate || where.path === "/sign-in" || where.path === "/sign-up") {
    page = null; // a redirect is under way
  } else {
    page = html`<${Page} title="Page not found">
      <p>There is no page at <code>${where.path}</code>.</p>
      <p><${Link} href="/">Go to your tasks<//></p>
    <//>`;
  }

  const user = signedIn.user;
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="bar">
      <div class=${user ? "bar-inner signed-in" : "bar-inner"}>
        <${Link} href="/" class="brand"><span class="logo" aria-hidden="true"></span><span class="brand-name">taskgate</span><//>
        ${
          user &&
          html`<p class="who" title=${user.email}>
              <span class="who-label">Signed in as </span><strong>${displayName(user)}</strong>
            </p>
            <nav aria-label="Main">
              <${Link} href="/tasks" aria-current=${where.path === "/tasks" ? "page" : undefined}>Tasks<//>
              <${Link} href="/account" aria-current=${where.path === "/account" ? "page" : undefined}>Account<//>
              <button type="button" class="quiet" disabled=${signingOut} onClick=${signOut}>Sign out</button>
            </nav>`
        }
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${
        problem &&
        html`<div class="banner">
          <p class="alert" role="alert">${problem}</p>
          <button type="button" class="quiet" onClick=${() => setProblem(null)}>Dismiss</button>
        </div>`
      }
      ${page}
    </main>
    <${StatusRegion} />`;
}

/** The name the person gave, else their e-mail address. */
function displayName(user) {
  return user.name?.trim() || user.email;
}

/** `text` ending with a full stop ("Invalid origin" → "Invalid origin."). */
function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

render(html`<${App} />`, document.getElementById("app"));

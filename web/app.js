// The app's shell: who is signed in, which page the path names, and the header around it.

import { html, render, useEffect, useState } from "./vendor/preact-htm.module.js";
import { auth, whenSignedOut } from "./api.js";
import { Account } from "./account.js";
import { SignIn, SignUp } from "./auth.js";
import { TaskList } from "./tasks.js";
import { Link, here, navigate, safeNext, useLocation } from "./router.js";
import { Page, StatusRegion, announce } from "./ui.js";

/** Paths that need a session; anyone else is sent to sign in first. */
const PRIVATE = new Set(["/tasks", "/account"]);

function App() {
  const where = useLocation();
  const [signedIn, setSignedIn] = useState({ status: "checking", user: null, sessionId: null });
  const [notice, setNotice] = useState(null);

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

  const onSignedIn = async (user) => {
    setNotice(null);
    // The session's id (for "this device") comes with get-session, as does the first token.
    const current = await auth.session();
    setSignedIn({ status: "known", user: current?.user ?? user, sessionId: current?.session.id ?? null });
    navigate(safeNext(next));
  };

  const signOut = async (message = "You are signed out.") => {
    try {
      await auth.signOut();
    } finally {
      setSignedIn({ status: "known", user: null, sessionId: null });
      setNotice(null);
      navigate("/sign-in");
      announce(message);
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
      onSignedOut=${signOut}
    />`;
  } else if (isPrivate || where.path === "/sign-in" || where.path === "/sign-up") {
    page = null; // a redirect is under way
  } else {
    page = html`<${Page} title="Page not found">
      <p>There is no page at <code>${where.path}</code>.</p>
      <p><${Link} href="/">Go to your tasks<//></p>
    <//>`;
  }

  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="bar">
      <div class="bar-inner">
        <${Link} href="/" class="brand"><span class="logo" aria-hidden="true"></span>taskgate<//>
        ${
          signedIn.user &&
          html`<nav aria-label="Main">
            <${Link} href="/tasks" aria-current=${where.path === "/tasks" ? "page" : undefined}>Tasks<//>
            <${Link} href="/account" aria-current=${where.path === "/account" ? "page" : undefined}>Account<//>
            <button type="button" class="quiet" onClick=${() => signOut()}>Sign out</button>
          </nav>`
        }
      </div>
    </header>
    <main id="main" tabindex="-1">${page}</main>
    <${StatusRegion} />`;
}

render(html`<${App} />`, document.getElementById("app"));

// The account page: the person's name, their password, and their sessions (the devices signed in).

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";
import { auth } from "./api.js";
import { Alert, Field, Page, announce, errorsFrom, useSubmit } from "./ui.js";

export function Account({ user, sessionId, onUserChanged, onSessionReplaced, onSignedOut }) {
  return html`<${Page} title="Account">
    <p class="muted">Signed in as <strong>${user.email}</strong></p>
    <${Profile} user=${user} onUserChanged=${onUserChanged} />
    <${PasswordForm} email=${user.email} onSessionReplaced=${onSessionReplaced} />
    <${Sessions} sessionId=${sessionId} onSignedOut=${onSignedOut} />
  <//>`;
}

function Profile({ user, onUserChanged }) {
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { name: user.name },
    async ({ name }) => {
      await auth.updateUser({ name });
      onUserChanged({ ...user, name });
      announce("Your name is saved.");
    },
    { errorsOf: (error) => errorsFrom(error, (code) => (code === "VALIDATION_ERROR" ? "name" : null)) },
  );
  return html`<section class="card stack" aria-labelledby="profile-heading">
    <h2 id="profile-heading">Profile</h2>
    <form class="stack" ref=${formRef} onSubmit=${onSubmit} novalidate>
      <${Field}
        id="profile-name"
        label="Name"
        autocomplete="name"
        maxlength="255"
        error=${errors.fields.name}
        ...${bind("name")}
      />
      ${errors.form && html`<${Alert}>${errors.form}<//>`}
      <div class="actions"><button class="primary" type="submit" disabled=${busy}>Save name</button></div>
    </form>
  </section>`;
}

function passwordField(code) {
  if (code === "INVALID_PASSWORD") return "currentPassword";
  if (code?.startsWith("PASSWORD_")) return "newPassword";
  return null;
}

function passwordErrors(error) {
  const found = errorsFrom(error, passwordField);
  if (error.code === "INVALID_PASSWORD") found.fields.currentPassword = "That is not your current password.";
  return found;
}

/** The hidden username field tells password managers whose password this is. */
function PasswordForm({ email, onSessionReplaced }) {
  const [revokeOthers, setRevokeOthers] = useState(true);
  const { setValues, bind, formRef, errors, busy, onSubmit } = useSubmit(
    { currentPassword: "", newPassword: "" },
    async (values) => {
      await auth.changePassword({ ...values, revokeOtherSessions: revokeOthers });
      setValues({ currentPassword: "", newPassword: "" });
      announce(revokeOthers ? "Password changed. Your other devices are signed out." : "Password changed.");
      // Signing the others out started a new session for this device.
      if (revokeOthers) onSessionReplaced();
    },
    { errorsOf: passwordErrors },
  );
  return html`<section class="card stack" aria-labelledby="password-heading">
    <h2 id="password-heading">Password</h2>
    <form class="stack" ref=${formRef} onSubmit=${onSubmit} novalidate>
      <input type="email" name="username" autocomplete="username" value=${email} hidden readonly />
      <${Field}
        id="current-password"
        label="Current password"
        type="password"
        autocomplete="current-password"
        error=${errors.fields.currentPassword}
        ...${bind("currentPassword")}
      />
      <${Field}
        id="new-password"
        label="New password"
        type="password"
        autocomplete="new-password"
        hint="8 to 128 characters."
        error=${errors.fields.newPassword}
        ...${bind("newPassword")}
      />
      <div class="check">
        <input
          type="checkbox"
          id="revoke-others"
          checked=${revokeOthers}
          onChange=${(event) => setRevokeOthers(event.currentTarget.checked)}
        />
        <label for="revoke-others">Sign out my other devices</label>
      </div>
      ${errors.form && html`<${Alert}>${errors.form}<//>`}
      <div class="actions"><button class="primary" type="submit" disabled=${busy}>Change password</button></div>
    </form>
  </section>`;
}

/** "Chrome on Linux" from a user agent; the raw string when nothing is recognised. */
function deviceName(agent) {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent)
    ? "Edge"
    : /Firefox\//.test(agent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(agent)
        ? "Chrome"
        : /Safari\//.test(agent)
          ? "Safari"
          : null;
  const system = /Android/.test(agent)
    ? "Android"
    : /iPhone|iPad/.test(agent)
      ? "iOS"
      : /Mac OS X/.test(agent)
        ? "macOS"
        : /Windows/.test(agent)
          ? "Windows"
          : /Linux/.test(agent)
            ? "Linux"
            : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? agent.slice(0, 60);
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function Sessions({ sessionId, onSignedOut }) {
  const [state, setState] = useState({ status: "loading", sessions: [], error: null });
  const [busy, setBusy] = useState(false);
  const headingRef = useRef(null);
  const load = async () => {
    try {
      const sessions = await auth.listSessions();
      sessions.sort((a, b) =>
        a.id === sessionId ? -1 : b.id === sessionId ? 1 : b.createdAt.localeCompare(a.createdAt),
      );
      setState({ status: "ready", sessions, error: null });
    } catch (error) {
      if (!error.sessionEnded) setState((before) => ({ ...before, status: "error", error: error.message }));
    }
  };
  useEffect(() => {
    load();
  }, []);

  const revoke = async (session) => {
    setBusy(true);
    try {
      await auth.revokeSession(session.token);
      if (session.id === sessionId) {
        onSignedOut("You signed out this device.");
        return;
      }
      announce(`Signed out ${deviceName(session.userAgent)}.`);
      await load();
      headingRef.current?.focus();
    } catch (error) {
      if (!error.sessionEnded) setState((before) => ({ ...before, error: error.message }));
    } finally {
      setBusy(false);
    }
  };
  const revokeOthers = async () => {
    setBusy(true);
    try {
      await auth.revokeOtherSessions();
      announce("Your other devices are signed out.");
      await load();
    } catch (error) {
      if (!error.sessionEnded) setState((before) => ({ ...before, error: error.message }));
    } finally {
      setBusy(false);
    }
  };

  const others = state.sessions.filter((session) => session.id !== sessionId).length;
  return html`<section class="card stack" aria-labelledby="sessions-heading">
    <h2 id="sessions-heading" tabindex="-1" ref=${headingRef}>Devices signed in</h2>
    ${state.status === "loading" && html`<p class="placeholder" role="status">Loading your sessions…</p>`}
    ${state.error && html`<${Alert}>${state.error}<//>`}
    ${
      state.status === "ready" &&
      html`<ul class="sessions">
          ${state.sessions.map((session) => {
            const device = deviceName(session.userAgent);
            const current = session.id === sessionId;
            const since = when.format(new Date(session.createdAt));
            return html`<li key=${session.id} class="session">
              <div>
                <p class="session-device">${device} ${current && html`<span class="badge">This device</span>`}</p>
                <p class="muted">Signed in ${since}${session.ipAddress ? ` from ${session.ipAddress}` : ""}</p>
              </div>
              <button
                type="button"
                class="quiet danger"
                disabled=${busy}
                onClick=${() => revoke(session)}
                aria-label=${current ? "Sign out this device" : `Sign out ${device}, signed in ${since}`}
              >
                ${current ? "Sign out this device" : "Sign out"}
              </button>
            </li>`;
          })}
        </ul>
        <div class="actions">
          <button type="button" disabled=${busy || others === 0} onClick=${revokeOthers}>Sign out other devices</button>
        </div>`
    }
  </section>`;
}

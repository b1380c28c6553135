// Better Auth's OWN client (npm `better-auth`: createAuthClient with jwtClient()) driving taskgate's
// built-in accounts, unchanged: sign up, sign in, get the session, get a token and call the task API
// with it, list sessions, revoke one, change the password, sign out.
//
// It runs as a Node client would: no cookie jar, so it uses Better Auth's bearer convention (the
// `set-auth-token` response header, sent back as `Authorization: Bearer`), exactly as Better Auth's
// docs tell non-browser clients to.
//
// Run: cargo build && cd tests/interop && npm ci && node --test client.mjs
// taskgate is started by ../support/taskgate.mjs (shared with tests/e2e); environment (optional):
// TASKGATE_BIN (default <repo>/target/debug/taskgate, or $CARGO_TARGET_DIR/debug/taskgate).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

import { startTaskgate } from "../support/taskgate.mjs";

let taskgate;

after(() => taskgate?.stop());

/** A Better Auth client as a Node app makes one, keeping the session token it is handed. */
function client(baseURL) {
  let token = "";
  const auth = createAuthClient({
    baseURL,
    plugins: [jwtClient()],
    fetchOptions: {
      auth: { type: "Bearer", token: () => token },
      onSuccess: (ctx) => {
        const handed = ctx.response.headers.get("set-auth-token");
        if (handed) token = handed;
      },
    },
  });
  return { auth, forget: () => (token = "") };
}

function ok(result, what) {
  assert.equal(result.error, null, `${what}: ${JSON.stringify(result.error)}`);
  return result.data;
}

test("Better Auth's own client works against taskgate unchanged", { timeout: 120_000 }, async () => {
  // taskgate with nothing configured but its folder and port (SQLite at its default path in a temp
  // dir, the secret it makes there), and the auth rate limits off: this flow signs in more often
  // than 3 times in 10 seconds.
  taskgate = await startTaskgate({
    args: [],
    secret: false,
    database: false,
    tempPrefix: "taskgate-client-",
    env: { TASKGATE_RATE_LIMIT: "off", RUST_LOG: "warn" },
  });
  const baseURL = taskgate.url;
  const email = "ada@example.com";
  const password = "a long enough passphrase";

  const laptop = client(baseURL);
  const signedUp = ok(await laptop.auth.signUp.email({ name: "Ada", email, password }), "sign up");
  assert.equal(signedUp.user.email, email);
  const userId = signedUp.user.id;

  const phone = client(baseURL);
  const signedIn = ok(await phone.auth.signIn.email({ email, password }), "sign in");
  assert.equal(signedIn.user.id, userId);

  const session = ok(await laptop.auth.getSession(), "get session");
  assert.equal(session.user.id, userId);
  assert.ok(session.session.id);

  // A JWT for the task API, used as any API client would.
  const { token: jwt } = ok(await laptop.auth.token(), "token");
  const api = (init = {}) =>
    fetch(`${baseURL}/api/${userId}/tasks`, {
      ...init,
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    });
  const created = await api({ method: "POST", body: JSON.stringify({ title: "from Better Auth's client" }) });
  assert.equal(created.status, 201, await created.clone().text());
  const listed = await (await api()).json();
  assert.equal(listed[0].title, "from Better Auth's client");

  // Two sessions; revoke the phone's by its handle.
  const sessions = ok(await laptop.auth.listSessions(), "list sessions");
  assert.equal(sessions.length, 2);
  const phoneSession = sessions.find((s) => s.id !== session.session.id);
  ok(await laptop.auth.revokeSession({ token: phoneSession.token }), "revoke session");
  assert.equal(ok(await phone.auth.getSession(), "phone session after revoke"), null);

  // A new password, ending the other sessions; the client is handed its new session.
  const newPassword = "an even longer new passphrase";
  ok(
    await laptop.auth.changePassword({ currentPassword: password, newPassword, revokeOtherSessions: true }),
    "change password",
  );
  assert.equal(ok(await laptop.auth.getSession(), "session after change").user.id, userId);
  const stale = ok(await client(baseURL).auth.signIn.email({ email, password: newPassword }), "new password");
  assert.equal(stale.user.id, userId);
  const refused = await client(baseURL).auth.signIn.email({ email, password });
  assert.equal(refused.error?.status, 401);
  assert.equal(refused.error?.code, "INVALID_EMAIL_OR_PASSWORD");

  ok(await laptop.auth.signOut(), "sign out");
  assert.equal(ok(await laptop.auth.getSession(), "session after sign-out"), null);
});

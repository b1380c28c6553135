// Better Auth's OWN client (npm `better-auth`: createAuthClient with jwtClient()) driving taskgate's
// built-in accounts, unchanged: sign up, sign in, get the session, get a token and call the task API
// with it, list sessions, revoke one, change the password, sign out.
//
// It runs as a Node client would: no cookie jar, so it uses Better Auth's bearer convention (the
// `set-auth-token` response header, sent back as `Authorization: Bearer`), exactly as Better Auth's
// docs tell non-browser clients to.
//
// Run: cargo build && cd tests/interop && npm ci && node --test client.mjs
// Environment (optional): TASKGATE_BIN (default ../../target/debug/taskgate from this folder).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TASKGATE_BIN = path.resolve(HERE, process.env.TASKGATE_BIN ?? "../../target/debug/taskgate");
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

let taskgate;
let workDir;

after(async () => {
  if (taskgate && taskgate.exitCode === null && taskgate.signalCode === null) {
    taskgate.kill("SIGTERM");
    const timer = setTimeout(() => taskgate.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await new Promise((resolve) => taskgate.once("exit", resolve));
    clearTimeout(timer);
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

process.on("exit", () => taskgate?.kill("SIGKILL"));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts taskgate with nothing configured but its folder and port (SQLite, a made secret), and
 * the auth rate limits off: this flow signs in more often than 3 times in 10 seconds. */
async function startTaskgate() {
  workDir = mkdtempSync(path.join(os.tmpdir(), "taskgate-client-"));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    TASKGATE_LISTEN: `127.0.0.1:${port}`,
    TASKGATE_RATE_LIMIT: "off",
    RUST_LOG: "warn",
  };
  taskgate = spawn(TASKGATE_BIN, [], { cwd: workDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-8_000));
  taskgate.stdout.on("data", keep);
  taskgate.stderr.on("data", keep);
  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (taskgate.exitCode !== null) throw new Error(`taskgate exited:\n${output}`);
    try {
      const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return baseURL;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`taskgate not healthy after ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
}

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
  const baseURL = await startTaskgate();
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

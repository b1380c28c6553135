// Listening on loopback, taskgate's own origin is each of `http://localhost:PORT`,
// `http://127.0.0.1:PORT` and `http://[::1]:PORT`: a browser pointed at any of them signs up,
// saves a name on the account page and signs out (cookie-authenticated POSTs, which check the
// Origin). Also listening on every address (`[::]`, no public URL set). Cases that need IPv6 are
// skipped, saying so, on a machine without it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { Scope, canListenOn, launchChromium, newPage, request, scopeFor, startTaskgate } from "./harness.mjs";
import { assertClean, newEmail, responseTo, sessionCookies, signUpInPage, signedInAs } from "./webapp.mjs";

const TEST_TIMEOUT_MS = 90_000;

const scope = new Scope();
after(() => scope.close());

let browser;
let ipv6;

before(
  async () => {
    browser = await launchChromium(scope);
    ipv6 = await canListenOn("::1");
  },
  { timeout: TEST_TIMEOUT_MS },
);

/** Signs up, renames and signs out in the app at `base`; every POST is answered 200. */
async function signUpRenameSignOut(t, base) {
  const { page, context, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [base] });
  const email = newEmail("Loop");
  await signUpInPage(page, base, { name: "Lou", email });
  await signedInAs(page).getByText("Lou", { exact: true }).waitFor();

  await page.getByRole("link", { name: "Account", exact: true }).click();
  await page.waitForURL(`${base}/account`);
  await page.getByLabel("Name", { exact: true }).fill("Lou Loopback");
  const renamed = responseTo(page, "POST", /\/api\/auth\/update-user$/);
  await page.getByRole("button", { name: "Save name", exact: true }).click();
  const rename = await renamed;
  assert.equal(rename.status(), 200, `Save name at ${base}: ${rename.status()} ${await rename.text()}`);
  await page.getByRole("status").getByText("Your name is saved.").waitFor();
  await signedInAs(page).getByText("Lou Loopback", { exact: true }).waitFor();

  const ended = responseTo(page, "POST", /\/api\/auth\/sign-out$/);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  const signOut = await ended;
  assert.equal(signOut.status(), 200, `Sign out at ${base}: ${signOut.status()} ${await signOut.text()}`);
  await page.waitForURL(`${base}/sign-in`);
  await page.getByRole("status").getByText("You are signed out.").waitFor();
  assert.deepEqual(await sessionCookies(context, base), [], "the session cookie is gone");
  await assertClean(watch);
}

/** Whether `base` reaches the server (an IPv4 name for a server on `[::]` needs a dual-stack socket). */
async function reachable(base) {
  try {
    return (await request(`${base}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

const LISTENERS = [
  { host: "127.0.0.1", names: ["127.0.0.1", "localhost"] },
  { host: "::1", names: ["[::1]", "localhost"] },
  { host: "::", names: ["127.0.0.1", "localhost", "[::1]"] },
];

for (const { host, names } of LISTENERS) {
  const listen = host.includes(":") ? `[${host}]` : host;
  test(`listening on ${listen}, the app works from ${names.join(", ")}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (host.includes(":") && !ipv6) {
      t.skip(`IPv6 loopback (::1) is not available on this machine: ${listen} not tested`);
      return;
    }
    const server = await startTaskgate(scopeFor(t), { host, env: { TASKGATE_RATE_LIMIT: "off" } });
    for (const name of names) {
      const base = `http://${name}:${server.port}`;
      await t.test(base, async (tt) => {
        // `localhost` may resolve to ::1 first; Chromium falls back to 127.0.0.1 as needed.
        if (name !== "localhost" && !(await reachable(base))) {
          tt.skip(`${base} does not reach a server listening on ${listen} here (no dual-stack socket)`);
          return;
        }
        await signUpRenameSignOut(tt, base);
      });
    }
  });
}

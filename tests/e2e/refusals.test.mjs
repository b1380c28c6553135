// The app reports what the server answered: a refused sign-out (403, 503, no answer) leaves the
// person signed in and says so, and the account page's and task list's actions show a refusal
// instead of their success message; a 429 says how long to wait, from `Retry-After`. The refusals
// are made by Playwright (`page.route`) in front of a real taskgate, except for one real 429.

import { test } from "node:test";
import assert from "node:assert/strict";

import { apiSession, appAndBrowserForFile, newPage, request, scopeFor, startTaskgate } from "./harness.mjs";
import {
  PASSWORD,
  assertClean,
  newEmail,
  recordStatus,
  responseTo,
  sessionCookies,
  signInInPage,
  signedInAs,
} from "./webapp.mjs";

const TEST_TIMEOUT_MS = 60_000;
const INVALID_ORIGIN = { code: "INVALID_ORIGIN", message: "Invalid origin" };
const UNAVAILABLE = { code: "SERVICE_UNAVAILABLE", message: "The service is unavailable" };
const TOO_MANY = { code: "TOO_MANY_REQUESTS", message: "Too many requests. Please try again later." };
// Chromium logs each refused request as a console error; those are expected here.
const REFUSALS_LOGGED = [/status of (401|403|429|503)/];

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

/** Answers the next request to `path` (and only that one) with `status` and a JSON `body`. */
async function refuseOnce(page, path, status, body, headers = {}) {
  let done = false;
  const url = (u) => u.pathname === path;
  const handler = async (route) => {
    if (done) return route.fallback();
    done = true;
    await route.fulfill({ status, contentType: "application/json", headers, body: JSON.stringify(body) });
  };
  await page.route(url, handler);
  return async () => page.unroute(url, handler);
}

/** A person with an account, signed in on a fresh page at `at`. */
async function signedIn(t, name, at = "/tasks") {
  const email = newEmail(name);
  const session = await apiSession(server, { name, email, password: PASSWORD });
  const { page, context, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
  const statusLog = await recordStatus(page);
  await signInInPage(page, server.url, email, { at: `/sign-in?next=${encodeURIComponent(at)}` });
  await page.waitForURL(`${server.url}${at}`);
  await page.getByRole("heading", { level: 1, name: at === "/account" ? "Account" : "Your tasks" }).waitFor();
  return { email, session, page, context, watch, statusLog };
}

/** The app's answer to the session being asked for: who the server says is signed in, if anyone. */
async function serverSession(page) {
  return page.evaluate(async () => {
    const res = await fetch("/api/auth/get-session", { cache: "no-store" });
    return (await res.json())?.user?.email ?? null;
  });
}

test(
  "a refused sign-out says so and keeps the person signed in; a real one afterwards signs out",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { email, page, context, watch, statusLog } = await signedIn(t, "Rosalind");
    const refusals = [
      ["a 403 INVALID_ORIGIN", (p) => refuseOnce(p, "/api/auth/sign-out", 403, INVALID_ORIGIN), /Invalid origin/],
      ["a 503", (p) => refuseOnce(p, "/api/auth/sign-out", 503, UNAVAILABLE, { "retry-after": "1" }), /unavailable/],
      [
        "no answer",
        async (p) => {
          await p.route("**/api/auth/sign-out", (route) => route.abort("connectionrefused"), { times: 1 });
        },
        /cannot be reached/,
      ],
    ];
    for (const [what, refuse, reason] of refusals) {
      await refuse(page);
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      const alert = page.getByRole("alert").filter({ hasText: "Signing out failed" });
      await alert.waitFor();
      const text = await alert.textContent();
      assert.match(text, reason, `${what}: the reason is shown`);
      assert.match(text, /You are still signed in\./, `${what}: it says the person is still signed in`);
      // Still on the task list, still named in the header, the sign-out button still there.
      assert.equal(page.url(), `${server.url}/tasks`, what);
      assert.equal(await signedInAs(page).getByText("Rosalind", { exact: true }).count(), 1, what);
      await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
      assert.equal((await sessionCookies(context, server.url)).length, 1, `${what}: the session cookie is kept`);
      assert.equal(await serverSession(page), email, `${what}: the server still has the session`);
      assert.ok(!(await statusLog()).some(({ text: shown }) => /signed out/i.test(shown)), `${what}: no "signed out" shown`);
    }

    // The task list still works with the session that lives on.
    await page.getByLabel("Title", { exact: true }).fill("Still here");
    const created = responseTo(page, "POST", /\/tasks$/);
    await page.getByRole("button", { name: "Add task", exact: true }).click();
    assert.equal((await created).status(), 201);
    // The problem is dismissable.
    await page.getByRole("button", { name: "Dismiss", exact: true }).click();
    assert.equal(await page.getByRole("alert").filter({ hasText: "Signing out failed" }).count(), 0);

    // Now a sign-out the server does.
    const signedOut = responseTo(page, "POST", /\/api\/auth\/sign-out$/);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    assert.equal((await signedOut).status(), 200);
    await page.waitForURL(`${server.url}/sign-in`);
    await page.getByRole("status").getByText("You are signed out.").waitFor();
    assert.equal(await signedInAs(page).count(), 0, "nobody named in the header");
    assert.deepEqual(await sessionCookies(context, server.url), [], "the session cookie is gone");
    assert.equal(await serverSession(page), null);
    await assertClean(watch, {
      allow: [...REFUSALS_LOGGED, /ERR_CONNECTION_REFUSED/],
      allowFailed: [/^POST \S+\/api\/auth\/sign-out: net::ERR_CONNECTION_REFUSED$/],
    });
  },
);

test(
  "the account page's actions show a refusal, never their success message",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { email, session, page, watch, statusLog } = await signedIn(t, "Katherine", "/account");
    // A second device, so "Sign out other devices" has something to do.
    await page.getByRole("button", { name: "Sign out other devices" }).and(page.locator(":enabled")).waitFor();
    const alertIn = (heading) =>
      page.locator("section.card").filter({ has: page.getByRole("heading", { level: 2, name: heading }) }).getByRole("alert");

    // Save name: refused, the header keeps the name the server has.
    const unrouteName = await refuseOnce(page, "/api/auth/update-user", 403, INVALID_ORIGIN);
    await page.getByLabel("Name", { exact: true }).fill("Katherine Johnson");
    await page.getByRole("button", { name: "Save name", exact: true }).click();
    await alertIn("Profile").getByText("Invalid origin").waitFor();
    assert.equal(await signedInAs(page).getByText("Katherine", { exact: true }).count(), 1);
    await unrouteName();

    // Change password: refused, and the old password still works.
    const unroutePassword = await refuseOnce(page, "/api/auth/change-password", 503, UNAVAILABLE);
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill("a brand new passphrase");
    await page.getByRole("button", { name: "Change password", exact: true }).click();
    await alertIn("Password").getByText(/unavailable/).waitFor();
    await unroutePassword();
    await apiSession(server, { email, password: PASSWORD });

    // Sign out other devices: refused, the other device is still listed (and signed in).
    const unrouteOthers = await refuseOnce(page, "/api/auth/revoke-other-sessions", 403, INVALID_ORIGIN);
    await page.getByRole("button", { name: "Sign out other devices" }).click();
    await alertIn("Devices signed in").getByText("Invalid origin").waitFor();
    await unrouteOthers();
    const stillThere = await request(new URL("/api/auth/get-session", server.url), {
      headers: { authorization: `Bearer ${session.sessionToken}` },
    });
    assert.equal(stillThere.body?.user?.email, email, "the other device is still signed in");

    // Sign out this device: refused, the person stays on the account page, signed in.
    const unrouteThis = await refuseOnce(page, "/api/auth/revoke-session", 503, UNAVAILABLE);
    await page.getByRole("button", { name: "Sign out this device", exact: true }).click();
    await alertIn("Devices signed in").getByText(/unavailable/).waitFor();
    await unrouteThis();
    assert.equal(page.url(), `${server.url}/account`);
    assert.equal(await serverSession(page), email);

    const shown = (await statusLog()).map(({ text }) => text).filter(Boolean);
    for (const success of [/name is saved/, /Password changed/, /devices are signed out/, /signed out/i]) {
      assert.ok(!shown.some((text) => success.test(text)), `${success} was shown: ${JSON.stringify(shown)}`);
    }

    // Unrouted, the same actions do what they say.
    const renamed = responseTo(page, "POST", /\/update-user$/);
    await page.getByRole("button", { name: "Save name", exact: true }).click();
    assert.equal((await renamed).status(), 200);
    await page.getByRole("status").getByText("Your name is saved.").waitFor();
    await signedInAs(page).getByText("Katherine Johnson", { exact: true }).waitFor();
    await assertClean(watch, { allow: REFUSALS_LOGGED });
  },
);

test(
  "the task list puts back a task whose completion or deletion the server refused, and says why",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { page, watch, statusLog } = await signedIn(t, "Dorothy");
    await page.getByLabel("Title", { exact: true }).fill("Water the ferns");
    const created = responseTo(page, "POST", /\/tasks$/);
    await page.getByRole("button", { name: "Add task", exact: true }).click();
    const task = await (await created).json();
    const isTask = (u) => u.pathname.endsWith(`/tasks/${task.id}`) || u.pathname.endsWith(`/tasks/${task.id}/complete`);

    let refused = 0;
    await page.route(isTask, async (route) => {
      refused += 1;
      await route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ detail: "Service unavailable", error_code: "SERVICE_UNAVAILABLE", status_code: 503 }),
      });
    });
    const box = page.getByRole("checkbox", { name: "Water the ferns" });
    await box.click();
    await page.getByText("Could not update this task: Service unavailable").waitFor();
    assert.equal(await box.isChecked(), false, "put back");

    await page.getByRole("button", { name: "Delete “Water the ferns”" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("Could not delete this task: Service unavailable").waitFor();
    await box.waitFor();
    assert.equal(refused, 2);
    const shown = (await statusLog()).map(({ text }) => text).filter(Boolean);
    assert.ok(!shown.some((text) => /marked completed|Deleted/.test(text)), JSON.stringify(shown));
    await assertClean(watch, { allow: REFUSALS_LOGGED });
  },
);

test("a 429 says how long to wait, from Retry-After or X-Retry-After", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
  const cases = [
    [{ "retry-after": "8", "x-retry-after": "8" }, "Too many attempts. Try again in 8 seconds."],
    [{ "x-retry-after": "1" }, "Too many attempts. Try again in 1 second."],
    [{ "retry-after": "90" }, "Too many attempts. Try again in 2 minutes."],
    [{ "retry-after": new Date(Date.now() + 30 * 60_000).toUTCString() }, /^Too many attempts\. Try again in (30|31) minutes\.$/],
    [{}, "Too many attempts. Please wait a moment and try again."],
  ];
  await page.goto(`${server.url}/sign-in`);
  for (const [headers, wanted] of cases) {
    await refuseOnce(page, "/api/auth/sign-in/email", 429, TOO_MANY, headers);
    const answered = responseTo(page, "POST", /\/sign-in\/email$/);
    await signInInPage(page, server.url, "someone@example.com", { at: null });
    assert.equal((await answered).status(), 429);
    // Each case's message differs from the one before, so this waits for this case's own.
    await page
      .locator("#sign-in-error")
      .getByText(wanted, { exact: true })
      .waitFor({ timeout: 5_000 })
      .catch(async () => {
        const shown = await page.locator("#sign-in-error").textContent().catch(() => null);
        assert.fail(`${JSON.stringify(headers)}: shown ${JSON.stringify(shown)}, wanted ${wanted}`);
      });
  }
  await assertClean(watch, { allow: REFUSALS_LOGGED });
});

test("taskgate's own 429 on repeated sign-ins says how many seconds to wait", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // The real per-address limit on password checks (a few per 10 s), so rate limits on.
  const limited = await startTaskgate(scopeFor(t));
  const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [limited.origin] });
  await page.goto(`${limited.url}/sign-in`);
  let refusal = null;
  for (let attempt = 1; attempt <= 10 && refusal === null; attempt++) {
    const answered = responseTo(page, "POST", /\/sign-in\/email$/);
    await signInInPage(page, limited.url, "nobody@example.com", { at: null, password: "not the password" });
    const res = await answered;
    if (res.status() === 429) refusal = res;
    else assert.equal(res.status(), 401, `attempt ${attempt}`);
    await page.getByRole("button", { name: "Sign in", exact: true }).and(page.locator(":enabled")).waitFor();
  }
  assert.ok(refusal, "no 429 after 10 sign-ins");
  const seconds = Number(await refusal.headerValue("retry-after"));
  assert.ok(seconds >= 1 && seconds <= 60, `Retry-After: ${seconds}`);
  const wanted = `Too many attempts. Try again in ${seconds} ${seconds === 1 ? "second" : "seconds"}.`;
  await page.locator("#sign-in-error").getByText(wanted, { exact: true }).waitFor();
  await assertClean(watch, { allow: REFUSALS_LOGGED });
});

test(
  "a sign-in whose session look-up fails right after still signs the person in, with no page error",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const name = "Barbara";
    const email = newEmail(name);
    await apiSession(server, { name, email, password: PASSWORD });
    const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel("Email").waitFor();
    // The page has asked get-session once already (nobody signed in); the next ask is the one
    // after the sign-in, and it gets no answer.
    await page.route("**/api/auth/get-session", (route) => route.abort("connectionrefused"), { times: 1 });
    await signInInPage(page, server.url, email, { at: null });
    await page.waitForURL(`${server.url}/tasks`);
    await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
    await signedInAs(page).getByText(name, { exact: true }).waitFor();
    // The task list works: its token is asked for again.
    await page.getByLabel("Title", { exact: true }).fill("After a lost answer");
    const created = responseTo(page, "POST", /\/tasks$/);
    await page.getByRole("button", { name: "Add task", exact: true }).click();
    assert.equal((await created).status(), 201);
    await assertClean(watch, { allowFailed: [/get-session/], allow: [/ERR_CONNECTION_REFUSED|Failed to load resource/] });
  },
);

// Helpers for tests that drive the web app as a person does: accounts, forms, the responses a
// click causes, the status messages shown, and the checks every page must pass. No tests here.

import assert from "node:assert/strict";

export const PASSWORD = "correct horse battery staple";
export const DESKTOP = Object.freeze({ width: 1280, height: 800 });
export const PHONE = Object.freeze({ width: 390, height: 844 });

let people = 0;
/** A fresh e-mail address per person, so tests never share an account. */
export function newEmail(name) {
  people += 1;
  return `${name.toLowerCase()}.${people}.${process.pid}.${Date.now()}@example.com`;
}

/** Resolves with the first response to `method` on a URL whose path matches `pathPattern`. */
export function responseTo(page, method, pathPattern) {
  return page.waitForResponse(
    (res) => res.request().method() === method && pathPattern.test(new URL(res.url()).pathname),
  );
}

/**
 * The page made no request elsewhere, threw nothing, logged no error but the `allow`ed ones, and
 * had no request fail but the `allowFailed` ones.
 */
export async function assertClean(watch, { allow = [], allowFailed = [] } = {}) {
  await watch.settled();
  assert.deepEqual(watch.foreignRequests, [], "requests to other origins");
  assert.deepEqual(watch.pageErrors, [], "uncaught page errors");
  // Chromium fetches the icon after the page has loaded; a test that navigates on at once
  // cancels that fetch (ERR_ABORTED). Any other failed request counts.
  const failed = watch.failedRequests.filter(
    (line) =>
      !/^GET \S+\/assets\/favicon\.svg: net::ERR_ABORTED$/.test(line) && !allowFailed.some((pattern) => pattern.test(line)),
  );
  assert.deepEqual(failed, [], "failed requests");
  const unexpected = watch.consoleErrors.filter((line) => !allow.some((pattern) => pattern.test(line)));
  assert.deepEqual(unexpected, [], "console errors");
}

/** Signs up on the app's own page at `base` (a server's URL, or another name for it). */
export async function signUpInPage(page, base, { name, email, password = PASSWORD }) {
  await page.goto(`${base}/sign-up`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  const created = responseTo(page, "POST", /\/api\/auth\/sign-up\/email$/);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  const res = await created;
  assert.equal(res.status(), 200, `sign-up at ${base}: ${res.status()} ${await res.text()}`);
  await page.waitForURL(`${base}/tasks`);
  await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
}

/** Signs in on the sign-in page (opening `base` + `at` first unless `at` is null); does not wait for the answer. */
export async function signInInPage(page, base, email, { at = "/sign-in", password = PASSWORD } = {}) {
  if (at !== null) await page.goto(`${base}${at}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** The browser context's session cookies for `url`. */
export async function sessionCookies(context, url) {
  return (await context.cookies(url)).filter((cookie) => cookie.name.includes("session_token"));
}

/** The header's "Signed in as …" line, as a locator. */
export function signedInAs(page) {
  return page.getByRole("banner").locator(".who");
}

/** The status message on screen now ("" when none). */
export async function statusShown(page) {
  return (await page.locator(".toast[role=status]").textContent()) ?? "";
}

/**
 * Records every status message the page shows, from its next document on: `await log()` gives
 * `[{ text, path }]` in order, one entry per change ("" when the message is taken off screen).
 */
export async function recordStatus(page) {
  await page.addInitScript(() => {
    const log = [];
    Object.defineProperty(window, "__statusLog", { value: log });
    new MutationObserver(() => {
      const text = document.querySelector(".toast[role=status]")?.textContent ?? "";
      if (log.length === 0 ? text !== "" : log[log.length - 1].text !== text) {
        log.push({ text, path: location.pathname });
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => [...window.__statusLog]);
}

// The web app end to end: real Chromium on the pages taskgate serves at /, against a real taskgate.
// Sign-up, the task list (add, edit, complete, delete, filters, reload), what the API then holds,
// isolation between users, sessions (sign out other devices, a 401 and the way back, sign-out),
// the keyboard alone, a 390 px phone, and nothing loaded from another origin. The run also writes
// the README's screenshots to docs/screenshots/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";

import { REPO_ROOT, apiSession, appAndBrowserForFile, newPage, request, scopeFor, startTaskgate } from "./harness.mjs";

const TEST_TIMEOUT_MS = 60_000;
const PASSWORD = "correct horse battery staple";
const SCREENSHOTS = path.join(REPO_ROOT, "docs", "screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

let people = 0;
/** A fresh e-mail address per person, so tests never share an account. */
function newEmail(name) {
  people += 1;
  return `${name.toLowerCase()}.${people}.${Date.now()}@example.com`;
}

/** A page of the app in its own browser context, watched for errors and foreign requests. */
async function openApp(t, { viewport = DESKTOP, at = server } = {}) {
  return newPage(scopeFor(t), browser, { allowedOrigins: [at.origin], viewport });
}

/** The page made no request elsewhere, logged no error and threw nothing. */
async function assertClean(watch, { allow = [] } = {}) {
  await watch.settled();
  assert.deepEqual(watch.foreignRequests, [], "requests to other origins");
  assert.deepEqual(watch.pageErrors, [], "uncaught page errors");
  // Chromium fetches the icon after the page has loaded; a test that navigates on at once
  // cancels that fetch (ERR_ABORTED). Any other failed request counts.
  const failed = watch.failedRequests.filter((line) => !/^GET \S+\/assets\/favicon\.svg: net::ERR_ABORTED$/.test(line));
  assert.deepEqual(failed, [], "failed requests");
  const unexpected = watch.consoleErrors.filter((line) => !allow.some((pattern) => pattern.test(line)));
  assert.deepEqual(unexpected, [], "console errors");
  for (const res of watch.responses) {
    if (res.headers["content-type"]?.startsWith("text/html")) {
      assert.match(res.headers["content-security-policy"] ?? "", /script-src 'self';/, `CSP of ${res.url}`);
    }
  }
}

/** Resolves with the first response to `method` on a URL whose path matches `pathPattern`. */
function responseTo(page, method, pathPattern) {
  return page.waitForResponse(
    (res) => res.request().method() === method && pathPattern.test(new URL(res.url()).pathname),
  );
}

async function signUpInPage(page, { name, email }) {
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/sign-in$/);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.waitForURL(/\/sign-up$/);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(/\/tasks$/);
  await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
}

async function signInInPage(page, email, { path: at = "/sign-in", target = server } = {}) {
  if (at !== null) await page.goto(`${target.url}${at}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function addTask(page, title, description = "") {
  await page.getByLabel("Title", { exact: true }).fill(title);
  await page.getByLabel("Description (optional)").fill(description);
  const created = responseTo(page, "POST", /\/tasks$/);
  await page.getByRole("button", { name: "Add task" }).click();
  assert.equal((await created).status(), 201, `adding ${title}`);
  await page.getByRole("checkbox", { name: title, exact: true }).waitFor();
}

/** The list as the page shows it: each task's checkbox name and state, in order. */
async function shownTasks(page) {
  return page.$$eval("ul.tasks > li", (items) =>
    items.map((item) => {
      const box = item.querySelector('input[type="checkbox"]');
      return {
        title: item.querySelector(`label[for="${box.id}"]`).textContent,
        completed: box.checked,
        description: item.querySelector(".task-description")?.textContent ?? null,
      };
    }),
  );
}

/** Waits until the list shows `wanted` (as `shownTasks` reads it), at most 5 s. */
async function waitForShown(page, wanted) {
  const until = Date.now() + 5_000;
  let shown = await shownTasks(page);
  while (JSON.stringify(shown) !== JSON.stringify(wanted) && Date.now() < until) {
    await page.waitForTimeout(50);
    shown = await shownTasks(page);
  }
  assert.deepEqual(shown, wanted);
}

/** The person's tasks as the API holds them, newest first. */
async function storedTasks(session) {
  const token = await session.accessToken();
  const res = await request(new URL(`/api/${encodeURIComponent(session.user.id)}/tasks`, server.url), {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.map(({ title, description, completed }) => ({ title, completed, description }));
}

async function noSidewaysScroll(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: ${scrollWidth} px wide in a ${clientWidth} px viewport`);
}

// ---------------------------------------------------------------------------------------------

test(
  "a person signs up, adds, edits, completes and deletes tasks, and the list survives a reload",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { page, watch } = await openApp(t);
    const email = newEmail("Ada");
    await signUpInPage(page, { name: "Ada", email });
    await page.getByText("No tasks yet").waitFor();

    await addTask(page, "Buy milk", "Two litres");
    await addTask(page, "Call the plumber");
    await addTask(page, "Write the quarterly report", "Due on Friday");

    // Edit: title and description.
    await page.getByRole("button", { name: "Edit “Call the plumber”" }).click();
    const title = page.getByLabel("Title", { exact: true }).nth(1);
    await focusOn(page, "Title");
    await title.fill("Call the plumber about the tap");
    await page.getByLabel("Description", { exact: true }).fill("The kitchen one drips");
    const replaced = responseTo(page, "PATCH", /\/tasks\/[\w-]+$/);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    assert.equal((await replaced).status(), 200);
    await page.getByRole("checkbox", { name: "Call the plumber about the tap" }).waitFor();
    await focusOn(page, "Edit “Call the plumber about the tap”");

    // Complete.
    const completed = responseTo(page, "PATCH", /\/complete$/);
    await page.getByRole("checkbox", { name: "Buy milk" }).check();
    assert.equal((await completed).status(), 200);

    // Delete, after a confirmation; Cancel first changes nothing.
    await page.getByRole("button", { name: "Delete “Write the quarterly report”" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this task?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    await focusOn(page, "Delete “Write the quarterly report”");
    await page.getByRole("button", { name: "Delete “Write the quarterly report”" }).click();
    const deleted = responseTo(page, "DELETE", /\/tasks\/[\w-]+$/);
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    assert.equal((await deleted).status(), 204);
    await page.getByRole("checkbox", { name: "Write the quarterly report" }).waitFor({ state: "detached" });

    const expected = [
      { title: "Call the plumber about the tap", completed: false, description: "The kitchen one drips" },
      { title: "Buy milk", completed: true, description: "Two litres" },
    ];
    assert.deepEqual(await shownTasks(page), expected);
    assert.equal(await page.getByRole("heading", { level: 2, name: /2 tasks,\s*1 to do/ }).count(), 1);

    // Filters (the server finds the tasks: the list changes once it has answered).
    await page.getByRole("button", { name: "Completed", exact: true }).click();
    await waitForShown(page, [expected[1]]);
    await page.getByRole("button", { name: "Active", exact: true }).click();
    await waitForShown(page, [expected[0]]);
    await page.getByRole("button", { name: "All", exact: true }).click();
    await waitForShown(page, expected);

    // A reload shows the same list: it came from the server.
    await page.reload();
    await page.getByRole("checkbox", { name: "Buy milk" }).waitFor();
    assert.deepEqual(await shownTasks(page), expected);

    // And the API, asked without a browser, holds exactly that.
    const session = await apiSession(server, { email, password: PASSWORD });
    assert.deepEqual(await storedTasks(session), expected);

    // The app's own not-found page for an unknown path.
    await page.goto(`${server.url}/no/such/page`);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();

    // Sign out: back to sign-in, and the private pages send there too.
    await page.goto(`${server.url}/tasks`);
    await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
    const signedOut = responseTo(page, "POST", /\/api\/auth\/sign-out$/);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    assert.equal((await signedOut).status(), 200);
    await page.waitForURL(/\/sign-in$/);
    const cookies = await page.context().cookies();
    assert.deepEqual(
      cookies.filter((cookie) => cookie.name.includes("session_token")),
      [],
      "the session cookie is gone",
    );
    await page.goto(`${server.url}/account`);
    await page.waitForURL(/\/sign-in\?next=%2Faccount$/);

    await assertClean(watch);
    // The access token lives in memory only.
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    assert.equal(stored, "{}{}", "nothing in web storage");
  },
);

test("a second person sees none of the first person's tasks", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const first = await apiSession(server, { name: "Grace", email: newEmail("Grace"), password: PASSWORD });
  const token = await first.accessToken();
  const created = await request(new URL(`/api/${first.user.id}/tasks`, server.url), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "Grace's secret plan" }),
  });
  assert.equal(created.status, 201, created.text);

  const { page, watch } = await openApp(t);
  const email = newEmail("Linus");
  await signUpInPage(page, { name: "Linus", email });
  await page.getByText("No tasks yet").waitFor();
  assert.equal(await page.getByText("Grace's secret plan").count(), 0);

  // Nor through the API with their own token.
  const second = await apiSession(server, { email, password: PASSWORD });
  const theirs = await request(new URL(`/api/${first.user.id}/tasks`, server.url), {
    headers: { authorization: `Bearer ${await second.accessToken()}` },
  });
  assert.equal(theirs.status, 403, theirs.text);
  await assertClean(watch);
});

test(
  "signing out other devices signs the other browser out; it signs in again and comes back where it was",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Alan");
    await apiSession(server, { name: "Alan", email, password: PASSWORD });
    const laptop = await openApp(t);
    const phone = await openApp(t, { viewport: PHONE });

    await signInInPage(phone.page, email, { path: "/tasks" });
    await phone.page.waitForURL(/\/tasks$/);
    await addTask(phone.page, "Renew passport");

    await signInInPage(laptop.page, email);
    await laptop.page.waitForURL(/\/tasks$/);
    await laptop.page.getByRole("link", { name: "Account", exact: true }).click();
    await laptop.page.waitForURL(/\/account$/);
    const sessions = laptop.page.locator("ul.sessions > li");
    // The two made through the browser plus the one apiSession made.
    await laptop.page.waitForFunction(() => document.querySelectorAll("ul.sessions > li").length === 3);
    assert.equal(await laptop.page.getByText("This device", { exact: true }).count(), 1);
    const revoked = responseTo(laptop.page, "POST", /\/revoke-other-sessions$/);
    await laptop.page.getByRole("button", { name: "Sign out other devices" }).click();
    assert.equal((await revoked).status(), 200);
    await laptop.page.waitForFunction(() => document.querySelectorAll("ul.sessions > li").length === 1);
    assert.equal(await sessions.count(), 1);

    // The phone's next call with its session meets a 401 (no reload: a link in the app): it goes
    // to sign-in, remembering where it was, and comes back there afterwards.
    const refused = responseTo(phone.page, "GET", /\/api\/auth\/list-sessions$/);
    await phone.page.getByRole("link", { name: "Account", exact: true }).click();
    assert.equal((await refused).status(), 401);
    await phone.page.waitForURL(/\/sign-in\?next=%2Faccount$/);
    await phone.page.getByText("Your session has ended").waitFor();
    await signInInPage(phone.page, email, { path: null });
    await phone.page.waitForURL(/\/account$/);
    await phone.page.getByText("This device", { exact: true }).waitFor();
    await phone.page.getByRole("link", { name: "Tasks", exact: true }).click();
    await phone.page.getByRole("checkbox", { name: "Renew passport" }).waitFor();

    // The laptop stayed signed in.
    await laptop.page.reload();
    await laptop.page.getByRole("heading", { level: 1, name: "Account" }).waitFor();

    await assertClean(laptop.watch);
    // Chromium logs each 401 the app met; nothing else.
    await assertClean(phone.watch, { allow: [/status of 401/] });
  },
);

test(
  "with strict sessions, a revoked session's next task call goes to sign-in and back",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    // Here the task API itself refuses the revoked session's access token (401 SESSION_REVOKED),
    // and the app's one retry with a fresh token is refused too: the session is over.
    const strict = await startTaskgate(scopeFor(t), {
      env: { TASKGATE_STRICT_SESSIONS: "true", TASKGATE_RATE_LIMIT: "off" },
    });
    const email = newEmail("Ida");
    const owner = await apiSession(strict, { name: "Ida", email, password: PASSWORD });
    const seeded = await request(new URL(`/api/${owner.user.id}/tasks`, strict.url), {
      method: "POST",
      headers: { authorization: `Bearer ${await owner.accessToken()}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "Feed the cat" }),
    });
    assert.equal(seeded.status, 201, seeded.text);

    // Signed in on the account page: the page holds an access token but has not used it yet.
    const { page, watch } = await openApp(t, { at: strict });
    await signInInPage(page, email, { path: "/account", target: strict });
    await page.waitForURL(/\/account$/);
    await page.getByText("This device", { exact: true }).waitFor();

    const revoked = await request(new URL("/api/auth/revoke-other-sessions", strict.url), {
      method: "POST",
      headers: { authorization: `Bearer ${owner.sessionToken}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(revoked.status, 200, revoked.text);

    const refused = page.waitForResponse((res) => /\/tasks/.test(new URL(res.url()).pathname));
    const renewal = responseTo(page, "GET", /\/api\/auth\/token$/);
    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    const first = await refused;
    assert.equal(first.status(), 401);
    assert.equal((await first.json()).error_code, "SESSION_REVOKED");
    assert.equal((await renewal).status(), 401, "the retry's fresh token is refused too");
    await page.waitForURL(/\/sign-in\?next=%2Ftasks$/);

    await signInInPage(page, email, { path: null });
    await page.waitForURL(`${strict.url}/tasks`);
    await page.getByRole("checkbox", { name: "Feed the cat" }).waitFor();
    await assertClean(watch, { allow: [/status of 401/] });
  },
);

test(
  "the account page changes the name and the password, and signs this device out",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Hedy");
    await apiSession(server, { name: "Hedy", email, password: PASSWORD });
    const { page, watch } = await openApp(t);
    await signInInPage(page, email, { path: "/account" });
    await page.waitForURL(/\/account$/);

    await page.getByLabel("Name", { exact: true }).fill("Hedy Lamarr");
    const renamed = responseTo(page, "POST", /\/update-user$/);
    await page.getByRole("button", { name: "Save name", exact: true }).click();
    assert.equal((await renamed).status(), 200);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Hedy Lamarr");

    // A wrong current password: the error is by that field, and nothing changes.
    const newPassword = "frequency hopping spread spectrum";
    await page.getByLabel("Current password").fill("not my password at all");
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Change password", exact: true }).click();
    await assertFieldError(page, "current-password", /not your current password/);

    await page.getByLabel("Current password").fill(PASSWORD);
    const changed = responseTo(page, "POST", /\/change-password$/);
    await page.getByRole("button", { name: "Change password", exact: true }).click();
    assert.equal((await changed).status(), 200);
    await page.getByRole("status").getByText("Password changed").waitFor();
    // This device stays signed in (on a new session); the new password is the one that works.
    await page.getByText("This device", { exact: true }).waitFor();
    const again = await apiSession(server, { email, password: newPassword });
    assert.equal(again.user.name, "Hedy Lamarr");

    // "Sign out this device" on this device's own session: back to sign-in, the session gone.
    const ended = responseTo(page, "POST", /\/revoke-session$/);
    await page.getByRole("button", { name: "Sign out this device", exact: true }).click();
    assert.equal((await ended).status(), 200);
    await page.waitForURL(/\/sign-in$/);
    const cookies = await page.context().cookies();
    assert.deepEqual(
      cookies.filter((cookie) => cookie.name.includes("session_token")),
      [],
    );

    await assertClean(watch, { allow: [/status of 400/] });
  },
);

test("the keyboard alone signs in, adds a task and completes it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const email = newEmail("Barbara");
  const session = await apiSession(server, { name: "Barbara", email, password: PASSWORD });
  const { page, watch } = await openApp(t);
  const { keyboard } = page;

  // A `next` to another site is ignored: the person lands on their tasks.
  await page.goto(`${server.url}/sign-in?next=${encodeURIComponent("//evil.example/")}`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await tabTo(page, "Email");
  await keyboard.type(email);
  await keyboard.press("Tab");
  await keyboard.type(PASSWORD);
  await keyboard.press("Enter");
  await page.waitForURL(`${server.url}/tasks`);
  await page.getByText("No tasks yet").waitFor();

  await tabTo(page, "Title");
  await keyboard.type("Water the plants");
  const created = responseTo(page, "POST", /\/tasks$/);
  await keyboard.press("Enter");
  assert.equal((await created).status(), 201);
  await page.getByRole("checkbox", { name: "Water the plants" }).waitFor();

  await tabTo(page, "Water the plants");
  const completed = responseTo(page, "PATCH", /\/complete$/);
  await keyboard.press("Space");
  assert.equal((await completed).status(), 200);
  assert.deepEqual(await storedTasks(session), [{ title: "Water the plants", completed: true, description: null }]);
  await assertClean(watch);
});

test(
  "errors appear next to their field, linked to it, announced and focused",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { page, watch } = await openApp(t);
    await page.goto(`${server.url}/sign-up`);
    await page.getByLabel("Name").fill("Eve");
    await page.getByLabel("Email").fill(newEmail("Eve"));
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await assertFieldError(page, "sign-up-password", /too short/i);

    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await page.waitForURL(/\/tasks$/);
    // A title the API refuses (a bidirectional control): its 422 names the field.
    await page.getByLabel("Title", { exact: true }).fill("Pay \u202Eeciovni");
    const refused = responseTo(page, "POST", /\/tasks$/);
    await page.getByRole("button", { name: "Add task", exact: true }).click();
    assert.equal((await refused).status(), 422);
    await assertFieldError(page, "new-title", /bidirectional/);

    // Chromium logs each refused request; nothing else.
    await assertClean(watch, { allow: [/status of (400|422)/] });
  },
);

/** The field `id` shows an error matching `pattern`, described by it, announced, and focused. */
async function assertFieldError(page, id, pattern) {
  const error = page.locator(`#${id}-error`);
  await error.waitFor();
  assert.match(await error.textContent(), pattern);
  assert.equal(await error.getAttribute("role"), "alert");
  const field = page.locator(`#${id}`);
  assert.equal(await field.getAttribute("aria-invalid"), "true");
  assert.ok((await field.getAttribute("aria-describedby")).split(" ").includes(`${id}-error`));
  await page.waitForFunction((wanted) => document.activeElement?.id === wanted, id, { timeout: 5_000 });
}

/** Waits until the focused element is the one labelled `label` (its label, aria-label or text). */
async function focusOn(page, label) {
  await page.waitForFunction(
    (wanted) => {
      const element = document.activeElement;
      const name = element?.labels?.[0]?.textContent ?? element?.getAttribute("aria-label") ?? element?.textContent;
      return name?.trim() === wanted;
    },
    label,
    { timeout: 5_000 },
  );
}

/** Presses Tab until the focused element's accessible label is `label` (at most 30 times). */
async function tabTo(page, label) {
  for (let presses = 0; presses < 30; presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      return element?.labels?.[0]?.textContent ?? element?.getAttribute("aria-label") ?? element?.textContent;
    });
    if (focused?.trim() === label) return;
  }
  assert.fail(`Tab never reached “${label}”`);
}

test(
  "on a 390 px phone nothing scrolls sideways; the task list is photographed for the README",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Margaret");
    const session = await apiSession(server, { name: "Margaret", email, password: PASSWORD });
    const token = await session.accessToken();
    // Oldest first: the list shows the newest on top. Dates relative to today (UTC, the browser's
    // zone here), so the picture always shows one overdue task and one due soon.
    const day = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const seed = [
      { title: "Renew the car insurance", description: "Compare at least three quotes", completed: true, tags: ["Home"] },
      { title: "Book a dentist appointment", description: null, completed: true },
      { title: "Buy a birthday present for Sam", description: "Something for the garden?", tags: ["Home"], due: { date: day(9) } },
      {
        title: "Review the pull request for the sign-in page",
        description: null,
        priority: "high",
        tags: ["Work"],
        due: { date: day(-1) },
      },
      {
        title: "Plan the team offsite",
        description: "Venue, agenda, travel budget",
        priority: "medium",
        tags: ["Work", "Travel"],
        due: { date: day(2), time: "10:00", time_zone: "UTC" },
      },
    ];
    for (const task of seed) {
      const res = await request(new URL(`/api/${session.user.id}/tasks`, server.url), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(task),
      });
      assert.equal(res.status, 201, res.text);
    }
    mkdirSync(SCREENSHOTS, { recursive: true });

    const phone = await openApp(t, { viewport: PHONE });
    await phone.page.goto(`${server.url}/sign-up`);
    await phone.page.getByRole("heading", { level: 1 }).waitFor();
    await noSidewaysScroll(phone.page, "sign-up");
    await signInInPage(phone.page, email);
    await phone.page.waitForURL(/\/tasks$/);
    await phone.page.getByRole("checkbox", { name: "Plan the team offsite" }).waitFor();
    await noSidewaysScroll(phone.page, "tasks");
    await phone.page.screenshot({ path: path.join(SCREENSHOTS, "tasks-phone.png") });
    await phone.page.getByRole("button", { name: "Edit “Plan the team offsite”" }).click();
    await noSidewaysScroll(phone.page, "tasks, editing");
    await phone.page.getByRole("link", { name: "Account", exact: true }).click();
    await phone.page.getByRole("heading", { level: 2, name: "Devices signed in" }).waitFor();
    await phone.page.waitForFunction(() => document.querySelectorAll("ul.sessions > li").length > 0);
    await noSidewaysScroll(phone.page, "account");

    const desktop = await openApp(t, { viewport: DESKTOP });
    await signInInPage(desktop.page, email);
    await desktop.page.waitForURL(/\/tasks$/);
    await desktop.page.getByRole("checkbox", { name: "Plan the team offsite" }).waitFor();
    // The focused heading's outline is not part of the picture.
    await desktop.page.evaluate(() => document.activeElement?.blur());
    await desktop.page.screenshot({ path: path.join(SCREENSHOTS, "tasks-desktop.png"), fullPage: true });

    await assertClean(phone.watch);
    await assertClean(desktop.watch);
  },
);

// The app's shell around every page: the header names who is signed in, and the status messages
// ("Added …", "You are signed out.") stay out of the way: on a 390 px phone a message does not
// sit over the last task's buttons, a click goes through it, it goes away by itself, and a "signed
// out" message does not greet the next person to sign in.

import { test } from "node:test";
import assert from "node:assert/strict";

import { apiSession, appAndBrowserForFile, newPage, request, scopeFor } from "./harness.mjs";
import {
  DESKTOP,
  PASSWORD,
  PHONE,
  assertClean,
  newEmail,
  recordStatus,
  responseTo,
  signInInPage,
  signUpInPage,
  signedInAs,
  statusShown,
} from "./webapp.mjs";

const TEST_TIMEOUT_MS = 60_000;
/** Longer than any status message may stay on screen. */
const STATUS_AT_MOST_MS = 4_000;

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

async function seedTasks(session, titles) {
  const token = await session.accessToken();
  for (const title of titles) {
    const res = await request(new URL(`/api/${session.user.id}/tasks`, server.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ title, description: "Somewhere on the list" }),
    });
    assert.equal(res.status, 201, res.text);
  }
}

function intersects(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Waits for the status message to show `text` (a substring). */
async function statusShows(page, text) {
  await page.locator(".toast[role=status]").getByText(text).waitFor();
}

test(
  "on a 390 px phone a status message leaves the last task's buttons visible and clickable, and goes away",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Mary");
    const session = await apiSession(server, { name: "Mary", email, password: PASSWORD });
    // Oldest first: the list's last row is the first one made; long titles make long messages.
    const titles = Array.from(
      { length: 12 },
      (_, i) => `Task ${i + 1}: ask the landlord about the radiator in the small bedroom that is still cold`,
    );
    await seedTasks(session, titles);

    const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin], viewport: PHONE });
    await signInInPage(page, server.url, email);
    await page.waitForURL(`${server.url}/tasks`);
    await page.getByText(titles[0]).waitFor();

    // The last row of the list at the end of the page, and the last row in view when the page is
    // scrolled so that a row's buttons are at the window's bottom edge (where messages used to be).
    const cases = [
      ["the list's last row, at the end of the page", titles[0], () => window.scrollTo(0, document.documentElement.scrollHeight)],
      ["the last row in view, at the bottom edge", titles[5], null],
    ];
    for (const [where, title, scroll] of cases) {
      const row = page.locator("ul.tasks > li").filter({ hasText: title });
      const buttons = [row.getByRole("button", { name: `Edit “${title}”` }), row.getByRole("button", { name: `Delete “${title}”` })];
      if (scroll) await page.evaluate(scroll);
      else {
        await buttons[1].evaluate((button) => {
          window.scrollBy(0, button.getBoundingClientRect().bottom - (window.innerHeight - 24));
        });
      }
      // Completing the task shows a message about it. From the keyboard: a click would first
      // scroll the page if something covered the checkbox.
      const answered = responseTo(page, "PATCH", /\/complete$/);
      await row.getByRole("checkbox").focus();
      await page.keyboard.press("Space");
      assert.equal((await answered).status(), 200, where);
      await statusShows(page, `“${title}” marked completed.`);
      const toast = await page.locator(".toast[role=status]").boundingBox();
      assert.ok(toast && toast.width > 0 && toast.height > 0, `${where}: the message is on screen`);
      for (const button of buttons) {
        const box = await button.boundingBox();
        assert.ok(box && box.y >= 0 && box.y + box.height <= PHONE.height, `${where}: the button is in view: ${JSON.stringify(box)}`);
        assert.ok(!intersects(toast, box), `${where}: the message ${JSON.stringify(toast)} covers ${JSON.stringify(box)}`);
      }
      // And the button takes a click at once, while the message shows (not once it has gone).
      await buttons[1].click({ trial: true, timeout: 1_000 });
      assert.notEqual(await statusShown(page), "", `${where}: the message was still showing`);
    }

    // A click on the row's Edit button while the message shows opens the editor.
    await page.getByRole("button", { name: `Edit “${titles[5]}”` }).click({ timeout: 1_000 });
    await page.getByRole("form", { name: `Edit “${titles[5]}”` }).waitFor();

    // The message goes away by itself.
    await page.waitForFunction(() => document.querySelector(".toast[role=status]").textContent === "", null, {
      timeout: STATUS_AT_MOST_MS,
    });
    await assertClean(watch);
  },
);

test(
  "a click anywhere goes through a status message to what is under it",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Ada");
    const session = await apiSession(server, { name: "Ada", email, password: PASSWORD });
    await seedTasks(session, ["Only task"]);
    for (const [label, viewport] of [
      ["phone", PHONE],
      ["desktop", DESKTOP],
    ]) {
      await t.test(label, async (tt) => {
        const { page, watch } = await newPage(scopeFor(tt), browser, { allowedOrigins: [server.origin], viewport });
        await signInInPage(page, server.url, email);
        await page.waitForURL(`${server.url}/tasks`);
        const box = page.getByRole("checkbox", { name: "Only task" });
        await box.waitFor();
        const answered = responseTo(page, "PATCH", /\/complete$/);
        await box.click();
        assert.equal((await answered).status(), 200);
        await statusShows(page, "marked");
        // Whatever is at the message's centre (the heading, the header, a task) gets the click.
        const toast = await page.locator(".toast[role=status]").boundingBox();
        const passesThrough = await page.evaluate(
          ({ x, y }) => document.elementFromPoint(x, y)?.closest(".toast") === null,
          { x: toast.x + toast.width / 2, y: toast.y + toast.height / 2 },
        );
        assert.ok(passesThrough, `${label}: the message takes the click`);
        await assertClean(watch);
      });
    }
  },
);

test(
  "“You are signed out.” is gone once the next person has signed in",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const first = newEmail("Emmy");
    const second = newEmail("Sofia");
    await apiSession(server, { name: "Emmy", email: first, password: PASSWORD });
    await apiSession(server, { name: "Sofia", email: second, password: PASSWORD });
    const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
    const statusLog = await recordStatus(page);
    await signInInPage(page, server.url, first);
    await page.waitForURL(`${server.url}/tasks`);

    const signedOut = responseTo(page, "POST", /\/api\/auth\/sign-out$/);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    assert.equal((await signedOut).status(), 200);
    await page.waitForURL(`${server.url}/sign-in`);
    await statusShows(page, "You are signed out.");

    // At once, while the message still shows, someone signs in.
    const signedIn = responseTo(page, "POST", /\/api\/auth\/sign-in\/email$/);
    await signInInPage(page, server.url, second, { at: null });
    assert.equal((await signedIn).status(), 200);
    await page.waitForURL(`${server.url}/tasks`);
    await signedInAs(page).getByText("Sofia", { exact: true }).waitFor();
    assert.equal(await statusShown(page), "", "the message is off screen on the task list");
    const onTasks = (await statusLog()).filter(({ path, text }) => path === "/tasks" && /signed out/i.test(text));
    assert.deepEqual(onTasks, [], "“signed out” never showed on the task list");
    await assertClean(watch);
  },
);

test(
  "the header names who is signed in, by name or else e-mail, and follows a new name",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    for (const [label, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ]) {
      await t.test(label, async (tt) => {
        const { page, watch } = await newPage(scopeFor(tt), browser, { allowedOrigins: [server.origin], viewport });
        const email = newEmail("Grace");
        await signUpInPage(page, server.url, { name: "Grace Hopper", email });
        const who = signedInAs(page);
        await who.getByText("Grace Hopper", { exact: true }).waitFor();
        // Named for screen readers too, on a phone as on a desktop.
        assert.equal(
          await page.getByRole("banner").getByText("Signed in as", { exact: false }).count(),
          1,
          "“Signed in as” is in the header",
        );
        assert.equal(await who.getAttribute("title"), email);
        // Visible, inside the window, and nothing scrolls sideways.
        const box = await who.boundingBox();
        assert.ok(box && box.width > 20 && box.x >= 0 && box.x + box.width <= viewport.width, JSON.stringify(box));
        const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
        assert.equal(wide, false, "no sideways scrolling");

        // A new name on the account page shows in the header at once.
        await page.getByRole("link", { name: "Account", exact: true }).click();
        await page.getByLabel("Name", { exact: true }).fill("Rear Admiral Grace Brewster Murray Hopper of the US Navy");
        const renamed = responseTo(page, "POST", /\/update-user$/);
        await page.getByRole("button", { name: "Save name", exact: true }).click();
        assert.equal((await renamed).status(), 200);
        await who.getByText("Rear Admiral Grace Brewster Murray Hopper of the US Navy", { exact: true }).waitFor();
        const long = await who.boundingBox();
        assert.ok(long.x + long.width <= viewport.width, `a long name stays in the header: ${JSON.stringify(long)}`);
        assert.equal(
          await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth),
          false,
          "no sideways scrolling with a long name",
        );
        // Every link and button of the header is still on screen.
        for (const item of await page.getByRole("banner").locator("a, button").all()) {
          const itemBox = await item.boundingBox();
          assert.ok(itemBox && itemBox.x >= 0 && itemBox.x + itemBox.width <= viewport.width, await item.textContent());
        }
        await assertClean(watch);
      });
    }

    // Without a name (as get-session may give one), the header shows the e-mail address.
    const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
    const email = newEmail("Nameless");
    await apiSession(server, { name: "Nameless", email, password: PASSWORD });
    await page.route("**/api/auth/get-session", async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      if (body?.user) body.user.name = "";
      await route.fulfill({ response: res, json: body });
    });
    await signInInPage(page, server.url, email);
    await page.waitForURL(`${server.url}/tasks`);
    await signedInAs(page).getByText(email, { exact: true }).waitFor();
    await assertClean(watch);
  },
);

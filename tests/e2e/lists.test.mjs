// Lists and subtasks in the web app, in real Chromium against a real taskgate: the sidebar (every
// task, the inbox and the person's lists, each with its open count; a menu behind "Lists" on a
// phone), choosing a list combined with the filters, creating, renaming, recolouring, reordering
// and deleting lists (its tasks moved to the inbox or deleted, as the dialog asks, with their
// count), moving a task to another list from its edit form, subtasks added under their parent,
// shown indented, collapsed and expanded, and deleting a task with subtasks (the confirmation says
// how many go with it). Every control is found by its label or role; each request the app sends
// is checked against the API's contract, and what the server then holds is read back from node.

import { test } from "node:test";
import assert from "node:assert/strict";

import { apiSession, appAndBrowserForFile, newPage, request, scopeFor } from "./harness.mjs";
import { listQueryOf, listedTitles, row, taskApi, waitForTitles } from "./organise.mjs";
import { DESKTOP, PASSWORD, PHONE, assertClean, newEmail, responseTo, signInInPage } from "./webapp.mjs";

const TEST_TIMEOUT_MS = 90_000;
// Chromium logs each refused request as a console error; where a refusal is the point, it is expected.
const REFUSAL_LOGGED = [/status of (409|422)/];

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

/** The lists API of `session` from node, as another client uses it; each call asserts its status. */
function listApi(session) {
  const base = `/api/${encodeURIComponent(session.user.id)}`;
  let token = null;
  const call = async (method, path, body) => {
    token ??= await session.accessToken();
    const init = { method, headers: { authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return request(new URL(`${base}${path}`, server.url), init);
  };
  const expect = (res, status, what) => {
    assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
    return res.body;
  };
  return {
    /** Creates the lists in order; resolves with them. */
    async create(...lists) {
      const made = [];
      for (const list of lists) made.push(expect(await call("POST", "/lists", list), 201, `POST list ${list.name}`));
      return made;
    },
    async all() {
      return expect(await call("GET", "/lists"), 200, "GET lists");
    },
    async get(id) {
      return expect(await call("GET", `/lists/${id}`), 200, `GET list ${id}`);
    },
    /** The status of GET of list `id` (404 once it is deleted). */
    async status(id) {
      return (await call("GET", `/lists/${id}`)).status;
    },
  };
}

/**
 * A new person with `lists` and then `tasks` made through the API, signed in on /tasks in a
 * browser. `tasks` may name their list by `list: "<name>"` and their parent by `parent: "<title>"`.
 */
async function signedIn(t, name, { lists = [], tasks = [], viewport = DESKTOP } = {}) {
  const email = newEmail(name);
  const session = await apiSession(server, { name, email, password: PASSWORD });
  const api = taskApi(server, session);
  const listsApi = listApi(session);
  const madeLists = await listsApi.create(...lists);
  const byName = Object.fromEntries(madeLists.map((list) => [list.name, list]));
  const made = {};
  for (const { list, parent, ...task } of tasks) {
    const body = { ...task };
    if (list) body.list_id = byName[list].id;
    if (parent) body.parent_id = made[parent].id;
    [made[task.title]] = await api.create(body);
  }
  const { page, watch } = await newPage(scopeFor(t), browser, {
    allowedOrigins: [server.origin],
    viewport,
    locale: "en-US",
  });
  await signInInPage(page, server.url, email, { at: "/tasks" });
  await page.waitForURL(`${server.url}/tasks`);
  await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
  return { page, watch, api, listsApi, lists: byName, tasks: made };
}

const sidebar = (page) => page.getByRole("navigation", { name: "Lists" });
const listLink = (page, name) => sidebar(page).getByRole("link", { name, exact: true });
const addForm = (page) => page.getByRole("form", { name: "Add a task" });
const dialog = (page) => page.getByRole("dialog");

/** The names of the sidebar's entries, in order. */
async function sidebarNames(page) {
  return sidebar(page)
    .getByRole("link")
    .evaluateAll((links) => links.map((link) => link.textContent.trim()));
}

/** Waits until the sidebar shows exactly `names` (after "All tasks" and "Inbox"). */
async function waitForLists(page, names) {
  const wanted = ["All tasks", "Inbox", ...names];
  await page.waitForFunction(
    (expected) => {
      const nav = [...document.querySelectorAll("nav")].find((n) => n.getAttribute("aria-labelledby") === "lists-heading");
      const shown = [...(nav?.querySelectorAll("a") ?? [])].map((a) => a.textContent.trim());
      return JSON.stringify(shown) === JSON.stringify(expected);
    },
    wanted,
    { timeout: 10_000 },
  ).catch(async () => assert.deepEqual(await sidebarNames(page), wanted, "the sidebar's lists"));
}

/** Waits until the sidebar says `name` has `open` open tasks. */
async function waitForOpenCount(page, name, open) {
  // `has` is searched for inside each item: a locator from the page, not from the sidebar.
  const entry = sidebar(page).getByRole("listitem").filter({ has: page.getByRole("link", { name, exact: true }) });
  await entry.getByText(`${open} open`, { exact: true }).waitFor({ timeout: 10_000 });
}

/** Resolves with the first request `method` to a path matching `pattern`, and its response. */
async function exchange(page, method, pattern, action) {
  const sent = page.waitForRequest((req) => req.method() === method && pattern.test(new URL(req.url()).pathname));
  const answered = responseTo(page, method, pattern);
  await action();
  return { request: await sent, response: await answered };
}

/** The manage controls of the sidebar, turned on. */
async function manageLists(page) {
  const toggle = sidebar(page).getByRole("button", { name: "Manage lists", exact: true });
  if ((await toggle.getAttribute("aria-pressed")) !== "true") await toggle.click();
}

/** Creates a list in the sidebar's form; resolves with the request's body and the list made. */
async function createList(page, name, colour) {
  const nav = sidebar(page);
  await nav.getByRole("button", { name: "New list", exact: true }).click();
  const form = nav.getByRole("form", { name: "New list" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  if (colour) await form.getByLabel("Colour", { exact: true }).fill(colour);
  const { request: sent, response } = await exchange(page, "POST", /\/lists$/, () =>
    form.getByRole("button", { name: "Create list", exact: true }).click(),
  );
  return { body: JSON.parse(sent.postData()), response };
}

// ---------------------------------------------------------------------------------------------
// Lists

test("lists are created, renamed, recoloured and reordered from the sidebar", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, listsApi } = await signedIn(t, "Lena");
  await waitForLists(page, []);
  assert.equal(await listLink(page, "All tasks").getAttribute("aria-current"), "page");

  let { body, response } = await createList(page, "Work", "#3366ff");
  assert.equal(response.status(), 201, await response.text());
  assert.deepEqual(body, { name: "Work", color: "#3366ff" });
  await waitForLists(page, ["Work"]);
  ({ response } = await createList(page, "Home", "#2b8a3e"));
  assert.equal(response.status(), 201);
  ({ response } = await createList(page, "Errands", "#ae3ec9"));
  assert.equal(response.status(), 201);
  await waitForLists(page, ["Work", "Home", "Errands"]);
  await waitForOpenCount(page, "Work", 0);

  // A name taken (names compare case-insensitively): the API's words, by the field.
  ({ response } = await createList(page, "work"));
  assert.equal(response.status(), 409);
  const refusal = await response.json();
  assert.equal(refusal.error_code, "LIST_NAME_TAKEN");
  const form = sidebar(page).getByRole("form", { name: "New list" });
  await form.getByText(refusal.detail, { exact: true }).waitFor();
  assert.equal(await form.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
  await form.getByRole("button", { name: "Cancel", exact: true }).click();
  await form.waitFor({ state: "detached" });

  // Renamed: a merge patch at the version seen.
  await manageLists(page);
  const home = (await listsApi.all()).find((list) => list.name === "Home");
  await sidebar(page).getByRole("button", { name: "Rename list “Home”" }).click();
  const rename = sidebar(page).getByRole("form", { name: "Rename list “Home”" });
  await rename.getByLabel("New name for “Home”").fill("House");
  let { request: sent, response: answer } = await exchange(page, "PATCH", /\/lists\/[\w-]+$/, () =>
    rename.getByRole("button", { name: "Rename", exact: true }).click(),
  );
  assert.equal(answer.status(), 200, await answer.text());
  assert.equal(sent.headers()["if-match"], `"${home.version}"`);
  assert.equal(sent.headers()["content-type"], "application/merge-patch+json");
  assert.deepEqual(JSON.parse(sent.postData()), { name: "House" });
  await waitForLists(page, ["Work", "House", "Errands"]);

  // Recoloured with the colour input.
  ({ request: sent, response: answer } = await exchange(page, "PATCH", /\/lists\/[\w-]+$/, () =>
    sidebar(page).getByLabel("Colour of “Work”").fill("#ff0000"),
  ));
  assert.equal(answer.status(), 200, await answer.text());
  assert.deepEqual(JSON.parse(sent.postData()), { color: "#ff0000" });
  await page.waitForFunction(
    () => [...document.querySelectorAll('input[type="color"]')].some((input) => input.value === "#ff0000"),
  );
  assert.equal((await listsApi.all()).find((list) => list.name === "Work").color.toLowerCase(), "#ff0000");

  // Reordered: up and down, by position; the first cannot go up, the last cannot go down.
  assert.equal(await sidebar(page).getByRole("button", { name: "Move “Work” up" }).isDisabled(), true);
  assert.equal(await sidebar(page).getByRole("button", { name: "Move “Errands” down" }).isDisabled(), true);
  let moved = responseTo(page, "PATCH", /\/lists\/[\w-]+$/);
  await sidebar(page).getByRole("button", { name: "Move “Errands” up" }).click();
  assert.equal((await moved).status(), 200);
  await waitForLists(page, ["Work", "Errands", "House"]);
  moved = responseTo(page, "PATCH", /\/lists\/[\w-]+$/);
  await sidebar(page).getByRole("button", { name: "Move “Work” down" }).click();
  assert.equal((await moved).status(), 200);
  await waitForLists(page, ["Errands", "Work", "House"]);
  assert.deepEqual(
    (await listsApi.all()).map((list) => list.name),
    ["Errands", "Work", "House"],
    "the server's order (by position)",
  );

  // The same after a reload.
  await page.reload();
  await waitForLists(page, ["Errands", "Work", "House"]);
  await assertClean(watch, { allow: REFUSAL_LOGGED });
});

test("choosing a list shows its tasks, with the filters, and the counts follow", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, lists, api } = await signedIn(t, "Omar", {
    lists: [
      { name: "Work", color: "#3366ff" },
      { name: "Home", color: "#2b8a3e" },
    ],
    tasks: [
      { title: "Write the report", list: "Work" },
      { title: "Email Bob", list: "Work", completed: true },
      { title: "Fix the tap", list: "Home" },
      { title: "Buy milk" },
    ],
  });
  await waitForTitles(page, ["Buy milk", "Fix the tap", "Email Bob", "Write the report"], { what: "every task" });
  await waitForLists(page, ["Work", "Home"]);
  await waitForOpenCount(page, "Inbox", 1);
  await waitForOpenCount(page, "Work", 1);
  await waitForOpenCount(page, "Home", 1);
  // Every task shows the list it is in.
  await row(page, "Write the report").getByText("Work", { exact: true }).waitFor();

  let query = await listQueryOf(page, () => listLink(page, "Work").click());
  assert.equal(query.get("list"), lists.Work.id);
  await waitForTitles(page, ["Email Bob", "Write the report"], { what: "Work" });
  assert.equal(await listLink(page, "Work").getAttribute("aria-current"), "page");
  assert.equal(new URL(page.url()).searchParams.get("list"), lists.Work.id);

  // The filters apply within the list, and the list stays chosen when they change.
  const show = page.getByRole("region", { name: "Find tasks" }).getByRole("group", { name: "Show" });
  query = await listQueryOf(page, () => show.getByRole("button", { name: "Active", exact: true }).click());
  assert.equal(query.get("list"), lists.Work.id);
  assert.equal(query.get("completed"), "false");
  await waitForTitles(page, ["Write the report"], { what: "Work, active" });

  query = await listQueryOf(page, () => listLink(page, "Inbox").click());
  assert.equal(query.get("list"), "inbox");
  assert.equal(query.get("completed"), "false", "the filters are kept");
  await waitForTitles(page, ["Buy milk"], { what: "the inbox" });

  // Kept over a reload.
  await page.reload();
  await waitForTitles(page, ["Buy milk"], { what: "the inbox after a reload" });
  assert.equal(await listLink(page, "Inbox").getAttribute("aria-current"), "page");

  // A task added while a list is shown goes to that list.
  await listLink(page, "Home").click();
  await waitForTitles(page, ["Fix the tap"], { what: "Home" });
  const form = addForm(page);
  assert.equal(await form.getByLabel("List", { exact: true }).inputValue(), lists.Home.id);
  await form.getByLabel("Title", { exact: true }).fill("Paint the fence");
  const { request: sent, response } = await exchange(page, "POST", /\/tasks$/, () =>
    form.getByRole("button", { name: "Add task", exact: true }).click(),
  );
  assert.equal(response.status(), 201, await response.text());
  assert.equal(JSON.parse(sent.postData()).list_id, lists.Home.id);
  await waitForTitles(page, ["Paint the fence", "Fix the tap"], { what: "Home, with the new task" });
  await waitForOpenCount(page, "Home", 2);
  assert.equal((await api.byTitle("Paint the fence")).list_id, lists.Home.id);

  query = await listQueryOf(page, () => listLink(page, "All tasks").click());
  assert.equal(query.has("list"), false);
  await waitForTitles(page, ["Paint the fence", "Buy milk", "Fix the tap", "Write the report"], { what: "every active task" });
  await assertClean(watch);
});

test("a task moves to another list from its edit form", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, lists, api, tasks } = await signedIn(t, "Mia", {
    lists: [{ name: "Work", color: "#3366ff" }],
    tasks: [{ title: "Draft the budget", priority: "high" }],
  });
  await waitForTitles(page, ["Draft the budget"]);
  await waitForOpenCount(page, "Inbox", 1);
  await waitForOpenCount(page, "Work", 0);
  const task = tasks["Draft the budget"];

  await page.getByRole("button", { name: "Edit “Draft the budget”" }).click();
  let form = page.getByRole("form", { name: "Edit “Draft the budget”" });
  const list = form.getByLabel("List", { exact: true });
  assert.equal(await list.inputValue(), "", "in the inbox");
  await list.selectOption({ label: "Work" });
  let { request: sent, response } = await exchange(page, "PATCH", /\/tasks\/[\w-]+$/, () =>
    form.getByRole("button", { name: "Save", exact: true }).click(),
  );
  assert.equal(response.status(), 200, await response.text());
  assert.equal(sent.headers()["if-match"], `"${task.version}"`);
  assert.deepEqual(JSON.parse(sent.postData()), { list_id: lists.Work.id }, "only the list");
  await row(page, "Draft the budget").getByText("Work", { exact: true }).waitFor();
  assert.equal((await api.get(task.id)).list_id, lists.Work.id);
  await waitForOpenCount(page, "Work", 1);
  await waitForOpenCount(page, "Inbox", 0);

  // Back to the inbox from the list's own view: it leaves the view.
  await listLink(page, "Work").click();
  await waitForTitles(page, ["Draft the budget"], { what: "Work" });
  await page.getByRole("button", { name: "Edit “Draft the budget”" }).click();
  form = page.getByRole("form", { name: "Edit “Draft the budget”" });
  await form.getByLabel("List", { exact: true }).selectOption({ label: "Inbox" });
  ({ request: sent, response } = await exchange(page, "PATCH", /\/tasks\/[\w-]+$/, () =>
    form.getByRole("button", { name: "Save", exact: true }).click(),
  ));
  assert.equal(response.status(), 200, await response.text());
  assert.deepEqual(JSON.parse(sent.postData()), { list_id: null });
  await page.getByText("No tasks in this list yet.").waitFor();
  assert.deepEqual(await listedTitles(page), []);
  assert.equal((await api.get(task.id)).list_id, null);
  await waitForOpenCount(page, "Inbox", 1);
  await assertClean(watch);
});

test("deleting a list asks what becomes of its tasks: moved to the inbox, or deleted", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, lists, api, listsApi } = await signedIn(t, "Noor", {
    lists: [
      { name: "Work", color: "#3366ff" },
      { name: "Home", color: "#2b8a3e" },
      { name: "Someday", color: "#ae3ec9" },
    ],
    tasks: [
      { title: "Write the report", list: "Work" },
      { title: "Email Bob", list: "Work", completed: true },
      { title: "Book the review", list: "Work" },
      { title: "Fix the tap", list: "Home" },
      { title: "Mow the lawn", list: "Home" },
      { title: "Buy milk" },
    ],
  });
  await waitForLists(page, ["Work", "Home", "Someday"]);
  await manageLists(page);

  // Cancel: nothing is sent.
  await sidebar(page).getByRole("button", { name: "Delete list “Work”" }).click();
  await dialog(page).getByText("“Work” has 3 tasks", { exact: false }).waitFor();
  await dialog(page).getByRole("button", { name: "Cancel", exact: true }).click();
  await dialog(page).waitFor({ state: "detached" });

  // An empty list: one question, no choice about tasks.
  await sidebar(page).getByRole("button", { name: "Delete list “Someday”" }).click();
  await dialog(page).getByText("“Someday” has no tasks", { exact: false }).waitFor();
  assert.equal(await dialog(page).getByRole("button", { name: "Move tasks to Inbox" }).count(), 0);
  let { request: sent, response } = await exchange(page, "DELETE", /\/lists\/[\w-]+$/, () =>
    dialog(page).getByRole("button", { name: "Delete list", exact: true }).click(),
  );
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).search, "");
  assert.equal(sent.headers()["if-match"], `"${lists.Someday.version}"`);
  await waitForLists(page, ["Work", "Home"]);
  assert.equal(await listsApi.status(lists.Someday.id), 404);

  // Its tasks moved to the inbox.
  await sidebar(page).getByRole("button", { name: "Delete list “Work”" }).click();
  const question = dialog(page);
  await question.getByText("“Work” has 3 tasks (2 not completed)", { exact: false }).waitFor();
  ({ request: sent, response } = await exchange(page, "DELETE", /\/lists\/[\w-]+$/, () =>
    question.getByRole("button", { name: "Move tasks to Inbox", exact: true }).click(),
  ));
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).searchParams.get("tasks"), "inbox");
  await waitForLists(page, ["Home"]);
  await waitForOpenCount(page, "Inbox", 3);
  const inbox = (await api.list("list=inbox")).map((task) => task.title).sort();
  assert.deepEqual(inbox, ["Book the review", "Buy milk", "Email Bob", "Write the report"]);

  // Its tasks deleted, from the list's own view: the app goes back to every task.
  await listLink(page, "Home").click();
  await waitForTitles(page, ["Mow the lawn", "Fix the tap"], { what: "Home" });
  await sidebar(page).getByRole("button", { name: "Delete list “Home”" }).click();
  await dialog(page).getByText("“Home” has 2 tasks", { exact: false }).waitFor();
  ({ request: sent, response } = await exchange(page, "DELETE", /\/lists\/[\w-]+$/, () =>
    dialog(page).getByRole("button", { name: "Delete tasks", exact: true }).click(),
  ));
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).searchParams.get("tasks"), "delete");
  await waitForLists(page, []);
  await page.waitForURL(`${server.url}/tasks`);
  await waitForTitles(page, ["Buy milk", "Book the review", "Email Bob", "Write the report"], { what: "every task left" });
  assert.deepEqual((await api.list()).map((task) => task.title).sort(), ["Book the review", "Buy milk", "Email Bob", "Write the report"]);
  await assertClean(watch);
});

// ---------------------------------------------------------------------------------------------
// Subtasks

/** The left edge of a task's checkbox: subtasks sit further right than their parent. */
async function indentOf(page, title) {
  return (await page.getByRole("checkbox", { name: title, exact: true }).boundingBox()).x;
}

/** Adds a subtask to `parent` from its row; resolves with the request's body and the response. */
async function addSubtask(page, parent, title) {
  await page.getByRole("button", { name: `Add subtask to “${parent}”` }).click();
  const form = page.getByRole("form", { name: `Add a subtask to “${parent}”` });
  await form.getByLabel("Subtask title").fill(title);
  const { request: sent, response } = await exchange(page, "POST", /\/tasks$/, () =>
    form.getByRole("button", { name: "Add subtask", exact: true }).click(),
  );
  return { body: JSON.parse(sent.postData()), response, form };
}

test("subtasks are added under their parent, indented, collapsed and expanded", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, lists, api, tasks } = await signedIn(t, "Ravi", {
    lists: [{ name: "Travel", color: "#0c8599" }],
    tasks: [{ title: "Plan the trip", list: "Travel" }, { title: "Water the plants" }],
  });
  await waitForTitles(page, ["Water the plants", "Plan the trip"]);
  const trip = tasks["Plan the trip"];

  let { body, response } = await addSubtask(page, "Plan the trip", "Book the flights");
  assert.equal(response.status(), 201, await response.text());
  assert.deepEqual(body, { title: "Book the flights", parent_id: trip.id });
  const flights = await response.json();
  assert.equal(flights.parent_id, trip.id);
  assert.equal(flights.list_id, lists.Travel.id, "a subtask is in its parent's list");
  await waitForTitles(page, ["Water the plants", "Plan the trip", "Book the flights"], { what: "the subtask under its parent" });

  ({ response } = await addSubtask(page, "Plan the trip", "Book the hotel"));
  assert.equal(response.status(), 201);
  ({ response } = await addSubtask(page, "Book the hotel", "Compare prices"));
  assert.equal(response.status(), 201);
  ({ response } = await addSubtask(page, "Compare prices", "Read the reviews"));
  assert.equal(response.status(), 201);
  const tree = ["Water the plants", "Plan the trip", "Book the hotel", "Compare prices", "Read the reviews", "Book the flights"];
  await waitForTitles(page, tree, { what: "four levels" });
  const x = [];
  for (const title of ["Plan the trip", "Book the hotel", "Compare prices", "Read the reviews"]) x.push(await indentOf(page, title));
  assert.ok(x[0] < x[1] && x[1] < x[2] && x[2] < x[3], `each level further in: ${x}`);
  assert.equal(await indentOf(page, "Book the flights"), x[1], "siblings line up");
  assert.equal(await indentOf(page, "Water the plants"), x[0]);
  assert.equal(await row(page, "Compare prices").getAttribute("aria-level"), "3");

  // A fifth level is refused by the server, in its words.
  ({ response } = await addSubtask(page, "Read the reviews", "Too deep"));
  assert.equal(response.status(), 422);
  const refusal = await response.json();
  const form = page.getByRole("form", { name: "Add a subtask to “Read the reviews”" });
  await form.getByRole("alert").filter({ hasText: refusal.detail }).waitFor();
  await form.getByRole("button", { name: "Cancel", exact: true }).click();
  await form.waitFor({ state: "detached" });

  // Collapsed and expanded.
  const collapse = page.getByRole("button", { name: "Collapse subtasks of Plan the trip", exact: true });
  assert.equal(await collapse.getAttribute("aria-expanded"), "true");
  await collapse.click();
  const expand = page.getByRole("button", { name: "Expand subtasks of Plan the trip", exact: true });
  assert.equal(await expand.getAttribute("aria-expanded"), "false");
  await waitForTitles(page, ["Water the plants", "Plan the trip"], { what: "collapsed" });
  await row(page, "Plan the trip").getByText("2 subtasks, hidden").waitFor();
  await expand.click();
  await waitForTitles(page, tree, { what: "expanded again" });
  // A level below collapses on its own.
  await page.getByRole("button", { name: "Collapse subtasks of Book the hotel", exact: true }).click();
  await waitForTitles(page, ["Water the plants", "Plan the trip", "Book the hotel", "Book the flights"], { what: "one level collapsed" });
  await page.getByRole("button", { name: "Expand subtasks of Book the hotel", exact: true }).click();
  await waitForTitles(page, tree);

  // Completing the parent completes its open subtasks, and the list shows it.
  const completed = responseTo(page, "PATCH", /\/complete$/);
  await page.getByRole("checkbox", { name: "Plan the trip", exact: true }).check();
  assert.equal((await completed).status(), 200);
  for (const title of tree.slice(2)) {
    await page.waitForFunction(
      (name) => [...document.querySelectorAll('input[type="checkbox"]')].some((box) => box.labels[0]?.textContent === name && box.checked),
      title,
    );
  }
  assert.equal((await api.byTitle("Compare prices")).completed, true);
  await assertClean(watch, { allow: REFUSAL_LOGGED });
});

test("deleting a task with subtasks says how many go with it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api, tasks } = await signedIn(t, "Sara", {
    tasks: [
      { title: "Move house" },
      { title: "Pack the books", parent: "Move house" },
      { title: "Pack the kitchen", parent: "Move house" },
      { title: "Wrap the plates", parent: "Pack the kitchen" },
      { title: "Renovate", priority: "high" },
      { title: "Paint the hall", parent: "Renovate", priority: "low" },
      { title: "Sand the floor", parent: "Renovate", priority: "low" },
      { title: "Call mum" },
    ],
  });
  await waitForTitles(page, [
    "Call mum",
    "Renovate",
    "Sand the floor",
    "Paint the hall",
    "Move house",
    "Pack the kitchen",
    "Wrap the plates",
    "Pack the books",
  ]);

  // A task without subtasks: deleted alone, nothing said of subtasks.
  await page.getByRole("button", { name: "Delete “Call mum”" }).click();
  await dialog(page).getByText("“Call mum” will be deleted.", { exact: false }).waitFor();
  assert.equal(await dialog(page).getByText(/subtask/).count(), 0);
  let { request: sent, response } = await exchange(page, "DELETE", /\/tasks\/[\w-]+$/, () =>
    dialog(page).getByRole("button", { name: "Delete", exact: true }).click(),
  );
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).searchParams.has("subtasks"), false);

  // Three below it, counted over every level.
  const move = tasks["Move house"];
  await page.getByRole("button", { name: "Delete “Move house”" }).click();
  await dialog(page).getByText("“Move house” and its 3 subtasks will be deleted", { exact: false }).waitFor();
  ({ request: sent, response } = await exchange(page, "DELETE", /\/tasks\/[\w-]+$/, () =>
    dialog(page).getByRole("button", { name: "Delete", exact: true }).click(),
  ));
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).searchParams.get("subtasks"), "delete");
  assert.equal(sent.headers()["if-match"], `"${move.version}"`);
  await waitForTitles(page, ["Renovate", "Sand the floor", "Paint the hall"], { what: "the subtree gone" });
  assert.deepEqual((await api.list()).map((task) => task.title).sort(), ["Paint the hall", "Renovate", "Sand the floor"]);

  // In a filtered list the subtasks are not all shown: the count comes from the server.
  const priority = page.getByRole("region", { name: "Find tasks" }).getByLabel("Priority", { exact: true });
  await priority.selectOption({ label: "High" });
  await waitForTitles(page, ["Renovate"], { what: "high priority only" });
  await page.getByRole("button", { name: "Delete “Renovate”" }).click();
  await dialog(page).getByText("“Renovate” and its 2 subtasks will be deleted", { exact: false }).waitFor();
  // Cancelled: nothing sent, nothing gone.
  await dialog(page).getByRole("button", { name: "Cancel", exact: true }).click();
  await dialog(page).waitFor({ state: "detached" });
  assert.equal((await api.list()).length, 3);
  await page.getByRole("button", { name: "Delete “Renovate”" }).click();
  ({ request: sent, response } = await exchange(page, "DELETE", /\/tasks\/[\w-]+$/, () =>
    dialog(page).getByRole("button", { name: "Delete", exact: true }).click(),
  ));
  assert.equal(response.status(), 204, await response.text());
  assert.equal(new URL(sent.url()).searchParams.get("subtasks"), "delete");
  assert.deepEqual(await api.list(), []);
  await assertClean(watch);
});

// ---------------------------------------------------------------------------------------------
// A phone

test("on a phone the lists are a menu behind a “Lists” button", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, lists } = await signedIn(t, "Pia", {
    viewport: PHONE,
    lists: [{ name: "Groceries and other things to buy on the way home", color: "#f08c00" }],
    tasks: [
      { title: "Buy apples, pears, plums and a very long list of other fruit", list: "Groceries and other things to buy on the way home" },
      { title: "Green ones", parent: "Buy apples, pears, plums and a very long list of other fruit" },
      { title: "Granny Smith, if there are any left at the market", parent: "Green ones" },
      { title: "Not bruised, checked one by one", parent: "Granny Smith, if there are any left at the market" },
      { title: "Call the bank" },
    ],
  });
  const menu = page.getByRole("button", { name: "Lists", exact: true });
  assert.equal(await menu.getAttribute("aria-expanded"), "false");
  const groceries = listLink(page, "Groceries and other things to buy on the way home");
  assert.equal(await groceries.isVisible(), false, "hidden while the menu is closed");
  await menu.click();
  assert.equal(await menu.getAttribute("aria-expanded"), "true");
  await groceries.waitFor();
  const query = await listQueryOf(page, () => groceries.click());
  assert.equal(query.get("list"), lists["Groceries and other things to buy on the way home"].id);
  assert.equal(await menu.getAttribute("aria-expanded"), "false", "choosing a list closes the menu");
  await waitForTitles(
    page,
    [
      "Buy apples, pears, plums and a very long list of other fruit",
      "Green ones",
      "Granny Smith, if there are any left at the market",
      "Not bruised, checked one by one",
    ],
    { what: "the list on a phone" },
  );
  // Nothing wider than the screen, even four levels deep.
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${scrollWidth} px wide in a ${clientWidth} px viewport`);
  for (const title of ["Not bruised, checked one by one", "Buy apples, pears, plums and a very long list of other fruit"]) {
    const box = await page.getByRole("button", { name: `Delete “${title}”` }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${title}: its buttons on screen: ${JSON.stringify(box)}`);
  }
  await assertClean(watch);
});

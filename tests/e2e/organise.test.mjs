// Finding and organising tasks in the web app, in real Chromium against a real taskgate: the
// search box, each filter (open or completed, priority, due, tags), the sort menu, priorities
// shown in words, tag chips that filter and tags renamed, merged and deleted, due dates with and
// without a time (the browser's zone by default, another zone named), overdue tasks marked,
// editing every field, and a task changed elsewhere while it is edited (412): the app shows it as
// it is now, says so, and keeps what the person typed. Every control is found by its label or role.
// The browser runs in America/New_York, in English (US), so dates are written one way.

import { test } from "node:test";
import assert from "node:assert/strict";

import { apiSession, appAndBrowserForFile, newPage, scopeFor } from "./harness.mjs";
import { addDays, dateIn, listQueryOf, listedTitles, row, taskApi, timeIn, waitForTitles } from "./organise.mjs";
import { DESKTOP, PASSWORD, assertClean, newEmail, responseTo, signInInPage } from "./webapp.mjs";

const TEST_TIMEOUT_MS = 90_000;
const ZONE = "America/New_York";
// Chromium logs each refused request as a console error; in the 412 tests those are expected.
const PRECONDITION_LOGGED = [/status of (404|412)/];

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

/**
 * A new person with `tasks` made through the API (oldest first), signed in on /tasks in a browser
 * in `timezoneId`. Gives the page, its watcher and the person's API (another device's view).
 */
async function signedIn(t, name, tasks = [], { timezoneId = ZONE } = {}) {
  const email = newEmail(name);
  const session = await apiSession(server, { name, email, password: PASSWORD });
  const api = taskApi(server, session);
  const seeded = await api.create(...tasks);
  const { page, watch } = await newPage(scopeFor(t), browser, {
    allowedOrigins: [server.origin],
    viewport: DESKTOP,
    timezoneId,
    locale: "en-US",
  });
  await signInInPage(page, server.url, email, { at: "/tasks" });
  await page.waitForURL(`${server.url}/tasks`);
  await waitForTitles(page, seeded.map((task) => task.title).reverse(), { what: "the first list" });
  return { page, watch, api, seeded };
}

const finder = (page) => page.getByRole("region", { name: "Find tasks" });
const tagsPanel = (page) => page.getByRole("region", { name: "Tags" });
const addForm = (page) => page.getByRole("form", { name: "Add a task" });
const editForm = (page, title) => page.getByRole("form", { name: `Edit “${title}”` });

/** Adds a task through the form; `fill(form)` fills the fields beyond the title. Resolves with the new task. */
async function addTask(page, title, fill = async () => {}) {
  const form = addForm(page);
  await form.getByLabel("Title", { exact: true }).fill(title);
  await fill(form);
  const created = responseTo(page, "POST", /\/tasks$/);
  await form.getByRole("button", { name: "Add task" }).click();
  const res = await created;
  assert.equal(res.status(), 201, `adding ${title}: ${await res.text()}`);
  await page.getByRole("checkbox", { name: title, exact: true }).waitFor();
  return res.json();
}

/** Opens the edit form of `title`. */
async function edit(page, title) {
  await page.getByRole("button", { name: `Edit “${title}”` }).click();
  const form = editForm(page, title);
  await form.waitFor();
  return form;
}

/** Clicks the form's `button` and resolves with the PATCH request it sends and its response. */
async function patchFrom(page, form, button) {
  const sent = page.waitForRequest((req) => req.method() === "PATCH" && /\/tasks\/[\w-]+$/.test(new URL(req.url()).pathname));
  const answered = responseTo(page, "PATCH", /\/tasks\/[\w-]+$/);
  await form.getByRole("button", { name: button, exact: true }).click();
  return { request: await sent, response: await answered };
}

// ---------------------------------------------------------------------------------------------
// Finding tasks

test("the search box finds tasks by the starts of words in titles and descriptions, in any order", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch } = await signedIn(t, "Sam", [
    { title: "Buy milk", description: "Semi-skimmed" },
    { title: "Call the plumber" },
    { title: "Write the report", description: "Quarterly numbers for the board" },
    { title: "Milkshake recipe" },
  ]);
  const all = ["Milkshake recipe", "Write the report", "Call the plumber", "Buy milk"];
  const search = finder(page).getByRole("searchbox", { name: "Search tasks" });

  const query = await listQueryOf(page, () => search.fill("mil buy"));
  assert.equal(query.get("q"), "mil buy");
  await waitForTitles(page, ["Buy milk"], { what: "“mil buy”" });
  await page.getByText("Showing tasks matching “mil buy”.").waitFor();
  await page.getByRole("heading", { level: 2, name: /^1 task\b/ }).waitFor();

  await search.fill("quart");
  await waitForTitles(page, ["Write the report"], { what: "a word of a description" });
  await search.fill("milk");
  await waitForTitles(page, ["Milkshake recipe", "Buy milk"], { what: "“milk”" });

  // The search is in the page's address: a reload finds the same.
  await page.waitForURL(`${server.url}/tasks?q=milk`);
  await page.reload();
  await waitForTitles(page, ["Milkshake recipe", "Buy milk"], { what: "after a reload" });
  assert.equal(await search.inputValue(), "milk");

  await search.fill("zebra");
  await page.getByText("No tasks match these filters.").waitFor();
  await page.getByRole("button", { name: "Clear filters", exact: true }).click();
  await waitForTitles(page, all, { what: "filters cleared" });
  assert.equal(await search.inputValue(), "");
  await assertClean(watch);
});

test("Active and Completed ask the server for open or completed tasks", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch } = await signedIn(t, "Olga", [
    { title: "Water the plants", completed: true },
    { title: "Pay the rent" },
    { title: "File the taxes", completed: true },
  ]);
  await page.getByRole("heading", { level: 2, name: /3 tasks,\s*1 to do/ }).waitFor();
  const show = finder(page).getByRole("group", { name: "Show" });

  let query = await listQueryOf(page, () => show.getByRole("button", { name: "Active", exact: true }).click());
  assert.equal(query.get("completed"), "false");
  await waitForTitles(page, ["Pay the rent"], { what: "active" });
  assert.equal(await show.getByRole("button", { name: "Active", exact: true }).getAttribute("aria-pressed"), "true");

  query = await listQueryOf(page, () => show.getByRole("button", { name: "Completed", exact: true }).click());
  assert.equal(query.get("completed"), "true");
  await waitForTitles(page, ["File the taxes", "Water the plants"], { what: "completed" });

  query = await listQueryOf(page, () => show.getByRole("button", { name: "All", exact: true }).click());
  assert.equal(query.has("completed"), false);
  await waitForTitles(page, ["File the taxes", "Pay the rent", "Water the plants"], { what: "all" });
  await assertClean(watch);
});

test("the priority filter asks for one priority or several", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch } = await signedIn(t, "Priya", [
    { title: "Tidy the shed", priority: "low" },
    { title: "Fix the login bug", priority: "high" },
    { title: "Learn the cello" },
    { title: "Review the pull request", priority: "medium" },
  ]);
  const priority = finder(page).getByLabel("Priority", { exact: true });
  const cases = [
    ["High", ["high"], ["Fix the login bug"]],
    ["Medium or high", ["medium", "high"], ["Review the pull request", "Fix the login bug"]],
    ["Low", ["low"], ["Tidy the shed"]],
    ["No priority", ["none"], ["Learn the cello"]],
    ["Any priority", [], ["Review the pull request", "Learn the cello", "Fix the login bug", "Tidy the shed"]],
  ];
  for (const [label, values, titles] of cases) {
    const query = await listQueryOf(page, () => priority.selectOption({ label }));
    assert.deepEqual(query.getAll("priority").sort(), [...values].sort(), label);
    await waitForTitles(page, titles, { what: label });
  }
  await assertClean(watch);
});

test("the due filter: due today, overdue, due this week, no due date", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const today = dateIn(ZONE);
  const { page, watch } = await signedIn(t, "Dana", [
    { title: "Due today", due: { date: today } },
    { title: "Was due last month", due: { date: addDays(today, -30) } },
    { title: "Timed, long ago, in Berlin", due: { date: addDays(today, -10), time: "09:30", time_zone: "Europe/Berlin" } },
    { title: "Next month", due: { date: addDays(today, 30) } },
    { title: "No date at all" },
    { title: "Done, late", completed: true, due: { date: addDays(today, -30) } },
  ]);
  const due = finder(page).getByLabel("Due", { exact: true });

  let query = await listQueryOf(page, () => due.selectOption({ label: "Due today" }));
  assert.equal(query.get("due_from"), today);
  assert.equal(query.get("due_to"), today);
  await waitForTitles(page, ["Due today"], { what: "due today" });

  query = await listQueryOf(page, () => due.selectOption({ label: "Overdue" }));
  assert.equal(query.get("overdue"), "true");
  assert.equal(query.get("tz"), ZONE, "the browser's zone");
  await waitForTitles(page, ["Timed, long ago, in Berlin", "Was due last month"], { what: "overdue" });

  query = await listQueryOf(page, () => due.selectOption({ label: "Due this week" }));
  const [from, to] = [query.get("due_from"), query.get("due_to")];
  assert.ok(from <= today && today <= to && addDays(from, 6) === to, `this week: ${from} to ${to}, today ${today}`);
  await waitForTitles(page, ["Due today"], { what: "due this week" });

  query = await listQueryOf(page, () => due.selectOption({ label: "No due date" }));
  assert.equal(query.get("has_due"), "false");
  await waitForTitles(page, ["No date at all"], { what: "no due date" });

  // Filters combine: overdue and completed finds nothing (a completed task is never overdue).
  await due.selectOption({ label: "Overdue" });
  await finder(page).getByRole("group", { name: "Show" }).getByRole("button", { name: "Completed", exact: true }).click();
  await page.getByText("No tasks match these filters.").waitFor();
  await page.getByText("Showing tasks completed, overdue.").waitFor();
  await assertClean(watch);
});

test("the sort menu orders the list on the server, and the order survives a reload", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const today = dateIn(ZONE);
  const { page, watch, api, seeded } = await signedIn(t, "Sol", [
    { title: "banana", priority: "low", due: { date: addDays(today, 5) } },
    { title: "Apple", priority: "high" },
    { title: "cherry", priority: "medium", due: { date: addDays(today, 1) } },
  ]);
  const sort = finder(page).getByLabel("Sort by");
  const cases = [
    ["Oldest first", "created", "asc", ["banana", "Apple", "cherry"]],
    ["Title, A to Z", "title", "asc", ["Apple", "banana", "cherry"]],
    ["Title, Z to A", "title", "desc", ["cherry", "banana", "Apple"]],
    ["Priority, highest first", "priority", "desc", ["Apple", "cherry", "banana"]],
    ["Priority, lowest first", "priority", "asc", ["banana", "cherry", "Apple"]],
    // Tasks without a due date come last in both orders.
    ["Due date, soonest first", "due", "asc", ["cherry", "banana", "Apple"]],
    ["Due date, latest first", "due", "desc", ["banana", "cherry", "Apple"]],
  ];
  for (const [label, by, order, titles] of cases) {
    const query = await listQueryOf(page, () => sort.selectOption({ label }));
    assert.deepEqual([query.get("sort"), query.get("order")], [by, order], label);
    await waitForTitles(page, titles, { what: label });
  }
  // Changed elsewhere: "Recently changed" puts it first.
  await api.patch(seeded[1].id, { description: "Granny Smith" });
  await sort.selectOption({ label: "Recently changed" });
  await waitForTitles(page, ["Apple", "cherry", "banana"], { what: "recently changed" });

  await sort.selectOption({ label: "Title, Z to A" });
  await waitForTitles(page, ["cherry", "banana", "Apple"]);
  await page.reload();
  await waitForTitles(page, ["cherry", "banana", "Apple"], { what: "after a reload" });
  assert.equal(await sort.inputValue(), "title-desc");
  await sort.selectOption({ label: "Newest first" });
  await waitForTitles(page, ["cherry", "Apple", "banana"], { what: "newest first" });
  await assertClean(watch);
});

// ---------------------------------------------------------------------------------------------
// Priorities, tags, due dates

test("a priority is shown in words, its colour only repeating them", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api } = await signedIn(t, "Hal", [
    { title: "Low one", priority: "low" },
    { title: "Medium one", priority: "medium" },
    { title: "High one", priority: "high" },
    { title: "Plain one" },
  ]);
  const colours = {};
  for (const [title, words] of [
    ["High one", "High priority"],
    ["Medium one", "Medium priority"],
    ["Low one", "Low priority"],
  ]) {
    const badge = row(page, title).getByText(words, { exact: true });
    await badge.waitFor();
    colours[words] = await badge.evaluate((element) => {
      const style = getComputedStyle(element);
      return `${style.color} on ${style.backgroundColor}`;
    });
  }
  assert.equal(new Set(Object.values(colours)).size, 3, `three colours: ${JSON.stringify(colours)}`);
  assert.equal(await row(page, "Plain one").getByText(/priority/i).count(), 0, "no priority, no words");

  // Chosen when adding a task.
  const task = await addTask(page, "Call the bank", (form) => form.getByLabel("Priority").selectOption({ label: "Medium" }));
  assert.equal(task.priority, "medium");
  await row(page, "Call the bank").getByText("Medium priority", { exact: true }).waitFor();
  assert.equal((await api.get(task.id)).priority, "medium");
  await assertClean(watch);
});

test("tag chips filter when pressed; the tags panel renames, merges and deletes tags", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api } = await signedIn(t, "Tariq", [
    { title: "Prepare the slides", tags: ["Work", "Urgent & soon"] },
    { title: "Book the flights", tags: ["Work"] },
    { title: "Fix the fence", tags: ["Home"] },
    { title: "Read a novel" },
  ]);
  const all = ["Read a novel", "Fix the fence", "Book the flights", "Prepare the slides"];
  const chip = (title, tag) => row(page, title).getByRole("button", { name: `Filter by tag ${tag}`, exact: true });
  const panel = tagsPanel(page);
  await panel.getByRole("button", { name: "Work", exact: true }).waitFor();

  // A chip on a task filters by its tag; a second tag narrows further (tasks with both).
  let query = await listQueryOf(page, () => chip("Book the flights", "Work").click());
  assert.deepEqual(query.getAll("tag"), ["Work"]);
  await waitForTitles(page, ["Book the flights", "Prepare the slides"], { what: "tagged Work" });
  assert.equal(await chip("Book the flights", "Work").getAttribute("aria-pressed"), "true");
  assert.equal(await panel.getByRole("button", { name: "Work", exact: true }).getAttribute("aria-pressed"), "true");
  query = await listQueryOf(page, () => chip("Prepare the slides", "Urgent & soon").click());
  assert.deepEqual(query.getAll("tag"), ["Work", "Urgent & soon"]);
  await waitForTitles(page, ["Prepare the slides"], { what: "tagged Work and Urgent & soon" });
  // Pressed again (here in the panel), a tag stops filtering.
  await panel.getByRole("button", { name: "Urgent & soon", exact: true }).click();
  await waitForTitles(page, ["Book the flights", "Prepare the slides"], { what: "tagged Work again" });

  // Renaming a tag the list is filtered by: the filter follows it.
  await panel.getByRole("button", { name: "Manage tags", exact: true }).click();
  await panel.getByRole("button", { name: "Rename tag “Work”", exact: true }).click();
  const rename = panel.getByRole("form", { name: "Rename tag “Work”" });
  await rename.getByLabel("New name for “Work”").fill("Job");
  const renamed = responseTo(page, "PATCH", /\/tags\/Work$/);
  await rename.getByRole("button", { name: "Rename", exact: true }).click();
  assert.equal((await renamed).status(), 200);
  await chip("Book the flights", "Job").waitFor();
  await waitForTitles(page, ["Book the flights", "Prepare the slides"], { what: "tagged Job" });
  await page.waitForURL(`${server.url}/tasks?tag=Job`);
  assert.deepEqual((await api.byTitle("Book the flights")).tags, ["Job"]);

  // Renaming into an existing tag (in another case) merges the two, and says so first.
  await page.getByRole("button", { name: "Clear filters", exact: true }).click();
  await waitForTitles(page, all);
  await panel.getByRole("button", { name: "Rename tag “Home”", exact: true }).click();
  const merge = panel.getByRole("form", { name: "Rename tag “Home”" });
  await merge.getByLabel("New name for “Home”").fill("job");
  await merge.getByText("“Job” exists: the two tags will be merged into it.").waitFor();
  const merged = responseTo(page, "PATCH", /\/tags\/Home$/);
  await merge.getByRole("button", { name: "Merge", exact: true }).click();
  assert.equal((await merged).status(), 200);
  await chip("Fix the fence", "Job").waitFor();
  await panel.getByText("3 open of 3 tasks").waitFor();

  // Deleting a tag takes it off every task, after a confirmation; the tasks stay.
  await panel.getByRole("button", { name: "Delete tag “Urgent & soon”", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this tag?" });
  await dialog.getByText("“Urgent & soon” will be taken off 1 task.").waitFor();
  const deleted = responseTo(page, "DELETE", /\/tags\/[^/]+$/);
  await dialog.getByRole("button", { name: "Delete tag", exact: true }).click();
  assert.equal((await deleted).status(), 204);
  await chip("Prepare the slides", "Urgent & soon").waitFor({ state: "detached" });
  await panel.getByRole("button", { name: "Urgent & soon", exact: true }).waitFor({ state: "detached" });
  await waitForTitles(page, all, { what: "no task deleted" });
  assert.deepEqual((await api.byTitle("Prepare the slides")).tags, ["Job"]);
  assert.deepEqual(
    (await api.tags()).map(({ name, tasks, open }) => ({ name, tasks, open })),
    [{ name: "Job", tasks: 3, open: 3 }],
  );
  await assertClean(watch);
});

test("a due date with or without a time: the browser's zone by default, another zone named", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api } = await signedIn(t, "Zoe", [
    { title: "Call the Berlin office", due: { date: "2027-06-01", time: "09:00", time_zone: "Europe/Berlin" } },
  ]);
  // Another zone than the browser's is named, with the browser's own time for it.
  const berlin = row(page, "Call the Berlin office");
  await berlin.getByText(/^Due Tue, Jun 1, 2027, 9:00\sAM Europe\/Berlin \(3:00\sAM your time\)$/).waitFor();

  // All day.
  const allDay = await addTask(page, "Renew the passport", (form) => form.getByLabel("Due date").fill("2027-05-01"));
  assert.deepEqual(allDay.due, { date: "2027-05-01" });
  await row(page, "Renew the passport").getByText(/^Due Sat, May 1, 2027$/).waitFor();

  // With a time: the zone is the browser's unless the person picks another.
  const timed = await addTask(page, "Dentist", async (form) => {
    await form.getByLabel("Due date").fill("2027-03-10");
    await form.getByLabel("Due time (optional)").fill("09:30");
    assert.equal(await form.getByLabel("Time zone").inputValue(), ZONE);
  });
  assert.equal(timed.due.date, "2027-03-10");
  assert.match(timed.due.time, /^09:30(:00)?$/);
  assert.equal(timed.due.time_zone, ZONE);
  assert.equal(timed.due.at, "2027-03-10T14:30:00Z");
  const dentist = row(page, "Dentist");
  await dentist.getByText(/^Due Wed, Mar 10, 2027, 9:30\sAM$/).waitFor();
  assert.equal(await dentist.getByText(ZONE).count(), 0, "the browser's own zone is not named");

  // The form shows the task's zone, and says the browser's when it differs; moving it there.
  let form = await edit(page, "Call the Berlin office");
  const zone = form.getByLabel("Time zone");
  assert.equal(await zone.inputValue(), "Europe/Berlin");
  await form.getByText(`Yours is ${ZONE}`).waitFor();
  await zone.selectOption(ZONE);
  let { request, response } = await patchFrom(page, form, "Save");
  assert.equal(response.status(), 200);
  assert.deepEqual(JSON.parse(request.postData()), { due: { date: "2027-06-01", time: "09:00", time_zone: ZONE } });
  await berlin.getByText(/^Due Tue, Jun 1, 2027, 9:00\sAM$/).waitFor();

  // Without the time, the due is all day again (and no zone is asked for).
  form = await edit(page, "Dentist");
  await form.getByLabel("Due time (optional)").fill("");
  assert.equal(await form.getByLabel("Time zone").count(), 0);
  ({ request, response } = await patchFrom(page, form, "Save"));
  assert.equal(response.status(), 200);
  assert.deepEqual(JSON.parse(request.postData()), { due: { date: "2027-03-10", time: null, time_zone: null } });
  await dentist.getByText(/^Due Wed, Mar 10, 2027$/).waitFor();
  assert.deepEqual((await api.get(timed.id)).due, { date: "2027-03-10" });
  await assertClean(watch);
});

test("overdue tasks are marked in words; completed and future ones are not", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const now = Date.now();
  const today = dateIn(ZONE);
  const hoursFromNow = (hours) => new Date(now + hours * 3_600_000);
  const at = (instant) => ({ date: dateIn(ZONE, instant), time: timeIn(ZONE, instant), time_zone: ZONE });
  const { page, watch } = await signedIn(t, "Otto", [
    { title: "Renew the licence", due: { date: addDays(today, -1) } },
    { title: "Send the form", due: at(hoursFromNow(-2)) },
    { title: "Later on", due: at(hoursFromNow(3)) },
    { title: "Any time today", due: { date: today } },
    { title: "Done, late", completed: true, due: { date: addDays(today, -3) } },
    { title: "No date" },
  ]);
  for (const title of ["Renew the licence", "Send the form"]) {
    await row(page, title).getByText("Overdue", { exact: true }).waitFor();
  }
  await row(page, "Renew the licence").getByText("Due yesterday", { exact: true }).waitFor();
  for (const title of ["Later on", "Any time today", "Done, late", "No date"]) {
    assert.equal(await row(page, title).getByText("Overdue", { exact: true }).count(), 0, title);
  }
  await row(page, "Any time today").getByText("Due today", { exact: true }).waitFor();

  // Completing an overdue task takes the mark away; reopening it brings it back.
  const box = page.getByRole("checkbox", { name: "Renew the licence", exact: true });
  const completed = responseTo(page, "PATCH", /\/complete$/);
  await box.check();
  assert.equal((await completed).status(), 200);
  await row(page, "Renew the licence").getByText("Overdue", { exact: true }).waitFor({ state: "detached" });
  await box.uncheck();
  await row(page, "Renew the licence").getByText("Overdue", { exact: true }).waitFor();
  await assertClean(watch);
});

// ---------------------------------------------------------------------------------------------
// Editing

test("editing changes every field, sending only the changes at the version seen", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api, seeded } = await signedIn(t, "Edda", [
    { title: "Plan the offsite", description: "Somewhere green", priority: "low", tags: ["Team"] },
  ]);
  const [task] = seeded;
  let form = await edit(page, "Plan the offsite");
  assert.equal(await form.getByLabel("Priority").inputValue(), "low");
  assert.equal(await form.getByLabel("Tags").inputValue(), "Team");
  await form.getByLabel("Title", { exact: true }).fill("Plan the team offsite");
  await form.getByLabel("Description", { exact: true }).fill("Venue, agenda, travel");
  await form.getByLabel("Priority").selectOption({ label: "High" });
  await form.getByLabel("Tags").fill("Team, Travel, team");
  await form.getByLabel("Due date").fill("2027-04-20");
  await form.getByLabel("Due time (optional)").fill("14:00");
  let { request, response } = await patchFrom(page, form, "Save");
  assert.equal(response.status(), 200, await response.text());
  assert.equal(request.headers()["if-match"], `"${task.version}"`);
  assert.equal(request.headers()["content-type"], "application/merge-patch+json");
  assert.deepEqual(JSON.parse(request.postData()), {
    title: "Plan the team offsite",
    description: "Venue, agenda, travel",
    priority: "high",
    tags: ["Team", "Travel"],
    due: { date: "2027-04-20", time: "14:00", time_zone: ZONE },
  });

  const item = row(page, "Plan the team offsite");
  await item.getByText("High priority", { exact: true }).waitFor();
  await item.getByText("Venue, agenda, travel", { exact: true }).waitFor();
  await item.getByText(/^Due Tue, Apr 20, 2027, 2:00\sPM$/).waitFor();
  for (const tag of ["Team", "Travel"]) await item.getByRole("button", { name: `Filter by tag ${tag}` }).waitFor();
  const stored = await api.get(task.id);
  assert.equal(stored.version, task.version + 1);
  assert.deepEqual(
    { title: stored.title, description: stored.description, priority: stored.priority, tags: stored.tags },
    { title: "Plan the team offsite", description: "Venue, agenda, travel", priority: "high", tags: ["Team", "Travel"] },
  );

  // A time needs a date: refused before anything is sent, by the date's field.
  form = await edit(page, "Plan the team offsite");
  await form.getByLabel("Due date").fill("");
  await form.getByRole("button", { name: "Save", exact: true }).click();
  await form.getByText("Please give a date for the time.").waitFor();
  assert.equal(await form.getByLabel("Due date").getAttribute("aria-invalid"), "true");

  // Every optional field emptied.
  await form.getByLabel("Due time (optional)").fill("");
  await form.getByLabel("Description", { exact: true }).fill("");
  await form.getByLabel("Priority").selectOption({ label: "None" });
  await form.getByLabel("Tags").fill("");
  ({ request, response } = await patchFrom(page, form, "Save"));
  assert.equal(response.status(), 200, await response.text());
  assert.equal(request.headers()["if-match"], `"${stored.version}"`);
  assert.deepEqual(JSON.parse(request.postData()), { description: null, priority: "none", tags: [], due: null });
  await item.getByText("High priority").waitFor({ state: "detached" });
  const emptied = await api.get(task.id);
  assert.deepEqual(
    { description: emptied.description, priority: emptied.priority, tags: emptied.tags, due: emptied.due },
    { description: null, priority: "none", tags: [], due: null },
  );
  await assertClean(watch);
});

test("a task changed elsewhere while it is edited: the app shows it as it is now and keeps what was typed", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api, seeded } = await signedIn(t, "Ines", [
    { title: "Plan the offsite", description: "Somewhere green" },
    { title: "Water the ferns" },
  ]);
  const [offsite, ferns] = seeded;

  // Apply: the person's change goes on top of the other device's.
  let form = await edit(page, "Plan the offsite");
  await form.getByLabel("Title", { exact: true }).fill("Plan the offsite for May");
  await api.patch(offsite.id, { description: "Venue booked: the old mill", priority: "high" });
  let { request, response } = await patchFrom(page, form, "Save");
  assert.equal(response.status(), 412);
  assert.equal(request.headers()["if-match"], `"${offsite.version}"`);
  form = editForm(page, "Plan the offsite");
  await form.getByRole("alert").filter({ hasText: "This task was changed elsewhere" }).waitFor();
  const now = form.getByRole("region", { name: "The task as it is now" });
  await now.getByText("Venue booked: the old mill", { exact: true }).waitFor();
  await now.getByText("High", { exact: true }).waitFor();
  assert.equal(await form.getByLabel("Title", { exact: true }).inputValue(), "Plan the offsite for May", "what was typed");
  assert.equal(await form.getByLabel("Description", { exact: true }).inputValue(), "Somewhere green", "the form as it was");
  await form.getByText("“Apply my changes” sets your title on this version and keeps the rest as it is now.").waitFor();

  ({ request, response } = await patchFrom(page, form, "Apply my changes"));
  assert.equal(response.status(), 200, await response.text());
  assert.equal(request.headers()["if-match"], `"${offsite.version + 1}"`);
  assert.deepEqual(JSON.parse(request.postData()), { title: "Plan the offsite for May" });
  const item = row(page, "Plan the offsite for May");
  await item.getByText("Venue booked: the old mill", { exact: true }).waitFor();
  await item.getByText("High priority", { exact: true }).waitFor();
  const stored = await api.get(offsite.id);
  assert.deepEqual(
    { title: stored.title, description: stored.description, priority: stored.priority },
    { title: "Plan the offsite for May", description: "Venue booked: the old mill", priority: "high" },
  );

  // Discard: the task as the other device left it.
  form = await edit(page, "Plan the offsite for May");
  await form.getByLabel("Description", { exact: true }).fill("Somewhere by the sea");
  await api.patch(offsite.id, { title: "Offsite (postponed)" });
  ({ response } = await patchFrom(page, form, "Save"));
  assert.equal(response.status(), 412);
  form = editForm(page, "Offsite (postponed)");
  await form.getByRole("alert").filter({ hasText: "changed elsewhere" }).waitFor();
  assert.equal(await form.getByLabel("Description", { exact: true }).inputValue(), "Somewhere by the sea");
  await form.getByRole("button", { name: "Discard my changes", exact: true }).click();
  await row(page, "Offsite (postponed)").getByText("Venue booked: the old mill", { exact: true }).waitFor();
  assert.equal((await api.get(offsite.id)).description, "Venue booked: the old mill");

  // Deleted elsewhere: what was typed can become a new task.
  form = await edit(page, "Water the ferns");
  await form.getByLabel("Description", { exact: true }).fill("Twice a week, rain water");
  await api.remove(ferns.id);
  ({ response } = await patchFrom(page, form, "Save"));
  assert.equal([404, 412].includes(response.status()), true, `a deleted task's PATCH: ${response.status()}`);
  await form.getByRole("alert").filter({ hasText: "This task was deleted elsewhere" }).waitFor();
  const created = responseTo(page, "POST", /\/tasks$/);
  await form.getByRole("button", { name: "Add it as a new task", exact: true }).click();
  assert.equal((await created).status(), 201);
  await row(page, "Water the ferns").getByText("Twice a week, rain water", { exact: true }).waitFor();
  assert.equal((await api.byTitle("Water the ferns")).description, "Twice a week, rain water");
  await assertClean(watch, { allow: PRECONDITION_LOGGED });
});

test("completing or deleting a task changed elsewhere shows it as it is now and does nothing", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch, api, seeded } = await signedIn(t, "Kai", [{ title: "Feed the cat" }, { title: "Walk the dog" }]);
  const [cat, dog] = seeded;

  await api.patch(cat.id, { title: "Feed the cat at six" });
  const sent = page.waitForRequest((req) => req.method() === "PATCH" && req.url().endsWith("/complete"));
  const refused = responseTo(page, "PATCH", /\/complete$/);
  await page.getByRole("checkbox", { name: "Feed the cat", exact: true }).click();
  assert.equal((await refused).status(), 412);
  assert.equal((await sent).headers()["if-match"], `"${cat.version}"`);
  const catRow = row(page, "Feed the cat at six");
  await catRow.getByRole("alert").filter({ hasText: "Not marked completed: this task was changed elsewhere" }).waitFor();
  assert.equal(await page.getByRole("checkbox", { name: "Feed the cat at six" }).isChecked(), false);
  assert.equal((await api.get(cat.id)).completed, false);

  await api.patch(dog.id, { description: "Around the park" });
  await page.getByRole("button", { name: "Delete “Walk the dog”" }).click();
  const refusedDelete = responseTo(page, "DELETE", /\/tasks\/[\w-]+$/);
  await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  assert.equal((await refusedDelete).status(), 412);
  const dogRow = row(page, "Walk the dog");
  await dogRow.getByText("Around the park", { exact: true }).waitFor();
  await dogRow.getByRole("alert").filter({ hasText: "Not deleted: this task was changed elsewhere" }).waitFor();
  assert.deepEqual(await listedTitles(page), ["Walk the dog", "Feed the cat at six"]);
  assert.equal((await api.get(dog.id)).description, "Around the park");
  await assertClean(watch, { allow: PRECONDITION_LOGGED });
});

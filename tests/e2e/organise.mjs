// Helpers for the browser tests of finding and organising tasks (organise.test.mjs): a node-side
// client of one person's task API (to seed tasks, to change them "on another device", and to read
// what the server holds), dates in a given time zone, and reading the task list the way a person
// sees it. No tests here.

import assert from "node:assert/strict";

import { request } from "./harness.mjs";

/**
 * The task API of `session` (from `apiSession`) at `server`, as another client (a phone, a
 * script) uses it: `create`, `get`, `patch`, `remove`, `list`, `byTitle`, `tags`, each asserting the expected status.
 */
export function taskApi(server, session) {
  const base = `/api/${encodeURIComponent(session.user.id)}`;
  let token = null;
  const call = async (method, path, { body, headers = {}, contentType = "application/json" } = {}) => {
    token ??= await session.accessToken();
    const init = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.headers["content-type"] = contentType;
      init.body = JSON.stringify(body);
    }
    return request(new URL(`${base}${path}`, server.url), init);
  };
  const expect = (res, status, what) => {
    assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
    return res.body;
  };
  return {
    /** Creates the tasks in order (the last one is the newest); resolves with them. */
    async create(...tasks) {
      const made = [];
      for (const task of tasks) made.push(expect(await call("POST", "/tasks", { body: task }), 201, `POST ${task.title}`));
      return made;
    },
    async get(id) {
      return expect(await call("GET", `/tasks/${id}`), 200, `GET task ${id}`);
    },
    /** A merge patch at the task's current version, as another device makes it. */
    async patch(id, changes) {
      const current = await this.get(id);
      const res = await call("PATCH", `/tasks/${id}`, {
        body: changes,
        contentType: "application/merge-patch+json",
        headers: { "if-match": `"${current.version}"` },
      });
      return expect(res, 200, `PATCH task ${id}`);
    },
    /** Deletes the task at its current version, as another device does. */
    async remove(id) {
      const current = await this.get(id);
      const res = await call("DELETE", `/tasks/${id}`, { headers: { "if-match": `"${current.version}"` } });
      expect(res, 204, `DELETE task ${id}`);
    },
    /** Every task (first page of up to 500), newest first unless `query` says otherwise. */
    async list(query = "") {
      return expect(await call("GET", `/tasks?limit=500${query ? `&${query}` : ""}`), 200, "GET tasks");
    },
    /** One task by its title. */
    async byTitle(title) {
      const found = (await this.list()).filter((task) => task.title === title);
      assert.equal(found.length, 1, `one task titled “${title}”: ${JSON.stringify(found)}`);
      return found[0];
    },
    async tags() {
      return expect(await call("GET", "/tags"), 200, "GET tags");
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Dates

/** "YYYY-MM-DD" of `instant` in time zone `zone`. */
export function dateIn(zone, instant = new Date()) {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    instant,
  );
}

/** "HH:MM" of `instant` in time zone `zone`. */
export function timeIn(zone, instant = new Date()) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    instant,
  );
}

/** `date` ("YYYY-MM-DD") plus `days`. */
export function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// The list, as shown

/** The titles of the tasks listed, in order (each task's checkbox is labelled by its title). */
export async function listedTitles(page) {
  return page.getByRole("checkbox").evaluateAll((boxes) => boxes.map((box) => box.labels[0]?.textContent ?? ""));
}

/** Waits until the list shows exactly `titles` in this order (a filter's answer may take a moment). */
export async function waitForTitles(page, titles, { what = "the list", timeout = 10_000 } = {}) {
  const until = Date.now() + timeout;
  let shown;
  for (;;) {
    shown = await listedTitles(page);
    const settled = (await page.locator('[aria-busy="true"]').count()) === 0;
    if (settled && JSON.stringify(shown) === JSON.stringify(titles)) return;
    if (Date.now() > until) break;
    await page.waitForTimeout(50);
  }
  assert.deepEqual(shown, titles, what);
}

/** The list item of the task titled `title`. */
export function row(page, title) {
  return page.getByRole("listitem").filter({ has: page.getByRole("checkbox", { name: title, exact: true }) });
}

/**
 * Runs `action` and resolves with the query parameters of the task-list request it causes
 * (the first GET of `…/tasks` whose `limit` is not 1: the other one only counts).
 */
export async function listQueryOf(page, action) {
  const listed = page.waitForRequest((req) => {
    const url = new URL(req.url());
    return req.method() === "GET" && /\/api\/[^/]+\/tasks$/.test(url.pathname) && url.searchParams.get("limit") !== "1";
  });
  await action();
  return new URL((await listed).url()).searchParams;
}

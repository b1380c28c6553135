// Cross-origin (CORS) end to end: a page served from one origin drives taskgate's API on another,
// in real Chromium, as a separate front end (the original design's Next.js app) does.
//
// Origins (http://127.0.0.1:A and http://127.0.0.1:B are different origins):
//   listed    a static server on port A, named in TASKGATE_CORS_ORIGINS
//   unlisted  the same page from a static server on port B, not named
//   taskgate  the API, on its own port
// The browser tests go through the page's own fetch() calls (pages/cors/client.js); the header
// contract is also checked directly from node, where no browser hides what the server sent.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  Scope,
  launchChromium,
  mintToken,
  newPage,
  newSecret,
  request,
  scopeFor,
  serveStatic,
  startTaskgate,
} from "./harness.mjs";

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "pages", "cors");
const TEST_TIMEOUT_MS = 60_000;

const ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ALLOWED_HEADERS = ["authorization", "content-type", "if-match", "idempotency-key"];
const EXPOSED_HEADERS = ["link", "x-total-count", "x-request-id", "location", "etag", "set-auth-jwt", "set-auth-token"];
// Any well-formed task id: preflights never reach a handler.
const SOME_TASK_ID = "019a9c1e-5b7d-7a3b-9d61-2a4f0c1e5b7d";

const scope = new Scope();
after(() => scope.close());

let listedSite;
let unlistedSite;
let server;
let browser;

before(
  async () => {
    listedSite = await serveStatic(scope, PAGE_DIR);
    unlistedSite = await serveStatic(scope, PAGE_DIR);
    server = await startTaskgate(scope, { env: { TASKGATE_CORS_ORIGINS: listedSite.origin } });
    browser = await launchChromium(scope);
  },
  { timeout: TEST_TIMEOUT_MS },
);

// ---------------------------------------------------------------------------------------------
// Helpers

/** A comma-separated header value as lower-case items. */
function items(value) {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

/** The Access-Control-* headers of a response, as an object. */
function accessControl(headers) {
  const found = {};
  for (const [name, value] of headers) if (name.toLowerCase().startsWith("access-control-")) found[name] = value;
  return found;
}

function assertNoWildcard(headers, what) {
  assert.notEqual(headers.get("access-control-allow-origin"), "*", `${what}: Access-Control-Allow-Origin: *`);
}

/** A request to `target` (taskgate unless given) from node; no response may allow origin `*`. */
async function api(pathname, init = {}, target = server) {
  const res = await request(new URL(pathname, target.url), init);
  assertNoWildcard(res.headers, `${init.method ?? "GET"} ${pathname}`);
  return res;
}

/** What a failure message needs: the response and the tail of taskgate's log. */
function explain(res, target = server) {
  const headers = JSON.stringify(Object.fromEntries(res.headers ?? []));
  return `${res.status} ${headers} ${res.text ?? ""}\n--- taskgate output:\n${target.output()}`;
}

function preflight(pathname, origin, method, target = server) {
  return api(
    pathname,
    {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": ALLOWED_HEADERS.join(","),
      },
    },
    target,
  );
}

/** Origins that are not the listed one but that prefix, suffix or host confusions could let in. */
function unlistedOrigins() {
  const { port } = new URL(listedSite.origin);
  return [
    unlistedSite.origin,
    `http://localhost:${port}`,
    `https://127.0.0.1:${port}`,
    `${listedSite.origin}0`,
    `${listedSite.origin}.evil.example`,
    "null",
  ];
}

/** Opens the CORS page from `site` and points its client at taskgate as `user`. */
async function openClient(t, site, user, token) {
  const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [site.origin, server.origin] });
  const navigation = await page.goto(site.url("/"));
  assert.equal(navigation?.status(), 200, `the page did not load from ${site.origin}`);
  await page.evaluate((config) => window.taskgate.configure(config), { api: server.url, user, token });
  return { page, watch };
}

/**
 * Runs `window.taskgate[name](...args)` in the page; insists that fetch itself did not fail, and
 * says why Chromium refused when it did (its console has the CORS reason).
 */
async function inPage({ page, watch }, name, ...args) {
  const result = await page.evaluate(([fn, rest]) => window.taskgate[fn](...rest), [name, args]);
  assert.ok(
    result.ok,
    `${name}(${JSON.stringify(args)}): fetch rejected: ${JSON.stringify(result.error)}\n` +
      `--- console errors:\n${watch.consoleErrors.join("\n")}`,
  );
  return result;
}

/** Every response the page saw from taskgate allowed the page's origin, and nothing allowed `*`. */
async function assertResponsesAllowed(watch, origin) {
  await watch.settled();
  const fromApi = watch.responses.filter((res) => res.url.startsWith(`${server.url}/`));
  assert.ok(fromApi.length > 0, "the page saw no response from taskgate");
  for (const res of watch.responses) {
    assert.notEqual(res.headers["access-control-allow-origin"], "*", `${res.method} ${res.url}`);
  }
  for (const res of fromApi) {
    assert.equal(res.headers["access-control-allow-origin"], origin, `${res.method} ${res.url}`);
  }
}

// ---------------------------------------------------------------------------------------------
// In the browser

test(
  "a page on a listed origin creates, reads, updates, completes and deletes tasks through the API",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const token = await server.token("alice");
    const client = await openClient(t, listedSite, "alice", token);
    const { page, watch } = client;

    // POST with Authorization and a JSON body: the browser sends a preflight first.
    const first = await inPage(client, "create", "first, from another origin");
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.title, "first, from another origin");
    assert.equal(first.headers.location, `/api/alice/tasks/${first.body.id}`, "Location is readable from the page");
    const second = await inPage(client, "create", "second, from another origin");
    assert.equal(second.status, 201, JSON.stringify(second.body));

    const firstPage = await inPage(client, "list", "?limit=1");
    assert.equal(firstPage.status, 200, JSON.stringify(firstPage.body));
    assert.deepEqual(
      firstPage.body.map((task) => task.id),
      [second.body.id],
      "newest first, one per page",
    );
    assert.equal(firstPage.headers["x-total-count"], "2", "X-Total-Count is readable from the page");
    assert.match(firstPage.headers["x-request-id"] ?? "", /\S/, "X-Request-Id is readable from the page");
    assert.match(firstPage.headers.link ?? "", /rel="?next"?/, "Link is readable from the page");
    // A header taskgate sends but does not expose stays hidden: the browser really applies the list.
    assert.equal(firstPage.headers["x-content-type-options"], null);

    const next = await page.evaluate((link) => window.taskgate.nextLink(link), firstPage.headers.link);
    const secondPage = await inPage(client, "get", next);
    assert.equal(secondPage.status, 200, JSON.stringify(secondPage.body));
    assert.deepEqual(
      secondPage.body.map((task) => task.id),
      [first.body.id],
      "the Link target is the next page",
    );

    const fetched = await inPage(client, "get", first.headers.location);
    assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
    assert.equal(fetched.body.id, first.body.id, "the Location points at the created task");

    const replaced = await inPage(client, "replace", first.body.id, { title: "renamed", description: "by PUT" });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.title, "renamed");

    const toggled = await inPage(client, "toggle", first.body.id);
    assert.equal(toggled.status, 200, JSON.stringify(toggled.body));
    assert.equal(toggled.body.completed, true);
    assert.equal(typeof toggled.body.completed_at, "string");

    const removed = await inPage(client, "remove", second.body.id);
    assert.equal(removed.status, 204, JSON.stringify(removed.body));

    // A credentialed request (cookies included, as a cookie-based client sends) is allowed too:
    // the browser requires Access-Control-Allow-Credentials: true and an exact origin for it.
    const credentialed = await inPage(client, "call", "GET", "/api/alice/tasks", { credentials: "include" });
    assert.equal(credentialed.status, 200, JSON.stringify(credentialed.body));
    assert.equal(credentialed.headers["x-total-count"], "1");
    assert.deepEqual(
      credentialed.body.map((task) => task.id),
      [first.body.id],
    );

    // The page's writes are really in taskgate: read them back without a browser.
    const stored = await api("/api/alice/tasks", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(stored.status, 200, explain(stored));
    assert.deepEqual(
      stored.body.map(({ id, title, description, completed }) => ({ id, title, description, completed })),
      [{ id: first.body.id, title: "renamed", description: "by PUT", completed: true }],
    );

    await assertResponsesAllowed(watch, listedSite.origin);
    assert.deepEqual(watch.consoleErrors, [], "console errors");
    assert.deepEqual(watch.pageErrors, [], "uncaught page errors");
    assert.deepEqual(watch.failedRequests, [], "failed requests");
    assert.deepEqual(watch.foreignRequests, [], "requests to other origins");
  },
);

test("a page on a listed origin can read the API's error responses", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Signed with a secret taskgate does not know, so it answers 401 INVALID_TOKEN_SIGNATURE.
  const forged = await mintToken("alice", { env: { BETTER_AUTH_SECRET: newSecret() } });
  const client = await openClient(t, listedSite, "alice", forged);
  const { watch } = client;

  const refused = await inPage(client, "list");
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.equal(refused.body.error_code, "INVALID_TOKEN_SIGNATURE", "the error body is readable, not only the status");
  assert.match(refused.headers["x-request-id"] ?? "", /\S/);

  await assertResponsesAllowed(watch, listedSite.origin);
  // Chromium logs every 4xx it loads; that one line is the only error allowed here.
  for (const line of watch.consoleErrors) assert.match(line, /status of 401/, "console errors");
  assert.deepEqual(watch.pageErrors, [], "uncaught page errors");
  assert.deepEqual(watch.failedRequests, [], "failed requests");
  assert.deepEqual(watch.foreignRequests, [], "requests to other origins");
});

test(
  "a page on an unlisted origin is blocked by the browser and creates nothing",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const token = await server.token("bob");
    const { page, watch } = await openClient(t, unlistedSite, "bob", token);

    const created = await page.evaluate(() => window.taskgate.create("must not be created"));
    assert.equal(created.ok, false, `the browser let the POST through: ${JSON.stringify(created)}`);
    assert.equal(created.error.name, "TypeError", JSON.stringify(created.error));
    const listed = await page.evaluate(() => window.taskgate.list());
    assert.equal(listed.ok, false, `the browser let the page read the list: ${JSON.stringify(listed)}`);
    assert.equal(listed.error.name, "TypeError", JSON.stringify(listed.error));

    // The refused preflight kept the POST from ever being sent.
    const stored = await api("/api/bob/tasks", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(stored.status, 200, explain(stored));
    assert.deepEqual(stored.body, [], "a task was created from an unlisted origin");
    assert.equal(stored.headers.get("x-total-count"), "0");

    await watch.settled();
    for (const res of watch.responses) {
      assert.notEqual(res.headers["access-control-allow-origin"], "*", `${res.method} ${res.url}`);
    }
    assert.ok(watch.failedRequests.length > 0, "the browser reported no blocked request");
    for (const line of watch.failedRequests) assert.ok(line.includes(` ${server.url}/api/bob/tasks`), line);
    assert.ok(
      watch.consoleErrors.some((line) =>
        line.includes(`from origin '${unlistedSite.origin}' has been blocked by CORS policy`),
      ),
      `no CORS refusal in the console: ${JSON.stringify(watch.consoleErrors)}`,
    );
    // Besides the refusals, only Chromium's "Failed to load resource: net::ERR_FAILED" for them.
    for (const line of watch.consoleErrors)
      assert.match(line, /blocked by CORS policy|net::ERR_FAILED/, "console errors");
    assert.deepEqual(watch.pageErrors, [], "uncaught page errors");
    assert.deepEqual(watch.foreignRequests, [], "requests to other origins");
  },
);

// ---------------------------------------------------------------------------------------------
// The header contract, from node

test(
  "a preflight from a listed origin is answered 204 with the allowed methods and headers",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const routes = [
      ["GET", "/api/alice/tasks"],
      ["POST", "/api/alice/tasks"],
      ["PUT", `/api/alice/tasks/${SOME_TASK_ID}`],
      ["PATCH", `/api/alice/tasks/${SOME_TASK_ID}/complete`],
      ["DELETE", `/api/alice/tasks/${SOME_TASK_ID}`],
    ];
    for (const [method, pathname] of routes) {
      const res = await preflight(pathname, listedSite.origin, method);
      const what = `OPTIONS ${pathname} for ${method}: ${explain(res)}`;
      assert.equal(res.status, 204, what);
      assert.equal(res.headers.get("access-control-allow-origin"), listedSite.origin, what);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true", what);
      const methods = items(res.headers.get("access-control-allow-methods")).map((m) => m.toUpperCase());
      for (const allowed of ALLOWED_METHODS) assert.ok(methods.includes(allowed), `${allowed} not allowed: ${what}`);
      const headers = items(res.headers.get("access-control-allow-headers"));
      for (const allowed of ALLOWED_HEADERS) assert.ok(headers.includes(allowed), `${allowed} not allowed: ${what}`);
      assert.ok(!headers.includes("*") && !methods.includes("*"), `wildcards: ${what}`);
    }
  },
);

test(
  "a preflight asking for a header outside the list does not get it allowed",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const res = await api("/api/alice/tasks", {
      method: "OPTIONS",
      headers: {
        origin: listedSite.origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,x-not-in-the-list",
      },
    });
    assert.ok(
      !items(res.headers.get("access-control-allow-headers")).includes("x-not-in-the-list"),
      `request headers are mirrored: ${explain(res)}`,
    );
    // Not vacuous: the preflight is answered for the listed origin, only without that header.
    assert.equal(res.headers.get("access-control-allow-origin"), listedSite.origin, explain(res));
  },
);

test(
  "responses to a listed origin allow it and expose the API's headers, errors included",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const token = await server.token("carol");
    const authorized = { authorization: `Bearer ${token}`, origin: listedSite.origin };
    const responses = {
      "POST 201": await api("/api/carol/tasks", {
        method: "POST",
        headers: { ...authorized, "content-type": "application/json" },
        body: JSON.stringify({ title: "from node" }),
      }),
      "GET 200": await api("/api/carol/tasks", { headers: authorized }),
      "GET without a token 401": await api("/api/carol/tasks", { headers: { origin: listedSite.origin } }),
      "GET another user's tasks 403": await api("/api/alice/tasks", { headers: authorized }),
    };
    for (const [what, res] of Object.entries(responses)) {
      assert.equal(String(res.status), what.split(" ").at(-1), `${what}: ${explain(res)}`);
      assert.equal(res.headers.get("access-control-allow-origin"), listedSite.origin, `${what}: ${explain(res)}`);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true", `${what}: ${explain(res)}`);
      const exposed = items(res.headers.get("access-control-expose-headers"));
      for (const name of EXPOSED_HEADERS)
        assert.ok(exposed.includes(name), `${what}: ${name} not exposed: ${explain(res)}`);
    }
  },
);

test(
  "an unlisted origin gets no Access-Control header, on preflights and on requests",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const token = await server.token("dave");
    for (const origin of unlistedOrigins()) {
      const pre = await preflight("/api/dave/tasks", origin, "POST");
      assert.deepEqual(accessControl(pre.headers), {}, `preflight from ${origin}: ${explain(pre)}`);

      // The server still answers (only browsers enforce CORS), but allows the origin nothing.
      const res = await api("/api/dave/tasks", { headers: { authorization: `Bearer ${token}`, origin } });
      assert.equal(res.status, 200, explain(res));
      assert.deepEqual(accessControl(res.headers), {}, `GET from ${origin}: ${explain(res)}`);
    }
  },
);

test("without TASKGATE_CORS_ORIGINS no other origin is allowed", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const sameOriginOnly = await startTaskgate(scopeFor(t));
  const pre = await preflight("/api/erin/tasks", listedSite.origin, "POST", sameOriginOnly);
  assert.deepEqual(accessControl(pre.headers), {}, explain(pre, sameOriginOnly));
  const res = await api("/api/erin/tasks", { headers: { origin: listedSite.origin } }, sameOriginOnly);
  assert.equal(res.status, 401, explain(res, sameOriginOnly));
  assert.deepEqual(accessControl(res.headers), {}, explain(res, sameOriginOnly));
});

test(
  "requests without an Origin header are served and never allow origin *",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const token = await server.token("frank");
    const res = await api("/api/frank/tasks", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, explain(res));
    assert.equal(res.headers.get("access-control-allow-origin"), null, explain(res));
    const health = await api("/healthz");
    assert.equal(health.status, 200, explain(health));
  },
);

// Login CSRF: a page on another origin cannot sign the visitor's browser into an account of the
// attacker's choosing, nor make one. Its form posts `enctype="text/plain"` with a body that is
// JSON (see pages/csrf/form.js) to taskgate's sign-in or sign-up; taskgate must refuse it (403),
// set no session cookie, create no account, and the visitor then opening taskgate is not signed
// in. From a cross-origin page of the same site (127.0.0.1, another port), a cross-site page
// (localhost), and pages whose origin is opaque (`Origin: null`: a sandboxed frame, a data: URL).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { Scope, launchChromium, newPage, request, scopeFor, serveStatic, startTaskgate } from "./harness.mjs";
import { assertClean, newEmail, sessionCookies, signInInPage, signedInAs } from "./webapp.mjs";

const TEST_TIMEOUT_MS = 60_000;
const ATTACKER_PASSWORD = "the attacker's own passphrase";
const VICTIM_PASSWORD = "the victim's own passphrase";
// Chromium logs the refused navigation; nothing else may be logged.
const REFUSAL_LOGGED = [/status of 403/];

const scope = new Scope();
after(() => scope.close());

let server;
let browser;
let site;
/** The attacker's pages on a cross-site origin: localhost, while taskgate is 127.0.0.1. */
let crossSite;
let attacker;

before(
  async () => {
    server = await startTaskgate(scope, { env: { TASKGATE_RATE_LIMIT: "off" } });
    browser = await launchChromium(scope);
    site = await serveStatic(scope, new URL("./pages/csrf", import.meta.url).pathname);
    crossSite = `http://localhost:${new URL(site.origin).port}`;
    // The attacker's account, made the honest way (from taskgate's own origin).
    attacker = { name: "Mallory", email: newEmail("Mallory"), password: ATTACKER_PASSWORD };
    const made = await authPost("/api/auth/sign-up/email", attacker);
    assert.equal(made.status, 200, `the attacker's sign-up: ${made.status} ${made.text}`);
  },
  { timeout: TEST_TIMEOUT_MS },
);

/** A JSON POST to taskgate from node, with taskgate's own origin (a trusted client). */
function authPost(path, body) {
  return request(new URL(path, server.url), {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.origin },
    body: JSON.stringify(body),
  });
}

/** Whether `email` with `password` is an account (its sign-in succeeds). */
async function accountExists(email, password) {
  const res = await authPost("/api/auth/sign-in/email", { email, password });
  assert.ok([200, 401].includes(res.status), `sign-in check: ${res.status} ${res.text}`);
  return res.status === 200;
}

/** The fragment the attacker's page reads: where to post, and what. */
function fragment(path, fields) {
  return `#${new URLSearchParams({ action: `${server.url}${path}`, fields: JSON.stringify(fields) })}`;
}

/** A data: URL page that posts the same form at once: a document with an opaque origin. */
function dataPage(path, fields) {
  const json = JSON.stringify(fields);
  const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><form method="post" enctype="text/plain"></form>
<script>
const form = document.forms[0];
form.action = ${JSON.stringify(`${server.url}${path}`)};
const input = document.createElement("input");
input.type = "hidden";
input.name = ${JSON.stringify(`${json.slice(0, -1)},"x":"`)};
input.value = '"}';
form.append(input);
form.submit();
</script>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

/**
 * Opens the attacker's page (`open(page)`), waits for its form's POST to `path`, and checks the
 * refusal: 403 with `codes` (unreadable in a frame), no cookie set, and the visitor not signed in
 * afterwards (or still `victim`, who signed in first). Returns the page.
 */
async function attack(t, { path, open, origin, codes = ["INVALID_ORIGIN"], victim = null, framed = false }) {
  const { page, context, watch } = await newPage(scopeFor(t), browser, {
    allowedOrigins: [server.origin, site.origin, crossSite],
  });
  if (victim) {
    await signInInPage(page, server.url, victim.email, { password: victim.password });
    await page.waitForURL(`${server.url}/tasks`);
    // Loaded, so that leaving for the attacker's page cancels nothing.
    await page.getByText("No tasks yet").waitFor();
  }
  const posted = page.waitForResponse((res) => res.request().method() === "POST" && res.url() === `${server.url}${path}`);
  await open(page);
  const res = await posted;

  // It was the attack: a text/plain form post, from the origin the case is about.
  const sent = res.request();
  assert.match((await sent.headerValue("content-type")) ?? "", /^text\/plain/);
  assert.equal(await sent.headerValue("origin"), origin, "the Origin the browser sent");
  const body = sent.postData() ?? "";
  assert.doesNotThrow(() => JSON.parse(body.trim()), `the form's body is JSON: ${body}`);

  const refusal = await answerOf(res);
  assert.equal(res.status(), 403, `the form's answer: ${res.status()} ${JSON.stringify(refusal)}`);
  if (refusal !== null) assert.ok(codes.includes(refusal.code), `code ${refusal.code}, wanted one of ${codes}`);
  assert.equal(await res.headerValue("set-cookie"), null, "the refusal sets no cookie");

  // The visitor opening taskgate is who they were before: nobody, or themselves.
  const cookies = await sessionCookies(context, server.url);
  const app = await context.newPage();
  await app.goto(`${server.url}/tasks`);
  if (victim) {
    await signedInAs(app).getByText(victim.name, { exact: true }).waitFor();
    assert.equal(cookies.length, 1, "only the victim's own session cookie");
  } else {
    await app.waitForURL(`${server.url}/sign-in?next=%2Ftasks`);
    await app.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.deepEqual(cookies, [], "no session cookie");
  }
  assert.equal(await signedInAs(app).getByText(attacker.name).count(), 0, "not signed in as the attacker");
  const seen = await app.evaluate(async () => (await (await fetch("/api/auth/get-session")).json())?.user?.email ?? null);
  assert.equal(seen, victim?.email ?? null, "the session the server sees");
  await app.close();
  // A frame's answer is blocked by taskgate's framing headers, whatever it was.
  await assertClean(watch, {
    allow: framed ? [...REFUSAL_LOGGED, /violates the following Content Security Policy directive: "frame-ancestors 'none'"/] : REFUSAL_LOGGED,
    allowFailed: framed ? [new RegExp(`^POST ${server.url}${path}: net::ERR_BLOCKED_BY_RESPONSE$`)] : [],
  });
  return page;
}

/**
 * A navigation's JSON answer, or null when Chromium keeps no body: in a frame, taskgate's
 * `frame-ancestors 'none'` and `X-Frame-Options: DENY` replace the answer with an error page.
 */
async function answerOf(res) {
  try {
    return await res.json();
  } catch {
    assert.notEqual(res.frame(), res.frame().page().mainFrame(), `no body for ${res.url()}`);
    return null;
  }
}

const signInFields = () => ({ email: attacker.email, password: attacker.password });

test("a cross-origin page of the same site cannot sign the visitor into the attacker's account", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await attack(t, {
    path: "/api/auth/sign-in/email",
    origin: site.origin,
    open: (page) => page.goto(site.url(`/${fragment("/api/auth/sign-in/email", signInFields())}`)),
  });
});

test("a cross-site page cannot sign the visitor into the attacker's account", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await attack(t, {
    path: "/api/auth/sign-in/email",
    origin: crossSite,
    open: (page) => page.goto(`${crossSite}/${fragment("/api/auth/sign-in/email", signInFields())}`),
  });
});

test("a visitor signed in to their own account stays themselves", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const victim = { name: "Victor", email: newEmail("Victor"), password: VICTIM_PASSWORD };
  const made = await authPost("/api/auth/sign-up/email", victim);
  assert.equal(made.status, 200, made.text);
  await attack(t, {
    path: "/api/auth/sign-in/email",
    origin: site.origin,
    victim,
    open: (page) => page.goto(site.url(`/${fragment("/api/auth/sign-in/email", signInFields())}`)),
  });
});

test("a sandboxed frame (Origin: null) cannot sign the visitor in", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await attack(t, {
    path: "/api/auth/sign-in/email",
    origin: "null",
    codes: ["INVALID_ORIGIN", "MISSING_OR_NULL_ORIGIN"],
    framed: true,
    open: (page) => page.goto(site.url(`/framed.html${fragment("/api/auth/sign-in/email", signInFields())}`)),
  });
});

test("a cross-origin page cannot make an account and sign the visitor into it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const made = { name: "Mallory's sock puppet", email: newEmail("Puppet"), password: ATTACKER_PASSWORD };
  await attack(t, {
    path: "/api/auth/sign-up/email",
    origin: site.origin,
    open: (page) => page.goto(site.url(`/${fragment("/api/auth/sign-up/email", made)}`)),
  });
  assert.equal(await accountExists(made.email, made.password), false, "no account was made");
});

test("a cross-site page cannot make an account either", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const made = { name: "Another puppet", email: newEmail("Puppet"), password: ATTACKER_PASSWORD };
  await attack(t, {
    path: "/api/auth/sign-up/email",
    origin: crossSite,
    open: (page) => page.goto(`${crossSite}/${fragment("/api/auth/sign-up/email", made)}`),
  });
  assert.equal(await accountExists(made.email, made.password), false, "no account was made");
});

test("a data: URL page (Origin: null) cannot make an account", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const made = { name: "A third puppet", email: newEmail("Puppet"), password: ATTACKER_PASSWORD };
  await attack(t, {
    path: "/api/auth/sign-up/email",
    origin: "null",
    codes: ["INVALID_ORIGIN", "MISSING_OR_NULL_ORIGIN"],
    open: (page) => page.goto(dataPage("/api/auth/sign-up/email", made)),
  });
  assert.equal(await accountExists(made.email, made.password), false, "no account was made");
});

test("the attacker's credentials do work from taskgate's own origin (the refusals above are about where they came from)", async () => {
  assert.equal(await accountExists(attacker.email, attacker.password), true);
});

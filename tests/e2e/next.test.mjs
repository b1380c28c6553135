// The sign-in page's `next` parameter is only ever a path of the app's own origin: `safeNext`
// (web/router.js) checked in Chromium, case by case, and signing in with a hostile `next` lands on
// the task list of the same origin. Dot segments used to make `/.//evil.example` resolve to the
// protocol-relative `//evil.example`.

import { test } from "node:test";
import assert from "node:assert/strict";

import { apiSession, appAndBrowserForFile, newPage, scopeFor } from "./harness.mjs";
import { PASSWORD, assertClean, newEmail, signInInPage } from "./webapp.mjs";

const TEST_TIMEOUT_MS = 60_000;
const FALLBACK = "/tasks";

/** Values that resolve to another host, or to a path `history` and `location` read as one. */
const DOT_SEGMENT_ESCAPES = ["/.//evil.example", "/..//evil.example", "/%2e//evil.example", "/x/..//evil.example"];

const HOSTILE = [
  ...DOT_SEGMENT_ESCAPES,
  "/%2e%2e//evil.example",
  "/%2E//evil.example/path?q=1#frag",
  "/./..//evil.example",
  "/a/b/../..//evil.example",
  "/.//\\evil.example",
  "//evil.example",
  "//evil.example/tasks",
  "///evil.example",
  "/\\evil.example",
  "\\\\evil.example",
  "/\\/evil.example",
  "/\t/evil.example",
  "/\n/evil.example",
  "/\r/evil.example",
  "https://evil.example/",
  "http:evil.example",
  "javascript:alert(1)",
  "evil.example",
  "",
  null,
  "/sign-in",
  "/sign-up",
  "/sign-in?next=/tasks",
  "/x/../sign-in",
  "/%2e/sign-up",
];

/** Values that stay on the app: what `safeNext` gives for each. */
const KEPT = [
  ["/tasks", "/tasks"],
  ["/account", "/account"],
  ["/account?tab=sessions#devices", "/account?tab=sessions#devices"],
  ["/x/../account", "/account"],
  ["/./tasks", "/tasks"],
  ["/%2e/account", "/account"],
  ["/no/such/page", "/no/such/page"],
  ["/a%2F%2Fevil.example", "/a%2F%2Fevil.example"],
];

let server;
let browser;
appAndBrowserForFile((started) => ({ server, browser } = started), { timeout: TEST_TIMEOUT_MS });

test("safeNext keeps paths of the app and refuses anything that leaves it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
  await page.goto(`${server.url}/sign-in`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  // The module the app itself runs (the same URL: the same instance), with the page's own URL parser.
  const results = await page.evaluate(
    async ({ hostile, kept, fallback }) => {
      const { safeNext } = await import("/assets/router.js");
      return {
        hostile: hostile.map((value) => [value, safeNext(value, fallback)]),
        kept: kept.map(([value]) => [value, safeNext(value, fallback)]),
        defaultFallback: safeNext("/.//evil.example"),
      };
    },
    { hostile: HOSTILE, kept: KEPT, fallback: FALLBACK },
  );
  for (const [value, next] of results.hostile) {
    assert.equal(next, FALLBACK, `safeNext(${JSON.stringify(value)})`);
  }
  for (const [[value, wanted], [, next]] of KEPT.map((pair, i) => [pair, results.kept[i]])) {
    assert.equal(next, wanted, `safeNext(${JSON.stringify(value)})`);
  }
  assert.equal(results.defaultFallback, "/tasks");
  // Whatever it gives is a path of this origin: one leading slash, no backslash.
  for (const [value, next] of [...results.hostile, ...results.kept]) {
    assert.ok(next.startsWith("/") && !next.startsWith("//") && !next.includes("\\"), `${value} → ${next}`);
    assert.equal(new URL(next, server.url).origin, server.origin, `${value} → ${next}`);
  }
  await assertClean(watch);
});

test(
  "signing in with a `next` that escapes through dot segments lands on the task list of the same origin",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const email = newEmail("Dot");
    await apiSession(server, { name: "Dot", email, password: PASSWORD });
    for (const next of DOT_SEGMENT_ESCAPES) {
      await t.test(next, async (tt) => {
        const { page, watch } = await newPage(scopeFor(tt), browser, { allowedOrigins: [server.origin] });
        await signInInPage(page, server.url, email, { at: `/sign-in?next=${encodeURIComponent(next)}` });
        await page.waitForURL(`${server.url}${FALLBACK}`);
        await page.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
        assert.equal(new URL(page.url()).origin, server.origin);
        await assertClean(watch);
      });
    }
    // And a `next` of the app is where the person lands.
    const { page, watch } = await newPage(scopeFor(t), browser, { allowedOrigins: [server.origin] });
    await signInInPage(page, server.url, email, { at: `/sign-in?next=${encodeURIComponent("/x/../account")}` });
    await page.waitForURL(`${server.url}/account`);
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    await assertClean(watch);
  },
);

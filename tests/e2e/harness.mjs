// Shared harness for the browser end-to-end tests: a real taskgate process on a free port with a
// throw-away SQLite database (started by tests/support/taskgate.mjs, which tests/interop uses too),
// tokens minted by `taskgate token`, Chromium driven by playwright-core, small static servers for
// pages on other origins, and cleanup of all of it, pass or fail.
//
// Everything a test starts is registered with a Scope; `scope.close()` (run it from an `after`
// hook, or use `scopeFor(t)`) stops it in reverse order. A last-resort `exit` hook (in
// tests/support/taskgate.mjs) kills any child process and removes any temp dir that a crash left
// behind.
//
// Environment (all optional):
//   TASKGATE_BIN      the taskgate binary (default: $CARGO_TARGET_DIR/debug/taskgate when
//                     CARGO_TARGET_DIR is set, else <repo>/target/debug/taskgate)
//   CHROMIUM_PATH     the Chromium executable (default /usr/bin/chromium, Debian's `chromium`)
//   E2E_KEEP_LOGS=1   print taskgate's output when it is stopped (it is always printed on failure)

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import {
  REPO_ROOT,
  TASKGATE_BIN,
  assertBinary,
  canListenOn,
  freePort,
  makeTempDir,
  newSecret,
  rejectAfter,
  startTaskgate as startTaskgateProcess,
  taskgateEnv,
} from "../support/taskgate.mjs";

export { REPO_ROOT, TASKGATE_BIN, canListenOn, freePort, newSecret, taskgateEnv };

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The flags the tests run Chromium with: headless, and quiet on the network (no update checks, no sync). */
export const CHROMIUM_ARGS = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]);

const STARTUP_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Cleanup

/** Cleanup actions, run in reverse order of registration; every one runs even when some fail. */
export class Scope {
  #actions = [];

  /** Registers `action` (sync or async) to run on close; returns it. */
  defer(action) {
    this.#actions.push(action);
    return action;
  }

  async close() {
    const errors = [];
    while (this.#actions.length > 0) {
      const action = this.#actions.pop();
      try {
        await action();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, "several cleanup actions failed");
  }
}

/** A Scope closed when test (or suite) context `t` ends. */
export function scopeFor(t) {
  const scope = new Scope();
  t.after(() => scope.close());
  return scope;
}

/** A fresh temp dir, removed when `scope` closes. */
export function tempDir(scope, prefix = "taskgate-e2e-") {
  const { dir, remove } = makeTempDir(prefix);
  scope.defer(remove);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/**
 * fetch with a timeout, from node (no browser rules apply). Returns `{ status, headers, text, body }`,
 * `body` being the parsed JSON when the response is JSON.
 */
export async function request(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let body = text;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
  }
  return { status: res.status, headers: res.headers, text, body };
}

// ---------------------------------------------------------------------------------------------
// taskgate

/**
 * Starts `taskgate serve` on a free port of `host` (127.0.0.1 unless given; `::1` for IPv6
 * loopback, `::` for every address) with a fresh SQLite database, and waits until /healthz
 * answers (tests/support/taskgate.mjs). `env` is added to a clean environment (no inherited
 * TASKGATE_*, DATABASE_URL or BETTER_AUTH_SECRET); a BETTER_AUTH_SECRET is generated unless `env`
 * has one.
 *
 * Returns `{ url, origin, host, port, env, dir, output(), token(user, options), stop() }`; `stop` is
 * also run when `scope` closes. Listening on every address (`::`, `0.0.0.0`), `url` is loopback's.
 */
export async function startTaskgate(scope, { env = {}, args = [], host = "127.0.0.1" } = {}) {
  const server = await startTaskgateProcess({
    args: ["serve", ...args],
    env,
    host,
    tempPrefix: "taskgate-e2e-server-",
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    if (process.env.E2E_KEEP_LOGS === "1") process.stderr.write(`--- ${server.child.label}:\n${server.output()}\n`);
  };
  scope.defer(stop);
  const { url, origin, port, env: serverEnv, dir, output } = server;
  return {
    url,
    origin,
    host,
    port,
    env: serverEnv,
    dir,
    output,
    token: (user, options) => mintToken(user, { ...options, env: serverEnv, cwd: dir }),
    stop,
  };
}


/**
 * `taskgate token --user <user>`: an HS256 access token signed with `env.BETTER_AUTH_SECRET` (and
 * carrying env's TASKGATE_JWT_ISSUER / TASKGATE_JWT_AUDIENCE, as the server expects them).
 */
export async function mintToken(user, { env, ttl, cwd = os.tmpdir() } = {}) {
  assertBinary();
  assert.ok(env?.BETTER_AUTH_SECRET, "mintToken needs env.BETTER_AUTH_SECRET (at least 32 bytes)");
  const args = ["token", "--user", user];
  if (ttl !== undefined) args.push("--ttl", String(ttl));
  const stdout = await new Promise((resolve, reject) => {
    execFile(TASKGATE_BIN, args, { env: taskgateEnv(env), cwd, timeout: COMMAND_TIMEOUT_MS }, (error, out, err) =>
      error ? reject(new Error(`taskgate token failed: ${error.message}\n${err}`)) : resolve(out),
    );
  });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "taskgate token printed no JWT");
  return token;
}

// ---------------------------------------------------------------------------------------------
// Accounts, as a client without a browser sees them

/**
 * Signs up (with `name`) or in at `server`'s /api/auth from node, as a non-browser client does:
 * the session token comes back in `set-auth-token` and is sent as a bearer token. Returns
 * `{ user, sessionToken, accessToken() }`: `sessionToken` authenticates /api/auth calls
 * (`Authorization: Bearer`), `accessToken()` is a fresh JWT from /api/auth/token for the task API.
 */
export async function apiSession(server, { email, password, name }) {
  const path = name === undefined ? "/api/auth/sign-in/email" : "/api/auth/sign-up/email";
  const body = name === undefined ? { email, password } : { name, email, password };
  const res = await request(new URL(path, server.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}`);
  const sessionToken = res.headers.get("set-auth-token");
  assert.ok(sessionToken, `${path} gave no set-auth-token header`);
  return {
    user: res.body.user,
    sessionToken,
    async accessToken() {
      const minted = await request(new URL("/api/auth/token", server.url), {
        headers: { authorization: `Bearer ${sessionToken}` },
      });
      assert.equal(minted.status, 200, `/api/auth/token: ${minted.status} ${minted.text}`);
      return minted.body.token;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Static pages on another origin

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

/**
 * Serves the files under `root` (GET and HEAD; `/` is index.html) on 127.0.0.1, port 0 unless
 * `port` is given. Returns `{ origin, url(path), requests, close() }`; `requests` lists every
 * "METHOD /path" it was asked for. Closed when `scope` closes.
 */
export async function serveStatic(scope, root, { port = 0 } = {}) {
  const base = await realpath(root);
  const requests = [];
  const server = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const file = path.resolve(base, `.${pathname.endsWith("/") ? `${pathname}index.html` : pathname}`);
      // Only files inside root, whatever `..` the path holds.
      if (file !== base && !file.startsWith(base + path.sep)) {
        res.writeHead(404).end();
        return;
      }
      const content = await readFile(file);
      res.writeHead(200, {
        "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : content);
    } catch {
      if (!res.headersSent) res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
  };
  scope.defer(close);
  return { origin, url: (p = "/") => new URL(p, origin).href, requests, close };
}

// ---------------------------------------------------------------------------------------------
// Chromium

/** Launches headless Chromium (CHROMIUM_PATH, never a downloaded browser); closed when `scope` closes. */
export async function launchChromium(scope, options = {}) {
  assert.ok(
    existsSync(CHROMIUM_PATH),
    `no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
  );
  const browser = await Promise.race([
    chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], ...options }),
    rejectAfter(STARTUP_TIMEOUT_MS, `Chromium did not start within ${STARTUP_TIMEOUT_MS} ms`),
  ]);
  scope.defer(() => browser.close());
  return browser;
}

/**
 * A new page in a fresh browser context (no cookies or storage shared with other pages), with a
 * watcher recording what went wrong on it (see watchPage). Closed when `scope` closes.
 */
export async function newPage(scope, browser, { allowedOrigins = [], ...contextOptions } = {}) {
  const context = await browser.newContext(contextOptions);
  scope.defer(() => context.close());
  const page = await context.newPage();
  const watch = watchPage(page, { allowedOrigins });
  return { context, page, watch };
}

/**
 * Records, for one page: console errors, uncaught page errors, failed requests, requests to an
 * origin not in `allowedOrigins` (when it is given), and every response's status and headers
 * (lower-case names). `watch.settled()` waits for the response headers still being read.
 */
export function watchPage(page, { allowedOrigins = [] } = {}) {
  const allowed = new Set(allowedOrigins);
  const pending = new Set();
  const watch = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    foreignRequests: [],
    responses: [],
    async settled() {
      await Promise.all([...pending]);
    },
  };
  const originOf = (url) => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  page.on("console", (message) => {
    if (message.type() === "error") {
      const { url, lineNumber } = message.location();
      watch.consoleErrors.push(`${message.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
    }
  });
  page.on("pageerror", (error) => watch.pageErrors.push(String(error?.stack ?? error)));
  page.on("request", (req) => {
    // data: and blob: URLs have an opaque origin and stay inside the page.
    if (/^(data|blob|about):/.test(req.url())) return;
    if (allowed.size > 0 && !allowed.has(originOf(req.url()))) {
      watch.foreignRequests.push(`${req.method()} ${req.url()}`);
    }
  });
  page.on("requestfailed", (req) => {
    watch.failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText ?? "failed"}`);
  });
  page.on("response", (res) => {
    const read = res
      .allHeaders()
      .then((headers) => {
        watch.responses.push({ method: res.request().method(), url: res.url(), status: res.status(), headers });
      })
      .catch(() => {
        // The page or context closed before the headers were read: nothing left to check.
      })
      .finally(() => pending.delete(read));
    pending.add(read);
  });
  return watch;
}

/**
 * One taskgate (its auth rate limits off: the tests sign in far more often from one address than
 * they allow) and one Chromium for a whole test file: started before its tests, stopped after
 * them. `ready` receives them, with the file's scope for anything more it starts.
 */
export function appAndBrowserForFile(ready, { timeout = 60_000 } = {}) {
  const scope = new Scope();
  after(() => scope.close());
  before(
    async () => {
      const server = await startTaskgate(scope, { env: { TASKGATE_RATE_LIMIT: "off" } });
      const browser = await launchChromium(scope);
      await ready({ server, browser, scope });
    },
    { timeout },
  );
}

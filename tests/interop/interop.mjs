// Interoperability test: taskgate accepts access tokens issued by a REAL Better Auth server.
//
// For each algorithm Better Auth can sign with (its jwt plugin's five, plus HS256 through the
// plugin's `jwt.sign` hook) this test:
//   1. creates a fresh PostgreSQL database and starts ba-server.mjs on it,
//   2. signs a user up over HTTP and fetches a JWT from GET /api/auth/token,
//   3. starts taskgate pointed at Better Auth (JWKS URL, or the shared secret for HS256),
//   4. checks create (201), list (200), another user's path (403) and a tampered token (401),
//   5. stops both servers and drops the database, whatever happened.
//
// Run: cd tests/interop && npm ci && node --test interop.mjs
// taskgate is started (and its binary found) by ../support/taskgate.mjs, shared with tests/e2e.
// Environment (all optional):
//   TASKGATE_BIN           taskgate binary (default: <repo>/target/debug/taskgate, or
//                          $CARGO_TARGET_DIR/debug/taskgate when CARGO_TARGET_DIR is set)
//   INTEROP_PG_ADMIN_URL   a database to connect to for CREATE/DROP DATABASE
//                          (default postgres://postgres@127.0.0.1:5432/test)

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

import { assertBinary, newSecret, rejectAfter, spawnTracked, startTaskgate, stopChild } from "../support/taskgate.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PG_ADMIN_URL = process.env.INTEROP_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256", "HS256"];

const STARTUP_TIMEOUT_MS = 30_000; // RSA key generation and migrations included
const REQUEST_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Child processes: started, stopped and (even on a crash) killed by ../support/taskgate.mjs.

/** Resolves with the first stdout line of `child` that parses as JSON with `ready: true`. */
function waitForReadyLine(child) {
  const ready = new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const msg = JSON.parse(line);
          if (msg?.ready) return resolve(msg);
        } catch {
          // not our line
        }
      }
    });
    child.exited.then(({ code, signal }) =>
      reject(new Error(`${child.label} exited (code ${code}, signal ${signal}) before it was ready:\n${child.output}`)),
    );
  });
  return Promise.race([
    ready,
    rejectAfter(STARTUP_TIMEOUT_MS, `${child.label} not ready after ${STARTUP_TIMEOUT_MS} ms:\n${child.output}`),
  ]);
}

/** fetch with a timeout; returns { status, headers, body } with body parsed as JSON when possible. */
async function http(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: one throw-away database per algorithm.

async function withAdmin(fn) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: REQUEST_TIMEOUT_MS });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(alg) {
  // Only [a-z0-9_], so it is safe to splice into the statement.
  const name = `ba_interop_${alg.toLowerCase()}_${randomBytes(6).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabase(name) {
  // WITH (FORCE) ends connections a killed ba-server may have left behind (PostgreSQL 13+).
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

// ---------------------------------------------------------------------------------------------
// Better Auth client side: plain HTTP, as any front end would do it.

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Signs a user up; returns its id and the session cookie Better Auth set. */
async function signUp(baseURL, name) {
  const email = `${name}-${randomBytes(4).toString("hex")}@example.com`;
  const res = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: "POST",
    // A cookie-less POST must carry a trusted Origin; the base URL is trusted.
    headers: { "content-type": "application/json", origin: baseURL },
    body: JSON.stringify({ name, email, password: "correct horse battery staple" }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `sign-up: ${JSON.stringify(body)}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .find((c) => c.startsWith("better-auth.session_token="));
  assert.ok(cookie, "sign-up set no better-auth.session_token cookie");
  return { id: body.user.id, cookie };
}

/** GET /api/auth/token with the session cookie → the access token (a JWT). */
async function fetchAccessToken(baseURL, cookie) {
  const res = await http(`${baseURL}/api/auth/token`, { headers: { cookie } });
  assert.equal(res.status, 200, `token: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.token, "string");
  return res.body.token;
}

/** Changes the first character of the signature, which always changes its decoded bytes. */
function tamper(jwt) {
  const [header, payload, signature] = jwt.split(".");
  const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
  return `${header}.${payload}.${flipped}`;
}

// ---------------------------------------------------------------------------------------------

for (const alg of ALGORITHMS) {
  test(`taskgate accepts a Better Auth ${alg} access token`, { timeout: TEST_TIMEOUT_MS }, async () => {
    assertBinary();

    const secret = newSecret(); // 44 bytes
    let db;
    let betterAuth;
    let taskgate;
    try {
      // --- Better Auth -----------------------------------------------------------------------
      db = await createDatabase(alg);
      betterAuth = spawnTracked(`ba-server ${alg}`, process.execPath, [path.join(HERE, "ba-server.mjs"), alg], {
        cwd: HERE,
        env: { ...process.env, BA_DATABASE_URL: db.url, BETTER_AUTH_SECRET: secret },
      });
      const { baseURL } = await waitForReadyLine(betterAuth);

      const alice = await signUp(baseURL, "alice");
      const bob = await signUp(baseURL, "bob");
      const jwt = await fetchAccessToken(baseURL, alice.cookie);

      // The token really is what Better Auth issues for this algorithm.
      const header = decodeSegment(jwt.split(".")[0]);
      const claims = decodeSegment(jwt.split(".")[1]);
      assert.equal(header.alg, alg, `header ${JSON.stringify(header)}`);
      assert.equal(claims.sub, alice.id);
      assert.equal(claims.iss, baseURL);
      assert.equal(claims.aud, baseURL);

      const jwks = await http(`${baseURL}/api/auth/jwks`);
      if (alg === "HS256") {
        assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
        assert.equal(jwks.status, 404, "with jwt.sign, Better Auth serves no JWKS");
      } else {
        assert.equal(jwks.status, 200);
        const key = jwks.body.keys.find((k) => k.kid === header.kid);
        assert.ok(key, `kid ${header.kid} not in ${JSON.stringify(jwks.body)}`);
        assert.equal(key.alg, alg);
      }

      // --- taskgate --------------------------------------------------------------------------
      // On SQLite in a temp dir; the shared secret only when it is the key source (HS256), so a
      // JWKS-only taskgate makes its own server secret beside its database.
      const keySource =
        alg === "HS256" ? { BETTER_AUTH_SECRET: secret } : { TASKGATE_JWKS_URL: `${baseURL}/api/auth/jwks` };
      taskgate = await startTaskgate({
        label: `taskgate (${alg})`,
        tempPrefix: `taskgate-interop-${alg}-`,
        secret: false,
        env: { ...keySource, TASKGATE_JWT_ISSUER: baseURL, TASKGATE_JWT_AUDIENCE: baseURL },
      });
      const api = taskgate.url;

      const auth = (token) => ({ authorization: `Bearer ${token}` });
      const explain = (res) => `${res.status} ${JSON.stringify(res.body)}\n--- taskgate output:\n${taskgate.output()}`;

      const created = await http(`${api}/api/${alice.id}/tasks`, {
        method: "POST",
        headers: { ...auth(jwt), "content-type": "application/json" },
        body: JSON.stringify({ title: "from better auth" }),
      });
      assert.equal(created.status, 201, `create: ${explain(created)}`);
      assert.equal(created.body.title, "from better auth");

      const listed = await http(`${api}/api/${alice.id}/tasks`, { headers: auth(jwt) });
      assert.equal(listed.status, 200, `list: ${explain(listed)}`);
      assert.ok(Array.isArray(listed.body), `list body: ${JSON.stringify(listed.body)}`);
      assert.ok(
        listed.body.some((task) => task.id === created.body.id && task.title === "from better auth"),
        `created task not listed: ${JSON.stringify(listed.body)}`,
      );

      const foreign = await http(`${api}/api/${bob.id}/tasks`, { headers: auth(jwt) });
      assert.equal(foreign.status, 403, `another user's tasks: ${explain(foreign)}`);

      const tampered = await http(`${api}/api/${alice.id}/tasks`, { headers: auth(tamper(jwt)) });
      assert.equal(tampered.status, 401, `tampered token: ${explain(tampered)}`);
    } finally {
      await taskgate?.stop();
      await stopChild(betterAuth);
      if (db) await dropDatabase(db.name);
    }
  });
}

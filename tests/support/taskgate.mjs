// Starting taskgate for the Node test suites (tests/e2e, tests/interop): a real `taskgate` process
// on a free port, in a throw-away folder, with a scrubbed environment, ready once /healthz answers,
// and stopped (SIGTERM, then SIGKILL) when the test is done or, failing that, when node exits.
//
// Plain ESM on node's standard library only: tests/e2e and tests/interop each have their own
// node_modules, and this file is imported from both.
//
// Environment (optional):
//   TASKGATE_BIN   the taskgate binary (default: $CARGO_TARGET_DIR/debug/taskgate when
//                  CARGO_TARGET_DIR is set, else <repo>/target/debug/taskgate)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Where the taskgate binary is: TASKGATE_BIN, else cargo's debug build. */
export const TASKGATE_BIN = process.env.TASKGATE_BIN
  ? path.resolve(process.env.TASKGATE_BIN)
  : path.join(path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR ?? "target"), "debug", "taskgate");

const STARTUP_TIMEOUT_MS = 30_000; // RSA key generation, migrations and a slow shared machine included
const STOP_TIMEOUT_MS = 5_000;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
// Between two /healthz requests while taskgate starts; its exit is noticed at once, not polled.
const POLL_INTERVAL_MS = 50;
// A port another process takes between our probe and taskgate's bind makes taskgate exit at once;
// it is then started again on another port.
const LISTEN_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 16_000;

// ---------------------------------------------------------------------------------------------
// The last line of defence: what must not outlive this process even if no cleanup ran.

const liveChildren = new Set();
const liveTempDirs = new Set();

process.once("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
});
// Without these, Ctrl-C or a runner's SIGTERM ends node without running the `exit` hook above.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
}

/** A fresh temp dir, removed by `remove()` or, at the latest, when node exits. */
export function makeTempDir(prefix = "taskgate-test-") {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  liveTempDirs.add(dir);
  return {
    dir,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      liveTempDirs.delete(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/** A secret for `BETTER_AUTH_SECRET`: 32 random bytes, base64 (44 bytes, above the 32-byte minimum). */
export function newSecret() {
  return randomBytes(32).toString("base64");
}

/** Rejects after `ms` with `message`; the timer never keeps the process alive. */
export function rejectAfter(ms, message) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** Resolves after `ms`; the timer never keeps the process alive. */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A TCP port on `host` (127.0.0.1 unless given) that was free a moment ago. */
export function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether this machine can listen on `host` (e.g. `::1`: a container may have no IPv6 at all). */
export async function canListenOn(host) {
  try {
    await freePort(host);
    return true;
  } catch {
    return false;
  }
}

/** `host:port` as a URL or listen address writes it: an IPv6 address in brackets. */
function hostPort(host, port) {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The environment a taskgate process starts with: ours minus anything taskgate reads, plus `extra`. */
export function taskgateEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("TASKGATE_") || key === "DATABASE_URL" || key === "BETTER_AUTH_SECRET") continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Fails, saying how to get one, when there is no taskgate binary to run. */
export function assertBinary() {
  assert.ok(
    existsSync(TASKGATE_BIN),
    `no taskgate binary at ${TASKGATE_BIN}: run \`cargo build\` at the repo root, or set TASKGATE_BIN`,
  );
}

// ---------------------------------------------------------------------------------------------
// Child processes (taskgate, and any other server a test starts)

/**
 * Spawns a child process tracked for cleanup, keeping the tail of its output in `child.output`
 * for error messages. `child.exited` resolves with `{ code, signal }` once it has exited (or
 * could not be spawned at all).
 */
export function spawnTracked(label, command, args, { env, cwd }) {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  child.label = label;
  child.output = "";
  const keep = (chunk) => {
    child.output = (child.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // A child that could not be spawned emits "error" and never "exit".
    child.once("error", (error) => {
      keep(`spawn error: ${error.message}\n`);
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  liveChildren.add(child);
  child.exited.then(() => liveChildren.delete(child));
  return child;
}

function hasExited(child) {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM (taskgate shuts down gracefully on it), then SIGKILL after 5 s. Does nothing without a child. */
export async function stopChild(child) {
  if (!child) return;
  if (!hasExited(child)) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await child.exited;
    clearTimeout(timer);
  }
  // A grandchild could still hold the pipes open; don't let that keep this process alive.
  child.stdout.destroy();
  child.stderr.destroy();
}

/**
 * Waits until GET `url` answers 200, asking again every 50 ms for at most 30 s. Resolves
 * `{ exited: false }` then, or `{ exited: true }` as soon as `child` exits (its exit is an event
 * raced with each request and pause, not something found at the next poll).
 */
export async function waitForHealthy(child, url) {
  const exited = child.exited.then(() => "exited");
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    const answer = await Promise.race([
      exited,
      fetch(url, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) }).then(
        async (res) => {
          await res.arrayBuffer();
          return res.status;
        },
        (error) => error.cause?.code ?? error.message,
      ),
    ]);
    if (answer === "exited" || hasExited(child)) return { exited: true };
    if (answer === 200) return { exited: false };
    last = typeof answer === "number" ? `HTTP ${answer}` : answer;
    if ((await Promise.race([exited, delay(POLL_INTERVAL_MS)])) === "exited") return { exited: true };
  }
  throw new Error(`${child.label} not healthy at ${url} after ${STARTUP_TIMEOUT_MS} ms (${last}):\n${child.output}`);
}

// ---------------------------------------------------------------------------------------------
// taskgate

/**
 * Starts taskgate on a free port of `host` (127.0.0.1 unless given; `::1` for IPv6 loopback, `::`
 * for every address) in a fresh temp dir (its working directory, so no .env of the developer's is
 * read), and resolves once /healthz answers 200.
 *
 * Options:
 *   args       the command line (default `["serve"]`)
 *   env        added to a clean environment (no inherited TASKGATE_*, DATABASE_URL or
 *              BETTER_AUTH_SECRET); TASKGATE_LISTEN is always set by this function
 *   secret     when true (the default), a generated BETTER_AUTH_SECRET unless `env` has one
 *   database   when true (the default), DATABASE_URL=sqlite://<temp dir>/taskgate.db unless `env`
 *              has one; when false, taskgate's default (./data/taskgate.db in the temp dir)
 *   host       the address to listen on
 *   label      names the process in error messages (default "taskgate on <listen address>")
 *   tempPrefix the temp dir's name prefix
 *
 * Returns `{ url, origin, host, port, env, dir, child, output(), stop() }`: `env` is what was added
 * to the environment (besides TASKGATE_LISTEN), `url` and `origin` the same `http://host:port`
 * (loopback's when listening on every address). `stop()` stops the process and removes the temp
 * dir; call it when done (it runs anyway when node exits). When taskgate exits before it is
 * healthy, its output is in the error thrown, and everything is already cleaned up.
 */
export async function startTaskgate({
  args = ["serve"],
  env = {},
  secret = true,
  database = true,
  host = "127.0.0.1",
  label,
  tempPrefix = "taskgate-test-",
} = {}) {
  assertBinary();
  const temp = makeTempDir(tempPrefix);
  const serverEnv = {
    ...(secret ? { BETTER_AUTH_SECRET: newSecret() } : {}),
    ...(database ? { DATABASE_URL: `sqlite://${path.join(temp.dir, "taskgate.db")}` } : {}),
    ...env,
  };
  let child;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopChild(child);
    temp.remove();
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort(host);
      const listen = hostPort(host, port);
      child = spawnTracked(label ?? `taskgate on ${listen}`, TASKGATE_BIN, args, {
        cwd: temp.dir,
        env: taskgateEnv({ ...serverEnv, TASKGATE_LISTEN: listen }),
      });
      const origin = `http://${hostPort(host === "::" ? "::1" : host === "0.0.0.0" ? "127.0.0.1" : host, port)}`;
      const { exited } = await waitForHealthy(child, `${origin}/healthz`);
      if (exited) {
        await child.exited;
        if (/cannot listen/i.test(child.output) && attempt < LISTEN_ATTEMPTS) {
          await stopChild(child);
          continue;
        }
        throw new Error(`${child.label} exited (code ${child.exitCode}) before it was healthy:\n${child.output}`);
      }
      const running = child;
      return {
        url: origin,
        origin,
        host,
        port,
        env: serverEnv,
        dir: temp.dir,
        child: running,
        output: () => running.output,
        stop,
      };
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

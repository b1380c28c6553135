// A real Better Auth server (npm `better-auth` + its `jwt` plugin, PostgreSQL through `pg`),
// for taskgate's interoperability test.
//
// Usage: node ba-server.mjs <EdDSA|ES256|ES512|RS256|PS256|HS256>
// Environment:
//   BA_DATABASE_URL     postgres:// URL of an EMPTY database; Better Auth's own migrations are run on it
//   BETTER_AUTH_SECRET  at least 32 bytes
// It listens on 127.0.0.1 on a free port, and once ready prints exactly one JSON line on stdout:
//   {"ready":true,"baseURL":"http://127.0.0.1:<port>","alg":"<alg>"}
// It exits on SIGTERM/SIGINT.

import http from "node:http";
import { betterAuth } from "better-auth";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";
import { jwt } from "better-auth/plugins";
import { SignJWT } from "jose";
import pg from "pg";

const ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256", "HS256"];

/** The jwt plugin's options for one algorithm. */
function jwtPluginOptions(alg, baseURL, secret) {
  if (alg !== "HS256") {
    // Asymmetric: Better Auth mints the key pair itself (stored in its `jwks` table) and
    // publishes the public half at /api/auth/jwks. EdDSA is the plugin's default (Ed25519).
    return { jwks: { keyPairConfig: { alg } } };
  }
  // The plugin has no HS256 option; HS256 deployments sign through its `jwt.sign` hook.
  // Better Auth then insists on `jwks.remoteUrl` + `jwks.keyPairConfig.alg` (they are only
  // advertised in OpenID metadata) and its own /api/auth/jwks answers 404. Nothing fetches
  // this URL: the verifier holds the shared secret instead.
  const key = new TextEncoder().encode(secret);
  return {
    jwks: {
      remoteUrl: `${baseURL}/api/auth/jwks`,
      keyPairConfig: { alg: "HS256" },
    },
    jwt: {
      // `payload` already carries sub, iat, exp, iss and aud, filled in by the plugin.
      sign: (payload) => new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key),
    },
  };
}

async function main() {
  const alg = process.argv[2];
  if (!ALGORITHMS.includes(alg)) {
    throw new Error(`usage: node ba-server.mjs <${ALGORITHMS.join("|")}>`);
  }
  const databaseURL = process.env.BA_DATABASE_URL;
  const secret = process.env.BETTER_AUTH_SECRET;
  if (!databaseURL) throw new Error("BA_DATABASE_URL must be set");
  if (!secret || Buffer.byteLength(secret) < 32) throw new Error("BETTER_AUTH_SECRET must be >= 32 bytes");

  // Bind first, so the base URL (which becomes `iss` and `aud`) names the real port.
  let handler = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const baseURL = `http://127.0.0.1:${server.address().port}`;

  const pool = new pg.Pool({ connectionString: databaseURL, max: 5 });
  const options = {
    baseURL,
    secret,
    database: pool,
    emailAndPassword: { enabled: true },
    plugins: [jwt(jwtPluginOptions(alg, baseURL, secret))],
    telemetry: { enabled: false },
  };

  // Better Auth's own schema (user, session, account, verification, and jwks from the plugin).
  const { runMigrations } = await getMigrations(options);
  await runMigrations();

  const auth = betterAuth(options);
  handler = toNodeHandler(auth);

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  process.stdout.write(JSON.stringify({ ready: true, baseURL, alg }) + "\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// The app's client of taskgate's public API, used exactly as any other client would use it:
// the session cookie (HttpOnly, set by the server) for /api/auth, and a short-lived access token
// from /api/auth/token, kept in this module's memory only, for the task API.

/** Renew the access token this long before it expires. */
const RENEW_MARGIN_MS = 60_000;
const PAGE_SIZE = 100;

/**
 * An API refusal: `status`, the API's `code`, a message to show, and per-field errors.
 * `sessionEnded` says this refusal ended the session: the app is already on its way to sign-in,
 * so there is nothing to show where it happened.
 */
export class ApiError extends Error {
  constructor(status, code, message, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.sessionEnded = false;
    /** Seconds the server asked to wait before trying again (429, 503), when it said. */
    this.retryAfter = null;
    /** The resource's current `ETag` when the answer carried one (a 412 does). */
    this.etag = null;
  }
}

/**
 * The seconds a response's `Retry-After` (seconds or an HTTP date) or Better Auth's
 * `X-Retry-After` asks to wait, rounded up; null when neither says.
 */
export function retryAfterSeconds(headers) {
  for (const name of ["retry-after", "x-retry-after"]) {
    const value = headers.get(name)?.trim();
    if (!value) continue;
    if (/^\d+$/.test(value)) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }
  return null;
}

/** "8 seconds", "1 second", "2 minutes": how long to wait, in words, rounded up. */
function waitFor(seconds) {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** What a 429 says: how long to wait when the server said, instead of "later". */
function tooManyMessage(path, seconds) {
  const what = path.startsWith("/api/auth/") ? "Too many attempts." : "Too many requests.";
  if (seconds === null) return `${what} Please wait a moment and try again.`;
  if (seconds === 0) return `${what} Please try again now.`;
  return `${what} Try again in ${waitFor(seconds)}.`;
}

let onSignedOut = () => {};

/** `handler()` runs when the session turns out to have ended (a 401 the app cannot recover from). */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/**
 * One request. Errors become ApiError with the body's message (the task API's `detail` or
 * Better Auth's `message`). A 401 ends the session unless `expect401` (sign-in, first token use).
 */
async function send(
  path,
  { method = "GET", body, headers = {}, contentType = "application/json", expect401 = false } = {},
) {
  const init = { method, headers: { ...headers }, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    init.headers["content-type"] = contentType;
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "NETWORK", "The server cannot be reached. Check your connection and try again.");
  }
  const text = await response.text();
  let data = null;
  if (text !== "") {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const retryAfter = retryAfterSeconds(response.headers);
    const error = new ApiError(
      response.status,
      data?.error_code ?? data?.code ?? `HTTP_${response.status}`,
      response.status === 429
        ? tooManyMessage(path, retryAfter)
        : (data?.detail ?? data?.message ?? `The server answered ${response.status}.`),
      Array.isArray(data?.errors) ? data.errors : [],
    );
    error.retryAfter = retryAfter;
    error.etag = response.headers.get("etag");
    if (response.status === 401 && !expect401) {
      error.sessionEnded = true;
      forgetToken();
      onSignedOut();
    }
    throw error;
  }
  return { data, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------
// The access token: in memory only, renewed before it expires, one renewal shared by all callers.

let token = null; // { value, userId, renewAt }
let renewal = null;

function claimsOf(jwt) {
  const payload = jwt.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(json);
}

function remember(jwt) {
  const claims = claimsOf(jwt);
  // Lifetime from the token's own iat/exp, counted on this clock: a skewed clock does not matter.
  const lifetimeMs = (claims.exp - (claims.iat ?? Math.floor(Date.now() / 1000))) * 1000;
  token = { value: jwt, userId: claims.sub, renewAt: Date.now() + lifetimeMs - RENEW_MARGIN_MS };
  return token;
}

export function forgetToken() {
  token = null;
}

async function accessToken() {
  if (token !== null && Date.now() < token.renewAt) return token;
  renewal ??= send("/api/auth/token")
    .then(({ data }) => remember(data.token))
    .finally(() => {
      renewal = null;
    });
  return renewal;
}

/**
 * Calls `request(token)`; a 401 from the task API (the token expired early, or keys rotated) is
 * retried once with a fresh token, and a second 401 means the session is over.
 */
async function withToken(request) {
  const first = await accessToken();
  try {
    return await request(first, true);
  } catch (error) {
    if (error.status !== 401) throw error;
    forgetToken();
    return request(await accessToken(), false);
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts and sessions (/api/auth, Better Auth's protocol)

export const auth = {
  /** `{ session, user }`, or null when signed out. Its `set-auth-jwt` header seeds the token. */
  async session() {
    const { data, headers } = await send("/api/auth/get-session");
    const jwt = headers.get("set-auth-jwt");
    if (data && jwt) remember(jwt);
    return data;
  },
  async signUp({ name, email, password }) {
    forgetToken();
    return (await send("/api/auth/sign-up/email", { method: "POST", body: { name, email, password }, expect401: true }))
      .data;
  },
  async signIn({ email, password }) {
    forgetToken();
    return (await send("/api/auth/sign-in/email", { method: "POST", body: { email, password }, expect401: true })).data;
  },
  /** Resolves only once the server has ended the session; a refusal throws and the session lives on. */
  async signOut() {
    await send("/api/auth/sign-out", { method: "POST", body: {}, expect401: true });
    forgetToken();
  },
  async listSessions() {
    return (await send("/api/auth/list-sessions")).data;
  },
  async revokeSession(handle) {
    await send("/api/auth/revoke-session", { method: "POST", body: { token: handle } });
  },
  async revokeOtherSessions() {
    await send("/api/auth/revoke-other-sessions", { method: "POST", body: {} });
  },
  async changePassword({ currentPassword, newPassword, revokeOtherSessions }) {
    return (
      await send("/api/auth/change-password", {
        method: "POST",
        body: { currentPassword, newPassword, revokeOtherSessions },
      })
    ).data;
  },
  async updateUser({ name }) {
    await send("/api/auth/update-user", { method: "POST", body: { name } });
  },
};

// ---------------------------------------------------------------------------------------------
// Tasks (/api/{user_id}/tasks, with the bearer token)

function userUrl(userId) {
  return `/api/${encodeURIComponent(userId)}`;
}

function taskUrl(userId, id) {
  return `${userUrl(userId)}/tasks/${encodeURIComponent(id)}`;
}

function bearer(current) {
  return { authorization: `Bearer ${current.value}` };
}

/**
 * The preconditions of a change to a task (or a list): the version the person saw. The server refuses the
 * change with 412 when the task has changed since, so nobody overwrites what they have not seen.
 */
function ifMatch(current, version) {
  return { ...bearer(current), "if-match": `"${version}"` };
}

/** The `rel="next"` target of a Link header, if any. */
function nextLink(link) {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? "");
  return match ? match[1] : null;
}

/** 128 random bits as hex (crypto.randomUUID exists only in secure contexts; this works on plain http too). */
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `query` (URLSearchParams of filters and sort) with a page size, as a query string. */
function withLimit(query, limit) {
  const params = new URLSearchParams(query);
  params.set("limit", String(limit));
  return params.toString();
}

export const tasks = {
  /**
   * The first page of the tasks `query` finds (URLSearchParams: filters and sort), or the page at
   * `next` (the previous page's link, which carries them): `{ items, total, next }`.
   */
  async page({ query = new URLSearchParams(), next = null } = {}) {
    return withToken(async (current, retry) => {
      const url = next ?? `${userUrl(current.userId)}/tasks?${withLimit(query, PAGE_SIZE)}`;
      const { data, headers } = await send(url, { headers: bearer(current), expect401: retry });
      return {
        items: data,
        total: Number(headers.get("x-total-count") ?? data.length),
        next: nextLink(headers.get("link")),
      };
    });
  },
  /** How many tasks `query` finds (the smallest page, for its `X-Total-Count`). */
  async count(query) {
    return withToken(async (current, retry) => {
      const url = `${userUrl(current.userId)}/tasks?${withLimit(query, 1)}`;
      const { data, headers } = await send(url, { headers: bearer(current), expect401: retry });
      return Number(headers.get("x-total-count") ?? data.length);
    });
  },
  /** One task as it is now. */
  async get(id) {
    return withToken(async (current, retry) => {
      const { data } = await send(taskUrl(current.userId, id), { headers: bearer(current), expect401: retry });
      return data;
    });
  },
  /** `fields`: title, description, priority, tags, due (as the API names them). */
  async create(fields) {
    // One key per task: a retried POST (a lost answer, a second token) creates it once.
    const key = randomKey();
    return withToken(async (current, retry) => {
      const { data } = await send(`${userUrl(current.userId)}/tasks`, {
        method: "POST",
        headers: { ...bearer(current), "idempotency-key": key },
        body: fields,
        expect401: retry,
      });
      return data;
    });
  },
  /** Changes the members of `changes` (a JSON merge patch) of the task at `version`; 412 if it moved on. */
  async patch(id, version, changes) {
    return withToken(async (current, retry) => {
      const { data } = await send(taskUrl(current.userId, id), {
        method: "PATCH",
        headers: ifMatch(current, version),
        body: changes,
        contentType: "application/merge-patch+json",
        expect401: retry,
      });
      return data;
    });
  },
  async setCompleted(id, version, completed) {
    return withToken(async (current, retry) => {
      const { data } = await send(`${taskUrl(current.userId, id)}/complete`, {
        method: "PATCH",
        headers: ifMatch(current, version),
        body: { completed },
        expect401: retry,
      });
      return data;
    });
  },
  /** Deletes the task; `subtasks: true` deletes its subtasks with it (else a task with subtasks is refused, 409). */
  async remove(id, version, { subtasks = false } = {}) {
    return withToken(async (current, retry) => {
      await send(`${taskUrl(current.userId, id)}${subtasks ? "?subtasks=delete" : ""}`, {
        method: "DELETE",
        headers: ifMatch(current, version),
        expect401: retry,
      });
    });
  },
  /**
   * How many subtasks `id` has, at every level below it (asked level by level with `parent=`: a
   * task has at most three levels below it).
   */
  async subtreeSize(id) {
    let size = 0;
    let level = [id];
    while (level.length > 0) {
      const below = [];
      for (const parent of level) {
        let page = await this.page({ query: new URLSearchParams({ parent }) });
        for (;;) {
          below.push(...page.items.map((task) => task.id));
          if (!page.next) break;
          page = await this.page({ next: page.next });
        }
      }
      size += below.length;
      level = below;
    }
    return size;
  },
};

// ---------------------------------------------------------------------------------------------
// Lists (/api/{user_id}/lists): the person's lists with their task counts

function listUrl(userId, id) {
  return `${userUrl(userId)}/lists/${encodeURIComponent(id)}`;
}

export const lists = {
  /** `[{ id, name, color, position, tasks, open, version }]`, by position then name. */
  async list() {
    return withToken(async (current, retry) => {
      const { data } = await send(`${userUrl(current.userId)}/lists`, { headers: bearer(current), expect401: retry });
      return data;
    });
  },
  /** One list as it is now (its counts and version). */
  async get(id) {
    return withToken(async (current, retry) => {
      const { data } = await send(listUrl(current.userId, id), { headers: bearer(current), expect401: retry });
      return data;
    });
  },
  /** `fields`: name and color (`#rrggbb`). */
  async create(fields) {
    return withToken(async (current, retry) => {
      const { data } = await send(`${userUrl(current.userId)}/lists`, {
        method: "POST",
        headers: bearer(current),
        body: fields,
        expect401: retry,
      });
      return data;
    });
  },
  /** Changes the members of `changes` (name, color, position) of the list at `version`; 412 if it moved on. */
  async patch(id, version, changes) {
    return withToken(async (current, retry) => {
      const { data } = await send(listUrl(current.userId, id), {
        method: "PATCH",
        headers: ifMatch(current, version),
        body: changes,
        contentType: "application/merge-patch+json",
        expect401: retry,
      });
      return data;
    });
  },
  /**
   * Deletes the list at `version`. `tasks`: what becomes of its tasks, "inbox" (moved there) or
   * "delete"; without it a list that has tasks is refused (409 `LIST_NOT_EMPTY`).
   */
  async remove(id, version, { tasks = null } = {}) {
    return withToken(async (current, retry) => {
      const query = tasks ? `?tasks=${encodeURIComponent(tasks)}` : "";
      await send(`${listUrl(current.userId, id)}${query}`, {
        method: "DELETE",
        headers: ifMatch(current, version),
        expect401: retry,
      });
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Tags (/api/{user_id}/tags): the person's tags with their counts, renamed or deleted everywhere

function tagUrl(userId, name) {
  return `${userUrl(userId)}/tags/${encodeURIComponent(name)}`;
}

export const tags = {
  /** `[{ name, tasks, open }]`, by name. */
  async list() {
    return withToken(async (current, retry) => {
      const { data } = await send(`${userUrl(current.userId)}/tags`, { headers: bearer(current), expect401: retry });
      return data;
    });
  },
  /** Renames `name` on every task (merging it into `to` when that tag exists already). */
  async rename(name, to) {
    return withToken(async (current, retry) => {
      const { data } = await send(tagUrl(current.userId, name), {
        method: "PATCH",
        headers: bearer(current),
        body: { name: to },
        expect401: retry,
      });
      return data;
    });
  },
  /** Takes `name` off every task; the tasks stay. */
  async remove(name) {
    return withToken(async (current, retry) => {
      await send(tagUrl(current.userId, name), { method: "DELETE", headers: bearer(current), expect401: retry });
    });
  },
};

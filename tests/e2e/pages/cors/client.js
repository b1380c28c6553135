// A minimal front end for taskgate on another origin: what a Next.js app's task calls boil down
// to. Every call resolves to a plain object (never throws), so a test can tell a CORS refusal
// (fetch's TypeError) from an HTTP error.
"use strict";

(() => {
  let config = null;

  // The response headers a cross-origin script may want; those neither CORS-safelisted nor in
  // Access-Control-Expose-Headers read as null.
  const HEADERS = ["location", "link", "x-total-count", "x-request-id", "etag", "x-content-type-options"];

  async function call(method, pathOrUrl, { body, credentials = "same-origin" } = {}) {
    if (!config) throw new Error("taskgate.configure({ api, user, token }) first");
    const init = {
      method,
      headers: { Authorization: "Bearer " + config.token, "Content-Type": "application/json" },
      credentials,
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res;
    try {
      res = await fetch(new URL(pathOrUrl, config.api), init);
    } catch (error) {
      return { ok: false, error: { name: error.name, message: error.message } };
    }
    const text = await res.text();
    const headers = {};
    for (const name of HEADERS) headers[name] = res.headers.get(name);
    return {
      ok: true,
      status: res.status,
      headers,
      visibleHeaders: [...res.headers.keys()],
      body: text ? JSON.parse(text) : null,
    };
  }

  const tasks = () => `/api/${encodeURIComponent(config.user)}/tasks`;

  window.taskgate = {
    configure(value) {
      config = value;
    },
    create: (title) => call("POST", tasks(), { body: { title } }),
    list: (query = "") => call("GET", tasks() + query),
    get: (pathOrUrl) => call("GET", pathOrUrl),
    replace: (id, task) => call("PUT", `${tasks()}/${id}`, { body: task }),
    toggle: (id) => call("PATCH", `${tasks()}/${id}/complete`),
    remove: (id) => call("DELETE", `${tasks()}/${id}`),
    call,
    // The target of a Link header's rel="next", or null.
    nextLink(link) {
      const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? "");
      return match ? match[1] : null;
    },
  };
})();

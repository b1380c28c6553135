// Client-side routing with the History API: the server answers every app path with index.html,
// and this module decides which page it is.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";

const listeners = new Set();

function current() {
  return { path: location.pathname, search: location.search };
}

/** Goes to `to` (a same-origin path) without a page load. */
export function navigate(to, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", to);
  for (const listener of listeners) listener();
}

addEventListener("popstate", () => {
  for (const listener of listeners) listener();
});

/** The current `{ path, search }`, re-rendering on every navigation. */
export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const listener = () => setWhere(current());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return where;
}

/** Where the person is now, as a `next` value for the sign-in page. */
export function here() {
  return location.pathname + location.search;
}

/**
 * `value` when it is a path of this origin, else `fallback`: a `next` parameter can never send the
 * person to another site (`//evil.example`, `/\evil.example`, `https://...`, `javascript:`).
 *
 * The path is checked again once resolved: dot segments can turn a harmless-looking value into a
 * protocol-relative one (`/.//evil.example`, `/%2e//evil.example` and `/x/..//evil.example` all
 * resolve to `//evil.example`), which the History API and `location` would read as another host.
 */
export function safeNext(value, fallback = "/tasks") {
  if (typeof value !== "string" || !isLocalPath(value)) return fallback;
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin) return fallback;
  const path = url.pathname + url.search + url.hash;
  if (!isLocalPath(path)) return fallback;
  return /^\/sign-(in|up)(?:[/?#]|$)/.test(url.pathname) ? fallback : path;
}

/** One leading slash, not two; no backslash (browsers read it as a slash) and no control character. */
function isLocalPath(path) {
  return path.startsWith("/") && !path.startsWith("//") && !/[\u0000-\u001f\u007f\\]/.test(path);
}

/** A link that navigates in the app; modified clicks (new tab, ...) are left to the browser. */
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

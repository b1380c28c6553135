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
 */
export function safeNext(value, fallback = "/tasks") {
  if (typeof value !== "string" || !value.startsWith("/") || /[\u0000-\u001f\\]/.test(value)) return fallback;
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin || value.startsWith("//")) return fallback;
  const path = url.pathname + url.search + url.hash;
  return path.startsWith("/sign-in") || path.startsWith("/sign-up") ? fallback : path;
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

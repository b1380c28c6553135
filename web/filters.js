// Finding tasks: the search box, the filters (open or completed, priority, due, tags) and the sort
// order, within the list chosen in the sidebar (or among every task). They live in the page's
// address (`/tasks?list=inbox&q=milk&due=today`), so a reload, the way back from sign-in or a
// shared link shows the same list; the server does the finding.

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";
import { browserZone, thisWeek, today } from "./dates.js";
import { SelectField } from "./ui.js";

export const SHOW = [
  { id: "all", label: "All" },
  { id: "active", label: "Active" },
  { id: "completed", label: "Completed" },
];

/** The priority filter's choices: `values` are the API's `priority=` values (any of them). */
export const PRIORITY_FILTERS = [
  { id: "", label: "Any priority", values: [] },
  { id: "high", label: "High", values: ["high"] },
  { id: "medium-high", label: "Medium or high", values: ["medium", "high"] },
  { id: "medium", label: "Medium", values: ["medium"] },
  { id: "low", label: "Low", values: ["low"] },
  { id: "none", label: "No priority", values: ["none"] },
];

export const DUE_FILTERS = [
  { id: "", label: "Any time" },
  { id: "today", label: "Due today" },
  { id: "overdue", label: "Overdue" },
  { id: "week", label: "Due this week" },
  { id: "none", label: "No due date" },
];

export const SORTS = [
  { id: "created-desc", label: "Newest first" },
  { id: "created-asc", label: "Oldest first" },
  { id: "updated-desc", label: "Recently changed" },
  { id: "due-asc", label: "Due date, soonest first" },
  { id: "due-desc", label: "Due date, latest first" },
  { id: "priority-desc", label: "Priority, highest first" },
  { id: "priority-asc", label: "Priority, lowest first" },
  { id: "title-asc", label: "Title, A to Z" },
  { id: "title-desc", label: "Title, Z to A" },
];

const DEFAULT_SORT = SORTS[0].id;

const known = (choices, id, fallback) => (choices.some((choice) => choice.id === id) ? id : fallback);

/** The filters an address's query string names; anything unknown is left at its default. */
export function filtersFrom(search) {
  const params = new URLSearchParams(search);
  const tags = [];
  for (const tag of params.getAll("tag")) {
    if (tag.trim() !== "" && !tags.some((t) => t.toLowerCase() === tag.toLowerCase())) tags.push(tag);
  }
  return {
    // "" for every task, "inbox" for tasks in no list, else a list's id.
    list: params.get("list")?.trim() ?? "",
    q: params.get("q") ?? "",
    show: known(SHOW, params.get("show"), "all"),
    priority: known(PRIORITY_FILTERS, params.get("priority"), ""),
    due: known(DUE_FILTERS, params.get("due"), ""),
    tags,
    sort: known(SORTS, params.get("sort"), DEFAULT_SORT),
  };
}

/** The query string for the page's address ("" when every filter is at its default). */
export function searchOf(filters) {
  const params = new URLSearchParams();
  if (filters.list) params.set("list", filters.list);
  if (filters.q.trim() !== "") params.set("q", filters.q);
  if (filters.show !== "all") params.set("show", filters.show);
  if (filters.priority) params.set("priority", filters.priority);
  if (filters.due) params.set("due", filters.due);
  for (const tag of filters.tags) params.append("tag", tag);
  if (filters.sort !== DEFAULT_SORT) params.set("sort", filters.sort);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Whether anything narrows the list (the sort order does not, nor the list shown, which is chosen in the sidebar). */
export function isFiltered(filters) {
  return filters.q.trim() !== "" || filters.show !== "all" || filters.priority !== "" || filters.due !== "" || filters.tags.length > 0;
}

/** The same filters with nothing narrowing the list, the sort order and the list shown kept. */
export function cleared(filters) {
  return { ...filters, q: "", show: "all", priority: "", due: "", tags: [] };
}

/** Whether `tag` is one of the tag filters (names compare case-insensitively). */
export function hasTag(filters, tag) {
  return filters.tags.some((t) => t.toLowerCase() === tag.toLowerCase());
}

/** The filters with `tag` added, or taken out when it is there already. */
export function toggleTag(filters, tag) {
  return hasTag(filters, tag)
    ? { ...filters, tags: filters.tags.filter((t) => t.toLowerCase() !== tag.toLowerCase()) }
    : { ...filters, tags: [...filters.tags, tag] };
}

/**
 * The task API's query parameters for `filters`: dates ("today", "this week") and "overdue" are
 * the browser's, in its time zone.
 */
export function apiQuery(filters, now = new Date()) {
  const params = new URLSearchParams();
  if (filters.list) params.set("list", filters.list);
  const q = filters.q.trim();
  if (q !== "") params.set("q", q);
  if (filters.show !== "all") params.set("completed", filters.show === "completed" ? "true" : "false");
  for (const value of PRIORITY_FILTERS.find((f) => f.id === filters.priority)?.values ?? []) {
    params.append("priority", value);
  }
  for (const tag of filters.tags) params.append("tag", tag);
  if (filters.due === "today") {
    params.set("due_from", today(now));
    params.set("due_to", today(now));
  } else if (filters.due === "week") {
    const { from, to } = thisWeek(now);
    params.set("due_from", from);
    params.set("due_to", to);
  } else if (filters.due === "overdue") {
    params.set("overdue", "true");
    params.set("tz", browserZone());
  } else if (filters.due === "none") {
    params.set("has_due", "false");
  }
  if (filters.sort !== DEFAULT_SORT) {
    const [sort, order] = filters.sort.split("-");
    params.set("sort", sort);
    params.set("order", order);
  }
  return params;
}

/** What narrows the list, in words: "matching “milk”, high priority, tagged Work and Home". */
export function describe(filters) {
  const said = [];
  if (filters.q.trim() !== "") said.push(`matching “${filters.q.trim()}”`);
  if (filters.show === "active") said.push("not completed");
  if (filters.show === "completed") said.push("completed");
  const priority = PRIORITY_FILTERS.find((f) => f.id === filters.priority);
  if (priority?.id) said.push(priority.id === "none" ? "no priority" : `${priority.label.toLowerCase()} priority`);
  const due = DUE_FILTERS.find((f) => f.id === filters.due);
  if (due?.id) said.push(due.label.toLowerCase());
  if (filters.tags.length > 0) said.push(`tagged ${filters.tags.map((t) => `“${t}”`).join(" and ")}`);
  return said.join(", ");
}

/** Typing in the search box asks the server once the person pauses this long. */
const SEARCH_PAUSE_MS = 300;

/** The search box, the filters and the sort order; `onChange(filters)` with every change. */
export function Finder({ filters, onChange }) {
  const [typed, setTyped] = useState(filters.q);
  const sent = useRef(filters.q);
  const timer = useRef(null);
  // Filters cleared elsewhere ("Clear filters", a link) empty the box too.
  useEffect(() => {
    if (filters.q !== sent.current) {
      clearTimeout(timer.current);
      sent.current = filters.q;
      setTyped(filters.q);
    }
  }, [filters.q]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const search = (q) => {
    clearTimeout(timer.current);
    if (q === sent.current) return;
    sent.current = q;
    onChange({ ...filters, q });
  };
  const onInput = (event) => {
    const q = event.currentTarget.value;
    setTyped(q);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => search(q), SEARCH_PAUSE_MS);
  };
  const set = (name) => (event) => onChange({ ...filters, [name]: event.currentTarget.value });

  return html`<section class="card finder" aria-label="Find tasks">
    <form
      role="search"
      class="field"
      onSubmit=${(event) => {
        event.preventDefault();
        search(typed);
      }}
    >
      <label for="search">Search tasks</label>
      <input
        type="search"
        id="search"
        autocomplete="off"
        placeholder="Words from a title or description"
        value=${typed}
        onInput=${onInput}
      />
    </form>
    <div class="field">
      <span class="label" id="show-label">Show</span>
      <div class="filters" role="group" aria-labelledby="show-label">
        ${SHOW.map(
          (choice) =>
            html`<button
              type="button"
              class="chip"
              aria-pressed=${choice.id === filters.show ? "true" : "false"}
              onClick=${() => onChange({ ...filters, show: choice.id })}
            >
              ${choice.label}
            </button>`,
        )}
      </div>
    </div>
    <div class="finder-row">
      <${SelectField} id="filter-priority" label="Priority" value=${filters.priority} onChange=${set("priority")}>
        ${PRIORITY_FILTERS.map((f) => html`<option value=${f.id}>${f.label}</option>`)}
      <//>
      <${SelectField} id="filter-due" label="Due" value=${filters.due} onChange=${set("due")}>
        ${DUE_FILTERS.map((f) => html`<option value=${f.id}>${f.label}</option>`)}
      <//>
      <${SelectField} id="sort" label="Sort by" value=${filters.sort} onChange=${set("sort")}>
        ${SORTS.map((s) => html`<option value=${s.id}>${s.label}</option>`)}
      <//>
    </div>
  </section>`;
}

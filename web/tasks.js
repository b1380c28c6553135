// The task list: add, edit, complete and delete (after a confirmation) the person's tasks, and
// find them again (search, filters, sort and tags; the server does the finding). Completion and
// deletion are optimistic and put back if the server refuses; adding and editing wait for the
// server, whose errors appear next to the field they are about. Every change names the version
// of the task the person saw: when it was changed elsewhere meanwhile, the app shows the task as
// it is now, says so, and keeps what the person typed.

import { html, useEffect, useMemo, useRef, useState } from "./vendor/preact-htm.module.js";
import { tags as tagsApi, tasks as api } from "./api.js";
import { dueWords, isOverdue } from "./dates.js";
import { Finder, apiQuery, cleared, describe, filtersFrom, hasTag, isFiltered, searchOf, toggleTag } from "./filters.js";
import { navigate, useLocation } from "./router.js";
import { TagsPanel } from "./tags.js";
import { DetailsFields, PRIORITIES, changedWords, checkValues, draftOf, patchOf, taskErrors, valuesOf } from "./taskform.js";
import { Alert, ConfirmDialog, Field, Page, announce, useSubmit } from "./ui.js";

const quoted = (title) => `“${title}”`;
const tasksWord = (n) => `${n} ${n === 1 ? "task" : "tasks"}`;

/** The time now, again every minute: "Overdue" appears when a due passes with the page open. */
function useNow() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** What the list says when it is empty. */
function emptyText(filters) {
  if (isFiltered({ ...filters, show: "all" })) return "No tasks match these filters.";
  if (filters.show === "active") return "Nothing left to do.";
  if (filters.show === "completed") return "No completed tasks yet.";
  return "No tasks yet. Add your first one above.";
}

export function TaskList() {
  const where = useLocation();
  const filters = useMemo(() => filtersFrom(where.search), [where.search]);
  const view = searchOf(filters);
  const setFilters = (next) => navigate(`/tasks${searchOf(next)}`, { replace: true });

  // `open`: how many of the found tasks are not completed (counted only when both kinds are shown).
  const [state, setState] = useState({ status: "loading", items: [], total: 0, open: null, next: null, error: null });
  const [tagList, setTagList] = useState({ items: [], error: null });
  const [editing, setEditing] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [rowErrors, setRowErrors] = useState({});
  const listHeading = useRef(null);
  // Answers to anything but the latest load (or tag list) are dropped: typing outruns the server.
  const loads = useRef(0);
  const tagLoads = useRef(0);
  const shownView = useRef(null);
  const now = useNow();

  /** Loads the first page of the current view; resolves with it (null when it failed or was overtaken). */
  const load = async () => {
    const ticket = ++loads.current;
    setState((before) => ({
      ...before,
      status: before.status === "ready" || before.status === "refreshing" ? "refreshing" : "loading",
      error: null,
    }));
    try {
      const [page, open] = await Promise.all([
        api.page({ query: apiQuery(filters) }),
        filters.show === "all" ? api.count(apiQuery({ ...filters, show: "active" })) : null,
      ]);
      if (ticket !== loads.current) return null;
      setState({ status: "ready", ...page, open, error: null });
      return page;
    } catch (error) {
      if (ticket === loads.current && !error.sessionEnded) {
        setState((before) => ({ ...before, status: "error", error: error.message }));
      }
      return null;
    }
  };

  const loadTags = async () => {
    const ticket = ++tagLoads.current;
    try {
      const items = await tagsApi.list();
      if (ticket === tagLoads.current) setTagList({ items, error: null });
    } catch (error) {
      if (ticket === tagLoads.current && !error.sessionEnded) setTagList((before) => ({ ...before, error: error.message }));
    }
  };

  useEffect(() => {
    loadTags();
  }, []);
  useEffect(() => {
    // A change of view (not the first list) is announced: the list changed where the person is not.
    const changed = shownView.current !== null && shownView.current !== view;
    shownView.current = view;
    load().then((page) => {
      if (changed && page) announce(page.total === 0 ? "No tasks found." : `${tasksWord(page.total)} found.`);
    });
  }, [view]);

  const loadMore = async () => {
    const ticket = loads.current;
    setState((before) => ({ ...before, status: "loading-more" }));
    try {
      const page = await api.page({ next: state.next });
      if (ticket !== loads.current) return;
      setState((before) => {
        const known = new Set(before.items.map((task) => task.id));
        return {
          ...before,
          ...page,
          items: [...before.items, ...page.items.filter((task) => !known.has(task.id))],
          status: "ready",
          error: null,
        };
      });
    } catch (error) {
      if (ticket === loads.current) setState((before) => ({ ...before, status: "ready", error: error.message }));
    }
  };

  /**
   * The counts once a listed task's `completed` goes from `was` to `now`; undefined stands for
   * "not in the list" (added, or deleted). A task stays listed when it stops matching the view
   * (completed under "Active"), so it does not vanish under the pointer; the count says it left.
   */
  const recount = (before, was, now) => {
    if (was === now) return before;
    let { total, open } = before;
    const shown = (completed) => filters.show === "all" || (filters.show === "completed") === completed;
    if (was !== undefined && shown(was)) total -= 1;
    if (now !== undefined && shown(now)) total += 1;
    if (open !== null) open += (was === false ? -1 : 0) + (now === false ? 1 : 0);
    return { ...before, total, open };
  };
  /** Shows `task` (a newer version of one in the list) in place of the one there. */
  const put = (task) =>
    setState((before) => {
      const old = before.items.find((t) => t.id === task.id);
      if (!old) return before;
      return { ...recount(before, old.completed, task.completed), items: before.items.map((t) => (t.id === task.id ? task : t)) };
    });
  const drop = (id) =>
    setState((before) => {
      const old = before.items.find((t) => t.id === id);
      if (!old) return before;
      return { ...recount(before, old.completed, undefined), items: before.items.filter((t) => t.id !== id) };
    });
  const rowError = (id, message) => setRowErrors((before) => ({ ...before, [id]: message }));

  /**
   * `task` changed elsewhere since the list got it, so `what` was not done: show it as it is now
   * (or take it away, if it is gone), and say so by the task.
   */
  const changedElsewhere = async (task, what) => {
    try {
      put(await api.get(task.id));
      rowError(task.id, `${what}: this task was changed elsewhere, and is shown as it is now. Try again if you still want to.`);
    } catch (error) {
      if (error.status === 404) {
        drop(task.id);
        announce(`${quoted(task.title)} was deleted elsewhere.`);
      } else if (!error.sessionEnded) {
        rowError(task.id, `${what}: this task was changed elsewhere. ${error.message}`);
      }
    }
  };

  const added = async (task) => {
    loadTags();
    if (!isFiltered(filters) && filters.sort === "created-desc") {
      // Newest first and nothing filtered: its place is the top.
      setState((before) => ({ ...recount(before, undefined, task.completed), items: [task, ...before.items] }));
      announce(`Added ${quoted(task.title)}.`);
      return;
    }
    const page = await load();
    const hidden = page && !page.items.some((t) => t.id === task.id);
    const where = isFiltered(filters) ? "It does not match the filters, so it is not shown." : "It is further down the list.";
    announce(`Added ${quoted(task.title)}.${hidden ? ` ${where}` : ""}`);
  };

  const toggle = async (task) => {
    const wanted = !task.completed;
    rowError(task.id, null);
    put({ ...task, completed: wanted });
    try {
      put(await api.setCompleted(task.id, task.version, wanted));
      announce(`${quoted(task.title)} marked ${wanted ? "completed" : "not completed"}.`);
      loadTags();
    } catch (error) {
      put(task);
      if (error.status === 412) changedElsewhere(task, `Not marked ${wanted ? "completed" : "not completed"}`);
      else if (!error.sessionEnded) rowError(task.id, `Could not update this task: ${error.message}`);
    }
  };

  const remove = async (task) => {
    setConfirming(null);
    rowError(task.id, null);
    const index = state.items.findIndex((t) => t.id === task.id);
    drop(task.id);
    listHeading.current?.focus();
    try {
      await api.remove(task.id, task.version);
      announce(`Deleted ${quoted(task.title)}.`);
      loadTags();
    } catch (error) {
      if (error.status === 404) return; // already gone: the list is right
      setState((before) => {
        const items = [...before.items];
        items.splice(Math.min(index, items.length), 0, task);
        return { ...recount(before, undefined, task.completed), items };
      });
      if (error.status === 412) changedElsewhere(task, "Not deleted");
      else if (!error.sessionEnded) rowError(task.id, `Could not delete this task: ${error.message}`);
    }
  };

  const focusEdit = (id) => requestAnimationFrame(() => document.getElementById(`edit-${id}`)?.focus());
  const saved = (task, changed) => {
    put(task);
    rowError(task.id, null);
    setEditing(null);
    announce(changed ? `Saved ${quoted(task.title)}.` : "Nothing was changed.");
    if (changed) loadTags();
    focusEdit(task.id);
  };
  const cancelEdit = (id) => {
    setEditing(null);
    focusEdit(id);
  };
  const discarded = (id) => {
    setEditing(null);
    announce("Your changes were discarded.");
    focusEdit(id);
  };
  const goneAway = (id) => {
    setEditing(null);
    drop(id);
    announce("Your changes were discarded.");
    listHeading.current?.focus();
  };
  const recreated = (oldId, task) => {
    setEditing(null);
    drop(oldId);
    added(task);
  };
  const cancelDelete = (id) => {
    setConfirming(null);
    requestAnimationFrame(() => document.getElementById(`delete-${id}`)?.focus());
  };

  const toggleTagFilter = (name) => setFilters(toggleTag(filters, name));
  /** A tag was renamed (`to`) or deleted (`to` null) on every task: the filters follow it. */
  const tagsChanged = ({ from, to }) => {
    loadTags();
    if (!hasTag(filters, from)) {
      load();
      return;
    }
    const rest = filters.tags.filter((t) => t.toLowerCase() !== from.toLowerCase());
    setFilters({ ...filters, tags: to === null || hasTag({ tags: rest }, to) ? rest : [...rest, to] });
  };

  const filtered = isFiltered(filters);
  const counted = state.status !== "loading" && state.status !== "error";
  const busy = state.status === "refreshing";

  return html`<${Page} title="Tasks" heading="Your tasks">
    <${NewTask} onAdded=${added} />
    <${Finder} filters=${filters} onChange=${setFilters} />
    <${TagsPanel}
      tags=${tagList.items}
      error=${tagList.error}
      isSelected=${(name) => hasTag(filters, name)}
      onToggle=${toggleTagFilter}
      onChanged=${tagsChanged}
    />
    <div class="list-head">
      <h2 tabindex="-1" ref=${listHeading} id="list-heading">
        ${counted ? tasksWord(state.total) : "Tasks"}
        ${counted && state.open !== null && state.total > 0 && html`<span class="muted">, ${state.open} to do</span>`}
      </h2>
      ${
        filtered &&
        html`<button type="button" class="quiet" onClick=${() => setFilters(cleared(filters))}>Clear filters</button>`
      }
    </div>
    ${filtered && html`<p class="muted list-filters">Showing tasks ${describe(filters)}.</p>`}
    ${state.status === "loading" && html`<p class="placeholder" role="status">Loading your tasks…</p>`}
    ${
      state.status === "error" &&
      html`<div class="card error-state">
        <${Alert}>Your tasks could not be loaded: ${state.error}<//>
        <button type="button" onClick=${load}>Try again</button>
      </div>`
    }
    ${
      counted &&
      html`${
        state.items.length === 0
          ? html`<p class="placeholder">${busy ? "Looking…" : emptyText(filters)}</p>`
          : html`<ul class=${busy ? "tasks busy" : "tasks"} aria-labelledby="list-heading" aria-busy=${busy ? "true" : "false"}>
              ${state.items.map((task) =>
                editing === task.id
                  ? html`<${EditTask}
                      key=${task.id}
                      task=${task}
                      now=${now}
                      onSaved=${saved}
                      onCancel=${() => cancelEdit(task.id)}
                      onDiscard=${() => discarded(task.id)}
                      onCurrent=${put}
                      onGone=${() => goneAway(task.id)}
                      onRecreated=${(created) => recreated(task.id, created)}
                    />`
                  : html`<${TaskItem}
                      key=${task.id}
                      task=${task}
                      now=${now}
                      error=${rowErrors[task.id]}
                      isSelected=${(name) => hasTag(filters, name)}
                      onTag=${toggleTagFilter}
                      onToggle=${() => toggle(task)}
                      onEdit=${() => setEditing(task.id)}
                      onDelete=${() => setConfirming(task)}
                    />`,
              )}
            </ul>`
      }
      ${state.error && html`<${Alert}>${state.error}<//>`}
      ${
        state.next &&
        html`<button type="button" class="more" onClick=${loadMore} disabled=${state.status === "loading-more"}>
          ${state.status === "loading-more" ? "Loading…" : "Load more tasks"}
        </button>`
      }`
    }
    ${
      confirming &&
      html`<${ConfirmDialog}
        title="Delete this task?"
        confirm="Delete"
        onConfirm=${() => remove(confirming)}
        onCancel=${() => cancelDelete(confirming.id)}
      >
        ${quoted(confirming.title)} will be deleted. This cannot be undone.
      <//>`
    }
  <//>`;
}

function NewTask({ onAdded }) {
  const titleRef = useRef(null);
  const { values, setValues, bind, formRef, errors, busy, onSubmit } = useSubmit(
    valuesOf(),
    async (typed) => {
      onAdded(await api.create(draftOf(typed)));
      setValues(valuesOf());
      titleRef.current?.focus();
    },
    { check: checkValues, errorsOf: (error) => taskErrors(error, values) },
  );
  return html`<form class="card new-task" ref=${formRef} onSubmit=${onSubmit} novalidate aria-label="Add a task">
    <${Field}
      id="new-title"
      label="Title"
      inputRef=${titleRef}
      maxlength="200"
      autocomplete="off"
      placeholder="What needs doing?"
      error=${errors.fields.title}
      ...${bind("title")}
    />
    <${Field}
      id="new-description"
      label="Description (optional)"
      multiline
      rows="2"
      maxlength="1000"
      error=${errors.fields.description}
      ...${bind("description")}
    />
    <${DetailsFields} prefix="new" values=${values} bind=${bind} errors=${errors.fields} />
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Adding…" : "Add task"}</button>
    </div>
  </form>`;
}

/** A task's priority, in words (its colour only repeats them); nothing for "none". */
function PriorityBadge({ priority }) {
  const shown = PRIORITIES.find((p) => p.id === priority)?.shown;
  return shown ? html`<span class=${`badge priority priority-${priority}`}>${shown}</span>` : null;
}

function TaskItem({ task, now, error, isSelected, onTag, onToggle, onEdit, onDelete }) {
  const checkbox = `done-${task.id}`;
  const overdue = isOverdue(task, now);
  const tags = task.tags ?? [];
  const hasMeta = (task.priority && task.priority !== "none") || task.due;
  const describedBy = [task.description && `about-${task.id}`, hasMeta && `meta-${task.id}`].filter(Boolean).join(" ");
  const classes = ["task", task.completed && "done", overdue && "overdue"].filter(Boolean).join(" ");
  return html`<li class=${classes}>
    <input type="checkbox" id=${checkbox} checked=${task.completed} onChange=${onToggle} aria-describedby=${describedBy || undefined} />
    <div class="task-text">
      <label for=${checkbox} class="task-title">${task.title}</label>
      ${task.description && html`<p class="task-description" id=${`about-${task.id}`}>${task.description}</p>`}
      ${
        hasMeta &&
        html`<p class="task-meta" id=${`meta-${task.id}`}>
          <${PriorityBadge} priority=${task.priority} />
          ${overdue && html`<span class="badge overdue">Overdue</span>`}
          ${task.due && html`<span class="due">${dueWords(task.due, now)}</span>`}
        </p>`
      }
      ${
        tags.length > 0 &&
        html`<ul class="chips" aria-label="Tags">
          ${tags.map(
            (tag) =>
              html`<li key=${tag}>
                <button
                  type="button"
                  class="chip tag"
                  aria-pressed=${isSelected(tag) ? "true" : "false"}
                  onClick=${() => onTag(tag)}
                >
                  <span class="visually-hidden">Filter by tag </span>${tag}
                </button>
              </li>`,
          )}
        </ul>`
      }
      ${error && html`<p class="field-error" role="alert">${error}</p>`}
    </div>
    <div class="task-actions">
      <button type="button" id=${`edit-${task.id}`} class="quiet" aria-label=${`Edit ${quoted(task.title)}`} onClick=${onEdit}>
        Edit
      </button>
      <button
        type="button"
        id=${`delete-${task.id}`}
        class="quiet danger"
        aria-label=${`Delete ${quoted(task.title)}`}
        onClick=${onDelete}
      >
        Delete
      </button>
    </div>
  </li>`;
}

/**
 * Edits every field of `task`, sending only what the person changed, at the version they saw.
 * If the task changed elsewhere meanwhile (412), it is shown as it is now, the form keeps what
 * they typed, and they choose: apply their changes to the new version, or discard them. If it
 * was deleted elsewhere, they may add what they typed as a new task.
 */
function EditTask({ task, now, onSaved, onCancel, onDiscard, onCurrent, onGone, onRecreated }) {
  const titleRef = useRef(null);
  const noticeRef = useRef(null);
  // What the form opened with: the person's changes are the differences from it.
  const opened = useRef(valuesOf(task)).current;
  // null, or what was found elsewhere: `{ current }` (the task as it is now) or `{ gone: true }`.
  const [elsewhere, setElsewhere] = useState(null);
  useEffect(() => titleRef.current?.focus(), []);

  const lookAgain = async () => {
    let found;
    try {
      const current = await api.get(task.id);
      onCurrent(current);
      found = { current };
    } catch (error) {
      if (error.status !== 404) throw error;
      found = { gone: true };
    }
    setElsewhere(found);
    requestAnimationFrame(() => noticeRef.current?.focus());
  };

  const { values, bind, formRef, errors, busy, onSubmit } = useSubmit(
    opened,
    async (typed) => {
      if (elsewhere?.gone) {
        onRecreated(await api.create(draftOf(typed)));
        return;
      }
      const changes = patchOf(opened, typed);
      if (Object.keys(changes).length === 0) {
        onSaved(task, false);
        return;
      }
      try {
        // `task` is the version last seen: after a 412, the one now shown above the form.
        onSaved(await api.patch(task.id, task.version, changes), true);
      } catch (error) {
        if (error.status !== 412 && error.status !== 404) throw error;
        await lookAgain();
      }
    },
    { check: checkValues, errorsOf: (error) => taskErrors(error, values) },
  );
  const onKeyDown = (event) => {
    if (event.key === "Escape" && !elsewhere) onCancel();
  };
  const changes = patchOf(opened, values);

  let actions;
  if (elsewhere === null) {
    actions = html`<button class="primary" type="submit" disabled=${busy}>${busy ? "Saving…" : "Save"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>`;
  } else if (elsewhere.gone) {
    actions = html`<button class="primary" type="submit" disabled=${busy}>Add it as a new task</button>
      <button type="button" onClick=${onGone}>Discard my changes</button>`;
  } else {
    actions = html`<button class="primary" type="submit" disabled=${busy}>Apply my changes</button>
      <button type="button" onClick=${onDiscard}>Discard my changes</button>`;
  }

  return html`<li class="task editing">
    <form
      class="stack"
      ref=${formRef}
      onSubmit=${onSubmit}
      onKeyDown=${onKeyDown}
      novalidate
      aria-label=${`Edit ${quoted(task.title)}`}
    >
      ${elsewhere && html`<${ChangedElsewhere} found=${elsewhere} changes=${changes} now=${now} noticeRef=${noticeRef} />`}
      <${Field}
        id=${`title-${task.id}`}
        label="Title"
        inputRef=${titleRef}
        maxlength="200"
        autocomplete="off"
        error=${errors.fields.title}
        ...${bind("title")}
      />
      <${Field}
        id=${`description-${task.id}`}
        label="Description"
        multiline
        rows="3"
        maxlength="1000"
        error=${errors.fields.description}
        ...${bind("description")}
      />
      <${DetailsFields} prefix=${`task-${task.id}`} values=${values} bind=${bind} errors=${errors.fields} />
      ${errors.form && html`<${Alert}>${errors.form}<//>`}
      <div class="actions">${actions}</div>
    </form>
  </li>`;
}

/** Says the task changed (or went) elsewhere, and shows it as it is now. */
function ChangedElsewhere({ found, changes, now, noticeRef }) {
  if (found.gone) {
    return html`<div class="conflict">
      <p class="alert" role="alert" tabindex="-1" ref=${noticeRef}>
        This task was deleted elsewhere while you were editing it. What you typed is still below: add it as a new
        task, or discard it.
      </p>
    </div>`;
  }
  const { current } = found;
  const heading = `now-${current.id}`;
  const mine = changedWords(changes);
  return html`<div class="conflict">
    <p class="alert" role="alert" tabindex="-1" ref=${noticeRef}>
      This task was changed elsewhere while you were editing it. Here it is as it is now; what you typed is still in
      the form below.
    </p>
    <section class="current" aria-labelledby=${heading}>
      <h3 id=${heading}>The task as it is now</h3>
      <dl>
        <dt>Title</dt>
        <dd>${current.title}</dd>
        <dt>Description</dt>
        <dd class="task-description">${current.description || "None"}</dd>
        <dt>Priority</dt>
        <dd>${PRIORITIES.find((p) => p.id === current.priority)?.label ?? current.priority}</dd>
        <dt>Tags</dt>
        <dd>${(current.tags ?? []).join(", ") || "None"}</dd>
        <dt>Due</dt>
        <dd>${current.due ? dueWords(current.due, now) : "No due date"}</dd>
        <dt>Status</dt>
        <dd>${current.completed ? "Completed" : "Not completed"}</dd>
      </dl>
    </section>
    <p class="hint">
      ${
        mine
          ? `“Apply my changes” sets your ${mine} on this version and keeps the rest as it is now.`
          : "You have not changed anything: discard to see the task as it is now."
      }
    </p>
  </div>`;
}

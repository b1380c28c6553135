// The task list: add, edit, complete and delete (after a confirmation) the person's tasks, and
// find them again (search, filters, sort and tags; the server does the finding), in every list or
// one (the sidebar, lists.js). Subtasks are shown under their parent (tree.js), can be collapsed,
// and are added from their parent; deleting a task with subtasks says how many go with it.
// Completion and deletion are optimistic and put back if the server refuses; adding and editing
// wait for the server, whose errors appear next to the field they are about. Every change names
// the version of the task the person saw: when it was changed elsewhere meanwhile, the app shows
// the task as it is now, says so, and keeps what the person typed.

import { html, useEffect, useMemo, useRef, useState } from "./vendor/preact-htm.module.js";
import { lists as listsApi, tags as tagsApi, tasks as api } from "./api.js";
import { dueWords, isOverdue } from "./dates.js";
import { Finder, apiQuery, cleared, describe, filtersFrom, hasTag, isFiltered, searchOf, toggleTag } from "./filters.js";
import { ListsNav, Swatch } from "./lists.js";
import { Link, navigate, useLocation } from "./router.js";
import { TagsPanel } from "./tags.js";
import {
  DetailsFields,
  ListField,
  PRIORITIES,
  changedWords,
  checkValues,
  draftOf,
  patchOf,
  taskErrors,
  valuesOf,
} from "./taskform.js";
import { descendantsOf, rowsOf } from "./tree.js";
import { Alert, ConfirmDialog, Field, Page, announce, useSubmit } from "./ui.js";

const quoted = (title) => `“${title}”`;
const tasksWord = (n) => `${n} ${n === 1 ? "task" : "tasks"}`;
const subtasksWord = (n) => `${n} ${n === 1 ? "subtask" : "subtasks"}`;

/** Whether `task` belongs in the list `list` names ("" every task, "inbox" those in no list). */
const inList = (task, list) => list === "" || (task.list_id ?? "inbox") === list;

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
  if (filters.list === "inbox") return "Nothing in the inbox.";
  if (filters.list) return "No tasks in this list yet.";
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
  // The sidebar: the person's lists, and how many open tasks the inbox has.
  const [listState, setListState] = useState({ items: [], inboxOpen: null, loaded: false, error: null });
  const [editing, setEditing] = useState(null);
  // `{ task, subtasks, note }`: the deletion asked about (with how many subtasks go with it).
  const [confirming, setConfirming] = useState(null);
  const [counting, setCounting] = useState(null);
  const [addingTo, setAddingTo] = useState(null);
  const [collapsed, setCollapsed] = useState(() => new Set());
  const [rowErrors, setRowErrors] = useState({});
  const listHeading = useRef(null);
  // Answers to anything but the latest load (or tag or list load) are dropped: typing outruns the server.
  const loads = useRef(0);
  const tagLoads = useRef(0);
  const listLoads = useRef(0);
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

  const loadLists = async () => {
    const ticket = ++listLoads.current;
    try {
      const [items, inboxOpen] = await Promise.all([
        listsApi.list(),
        api.count(new URLSearchParams({ list: "inbox", completed: "false" })),
      ]);
      if (ticket === listLoads.current) setListState({ items, inboxOpen, loaded: true, error: null });
    } catch (error) {
      if (ticket === listLoads.current && !error.sessionEnded) {
        setListState((before) => ({ ...before, loaded: true, error: error.message }));
      }
    }
  };
  /** After tasks changed: the tag and list counts change with them. */
  const recountAll = () => {
    loadTags();
    loadLists();
  };

  useEffect(() => {
    loadTags();
    loadLists();
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
  /** Takes the tasks `ids` out of the list. */
  const drop = (...ids) =>
    setState((before) => {
      let after = before;
      for (const id of ids) {
        const old = after.items.find((t) => t.id === id);
        if (old) after = { ...recount(after, old.completed, undefined), items: after.items.filter((t) => t.id !== id) };
      }
      return after;
    });
  const rowError = (id, message) => setRowErrors((before) => ({ ...before, [id]: message }));
  const listName = (id) => (id ? (listState.items.find((list) => list.id === id)?.name ?? "another list") : "the inbox");

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
    recountAll();
    if (!isFiltered(filters) && filters.sort === "created-desc" && inList(task, filters.list) && !task.parent_id) {
      // Newest first and nothing filtered: its place is the top.
      setState((before) => ({ ...recount(before, undefined, task.completed), items: [task, ...before.items] }));
      announce(`Added ${quoted(task.title)}.`);
      return;
    }
    const page = await load();
    const hidden = page && !page.items.some((t) => t.id === task.id);
    const where = !inList(task, filters.list)
      ? `It is in ${listName(task.list_id)}, so it is not shown here.`
      : isFiltered(filters)
        ? "It does not match the filters, so it is not shown."
        : "It is further down the list.";
    announce(`Added ${quoted(task.title)}.${hidden ? ` ${where}` : ""}`);
  };

  const toggle = async (task) => {
    const wanted = !task.completed;
    rowError(task.id, null);
    put({ ...task, completed: wanted });
    try {
      put(await api.setCompleted(task.id, task.version, wanted));
      announce(`${quoted(task.title)} marked ${wanted ? "completed" : "not completed"}.`);
      recountAll();
      // Completing a task completes its open subtasks: show them (and their new versions) as they are now.
      const below = new Set(descendantsOf(state.items, task.id));
      if (wanted && state.items.some((t) => below.has(t.id) && !t.completed)) load();
    } catch (error) {
      put(task);
      if (error.status === 412) changedElsewhere(task, `Not marked ${wanted ? "completed" : "not completed"}`);
      else if (!error.sessionEnded) rowError(task.id, `Could not update this task: ${error.message}`);
    }
  };

  /**
   * Asks before deleting `task`, saying how many subtasks go with it: counted from the list when it
   * holds every task, else asked of the server.
   */
  const askDelete = async (task, note = null) => {
    rowError(task.id, null);
    const everything = !isFiltered(filters) && filters.list === "" && !state.next;
    if (everything && note === null) {
      setConfirming({ task, subtasks: descendantsOf(state.items, task.id).length, note });
      return;
    }
    setCounting(task.id);
    try {
      setConfirming({ task, subtasks: await api.subtreeSize(task.id), note });
    } catch (error) {
      if (error.status === 404) {
        drop(task.id, ...descendantsOf(state.items, task.id));
        announce(`${quoted(task.title)} was deleted elsewhere.`);
      } else if (!error.sessionEnded) {
        rowError(task.id, `Could not delete this task: ${error.message}`);
      }
    } finally {
      setCounting(null);
    }
  };

  const remove = async ({ task, subtasks }) => {
    setConfirming(null);
    rowError(task.id, null);
    // The task and the subtasks shown under it go together; put back where they were if refused.
    const gone = [task.id, ...descendantsOf(state.items, task.id)];
    const placed = state.items.map((t, index) => ({ t, index })).filter(({ t }) => gone.includes(t.id));
    drop(...gone);
    listHeading.current?.focus();
    const putBack = () =>
      setState((before) => {
        let after = before;
        for (const { t, index } of placed) {
          if (after.items.some((x) => x.id === t.id)) continue;
          const items = [...after.items];
          items.splice(Math.min(index, items.length), 0, t);
          after = { ...recount(after, undefined, t.completed), items };
        }
        return after;
      });
    try {
      await api.remove(task.id, task.version, { subtasks: subtasks > 0 });
      announce(subtasks > 0 ? `Deleted ${quoted(task.title)} and its ${subtasksWord(subtasks)}.` : `Deleted ${quoted(task.title)}.`);
      recountAll();
    } catch (error) {
      if (error.status === 404) return; // already gone: the list is right
      putBack();
      if (error.status === 412) changedElsewhere(task, "Not deleted");
      else if (error.code === "TASK_HAS_SUBTASKS") {
        // Subtasks were added elsewhere meanwhile: ask again, with how many there are now.
        askDelete(task, `${quoted(task.title)} has subtasks now, added elsewhere.`);
      } else if (!error.sessionEnded) rowError(task.id, `Could not delete this task: ${error.message}`);
    }
  };

  const focusEdit = (id) => requestAnimationFrame(() => document.getElementById(`edit-${id}`)?.focus());
  const saved = (task, changed, moved = false) => {
    put(task);
    rowError(task.id, null);
    setEditing(null);
    if (!changed) announce("Nothing was changed.");
    else if (moved) announce(`Saved ${quoted(task.title)}, now in ${listName(task.list_id)}.`);
    else announce(`Saved ${quoted(task.title)}.`);
    if (changed) recountAll();
    if (moved) {
      // Moved out of the list shown (its subtasks may have moved with it): the list as it is now.
      if (!inList(task, filters.list)) listHeading.current?.focus();
      else focusEdit(task.id);
      load();
      return;
    }
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

  // Subtasks
  const setCollapsedOf = (id, shut) =>
    setCollapsed((before) => {
      const after = new Set(before);
      if (shut) after.add(id);
      else after.delete(id);
      return after;
    });
  const focusAddSubtask = (id) => requestAnimationFrame(() => document.getElementById(`add-subtask-${id}`)?.focus());
  const subtaskAdded = async (parent, task) => {
    setAddingTo(null);
    setCollapsedOf(parent.id, false);
    recountAll();
    const page = await load();
    const hidden = page && !page.items.some((t) => t.id === task.id);
    announce(
      `Added ${quoted(task.title)} under ${quoted(parent.title)}.${hidden ? " It does not match the filters, so it is not shown." : ""}`,
    );
    focusAddSubtask(parent.id);
  };

  // Lists
  const listHref = (list) => `/tasks${searchOf({ ...filters, list })}`;
  const listDeleted = (list) => {
    loadLists();
    loadTags();
    if (filters.list === list.id) navigate(listHref(""), { replace: true });
    else load();
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
  const lists = listState.items;
  const shownList = filters.list && filters.list !== "inbox" ? (lists.find((l) => l.id === filters.list) ?? null) : null;
  const unknownList = filters.list !== "" && filters.list !== "inbox" && listState.loaded && !listState.error && !shownList;
  // New tasks go to the list shown (the inbox when every task is shown).
  const newTaskList = shownList ? shownList.id : "";
  const rows = rowsOf(state.items, collapsed);
  const labelledBy = filters.list ? "view-name list-heading" : "list-heading";

  const taskRow = ({ task, depth, parent, children }) => {
    const tree = { depth, parent, subtasks: children.length };
    if (editing === task.id) {
      return html`<${EditTask}
        key=${task.id}
        task=${task}
        tree=${tree}
        lists=${lists}
        now=${now}
        onSaved=${saved}
        onCancel=${() => cancelEdit(task.id)}
        onDiscard=${() => discarded(task.id)}
        onCurrent=${put}
        onGone=${() => goneAway(task.id)}
        onRecreated=${(created) => recreated(task.id, created)}
      />`;
    }
    return html`<${TaskItem}
      key=${task.id}
      task=${task}
      tree=${tree}
      list=${filters.list === "" && task.list_id ? (lists.find((l) => l.id === task.list_id) ?? null) : null}
      now=${now}
      error=${rowErrors[task.id]}
      collapsed=${collapsed.has(task.id)}
      counting=${counting === task.id}
      addingSubtask=${addingTo === task.id}
      isSelected=${(name) => hasTag(filters, name)}
      onTag=${toggleTagFilter}
      onToggle=${() => toggle(task)}
      onCollapse=${(shut) => setCollapsedOf(task.id, shut)}
      onAddSubtask=${() => setAddingTo(addingTo === task.id ? null : task.id)}
      onSubtaskAdded=${(created) => subtaskAdded(task, created)}
      onCancelSubtask=${() => {
        setAddingTo(null);
        focusAddSubtask(task.id);
      }}
      onEdit=${() => setEditing(task.id)}
      onDelete=${() => askDelete(task)}
    />`;
  };

  return html`<${Page} title="Tasks" heading="Your tasks" className="tasks-page">
    <div class="tasks-layout">
      <${ListsNav}
        lists=${lists}
        inboxOpen=${listState.inboxOpen}
        error=${listState.error}
        selected=${filters.list}
        hrefOf=${listHref}
        onChanged=${loadLists}
        onDeleted=${listDeleted}
      />
      <div class="tasks-main">
        <${NewTask} onAdded=${added} lists=${lists} list=${newTaskList} />
        <${Finder} filters=${filters} onChange=${setFilters} />
        <${TagsPanel}
          tags=${tagList.items}
          error=${tagList.error}
          isSelected=${(name) => hasTag(filters, name)}
          onToggle=${toggleTagFilter}
          onChanged=${tagsChanged}
        />
        ${
          filters.list &&
          html`<p class="view-name" id="view-name">
            ${shownList ? html`<${Swatch} list=${shownList} />` : html`<span class="swatch none" aria-hidden="true"></span>`}
            <span>${filters.list === "inbox" ? "Inbox" : (shownList?.name ?? "A list")}</span>
          </p>`
        }
        ${
          unknownList &&
          html`<${Alert}>
            There is no such list: it may have been deleted. <${Link} href=${listHref("")}>Show every task<//>
          <//>`
        }
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
              : html`<ul class=${busy ? "tasks busy" : "tasks"} aria-labelledby=${labelledBy} aria-busy=${busy ? "true" : "false"}>
                  ${rows.map(taskRow)}
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
      </div>
    </div>
    ${
      confirming &&
      html`<${ConfirmDialog}
        title="Delete this task?"
        confirm="Delete"
        onConfirm=${() => remove(confirming)}
        onCancel=${() => cancelDelete(confirming.task.id)}
      >
        ${confirming.note && html`${confirming.note} `}
        ${
          confirming.subtasks > 0
            ? `${quoted(confirming.task.title)} and its ${subtasksWord(confirming.subtasks)} will be deleted (${tasksWord(confirming.subtasks + 1)} in all). This cannot be undone.`
            : `${quoted(confirming.task.title)} will be deleted. This cannot be undone.`
        }
      <//>`
    }
  <//>`;
}

function NewTask({ onAdded, lists, list }) {
  const titleRef = useRef(null);
  const { values, setValues, bind, formRef, errors, busy, onSubmit } = useSubmit(
    valuesOf(null, list),
    async (typed) => {
      onAdded(await api.create(draftOf(typed)));
      setValues(valuesOf(null, list));
      titleRef.current?.focus();
    },
    { check: checkValues, errorsOf: (error) => taskErrors(error, values) },
  );
  // Another list chosen in the sidebar: new tasks go there.
  useEffect(() => setValues((before) => ({ ...before, list })), [list]);
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
    <${ListField} id="new-list" lists=${lists} error=${errors.fields.list} ...${bind("list")} />
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

/** A task's place in the tree: its class (indentation) and level, shared by its row and its edit form. */
function treeClass(base, depth) {
  return depth > 0 ? `${base} subtask depth-${Math.min(depth, 3)}` : base;
}

function TaskItem({
  task,
  tree,
  list,
  now,
  error,
  collapsed,
  counting,
  addingSubtask,
  isSelected,
  onTag,
  onToggle,
  onCollapse,
  onAddSubtask,
  onSubtaskAdded,
  onCancelSubtask,
  onEdit,
  onDelete,
}) {
  const checkbox = `done-${task.id}`;
  const overdue = isOverdue(task, now);
  const tags = task.tags ?? [];
  const { depth, parent, subtasks } = tree;
  const hasMeta = (task.priority && task.priority !== "none") || task.due || list || subtasks > 0;
  const describedBy = [parent && `under-${task.id}`, task.description && `about-${task.id}`, hasMeta && `meta-${task.id}`]
    .filter(Boolean)
    .join(" ");
  const classes = [treeClass("task", depth), task.completed && "done", overdue && "overdue"].filter(Boolean).join(" ");
  return html`<li class=${classes} aria-level=${depth + 1}>
    <span class="twisty">
      ${
        subtasks > 0 &&
        html`<button
          type="button"
          class="quiet icon collapse"
          aria-expanded=${collapsed ? "false" : "true"}
          aria-label=${`${collapsed ? "Expand" : "Collapse"} subtasks of ${task.title}`}
          onClick=${() => onCollapse(!collapsed)}
        >
          <span aria-hidden="true" class="chevron"></span>
        </button>`
      }
    </span>
    <input type="checkbox" id=${checkbox} checked=${task.completed} onChange=${onToggle} aria-describedby=${describedBy || undefined} />
    <div class="task-text">
      <label for=${checkbox} class="task-title">${task.title}</label>
      ${parent && html`<span class="visually-hidden" id=${`under-${task.id}`}>Subtask of ${quoted(parent.title)}.</span>`}
      ${task.description && html`<p class="task-description" id=${`about-${task.id}`}>${task.description}</p>`}
      ${
        hasMeta &&
        html`<p class="task-meta" id=${`meta-${task.id}`}>
          ${list && html`<span class="badge list-badge"><${Swatch} list=${list} />${list.name}</span>`}
          <${PriorityBadge} priority=${task.priority} />
          ${overdue && html`<span class="badge overdue">Overdue</span>`}
          ${task.due && html`<span class="due">${dueWords(task.due, now)}</span>`}
          ${subtasks > 0 && html`<span class="subtask-count">${subtasksWord(subtasks)}${collapsed ? ", hidden" : ""}</span>`}
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
      <button
        type="button"
        id=${`add-subtask-${task.id}`}
        class="quiet"
        aria-label=${`Add subtask to ${quoted(task.title)}`}
        aria-expanded=${addingSubtask ? "true" : "false"}
        onClick=${onAddSubtask}
      >
        Add subtask
      </button>
      <button type="button" id=${`edit-${task.id}`} class="quiet" aria-label=${`Edit ${quoted(task.title)}`} onClick=${onEdit}>
        Edit
      </button>
      <button
        type="button"
        id=${`delete-${task.id}`}
        class="quiet danger"
        aria-label=${`Delete ${quoted(task.title)}`}
        disabled=${counting}
        onClick=${onDelete}
      >
        ${counting ? "Counting…" : "Delete"}
      </button>
    </div>
    ${addingSubtask && html`<${NewSubtask} parent=${task} onAdded=${onSubtaskAdded} onCancel=${onCancelSubtask} />`}
  </li>`;
}

/** Adds a subtask to `parent` (in its list, as the server does for a subtask given none). */
function NewSubtask({ parent, onAdded, onCancel }) {
  const titleRef = useRef(null);
  useEffect(() => titleRef.current?.focus(), []);
  const id = `subtask-title-${parent.id}`;
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { title: "" },
    async ({ title }) => onAdded(await api.create({ title, parent_id: parent.id })),
    {
      check: ({ title }) => (title.trim() === "" ? { title: "Please give the subtask a title." } : null),
      // A refusal about the title by the field; any other (too deep a subtask, ...) in the API's words.
      errorsOf: (error) => {
        const title = (error.fields ?? []).find((f) => f.field === "title")?.message;
        return title
          ? { fields: { title: title[0].toUpperCase() + title.slice(1) }, form: null }
          : { fields: {}, form: error.message };
      },
    },
  );
  return html`<form
    class="subtask-form"
    ref=${formRef}
    onSubmit=${onSubmit}
    onKeyDown=${(event) => event.key === "Escape" && onCancel()}
    novalidate
    aria-label=${`Add a subtask to ${quoted(parent.title)}`}
  >
    <${Field}
      id=${id}
      label="Subtask title"
      inputRef=${titleRef}
      maxlength="200"
      autocomplete="off"
      error=${errors.fields.title}
      ...${bind("title")}
    />
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Adding…" : "Add subtask"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

/**
 * Edits every field of `task`, sending only what the person changed, at the version they saw.
 * If the task changed elsewhere meanwhile (412), it is shown as it is now, the form keeps what
 * they typed, and they choose: apply their changes to the new version, or discard them. If it
 * was deleted elsewhere, they may add what they typed as a new task.
 */
function EditTask({ task, tree, lists, now, onSaved, onCancel, onDiscard, onCurrent, onGone, onRecreated }) {
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
        onSaved(await api.patch(task.id, task.version, changes), true, "list_id" in changes);
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

  return html`<li class=${treeClass("task editing", tree.depth)} aria-level=${tree.depth + 1}>
    <form
      class="stack"
      ref=${formRef}
      onSubmit=${onSubmit}
      onKeyDown=${onKeyDown}
      novalidate
      aria-label=${`Edit ${quoted(task.title)}`}
    >
      ${
        elsewhere &&
        html`<${ChangedElsewhere} found=${elsewhere} changes=${changes} lists=${lists} now=${now} noticeRef=${noticeRef} />`
      }
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
      <${ListField} id=${`task-${task.id}-list`} lists=${lists} error=${errors.fields.list} ...${bind("list")} />
      <${DetailsFields} prefix=${`task-${task.id}`} values=${values} bind=${bind} errors=${errors.fields} />
      ${errors.form && html`<${Alert}>${errors.form}<//>`}
      <div class="actions">${actions}</div>
    </form>
  </li>`;
}

/** Says the task changed (or went) elsewhere, and shows it as it is now. */
function ChangedElsewhere({ found, changes, lists, now, noticeRef }) {
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
        <dt>List</dt>
        <dd>${current.list_id ? (lists.find((l) => l.id === current.list_id)?.name ?? "Another list") : "Inbox"}</dd>
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

// The task list: add, edit, complete, delete (after a confirmation) and filter the person's tasks.
// Completion and deletion are optimistic and put back if the server refuses; adding and editing
// wait for the server, whose errors appear next to the field they are about.

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";
import { tasks as api } from "./api.js";
import { Alert, Field, Page, announce, useSubmit } from "./ui.js";

const FILTERS = [
  { id: "all", label: "All", keep: () => true, empty: "No tasks yet. Add your first one above." },
  { id: "active", label: "Active", keep: (task) => !task.completed, empty: "Nothing left to do." },
  { id: "completed", label: "Completed", keep: (task) => task.completed, empty: "No completed tasks yet." },
];

const quoted = (title) => `“${title}”`;

export function TaskList() {
  const [state, setState] = useState({ status: "loading", items: [], total: 0, next: null, error: null });
  const [filter, setFilter] = useState("all");
  const [editing, setEditing] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [rowErrors, setRowErrors] = useState({});
  const listHeading = useRef(null);

  const load = async () => {
    setState((before) => ({ ...before, status: "loading", error: null }));
    try {
      const page = await api.page();
      setState({ status: "ready", ...page, error: null });
    } catch (error) {
      if (!error.sessionEnded) setState((before) => ({ ...before, status: "error", error: error.message }));
    }
  };
  useEffect(() => {
    load();
  }, []);

  const loadMore = async () => {
    setState((before) => ({ ...before, status: "loading-more" }));
    try {
      const page = await api.page(state.next);
      setState((before) => {
        const known = new Set(before.items.map((task) => task.id));
        return {
          ...page,
          items: [...before.items, ...page.items.filter((task) => !known.has(task.id))],
          status: "ready",
          error: null,
        };
      });
    } catch (error) {
      setState((before) => ({ ...before, status: "ready", error: error.message }));
    }
  };

  const put = (task) =>
    setState((before) => ({ ...before, items: before.items.map((t) => (t.id === task.id ? task : t)) }));
  const rowError = (id, message) => setRowErrors((before) => ({ ...before, [id]: message }));

  const added = (task) => {
    setState((before) => ({ ...before, items: [task, ...before.items], total: before.total + 1 }));
    announce(`Added ${quoted(task.title)}.`);
  };

  const toggle = async (task) => {
    const wanted = !task.completed;
    rowError(task.id, null);
    put({ ...task, completed: wanted });
    try {
      put(await api.setCompleted(task.id, wanted));
      announce(`${quoted(task.title)} marked ${wanted ? "completed" : "not completed"}.`);
    } catch (error) {
      put(task);
      if (!error.sessionEnded) rowError(task.id, `Could not update this task: ${error.message}`);
    }
  };

  const remove = async (task) => {
    setConfirming(null);
    rowError(task.id, null);
    const index = state.items.findIndex((t) => t.id === task.id);
    setState((before) => ({ ...before, items: before.items.filter((t) => t.id !== task.id), total: before.total - 1 }));
    listHeading.current?.focus();
    try {
      await api.remove(task.id);
      announce(`Deleted ${quoted(task.title)}.`);
    } catch (error) {
      if (error.status === 404) return; // already gone: the list is right
      setState((before) => {
        const items = [...before.items];
        items.splice(Math.min(index, items.length), 0, task);
        return { ...before, items, total: before.total + 1 };
      });
      if (!error.sessionEnded) rowError(task.id, `Could not delete this task: ${error.message}`);
    }
  };

  const saved = (task) => {
    put(task);
    setEditing(null);
    announce(`Saved ${quoted(task.title)}.`);
    requestAnimationFrame(() => document.getElementById(`edit-${task.id}`)?.focus());
  };
  const cancelEdit = (id) => {
    setEditing(null);
    requestAnimationFrame(() => document.getElementById(`edit-${id}`)?.focus());
  };
  const cancelDelete = (id) => {
    setConfirming(null);
    requestAnimationFrame(() => document.getElementById(`delete-${id}`)?.focus());
  };

  const active = FILTERS.find((f) => f.id === filter);
  const shown = state.items.filter(active.keep);
  const remaining = state.items.filter((task) => !task.completed).length;

  return html`<${Page} title="Tasks" heading="Your tasks">
    <${NewTask} onAdded=${added} />
    <div class="list-head">
      <h2 tabindex="-1" ref=${listHeading} id="list-heading">
        ${state.status === "loading" ? "Tasks" : `${state.total} ${state.total === 1 ? "task" : "tasks"}`}
        ${state.status !== "loading" && state.total > 0 && html`<span class="muted">, ${remaining} to do</span>`}
      </h2>
      <div class="filters" role="group" aria-label="Show">
        ${FILTERS.map(
          (f) =>
            html`<button
              type="button"
              class="chip"
              aria-pressed=${f.id === filter ? "true" : "false"}
              onClick=${() => setFilter(f.id)}
            >
              ${f.label}
            </button>`,
        )}
      </div>
    </div>
    ${state.status === "loading" && html`<p class="placeholder" role="status">Loading your tasks…</p>`}
    ${
      state.status === "error" &&
      html`<div class="card error-state">
        <${Alert}>Your tasks could not be loaded: ${state.error}<//>
        <button type="button" onClick=${load}>Try again</button>
      </div>`
    }
    ${
      state.status !== "loading" &&
      state.status !== "error" &&
      html`${
        shown.length === 0
          ? html`<p class="placeholder">${active.empty}</p>`
          : html`<ul class="tasks" aria-labelledby="list-heading">
              ${shown.map((task) =>
                editing === task.id
                  ? html`<${EditTask}
                      key=${task.id}
                      task=${task}
                      onSaved=${saved}
                      onCancel=${() => cancelEdit(task.id)}
                    />`
                  : html`<${TaskItem}
                      key=${task.id}
                      task=${task}
                      error=${rowErrors[task.id]}
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
      html`<${ConfirmDelete}
        task=${confirming}
        onConfirm=${() => remove(confirming)}
        onCancel=${() => cancelDelete(confirming.id)}
      />`
    }
  <//>`;
}

/** A title is needed before anything is sent. */
function checkTitle({ title }) {
  return title.trim() === "" ? { title: "Please give the task a title." } : null;
}

function NewTask({ onAdded }) {
  const titleRef = useRef(null);
  const { setValues, bind, formRef, errors, busy, onSubmit } = useSubmit(
    { title: "", description: "" },
    async (values) => {
      onAdded(await api.create(values));
      setValues({ title: "", description: "" });
      titleRef.current?.focus();
    },
    { check: checkTitle },
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
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Adding…" : "Add task"}</button>
    </div>
  </form>`;
}

function TaskItem({ task, error, onToggle, onEdit, onDelete }) {
  const checkbox = `done-${task.id}`;
  return html`<li class=${`task ${task.completed ? "done" : ""}`}>
    <input
      type="checkbox"
      id=${checkbox}
      checked=${task.completed}
      onChange=${onToggle}
      aria-describedby=${task.description ? `about-${task.id}` : undefined}
    />
    <div class="task-text">
      <label for=${checkbox} class="task-title">${task.title}</label>
      ${task.description && html`<p class="task-description" id=${`about-${task.id}`}>${task.description}</p>`}
      ${error && html`<p class="field-error" role="alert">${error}</p>`}
    </div>
    <div class="task-actions">
      <button
        type="button"
        id=${`edit-${task.id}`}
        class="quiet"
        aria-label=${`Edit ${quoted(task.title)}`}
        onClick=${onEdit}
      >
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

function EditTask({ task, onSaved, onCancel }) {
  const titleRef = useRef(null);
  useEffect(() => titleRef.current?.focus(), []);
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { title: task.title, description: task.description ?? "" },
    async (values) => onSaved(await api.replace(task.id, { ...values, completed: task.completed })),
    { check: checkTitle },
  );
  const onKeyDown = (event) => {
    if (event.key === "Escape") onCancel();
  };
  return html`<li class="task editing">
    <form
      class="stack"
      ref=${formRef}
      onSubmit=${onSubmit}
      onKeyDown=${onKeyDown}
      novalidate
      aria-label=${`Edit ${quoted(task.title)}`}
    >
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
      ${errors.form && html`<${Alert}>${errors.form}<//>`}
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy}>${busy ? "Saving…" : "Save"}</button>
        <button type="button" onClick=${onCancel}>Cancel</button>
      </div>
    </form>
  </li>`;
}

/** A modal confirmation: focus starts on Cancel, Escape cancels, focus returns to the list. */
function ConfirmDelete({ task, onConfirm, onCancel }) {
  const dialog = useRef(null);
  const cancel = useRef(null);
  useEffect(() => {
    dialog.current?.showModal();
    cancel.current?.focus();
  }, []);
  return html`<dialog
    ref=${dialog}
    class="dialog"
    aria-labelledby="confirm-heading"
    aria-describedby="confirm-text"
    onCancel=${(event) => {
      event.preventDefault();
      onCancel();
    }}
  >
    <h2 id="confirm-heading">Delete this task?</h2>
    <p id="confirm-text">${quoted(task.title)} will be deleted. This cannot be undone.</p>
    <div class="actions">
      <button type="button" class="primary danger" onClick=${onConfirm}>Delete</button>
      <button type="button" ref=${cancel} onClick=${onCancel}>Cancel</button>
    </div>
  </dialog>`;
}

// The sidebar of the task page: every task, the inbox (tasks in no list) and the person's lists,
// each with how many of its tasks are open; choosing one shows its tasks (with the filters kept).
// On a phone it is a menu behind a "Lists" button. "Manage lists" offers to create, rename,
// recolour, reorder (up and down, by `position`) and delete lists; deleting a list that has tasks
// asks whether they move to the inbox or are deleted with it.

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";
import { lists as api } from "./api.js";
import { Link } from "./router.js";
import { Alert, ChoiceDialog, Field, announce, useSubmit } from "./ui.js";

const quoted = (name) => `“${name}”`;
const tasksWord = (n) => `${n} ${n === 1 ? "task" : "tasks"}`;

/** Colours offered to a new list, in turn; any other can be picked. */
const PALETTE = ["#3366ff", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#0c8599", "#f08c00", "#5c7cfa"];

/** A list's colour as the colour input wants it (`#rrggbb`, lower case); a default when it has none. */
export function colourOf(list) {
  const colour = typeof list?.color === "string" ? list.color.trim().toLowerCase() : "";
  return /^#[0-9a-f]{6}$/.test(colour) ? colour : "#8a8fa3";
}

/** A small square of the list's colour (set through the CSSOM: the page's CSP allows no inline style). */
export function Swatch({ list }) {
  return html`<span class="swatch" aria-hidden="true" style=${{ "--list-colour": colourOf(list) }}></span>`;
}

/** What a list id of the page's address shows: "" every task, "inbox", else the list's id. */
function entryId(id) {
  return id === "" ? "lists-all" : `lists-${id}`;
}

/**
 * `lists`: `[{ id, name, color, position, tasks, open, version }]` in their order; `inboxOpen`:
 * the inbox's open tasks (null while unknown); `selected`: "" (every task), "inbox" or a list's id;
 * `hrefOf(id)`: the page's address with that list chosen; `onChanged()` after a list was created,
 * renamed, recoloured or moved; `onDeleted(list, tasks)` after one was deleted ("inbox", "delete"
 * or null when it had no tasks).
 */
export function ListsNav({ lists, inboxOpen, error, selected, hrefOf, onChanged, onDeleted }) {
  const [open, setOpen] = useState(false);
  const [managing, setManaging] = useState(false);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const heading = useRef(null);
  // An element to focus once it is on screen (a list appears only when the lists come back).
  const [focusing, setFocusing] = useState(null);
  useEffect(() => {
    const element = focusing && document.getElementById(focusing);
    if (element && !element.disabled) {
      element.focus();
      setFocusing(null);
    }
  }, [focusing, lists, managing, creating, renaming]);

  // On a phone the menu closes once a list is chosen: its tasks are what the person wants to see.
  const chose = () => setOpen(false);

  const fail = (what, error) => {
    if (error.sessionEnded) return;
    setProblem(`${what}: ${error.message}`);
  };

  /** Moves `list` one place up (-1) or down (+1): positions swapped, or all renumbered when some are equal. */
  const move = async (list, delta) => {
    const from = lists.findIndex((l) => l.id === list.id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= lists.length) return;
    const order = [...lists];
    [order[from], order[to]] = [order[to], order[from]];
    const distinct = new Set(lists.map((l) => l.position)).size === lists.length;
    const changes = distinct
      ? [
          [list, lists[to].position],
          [lists[to], list.position],
        ]
      : order.map((l, i) => [l, i]).filter(([l, i]) => l.position !== i);
    setProblem(null);
    setBusy(true);
    try {
      for (const [l, position] of changes) await api.patch(l.id, l.version, { position });
      announce(`Moved ${quoted(list.name)} ${delta < 0 ? "up" : "down"}.`);
    } catch (error) {
      fail(
        `Could not move ${quoted(list.name)}`,
        error.status === 412 ? { ...error, message: "a list was changed elsewhere; the lists are shown as they are now." } : error,
      );
    } finally {
      // The lists as they are now before the next move: it names their new versions.
      await onChanged();
      setBusy(false);
      // Focus stays on the button pressed, or on the other one once the list reaches an end.
      const edge = to === 0 || to === lists.length - 1;
      setFocusing(`list-${list.id}-${edge ? (delta < 0 ? "down" : "up") : delta < 0 ? "up" : "down"}`);
    }
  };

  const recolour = async (list, colour) => {
    if (colour === colourOf(list)) return;
    setProblem(null);
    try {
      await api.patch(list.id, list.version, { color: colour });
      announce(`${quoted(list.name)} is now shown in ${colour}.`);
    } catch (error) {
      fail(
        `Could not change the colour of ${quoted(list.name)}`,
        error.status === 412 ? { ...error, message: "it was changed elsewhere, and is shown as it is now." } : error,
      );
    } finally {
      onChanged();
    }
  };

  /** Asks what becomes of the list's tasks, counted as they are now. */
  const askDelete = async (list) => {
    setProblem(null);
    setBusy(true);
    try {
      setDeleting({ list: await api.get(list.id), note: null });
    } catch (error) {
      if (error.status === 404) {
        onChanged();
        fail(`Could not delete ${quoted(list.name)}`, { ...error, message: "it was deleted elsewhere." });
      } else {
        fail(`Could not delete ${quoted(list.name)}`, error);
      }
    } finally {
      setBusy(false);
    }
  };

  const remove = async (list, tasks) => {
    setBusy(true);
    try {
      await api.remove(list.id, list.version, { tasks });
      setDeleting(null);
      const said =
        tasks === "inbox"
          ? ` Its ${tasksWord(list.tasks)} moved to the inbox.`
          : tasks === "delete"
            ? ` Its ${tasksWord(list.tasks)} were deleted.`
            : "";
      announce(`Deleted the list ${quoted(list.name)}.${said}`);
      onDeleted(list, tasks);
      heading.current?.focus();
    } catch (error) {
      if (error.sessionEnded) return setDeleting(null);
      if (error.status === 404) {
        setDeleting(null);
        onDeleted(list, null);
        announce(`${quoted(list.name)} was deleted elsewhere.`);
        return;
      }
      // Changed or given tasks elsewhere meanwhile: ask again, with the list as it is now.
      if (error.status === 412 || error.code === "LIST_NOT_EMPTY") {
        try {
          const now = await api.get(list.id);
          setDeleting({ list: now, note: `${quoted(list.name)} was changed elsewhere: here it is as it is now.` });
          onChanged();
          return;
        } catch {
          // fall through: say what the server said
        }
      }
      setDeleting(null);
      fail(`Could not delete ${quoted(list.name)}`, error);
    } finally {
      setBusy(false);
    }
  };

  const created = (list) => {
    setCreating(false);
    onChanged();
    announce(`Created the list ${quoted(list.name)}.`);
    setFocusing(`list-link-${list.id}`);
  };

  const renamed = (list) => {
    setRenaming(null);
    onChanged();
    setFocusing(`list-${list.id}-rename`);
  };

  const entry = (id, name, count, list = null) => {
    const countId = `${entryId(id)}-count`;
    // The link's own click navigates; this one, bubbling from it, closes the menu.
    return html`<span class="list-entry" onClick=${chose}>
      ${list ? html`<${Swatch} list=${list} />` : html`<span class="swatch none" aria-hidden="true"></span>`}
      <${Link}
        href=${hrefOf(id)}
        id=${list ? `list-link-${list.id}` : entryId(id)}
        class="list-link"
        aria-current=${selected === id ? "page" : undefined}
        aria-describedby=${count === null ? undefined : countId}
      >
        ${name}
      <//>
      ${
        count !== null &&
        html`<span class="list-count" id=${countId}>${count}<span class="visually-hidden"> open</span></span>`
      }
    </span>`;
  };

  return html`<nav class=${open ? "lists-nav open" : "lists-nav"} aria-labelledby="lists-heading">
    <button
      type="button"
      class="lists-toggle"
      aria-expanded=${open ? "true" : "false"}
      aria-controls="lists-menu"
      onClick=${() => setOpen(!open)}
    >
      <span class="burger" aria-hidden="true"></span>Lists
    </button>
    <div class="lists-menu card" id="lists-menu">
      <div class="panel-head">
        <h2 id="lists-heading" tabindex="-1" ref=${heading}>Lists</h2>
        <button
          type="button"
          class="quiet"
          aria-pressed=${managing ? "true" : "false"}
          onClick=${() => {
            setManaging(!managing);
            setRenaming(null);
          }}
        >
          Manage lists
        </button>
      </div>
      ${error && html`<${Alert}>Your lists could not be loaded: ${error}<//>`}
      ${problem && html`<${Alert}>${problem}<//>`}
      <ul class="list-links">
        <li>${entry("", "All tasks", null)}</li>
        <li>${entry("inbox", "Inbox", inboxOpen)}</li>
        ${lists.map((list, i) =>
          renaming === list.id
            ? html`<li key=${list.id}>
                <${RenameList}
                  list=${list}
                  onRenamed=${renamed}
                  onStale=${onChanged}
                  onCancel=${() => {
                    setRenaming(null);
                    setFocusing(`list-${list.id}-rename`);
                  }}
                />
              </li>`
            : html`<li key=${list.id}>
                ${entry(list.id, list.name, list.open ?? null, list)}
                ${
                  managing &&
                  html`<span class="list-actions">
                    <input
                      type="color"
                      class="colour"
                      aria-label=${`Colour of ${quoted(list.name)}`}
                      value=${colourOf(list)}
                      onChange=${(event) => recolour(list, event.currentTarget.value.toLowerCase())}
                    />
                    <button
                      type="button"
                      class="quiet icon"
                      id=${`list-${list.id}-up`}
                      aria-label=${`Move ${quoted(list.name)} up`}
                      disabled=${busy || i === 0}
                      onClick=${() => move(list, -1)}
                    >
                      <span aria-hidden="true">↑</span>
                    </button>
                    <button
                      type="button"
                      class="quiet icon"
                      id=${`list-${list.id}-down`}
                      aria-label=${`Move ${quoted(list.name)} down`}
                      disabled=${busy || i === lists.length - 1}
                      onClick=${() => move(list, 1)}
                    >
                      <span aria-hidden="true">↓</span>
                    </button>
                    <button
                      type="button"
                      class="quiet"
                      id=${`list-${list.id}-rename`}
                      aria-label=${`Rename list ${quoted(list.name)}`}
                      onClick=${() => setRenaming(list.id)}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      class="quiet danger"
                      id=${`list-${list.id}-delete`}
                      aria-label=${`Delete list ${quoted(list.name)}`}
                      disabled=${busy}
                      onClick=${() => askDelete(list)}
                    >
                      Delete
                    </button>
                  </span>`
                }
              </li>`,
        )}
      </ul>
      ${
        creating
          ? html`<${NewList}
              colour=${PALETTE[lists.length % PALETTE.length]}
              onCreated=${created}
              onCancel=${() => {
                setCreating(false);
                setFocusing("create-list");
              }}
            />`
          : html`<button type="button" id="create-list" class="new-list" onClick=${() => setCreating(true)}>New list</button>`
      }
    </div>
    ${
      deleting &&
      html`<${DeleteList}
        list=${deleting.list}
        note=${deleting.note}
        busy=${busy}
        onChoose=${(tasks) => remove(deleting.list, tasks)}
        onCancel=${() => {
          setFocusing(`list-${deleting.list.id}-delete`);
          setDeleting(null);
        }}
      />`
    }
  </nav>`;
}

/** The question before a list is deleted: with tasks, whether they go to the inbox or are deleted. */
function DeleteList({ list, note, busy, onChoose, onCancel }) {
  const count = list.tasks ?? 0;
  const choices =
    count > 0
      ? [
          { label: "Move tasks to Inbox", onChoose: () => onChoose("inbox") },
          { label: "Delete tasks", danger: true, onChoose: () => onChoose("delete") },
        ]
      : [{ label: "Delete list", danger: true, onChoose: () => onChoose(null) }];
  const open = list.open ?? null;
  return html`<${ChoiceDialog} title=${`Delete the list ${quoted(list.name)}?`} choices=${choices} busy=${busy} onCancel=${onCancel}>
    ${note && html`<p class="alert" role="alert">${note}</p>`}
    ${
      count > 0
        ? html`<p>
              ${quoted(list.name)} has ${tasksWord(count)}${open !== null ? ` (${open} not completed)` : ""}. Move them to
              the inbox, or delete them with the list? Deleted tasks cannot be brought back.
            </p>`
        : html`<p>${quoted(list.name)} has no tasks. The list will be deleted.</p>`
    }
  <//>`;
}

/** The API's refusal of a list's name or colour, by field. */
function listErrors(error) {
  const fields = {};
  const rest = [];
  for (const { field, message } of error.fields ?? []) {
    const text = message ? message[0].toUpperCase() + message.slice(1) : message;
    if (field === "name") fields.name ??= text;
    else if (field === "color") fields.color ??= text;
    else rest.push(field ? `${field}: ${message}` : message);
  }
  if (error.code === "LIST_NAME_TAKEN") fields.name = error.message;
  const form = rest.length > 0 ? rest.join(" ") : Object.keys(fields).length === 0 ? error.message : null;
  return { fields, form };
}

function NewList({ colour, onCreated, onCancel }) {
  const input = useRef(null);
  useEffect(() => input.current?.focus(), []);
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { name: "", color: colour },
    async ({ name, color }) => onCreated(await api.create({ name: name.trim(), color: color.toLowerCase() })),
    {
      check: ({ name }) => (name.trim() === "" ? { name: "Please give the list a name." } : null),
      errorsOf: listErrors,
    },
  );
  return html`<form
    class="list-form"
    ref=${formRef}
    onSubmit=${onSubmit}
    onKeyDown=${(event) => event.key === "Escape" && onCancel()}
    novalidate
    aria-label="New list"
  >
    <${Field}
      id="new-list-name"
      label="Name"
      inputRef=${input}
      autocomplete="off"
      error=${errors.fields.name}
      ...${bind("name")}
    />
    <div class="field colour-field">
      <label for="new-list-colour">Colour</label>
      <input
        type="color"
        id="new-list-colour"
        class="colour"
        aria-invalid=${errors.fields.color ? "true" : undefined}
        aria-describedby=${errors.fields.color ? "new-list-colour-error" : undefined}
        ...${bind("color")}
      />
      ${errors.fields.color && html`<p class="field-error" id="new-list-colour-error" role="alert">${errors.fields.color}</p>`}
    </div>
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Creating…" : "Create list"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function RenameList({ list, onRenamed, onStale, onCancel }) {
  const input = useRef(null);
  useEffect(() => input.current?.select(), []);
  const [note, setNote] = useState(null);
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { name: list.name },
    async ({ name }) => {
      const to = name.trim();
      if (to === list.name) return onCancel();
      setNote(null);
      try {
        // `list` is the newest version shown: after a 412 the lists are loaded again.
        const answer = await api.patch(list.id, list.version, { name: to });
        announce(`Renamed the list ${quoted(list.name)} to ${quoted(answer?.name ?? to)}.`);
        onRenamed(answer ?? list);
      } catch (error) {
        if (error.status !== 412) throw error;
        setNote("This list was changed elsewhere, and is shown as it is now. Rename it again if you still want to.");
        onStale();
      }
    },
    {
      check: ({ name }) => (name.trim() === "" ? { name: "Please give the list a name." } : null),
      errorsOf: listErrors,
    },
  );
  return html`<form
    class="list-form"
    ref=${formRef}
    onSubmit=${onSubmit}
    onKeyDown=${(event) => event.key === "Escape" && onCancel()}
    novalidate
    aria-label=${`Rename list ${quoted(list.name)}`}
  >
    <${Field}
      id="rename-list"
      label=${`New name for ${quoted(list.name)}`}
      inputRef=${input}
      autocomplete="off"
      error=${errors.fields.name}
      ...${bind("name")}
    />
    ${note && html`<${Alert}>${note}<//>`}
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>Rename</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

// A task's fields in a form: the form's values for a task, the new task (POST) or the changes
// (a merge patch) they make, the checks made before sending, the API's refusals by field, the
// list it is in, and the fields beyond title and description (priority, tags, due date, time and
// zone).

import { html } from "./vendor/preact-htm.module.js";
import { browserZone, zoneNames } from "./dates.js";
import { Field, SelectField } from "./ui.js";

/** Highest first, as a person reads them; `label` is what the app shows (never a colour alone). */
export const PRIORITIES = [
  { id: "high", label: "High", shown: "High priority" },
  { id: "medium", label: "Medium", shown: "Medium priority" },
  { id: "low", label: "Low", shown: "Low priority" },
  { id: "none", label: "None", shown: "" },
];

const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 32;

/** The form's values for `task` (an empty form without one, in list `list`: "" is the inbox). */
export function valuesOf(task = null, list = "") {
  return {
    title: task?.title ?? "",
    list: task ? (task.list_id ?? "") : list,
    description: task?.description ?? "",
    priority: task?.priority ?? "none",
    tags: (task?.tags ?? []).join(", "),
    dueDate: task?.due?.date ?? "",
    dueTime: task?.due?.time ?? "",
    dueZone: task?.due?.time_zone ?? browserZone(),
  };
}

/** The tags typed, comma-separated: trimmed, empty ones and later case-insensitive repeats dropped. */
export function tagsOf(text) {
  const tags = [];
  for (const raw of text.split(",")) {
    const tag = raw.trim();
    if (tag !== "" && !tags.some((t) => t.toLowerCase() === tag.toLowerCase())) tags.push(tag);
  }
  return tags;
}

/** The due the values name, as the API writes it: null, all-day or timed. */
function dueOf(values) {
  if (values.dueDate === "") return null;
  if (values.dueTime === "") return { date: values.dueDate };
  return { date: values.dueDate, time: values.dueTime, time_zone: values.dueZone || browserZone() };
}

/** A new task's body for POST. */
export function draftOf(values) {
  const draft = { title: values.title, priority: values.priority, tags: tagsOf(values.tags) };
  if (values.list) draft.list_id = values.list;
  if (values.description !== "") draft.description = values.description;
  const due = dueOf(values);
  if (due) draft.due = due;
  return draft;
}

const sameDue = (a, b) =>
  (a === null && b === null) ||
  (a !== null && b !== null && a.date === b.date && (a.time ?? null) === (b.time ?? null) && (a.time_zone ?? null) === (b.time_zone ?? null));

/**
 * The merge patch that turns `opened` (the values the form started from) into `values`: only what
 * the person changed, so applying it over a newer version keeps everybody else's changes.
 */
export function patchOf(opened, values) {
  const patch = {};
  if (values.title !== opened.title) patch.title = values.title;
  if (values.list !== opened.list) patch.list_id = values.list === "" ? null : values.list;
  if (values.description !== opened.description) patch.description = values.description === "" ? null : values.description;
  if (values.priority !== opened.priority) patch.priority = values.priority;
  const tags = tagsOf(values.tags);
  if (tags.join("\n") !== tagsOf(opened.tags).join("\n")) patch.tags = tags;
  const due = dueOf(values);
  if (!sameDue(due, dueOf(opened))) {
    // A merge patch merges objects: time and zone are nulled out explicitly for an all-day due.
    patch.due = due === null ? null : { date: due.date, time: due.time ?? null, time_zone: due.time_zone ?? null };
  }
  return patch;
}

/** The fields a patch changes, in words: "title and due date". */
export function changedWords(patch) {
  const names = {
    title: "title",
    list_id: "list",
    description: "description",
    priority: "priority",
    tags: "tags",
    due: "due date",
  };
  const said = Object.keys(patch).map((key) => names[key] ?? key);
  return said.length <= 1 ? (said[0] ?? "") : `${said.slice(0, -1).join(", ")} and ${said.at(-1)}`;
}

/** What can be refused before anything is sent. */
export function checkValues(values) {
  const refused = {};
  if (values.title.trim() === "") refused.title = "Please give the task a title.";
  const tags = tagsOf(values.tags);
  if (tags.length > MAX_TAGS) refused.tags = `A task can have at most ${MAX_TAGS} tags.`;
  const long = tags.find((tag) => [...tag].length > MAX_TAG_LENGTH);
  if (long) refused.tags = `“${long}” is too long: a tag has at most ${MAX_TAG_LENGTH} characters.`;
  if (values.dueTime !== "" && values.dueDate === "") refused.dueDate = "Please give a date for the time.";
  return Object.keys(refused).length > 0 ? refused : null;
}

/** The form field an API error's `field` is about ("tags[2]" → tags, "due.time_zone" → dueZone). */
function formField(field) {
  if (!field) return null;
  if (/^tags\b/.test(field)) return "tags";
  if (/^due\.time_zone\b|^time_zone$/.test(field)) return "dueZone";
  if (/^due\.time\b|^time$/.test(field)) return "dueTime";
  if (/^due\b/.test(field)) return "dueDate";
  if (field === "list_id" || field === "list") return "list";
  return field;
}

/**
 * The API's refusal by form field: `values` says which fields are on screen (the zone only is
 * with a time); a message about a field not shown is said for the whole form.
 */
export function taskErrors(error, values) {
  const shown = new Set(["title", "list", "description", "priority", "tags", "dueDate", "dueTime"]);
  if (values.dueTime !== "") shown.add("dueZone");
  const fields = {};
  const rest = [];
  for (const { field, message } of error.fields ?? []) {
    const name = formField(field);
    const text = message ? message[0].toUpperCase() + message.slice(1) : message;
    if (name && shown.has(name)) fields[name] ??= text;
    else rest.push(field ? `${field}: ${message}` : message);
  }
  if (error.code === "TAG_LIMIT_REACHED") fields.tags = error.message;
  if (/^LIST_/.test(error.code ?? "")) fields.list = error.message;
  const nothingNamed = Object.keys(fields).length === 0;
  const form = rest.length > 0 ? rest.join(" ") : nothingNamed ? error.message : null;
  return { fields, form };
}

/** Priority, tags, due date, due time and (with a time) its zone; ids start with `prefix`. */
export function DetailsFields({ prefix, values, bind, errors }) {
  const zones = zoneNames(values.dueZone);
  return html`<div class="details">
    <${SelectField} id=${`${prefix}-priority`} label="Priority" error=${errors.priority} ...${bind("priority")}>
      ${PRIORITIES.map((p) => html`<option value=${p.id}>${p.label}</option>`)}
    <//>
    <${Field}
      id=${`${prefix}-tags`}
      label="Tags"
      hint="Separated by commas"
      autocomplete="off"
      placeholder="Work, Home"
      error=${errors.tags}
      ...${bind("tags")}
    />
    <${Field} id=${`${prefix}-due-date`} label="Due date" type="date" error=${errors.dueDate} ...${bind("dueDate")} />
    <${Field}
      id=${`${prefix}-due-time`}
      label="Due time (optional)"
      type="time"
      error=${errors.dueTime}
      ...${bind("dueTime")}
    />
    ${
      values.dueTime !== "" &&
      html`<${SelectField}
        id=${`${prefix}-due-zone`}
        label="Time zone"
        hint=${values.dueZone === browserZone() ? "Your time zone" : `Yours is ${browserZone()}`}
        error=${errors.dueZone}
        ...${bind("dueZone")}
      >
        ${zones.map((zone) => html`<option value=${zone}>${zone}</option>`)}
      <//>`
    }
  </div>`;
}

/**
 * The list a task is in: "Inbox" (no list) or one of `lists`. A list the task names that is not
 * among them (deleted elsewhere, or not loaded yet) stays choosable, so nothing moves unasked.
 */
export function ListField({ id, lists, error, value, ...select }) {
  const known = value === "" || lists.some((list) => list.id === value);
  return html`<${SelectField} id=${id} label="List" error=${error} value=${value} ...${select}>
    <option value="">Inbox</option>
    ${lists.map((list) => html`<option value=${list.id}>${list.name}</option>`)}
    ${!known && html`<option value=${value}>A list not shown</option>`}
  <//>`;
}

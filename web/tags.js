// The person's tags: each one a toggle that filters the list by it, with how many tasks carry it;
// "Manage tags" offers to rename a tag (on every task, merging it into a tag of that name if there
// is one) or delete it (from every task; the tasks stay).

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";
import { tags as api } from "./api.js";
import { Alert, ConfirmDialog, Field, announce, useSubmit } from "./ui.js";

const quoted = (name) => `“${name}”`;
const tasksWord = (n) => `${n} ${n === 1 ? "task" : "tasks"}`;

/**
 * `tags`: `[{ name, tasks, open }]`; `isSelected(name)` says whether it filters the list now;
 * `onToggle(name)`; `onChanged({ from, to })` after a rename (`to`) or deletion (`to` null).
 */
export function TagsPanel({ tags, error, isSelected, onToggle, onChanged }) {
  const [managing, setManaging] = useState(false);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [problem, setProblem] = useState(null);
  const heading = useRef(null);
  // A tag to focus once it is listed (a renamed tag appears only when the list comes back).
  const [focusing, setFocusing] = useState(null);
  useEffect(() => {
    const element = focusing && document.getElementById(tagId(focusing));
    if (element) {
      element.focus();
      setFocusing(null);
    }
  }, [focusing, tags]);
  const focusTag = (name) => setFocusing(name);

  const renamed = (from, to) => {
    setRenaming(null);
    onChanged({ from, to });
    focusTag(to);
  };

  const remove = async (tag) => {
    setDeleting(null);
    setProblem(null);
    try {
      await api.remove(tag.name);
      announce(`Deleted the tag ${quoted(tag.name)}.`);
      onChanged({ from: tag.name, to: null });
      heading.current?.focus();
    } catch (error) {
      if (error.sessionEnded) return;
      if (error.status === 404) onChanged({ from: tag.name, to: null });
      setProblem(`Could not delete the tag ${quoted(tag.name)}: ${error.message}`);
    }
  };

  if (tags.length === 0 && !error) return null;
  return html`<section class="card tags-panel" aria-labelledby="tags-heading">
    <div class="panel-head">
      <h2 id="tags-heading" tabindex="-1" ref=${heading}>Tags</h2>
      <button
        type="button"
        class="quiet"
        aria-pressed=${managing ? "true" : "false"}
        onClick=${() => {
          setManaging(!managing);
          setRenaming(null);
        }}
      >
        Manage tags
      </button>
    </div>
    ${error && html`<${Alert}>Your tags could not be loaded: ${error}<//>`}
    ${problem && html`<${Alert}>${problem}<//>`}
    <ul class=${managing ? "tag-list managing" : "tag-list"}>
      ${tags.map((tag) =>
        renaming === tag.name
          ? html`<li key=${tag.name}>
              <${RenameTag} tag=${tag} tags=${tags} onRenamed=${renamed} onCancel=${() => {
                setRenaming(null);
                focusTag(tag.name);
              }} />
            </li>`
          : html`<li key=${tag.name}>
              <button
                type="button"
                class="chip tag"
                id=${tagId(tag.name)}
                aria-pressed=${isSelected(tag.name) ? "true" : "false"}
                aria-describedby=${`${tagId(tag.name)}-count`}
                onClick=${() => onToggle(tag.name)}
              >
                ${tag.name}
              </button>
              <span class="muted tag-count" id=${`${tagId(tag.name)}-count`}>
                ${tag.open} open of ${tasksWord(tag.tasks)}
              </span>
              ${
                managing &&
                html`<span class="tag-actions">
                  <button
                    type="button"
                    class="quiet"
                    id=${`${tagId(tag.name)}-rename`}
                    aria-label=${`Rename tag ${quoted(tag.name)}`}
                    onClick=${() => setRenaming(tag.name)}
                  >
                    Rename
                  </button>
                  <button
                    type="button"
                    class="quiet danger"
                    aria-label=${`Delete tag ${quoted(tag.name)}`}
                    onClick=${() => setDeleting(tag)}
                  >
                    Delete
                  </button>
                </span>`
              }
            </li>`,
      )}
    </ul>
    ${
      deleting &&
      html`<${ConfirmDialog}
        title="Delete this tag?"
        confirm="Delete tag"
        onConfirm=${() => remove(deleting)}
        onCancel=${() => {
          setDeleting(null);
          focusTag(deleting.name);
        }}
      >
        ${quoted(deleting.name)} will be taken off ${tasksWord(deleting.tasks)}. The tasks themselves stay.
      <//>`
    }
  </section>`;
}

/** An element id for a tag's toggle (names may hold any character). */
function tagId(name) {
  return `tag-${Array.from(new TextEncoder().encode(name.toLowerCase()), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function RenameTag({ tag, tags, onRenamed, onCancel }) {
  const input = useRef(null);
  useEffect(() => input.current?.select(), []);
  // Another tag already has this name (names compare case-insensitively): the two become one.
  const into = (name) =>
    tags.find((t) => t.name !== tag.name && t.name.toLowerCase() === name.trim().toLowerCase()) ?? null;
  const { values, bind, formRef, errors, busy, onSubmit } = useSubmit(
    { name: tag.name },
    async ({ name }) => {
      const to = name.trim();
      if (to === tag.name) return onCancel();
      const answer = await api.rename(tag.name, to);
      const merged = into(to);
      const final = answer?.name ?? merged?.name ?? to;
      announce(
        merged
          ? `Merged the tag ${quoted(tag.name)} into ${quoted(final)}.`
          : `Renamed the tag ${quoted(tag.name)} to ${quoted(final)}.`,
      );
      onRenamed(tag.name, final);
    },
    {
      check: ({ name }) => (name.trim() === "" ? { name: "Please give the tag a name." } : null),
      errorsOf: (error) => ({
        fields: { name: error.fields?.[0]?.message ?? error.message },
        form: null,
      }),
    },
  );
  const merging = into(values.name);
  return html`<form
    class="rename-tag"
    ref=${formRef}
    onSubmit=${onSubmit}
    onKeyDown=${(event) => event.key === "Escape" && onCancel()}
    novalidate
    aria-label=${`Rename tag ${quoted(tag.name)}`}
  >
    <${Field}
      id="rename-tag"
      label=${`New name for ${quoted(tag.name)}`}
      inputRef=${input}
      maxlength="32"
      autocomplete="off"
      hint=${merging ? `${quoted(merging.name)} exists: the two tags will be merged into it.` : null}
      error=${errors.fields.name}
      ...${bind("name")}
    />
    ${errors.form && html`<${Alert}>${errors.form}<//>`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${merging ? "Merge" : "Rename"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

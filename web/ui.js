// Small building blocks shared by the pages: labelled fields with their errors, the page frame
// (title and focus on navigation), and the polite live region for status messages.

import { html, useEffect, useRef, useState } from "./vendor/preact-htm.module.js";

// ---------------------------------------------------------------------------------------------
// Status messages, read out by screen readers and shown briefly on screen: just below the header,
// over the page's heading (at the bottom of the window they sat over the last task's buttons on a
// phone), and never in the way of a click or tap, which goes through to what is underneath.

/** How long a status message stays on screen. */
const STATUS_MS = 3500;

const statusListeners = new Set();

/** Announces `message` politely (e.g. "Task added"). */
export function announce(message) {
  for (const listener of statusListeners) listener(message);
}

/** Takes the current status message off the screen (e.g. "You are signed out." once signed in again). */
export function clearStatus() {
  announce("");
}

export function StatusRegion() {
  const [message, setMessage] = useState("");
  useEffect(() => {
    let timer;
    let frame;
    const listener = (text) => {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      // Cleared first, so the same message twice is announced twice.
      setMessage("");
      if (text === "") return;
      frame = requestAnimationFrame(() => setMessage(text));
      timer = setTimeout(() => setMessage(""), STATUS_MS);
    };
    statusListeners.add(listener);
    return () => {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      statusListeners.delete(listener);
    };
  }, []);
  // The live region stays in the page, empty between messages: an added region is not reliably read out.
  return html`<div class="toast" role="status" aria-live="polite" data-empty=${message === ""}>${message}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Pages

/**
 * A page: sets the document title and, when the page changes, moves focus to its heading so
 * keyboard and screen-reader users start at the top of the new content.
 */
export function Page({ title, heading = title, className = "", children }) {
  const headingRef = useRef(null);
  useEffect(() => {
    document.title = `${title} · taskgate`;
    headingRef.current?.focus();
  }, [title]);
  return html`<section class=${`page ${className}`} aria-labelledby="page-heading">
    <h1 id="page-heading" tabindex="-1" ref=${headingRef}>${heading}</h1>
    ${children}
  </section>`;
}

// ---------------------------------------------------------------------------------------------
// Forms

/**
 * A labelled input (or textarea) with an optional hint and error, both linked with
 * aria-describedby; the error is announced when it appears.
 */
export function Field({ id, label, error, hint, multiline = false, inputRef, ...input }) {
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  const control = multiline
    ? html`<textarea
        id=${id}
        ref=${inputRef}
        aria-invalid=${error ? "true" : undefined}
        aria-describedby=${describedBy}
        ...${input}
      ></textarea>`
    : html`<input
        id=${id}
        ref=${inputRef}
        aria-invalid=${error ? "true" : undefined}
        aria-describedby=${describedBy}
        ...${input}
      />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`} ${control}
    ${error && html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>`}
  </div>`;
}

/** A labelled select with an optional hint and error, as `Field`; its options are the children. */
export function SelectField({ id, label, error, hint, children, ...select }) {
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    <select id=${id} aria-invalid=${error ? "true" : undefined} aria-describedby=${describedBy} ...${select}>
      ${children}
    </select>
    ${error && html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>`}
  </div>`;
}

/** An error about a whole form (or a whole page), announced when it appears. */
export function Alert({ id, children }) {
  return html`<p class="alert" id=${id} role="alert">${children}</p>`;
}

/** The value of each input of a form, while it is edited. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const bind = (name) => ({
    value: values[name],
    onInput: (event) => setValues((before) => ({ ...before, [name]: event.currentTarget.value })),
  });
  return { values, setValues, bind };
}

const NO_ERRORS = { fields: {}, form: null };

/**
 * A form that sends itself: `useForm`'s values plus `errors` (by field, and for the whole form),
 * `busy`, `formRef` and `onSubmit`. `submit(values)` sends it; `check(values)` may refuse first
 * with `{ field: message }`; a refusal becomes errors through `errorsOf` (default `errorsFrom`),
 * shown and focused, unless it ended the session (the app is already going to sign-in).
 */
export function useSubmit(initial, submit, { check, errorsOf = errorsFrom } = {}) {
  const form = useForm(initial);
  const formRef = useRef(null);
  const [errors, setErrors] = useState(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const show = (found) => {
    setErrors(found);
    focusFirstError(formRef.current);
  };
  const onSubmit = async (event) => {
    event.preventDefault();
    const refused = check?.(form.values);
    if (refused) return show({ fields: refused, form: null });
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      await submit(form.values);
    } catch (error) {
      if (!error.sessionEnded) show(errorsOf(error));
    } finally {
      setBusy(false);
    }
  };
  return { ...form, formRef, errors, busy, onSubmit };
}

/**
 * The API's refusal as `{ field: message }` plus a message for the form: `fieldOf(code)` says
 * which field an error code is about, and the task API's `errors` array names fields itself.
 */
export function errorsFrom(error, fieldOf = () => null) {
  const fields = {};
  for (const { field, message } of error.fields ?? []) {
    if (field) fields[field] = capitalise(message);
  }
  const field = fieldOf(error.code);
  if (field && !fields[field]) fields[field] = error.message;
  const form = Object.keys(fields).length > 0 ? null : error.message;
  return { fields, form };
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** Moves focus to the first field in `form` marked invalid, else to its form-level alert. */
export function focusFirstError(form) {
  requestAnimationFrame(() => {
    const target = form?.querySelector('[aria-invalid="true"]') ?? form?.querySelector(".alert");
    if (target) {
      if (!target.matches("input, textarea, select")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Confirmations

/**
 * A modal question before something that cannot be undone: focus starts on Cancel, Escape
 * cancels. `confirm` names the button that does it ("Delete").
 */
export function ConfirmDialog({ title, confirm, onConfirm, onCancel, children }) {
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
    <h2 id="confirm-heading">${title}</h2>
    <p id="confirm-text">${children}</p>
    <div class="actions">
      <button type="button" class="primary danger" onClick=${onConfirm}>${confirm}</button>
      <button type="button" ref=${cancel} onClick=${onCancel}>Cancel</button>
    </div>
  </dialog>`;
}

/**
 * A modal question with several answers (`choices`: `[{ label, onChoose, danger }]`) and Cancel:
 * focus starts on Cancel, Escape cancels. `busy` disables the answers while one is under way.
 */
export function ChoiceDialog({ title, choices, onCancel, busy = false, children }) {
  const dialog = useRef(null);
  const cancel = useRef(null);
  useEffect(() => {
    dialog.current?.showModal();
    cancel.current?.focus();
  }, []);
  return html`<dialog
    ref=${dialog}
    class="dialog"
    aria-labelledby="choice-heading"
    aria-describedby="choice-text"
    onCancel=${(event) => {
      event.preventDefault();
      onCancel();
    }}
  >
    <h2 id="choice-heading">${title}</h2>
    <div id="choice-text" class="dialog-text">${children}</div>
    <div class="actions">
      ${choices.map(
        (choice, i) =>
          html`<button
            type="button"
            class=${`${i === 0 ? "primary" : ""} ${choice.danger ? "danger" : ""}`.trim() || undefined}
            disabled=${busy}
            onClick=${choice.onChoose}
          >
            ${choice.label}
          </button>`,
      )}
      <button type="button" ref=${cancel} onClick=${onCancel}>Cancel</button>
    </div>
  </dialog>`;
}

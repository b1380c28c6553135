// The sign-in and sign-up pages.

import { html } from "./vendor/preact-htm.module.js";
import { auth } from "./api.js";
import { Link } from "./router.js";
import { Alert, Field, Page, errorsFrom, useSubmit } from "./ui.js";

/** Which field each Better Auth error code is about. */
function authField(code) {
  if (code === "INVALID_EMAIL" || code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL") return "email";
  if (code?.startsWith("PASSWORD_")) return "password";
  return null;
}

/** Better Auth's `[body.name] Invalid input` names its field in the message. */
function validationField(error) {
  const match = /^\[body\.(\w+)\]/.exec(error.message);
  return match ? match[1] : null;
}

function authErrors(error) {
  const field = error.code === "VALIDATION_ERROR" ? validationField(error) : null;
  const found = errorsFrom(error, (code) => field ?? authField(code));
  if (field) found.fields[field] = field === "name" ? "Please enter a shorter name." : "Please check this field.";
  return found;
}

export function SignIn({ next, notice, onSignedIn }) {
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { email: "", password: "" },
    async (values) => {
      const { user } = await auth.signIn(values);
      onSignedIn(user);
    },
    { errorsOf: authErrors },
  );
  const signUpHref = next ? `/sign-up?next=${encodeURIComponent(next)}` : "/sign-up";
  return html`<${Page} title="Sign in" className="narrow">
    ${notice && html`<p class="notice">${notice}</p>`}
    <form class="card stack" ref=${formRef} onSubmit=${onSubmit} novalidate>
      <${Field}
        id="sign-in-email"
        label="Email"
        type="email"
        autocomplete="username"
        required
        error=${errors.fields.email}
        ...${bind("email")}
      />
      <${Field}
        id="sign-in-password"
        label="Password"
        type="password"
        autocomplete="current-password"
        required
        error=${errors.fields.password}
        ...${bind("password")}
      />
      ${errors.form && html`<${Alert} id="sign-in-error">${errors.form}<//>`}
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
    <p class="aside">No account yet? <${Link} href=${signUpHref}>Create an account<//></p>
  <//>`;
}

export function SignUp({ next, onSignedIn }) {
  const { bind, formRef, errors, busy, onSubmit } = useSubmit(
    { name: "", email: "", password: "" },
    async (values) => {
      const { user } = await auth.signUp(values);
      onSignedIn(user);
    },
    { errorsOf: authErrors },
  );
  const signInHref = next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in";
  return html`<${Page} title="Create an account" className="narrow">
    <form class="card stack" ref=${formRef} onSubmit=${onSubmit} novalidate>
      <${Field}
        id="sign-up-name"
        label="Name"
        autocomplete="name"
        required
        maxlength="255"
        error=${errors.fields.name}
        ...${bind("name")}
      />
      <${Field}
        id="sign-up-email"
        label="Email"
        type="email"
        autocomplete="email"
        required
        error=${errors.fields.email}
        ...${bind("email")}
      />
      <${Field}
        id="sign-up-password"
        label="Password"
        type="password"
        autocomplete="new-password"
        required
        hint="8 to 128 characters. A few unrelated words make a strong one."
        error=${errors.fields.password}
        ...${bind("password")}
      />
      ${errors.form && html`<${Alert} id="sign-up-error">${errors.form}<//>`}
      <button class="primary" type="submit" disabled=${busy}>
        ${busy ? "Creating your account…" : "Create account"}
      </button>
    </form>
    <p class="aside">Already have an account? <${Link} href=${signInHref}>Sign in<//></p>
  <//>`;
}

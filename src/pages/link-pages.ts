// Scanner-safe one-time links. Mail scanners (Outlook Safe Links and the
// like), link previews and prefetchers open every link in a message, so the
// GET of a one-time link must never spend its token. It renders this page
// instead: the token sits in a hidden input of a form, and only a person
// pressing the button POSTs it (JSON, through app.js like every other form).
// The page never submits itself and never puts the token in a URL it
// navigates to.
import { isWellFormedToken } from "../auth/tokens.js";
import { html, type Html } from "./html.js";
import { field, formError, layout, noscript, type FieldOptions } from "./views.js";

export interface OneTimeLinkPage {
  /** <title> and <h1>. */
  title: string;
  /** What pressing the button will do, shown above the form. */
  explanation: string;
  /** The JSON route the button POSTs `{token, ...fields}` to, e.g. "/reset-password". */
  action: string;
  /** The token from the link's query string, as received (checked here, never trusted). */
  token: string | undefined;
  /** More inputs the POST needs (a new password); `form` is filled in. */
  fields?: Omit<FieldOptions, "form">[];
  button: string;
  /** Shown instead of the form when the link carries no well-formed token. */
  brokenLink: string;
  /** Where to go next: a link under the form (and instead of it for a broken link). */
  next?: { href: string; label: string };
  /** Shown once the POST succeeded (app.js unhides it), e.g. the log-in link. */
  done?: { href: string; label: string };
}

/** The form's id: "/reset-password" → "reset-password". */
const formId = (action: string) => action.replace(/^\//, "").replace(/[^a-z0-9-]/gi, "-");

export function oneTimeLinkPage(page: OneTimeLinkPage): Html {
  const id = formId(page.action);
  const done = page.done ? html`<p class="aside" data-link-done hidden><a href="${page.done.href}">${page.done.label}</a></p>` : "";
  const next = page.next ? html`<p class="aside" data-link-retry><a href="${page.next.href}">${page.next.label}</a></p>` : "";
  // A missing or mangled token (a link cut in two by a mail client) cannot
  // work: say so rather than offer a button that can only fail. The value is
  // not echoed back.
  const body =
    page.token !== undefined && isWellFormedToken(page.token)
      ? html`<form id="${id}" method="post" action="${page.action}" data-api="POST ${page.action}" data-then="link-used" novalidate>
        <p class="lead">${page.explanation}</p>
        ${formError(id)}
        <input type="hidden" name="token" value="${page.token}">
        ${(page.fields ?? []).map((f) => field({ ...f, form: id }))}
        <button type="submit">${page.button}</button>
      </form>`
      : html`<p class="form-error" id="${id}-broken" role="alert">${page.brokenLink}</p>`;
  return layout(
    page.title,
    null,
    html`    <h1 id="${id}-title">${page.title}</h1>
    ${noscript}
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <section class="panel narrow" aria-labelledby="${id}-title">
      ${body}
      ${done}
      ${next}
    </section>`,
  );
}

/** GET /reset-password?token=…: the new-password form. */
export const resetPasswordPage = (token: string | undefined) =>
  oneTimeLinkPage({
    title: "Set a new password",
    explanation: "Choose a new password for your account. Every place you are signed in will be signed out.",
    action: "/reset-password",
    token,
    fields: [{ name: "newPassword", label: "New password", type: "password", autocomplete: "new-password", hint: "At least 8 characters." }],
    button: "Set new password",
    brokenLink: "This reset link is incomplete or malformed. Copy the whole link from the email, or ask for a new one.",
    next: { href: "/forgot-password", label: "Ask for a new reset link" },
    done: { href: "/", label: "Log in with your new password" },
  });

/** GET /accept-invite?token=…: an invitation's link; choosing a password spends it (POST /reset-password). */
export const acceptInvitePage = (token: string | undefined) =>
  oneTimeLinkPage({
    title: "Welcome: choose your password",
    explanation: "An administrator created an account for your address. Choose its password to sign in.",
    action: "/reset-password",
    token,
    fields: [{ name: "newPassword", label: "Password", type: "password", autocomplete: "new-password", hint: "At least 8 characters." }],
    button: "Set password",
    brokenLink: "This invitation link is incomplete or malformed. Copy the whole link from the email, or ask the administrator for a new one.",
    next: { href: "/forgot-password", label: "Link expired? Ask for a password link" },
    done: { href: "/", label: "Log in with your password" },
  });

/** GET /confirm-email?token=…: one button that moves the account to this (new) address. */
export const confirmEmailPage = (token: string | undefined) =>
  oneTimeLinkPage({
    title: "Confirm your new email address",
    explanation: "Press the button to make this the address of your account. Every other place you are signed in will be signed out.",
    action: "/email/confirm",
    token,
    button: "Confirm new address",
    brokenLink: "This confirmation link is incomplete or malformed. Copy the whole link from the email.",
    done: { href: "/", label: "Go to log in" },
  });

/** GET /not-me?token=…: the security notice's button that takes the account back. */
export const notMePage = (token: string | undefined) =>
  oneTimeLinkPage({
    title: "This wasn't me",
    explanation:
      "Press the button if you did not do what the email describes: every device is signed out, the account keeps this address, and you get a link to choose a new password.",
    action: "/not-me",
    token,
    button: "Secure my account",
    brokenLink: "This link is incomplete or malformed. Copy the whole link from the email.",
    done: { href: "/forgot-password", label: "Ask for another password link" },
  });

/** GET /verify-email?token=…: one button that confirms the address. */
export const verifyEmailPage = (token: string | undefined) =>
  oneTimeLinkPage({
    title: "Verify your email address",
    explanation: "Press the button to confirm that this email address is yours.",
    action: "/verify-email",
    token,
    button: "Verify email address",
    brokenLink: "This verification link is incomplete or malformed. Copy the whole link from the email.",
    done: { href: "/", label: "Go to log in" },
  });

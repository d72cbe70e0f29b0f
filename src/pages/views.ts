// The built-in pages as functions from data to HTML. Forms post JSON through
// /assets/app.js; errors from the API's `issues` land next to their field.
import type { User } from "../schemas.js";
import type { OpenApiDocument, Operation, SecurityScheme } from "../openapi.js";
import type { ActivityItem } from "./activity.js";
import { ASSETS } from "./assets.js";
import { Html, html } from "./html.js";

/** The Log out button: a form POST, never a link (a GET must not change state). */
const logoutForm = html`<form method="post" action="/logout" data-api="POST /logout" data-then="home" class="inline">
      <button type="submit">Log out</button>
    </form>`;

export function layout(title: string, user: User | null, main: Html): Html {
  return html`<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · Latchkey</title>
  <link rel="stylesheet" href="${ASSETS["app.css"]!.href}">
  <script src="${ASSETS["app.js"]!.href}" defer></script>
</head>
<body${user ? html` data-signed-in="true"` : ""}>
  <a class="skip" href="#main">Skip to content</a>
  <header class="site">
    <a class="brand" href="/">Latchkey</a>
    <nav aria-label="Site">
      <a href="/docs">API reference</a>
      ${user ? html`${user.role === "admin" ? html`<a href="/admin">Admin</a>
      ` : ""}<a href="/account">Account</a>
      <span class="who" title="Signed in as">${user.email}</span>
      ${logoutForm}` : ""}
    </nav>
  </header>
  <main id="main" tabindex="-1">
${main}
  </main>
</body>
</html>`;
}

/**
 * On every page of an impersonation session: whose account this is, that an
 * administrator is in it, and the way out (POST /impersonation/stop).
 */
export function withImpersonationBanner(page: Html, user: User): Html {
  const banner = html`<div class="impersonating" role="status">
    <p>You are signed in as <strong>${user.email}</strong> by an administrator. Changes to the password, address, second factors and deletion are refused.</p>
    <form method="post" action="/impersonation/stop" data-api="POST /impersonation/stop" data-then="admin" class="inline">
      <button type="submit">Stop</button>
    </form>
  </div>
`;
  return new Html(page.value.replace('<main id="main" tabindex="-1">', () => `${banner.value}  <main id="main" tabindex="-1">`));
}

export interface FieldOptions {
  form: string;
  name: string;
  label: string;
  /** "code": a one-time code (digits from an authenticator app, or a recovery code). */
  type: "email" | "password" | "code" | "text";
  autocomplete: string;
  hint?: string;
  /** Not required; left empty, it is not sent at all. */
  optional?: boolean;
}

export function field({ form, name, label, type, autocomplete, hint, optional }: FieldOptions): Html {
  const id = `${form}-${name}`;
  const describedBy = [hint ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" ");
  const extra =
    type === "email" ? html` spellcheck="false" autocapitalize="none"` : type === "code" ? html` spellcheck="false" autocapitalize="none" maxlength="24"` : "";
  const numeric = autocomplete === "one-time-code" ? html` inputmode="numeric"` : "";
  return html`<div class="field">
        <label for="${id}">${label}</label>
        ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ""}
        <input id="${id}" name="${name}" type="${type === "code" ? "text" : type}" autocomplete="${autocomplete}"${optional ? html` data-optional` : html` required`} aria-describedby="${describedBy}"${extra}${numeric}>
        <p class="field-error" id="${id}-error" data-error-for="${name}" hidden></p>
      </div>`;
}

/**
 * The second step of a log-in (shown once POST /login answers mfaRequired):
 * a code from the authenticator app, or a recovery code.
 */
const secondStep = html`
      <section aria-labelledby="mfa-title" class="panel" id="mfa-step" hidden>
        <h2 id="mfa-title">Two-factor authentication</h2>
        <p>Enter the 6-digit code your authenticator app shows for this account.</p>
        <form id="login-mfa" method="post" action="/login/mfa" data-api="POST /login/mfa" data-then="account" novalidate>
          ${formError("login-mfa")}
          ${field({ form: "login-mfa", name: "code", label: "Code", type: "code", autocomplete: "one-time-code" })}
          <button type="submit">Verify</button>
        </form>
        <details class="aside">
          <summary>Lost your phone? Use a recovery code</summary>
          <form id="login-recovery" method="post" action="/login/mfa" data-api="POST /login/mfa" data-then="account" novalidate>
            ${formError("login-recovery")}
            ${field({ form: "login-recovery", name: "recoveryCode", label: "Recovery code", type: "code", autocomplete: "off" })}
            <button type="submit" class="secondary">Use recovery code</button>
          </form>
        </details>
        <p class="aside"><a href="/">Start again</a></p>
      </section>`;

export function formError(form: string): Html {
  return html`<p class="form-error" id="${form}-form-error" data-error-for="" role="alert" hidden></p>`;
}

export const noscript = html`<noscript><p class="notice">These forms talk to the JSON API with JavaScript. Without it, use the API directly (see the <a href="/docs">API reference</a>).</p></noscript>`;

export function homePage(options: { signup: boolean } = { signup: true }): Html {
  const signup = options.signup
    ? html`
      <section aria-labelledby="signup-title" class="panel">
        <h2 id="signup-title">Create an account</h2>
        <form id="signup" method="post" action="/signup" data-api="POST /signup" data-then="signed-up" novalidate>
          ${formError("signup")}
          ${field({ form: "signup", name: "email", label: "Email", type: "email", autocomplete: "email" })}
          ${field({ form: "signup", name: "password", label: "Password", type: "password", autocomplete: "new-password", hint: "At least 8 characters." })}
          <button type="submit">Sign up</button>
        </form>
      </section>`
    : html`
      <section aria-labelledby="signup-title" class="panel">
        <h2 id="signup-title">New here?</h2>
        <p>Accounts are by invitation: ask an administrator to invite your address.</p>
      </section>`;
  return layout(
    "Sign in",
    null,
    html`    <h1>Welcome to Latchkey</h1>
    ${noscript}
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <div class="panels">
      <section aria-labelledby="login-title" class="panel">
        <h2 id="login-title">Log in</h2>
        <form id="login" method="post" action="/login" data-api="POST /login" data-then="login" novalidate>
          ${formError("login")}
          ${field({ form: "login", name: "email", label: "Email", type: "email", autocomplete: "username" })}
          ${field({ form: "login", name: "password", label: "Password", type: "password", autocomplete: "current-password" })}
          <button type="submit">Log in</button>
          <p class="aside"><a href="/forgot-password">Forgot password?</a></p>
        </form>
      </section>${signup}${secondStep}
    </div>`,
  );
}

/** Asks for a reset link; the answer is the API's same words for every address. */
export function forgotPasswordPage(): Html {
  return layout(
    "Forgot password",
    null,
    html`    <h1>Forgot your password?</h1>
    ${noscript}
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <section aria-labelledby="forgot-title" class="panel narrow">
      <h2 id="forgot-title">Get a reset link</h2>
      <p>Enter the email address of your account. If it has one, a link to set a new password is sent to it.</p>
      <form id="forgot" method="post" action="/forgot-password" data-api="POST /forgot-password" data-then="message" novalidate>
        ${formError("forgot")}
        ${field({ form: "forgot", name: "email", label: "Email", type: "email", autocomplete: "email" })}
        <button type="submit">Send reset link</button>
      </form>
      <p class="aside"><a href="/">Back to log in</a></p>
    </section>`,
  );
}

function dateTime(iso: string): Html {
  return html`<time datetime="${iso}">${iso.slice(0, 10)}</time>`;
}

/** "2026-12-04 02:58 UTC" */
const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function activitySection(items: ActivityItem[]): Html {
  const rows = items.map(
    (item) => html`
        <li><strong>${item.text}</strong>
          <p class="meta"><time datetime="${item.at}">${minute(item.at)}</time>${item.device ? html` · ${item.device}` : ""}${item.ip ? html` · ${item.ip}` : ""}</p></li>`,
  );
  return html`
    <section id="activity" aria-labelledby="activity-title" class="panel">
      <h2 id="activity-title">Recent activity</h2>
      ${items.length === 0 ? html`<p>Nothing yet.</p>` : html`<ol class="sessions activity">${rows}
      </ol>`}
    </section>`;
}

/** The profile's address line: whether it is proven, and (when verification is on) a button for a new link. */
function emailStatus(user: User, verification: "off" | "optional" | "required"): Html {
  if (verification === "off") return html``;
  if (user.emailVerified) return html` <span class="badge">verified</span>`;
  return html` <span class="badge warn">not verified</span>
          <form id="resend" method="post" action="/verify-email/resend" data-api="POST /verify-email/resend" data-then="message" class="inline">
            <input type="hidden" name="email" value="${user.email}">
            <button type="submit" class="secondary">Send a new verification link</button>
          </form>`;
}

/** What the account page says about second factors. */
export interface MfaState {
  on: boolean;
  recoveryCodesLeft: number;
}

/**
 * Two-factor authentication on the account page: set-up (QR code, key,
 * confirming code), the recovery codes (shown once, to copy or download),
 * new codes and turning it off.
 */
function mfaSection(mfa: MfaState): Html {
  const state = mfa.on
    ? html`<p><span class="badge">on</span> An authenticator app. <span id="recovery-left">${String(mfa.recoveryCodesLeft)}</span> recovery codes left.</p>
      <div class="actions">
        <form id="recovery-codes" method="post" action="/mfa/recovery-codes" data-api="POST /mfa/recovery-codes" data-then="recovery-codes" class="inline">
          <button type="submit" class="secondary">Make new recovery codes</button>
        </form>
        <form id="totp-disable" method="post" action="/mfa/totp/disable" data-api="POST /mfa/totp/disable" data-then="reload" data-confirm="Turn off two-factor authentication? Signing in will ask for your password only." class="inline">
          <button type="submit" class="danger">Turn off</button>
        </form>
      </div>`
    : html`<p id="mfa-state">Off. With it on, signing in also asks for a code from an authenticator app on your phone.</p>
      <form id="totp-setup" method="post" action="/mfa/totp/setup" data-api="POST /mfa/totp/setup" data-then="totp-setup" class="inline">
        ${formError("totp-setup")}
        <button type="submit">Set up an authenticator app</button>
      </form>
      <div id="totp-enrol" hidden>
        <p>Scan this QR code with your authenticator app, or type the key into it. Then enter the code it shows.</p>
        <div id="totp-qr" class="qr" role="img" aria-label="QR code of the key for your authenticator app"></div>
        <p>Key: <code id="totp-secret" class="key"></code></p>
        <form id="totp-enable" method="post" action="/mfa/totp/enable" data-api="POST /mfa/totp/enable" data-then="totp-enabled" novalidate>
          ${formError("totp-enable")}
          ${field({ form: "totp-enable", name: "code", label: "Code from the app", type: "code", autocomplete: "one-time-code" })}
          <button type="submit">Turn on</button>
        </form>
      </div>`;
  return html`
    <section id="mfa" aria-labelledby="mfa-title" class="panel">
      <h2 id="mfa-title">Two-factor authentication</h2>
      ${state}
      <div id="recovery" hidden>
        <h3 id="recovery-title">Your recovery codes</h3>
        <p>Each one signs you in once if you lose your phone. Keep them somewhere safe: they are shown only now.</p>
        <ul id="recovery-list" class="codes" aria-labelledby="recovery-title"></ul>
        <div class="actions">
          <button type="button" id="recovery-copy" class="secondary">Copy</button>
          <button type="button" id="recovery-download" class="secondary">Download</button>
        </div>
      </div>
    </section>`;
}

/** Asked for when a sensitive action answers "Re-authentication required"; the action is sent again after it. */
export function reauthDialog(mfa: MfaState): Html {
  return html`
    <dialog id="reauth" aria-labelledby="reauth-title">
      <h2 id="reauth-title">Confirm it is you</h2>
      <p>This change needs your password${mfa.on ? " and a code from your authenticator app" : ""} again.</p>
      <form id="reauth-form" method="post" action="/reauth" data-api="POST /reauth" data-then="reauthed" novalidate>
        ${formError("reauth-form")}
        ${field({ form: "reauth-form", name: "password", label: "Password", type: "password", autocomplete: "current-password" })}
        ${mfa.on ? field({ form: "reauth-form", name: "code", label: "Code from the app", type: "code", autocomplete: "one-time-code" }) : ""}
        <div class="actions">
          <button type="submit">Confirm</button>
          <button type="button" class="secondary" data-close-dialog>Cancel</button>
        </div>
      </form>
    </dialog>`;
}

export function accountPage(
  user: User,
  activity: ActivityItem[],
  verification: "off" | "optional" | "required" = "optional",
  mfa: MfaState = { on: false, recoveryCodesLeft: 0 },
): Html {
  const sessions = html`
    <section id="sessions" aria-labelledby="sessions-title" class="panel" data-sessions hidden>
      <h2 id="sessions-title">Where you are signed in</h2>
      <p class="form-error" id="sessions-error" role="alert" hidden></p>
      <ul id="session-list" class="sessions" aria-live="polite"></ul>
      <div class="actions">
        <form method="post" action="/sessions/revoke-others" data-api="POST /sessions/revoke-others" data-then="sessions" class="inline">
          <button type="submit" class="secondary">Log out other sessions</button>
        </form>
        <form method="post" action="/logout-all" data-api="POST /logout-all" data-then="home" class="inline">
          <button type="submit" class="danger">Log out everywhere</button>
        </form>
      </div>
    </section>`;
  const password = html`
    <section aria-labelledby="password-title" class="panel">
      <h2 id="password-title">Change password</h2>
      <form id="password" method="post" action="/password" data-api="POST /password" data-then="password-changed" novalidate>
        ${formError("password")}
        ${field({ form: "password", name: "currentPassword", label: "Current password", type: "password", autocomplete: "current-password" })}
        ${field({ form: "password", name: "newPassword", label: "New password", type: "password", autocomplete: "new-password", hint: "At least 8 characters." })}
        <button type="submit">Change password</button>
      </form>
    </section>`;
  // Nothing changes until the link mailed to the new address is used (POST /email/confirm).
  const email = html`
    <section aria-labelledby="email-title" class="panel">
      <h2 id="email-title">Change email address</h2>
      <p>A link goes to the new address; the change happens when it is used. Your current address gets a notice.</p>
      <form id="email" method="post" action="/email" data-api="POST /email" data-then="message" novalidate>
        ${formError("email")}
        ${field({ form: "email", name: "newEmail", label: "New email address", type: "email", autocomplete: "email" })}
        ${field({ form: "email", name: "currentPassword", label: "Current password", type: "password", autocomplete: "current-password" })}
        <button type="submit">Send confirmation link</button>
      </form>
    </section>`;
  return layout(
    "Your account",
    user,
    html`    <h1>Your account</h1>
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <section aria-labelledby="profile-title" class="panel">
      <h2 id="profile-title">Profile</h2>
      <dl class="facts">
        <dt>Email</dt><dd><span id="user-email">${user.email}</span>${emailStatus(user, verification)}</dd>
        <dt>Role</dt><dd>${user.role}</dd>
        <dt>Member since</dt><dd>${dateTime(user.createdAt)}</dd>
      </dl>
    </section>${sessions}${activitySection(activity)}${mfaSection(mfa)}${password}${email}${reauthDialog(mfa)}`,
  );
}

/** How the page names a security scheme: "session cookie", "bearer token". */
function schemeLabel(scheme: SecurityScheme | undefined): string {
  if (!scheme) return "unknown";
  return scheme.type === "http" ? `${scheme.scheme} token` : `${scheme.name} ${scheme.in === "cookie" ? "cookie" : scheme.in}`;
}

/** The operation's credentials, named by its security schemes ("none" when it needs none). */
function authLabel(doc: OpenApiDocument, op: Operation): string {
  const names = op.security.flatMap((requirement) => Object.keys(requirement));
  return names.length > 0 ? names.map((name) => schemeLabel(doc.components.securitySchemes[name])).join(" or ") : "none";
}

/** Markdown-style `code` spans in the document's descriptions, and nothing else. */
function prose(text: string | undefined): Html {
  if (!text) return html``;
  return html`${text.split("`").map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part))}`;
}

function schemaBlock(label: string, schema: unknown): Html {
  return html`<details><summary>${label}</summary><pre><code>${JSON.stringify(schema, null, 2)}</code></pre></details>`;
}

/** The API reference, rendered from the OpenAPI document itself. */
export function docsPage(doc: OpenApiDocument, user: User | null): Html {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const tags = [...new Set(operations.map((o) => o.op.tags[0] ?? "Other"))];
  return layout(
    "API reference",
    user,
    html`    <h1>API reference</h1>
    <p>${prose(doc.info.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}, version ${doc.info.version}).</p>
    <nav aria-label="Operations" class="toc">
      <ul>${operations.map(
        ({ path, method, op }) => html`
        <li><a href="#${op.operationId}"><span class="method">${method.toUpperCase()}</span> <code>${path}</code></a> ${op.summary}</li>`,
      )}
      </ul>
    </nav>
    ${tags.map(
      (tag) => html`
    <section aria-labelledby="tag-${tag}">
      <h2 id="tag-${tag}">${tag}</h2>
      ${operations
        .filter((o) => (o.op.tags[0] ?? "Other") === tag)
        .map(
          ({ path, method, op }) => html`
      <article id="${op.operationId}" class="operation panel">
        <h3><span class="method method-${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
        <p><strong>${op.summary}.</strong> ${prose(op.description)}</p>
        <p class="auth">Authentication: ${authLabel(doc, op)}</p>
        ${op.requestBody ? schemaBlock("Request body (application/json)", op.requestBody.content["application/json"].schema) : ""}
        <table>
          <caption>Responses</caption>
          <thead><tr><th scope="col">Status</th><th scope="col">Meaning</th><th scope="col">Body and headers</th></tr></thead>
          <tbody>${Object.entries(op.responses).map(
            ([status, res]) => html`
            <tr>
              <th scope="row">${status}</th>
              <td>${prose(res.description)}</td>
              <td>${res.headers ? Object.entries(res.headers).map(([name, h]) => html`<p><code>${name}</code>: ${prose(h.description)}</p>`) : ""}${res.content ? schemaBlock("JSON schema", res.content["application/json"].schema) : ""}</td>
            </tr>`,
          )}
          </tbody>
        </table>
      </article>`,
        )}
    </section>`,
    )}`,
  );
}

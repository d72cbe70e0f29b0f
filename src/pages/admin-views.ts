// The admin console's pages: the user list (search by email prefix, pages of
// 50) and one user's page (profile, status, sessions, second factor, recent
// events) with its actions. Every action is a form that calls the admin JSON
// API through app.js, so it passes the same cross-site check, admin check and
// fresh re-authentication; every destructive one asks for a confirmation.
import type { User } from "../schemas.js";
import { isDisabled, type SessionRow, type UserRow } from "../store/store.js";
import type { ActivityItem } from "./activity.js";
import { html, type Html } from "./html.js";
import { activitySection, field, formError, layout, reauthDialog, type MfaState } from "./views.js";

const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

function status(user: UserRow, now: number): Html {
  if (!isDisabled(user, now)) return html`<span class="badge">enabled</span>`;
  return user.disabledUntil! >= 253402300799999
    ? html`<span class="badge danger">disabled</span>`
    : html`<span class="badge danger">disabled until ${minute(user.disabledUntil!)}</span>`;
}

export interface UserListPage {
  users: UserRow[];
  nextCursor: string | null;
  /** The email prefix searched for, if any. */
  email: string | undefined;
}

export function adminUsersPage(admin: User, list: UserListPage, now: number, adminMfa: MfaState): Html {
  const rows = list.users.map(
    (u) => html`
          <tr>
            <th scope="row"><a href="/admin/users/${encodeURIComponent(u.id)}">${u.email}</a></th>
            <td>${u.role}</td>
            <td>${status(u, now)}</td>
            <td>${minute(u.createdAt)}</td>
            <td>${u.lastLoginAt === null ? "never" : minute(u.lastLoginAt)}</td>
          </tr>`,
  );
  const next = list.nextCursor
    ? html`<p class="aside"><a href="/admin?${new URLSearchParams({ ...(list.email ? { email: list.email } : {}), cursor: list.nextCursor }).toString()}" rel="next">Next page</a></p>`
    : "";
  return layout(
    "Admin",
    admin,
    html`    <h1>Users</h1>
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <section aria-labelledby="search-title" class="panel">
      <h2 id="search-title">Find a user</h2>
      <form id="user-search" method="get" action="/admin" role="search">
        <div class="field">
          <label for="user-search-email">Email starts with</label>
          <input id="user-search-email" name="email" type="search" value="${list.email ?? ""}" autocomplete="off" spellcheck="false" autocapitalize="none">
        </div>
        <button type="submit">Search</button>
      </form>
    </section>
    <section aria-labelledby="invite-title" class="panel">
      <h2 id="invite-title">Invite someone</h2>
      <p>The account is made now; a link to choose its password goes to the address.</p>
      <form id="invite" method="post" action="/users/invite" data-api="POST /users/invite" data-then="invited" novalidate>
        ${formError("invite")}
        ${field({ form: "invite", name: "email", label: "Email", type: "email", autocomplete: "off" })}
        <div class="field">
          <label for="invite-role">Role</label>
          <select id="invite-role" name="role">
            <option value="user" selected>user</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <button type="submit">Send invitation</button>
      </form>
    </section>
    <section aria-labelledby="users-title" class="panel">
      <h2 id="users-title">${list.email ? `Users whose email starts with “${list.email}”` : "All users"}</h2>
      ${
        list.users.length === 0
          ? html`<p>No user matches.</p>`
          : html`<table id="user-table">
        <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Last sign-in</th></tr></thead>
        <tbody>${rows}
        </tbody>
      </table>`
      }
      ${next}
    </section>
    <section aria-labelledby="danger-title" class="panel">
      <h2 id="danger-title">Every session</h2>
      <p>Signs every user out of every device and ends every bearer token, yours too.</p>
      <form id="end-all" method="post" action="/users/sessions" data-api="DELETE /users/sessions" data-then="home" data-confirm="End every session of every user? Everyone, you included, has to sign in again.">
        ${formError("end-all")}
        <button type="submit" class="danger">End every session</button>
      </form>
    </section>${reauthDialog(adminMfa)}`,
  );
}

export interface UserDetails {
  user: UserRow;
  sessions: SessionRow[];
  mfaOn: boolean;
  activity: ActivityItem[];
}

export function adminUserPage(admin: User, details: UserDetails, now: number, adminMfa: MfaState): Html {
  const { user, sessions, mfaOn, activity } = details;
  const api = (method: string, suffix = "") => `${method} /users/${encodeURIComponent(user.id)}${suffix}`;
  const disabled = isDisabled(user, now);
  const sessionRows = sessions.map(
    (s) => html`
        <li><strong>${s.userAgent ?? "Unknown device"}</strong>
          <p class="meta">${s.ip ? `IP ${s.ip} · ` : ""}signed in ${minute(s.createdAt)} · last active ${minute(s.lastSeenAt)} · ${s.aal}</p></li>`,
  );
  const disableForm = disabled
    ? html`<form id="enable" method="post" action="/users/${user.id}/enable" data-api="${api("POST", "/enable")}" data-then="reload">
          ${formError("enable")}
          <button type="submit">Enable the account</button>
        </form>`
    : html`<form id="disable" method="post" action="/users/${user.id}/disable" data-api="${api("POST", "/disable")}" data-then="reload" data-confirm="Disable ${user.email}? Every session of theirs ends now." novalidate>
          ${formError("disable")}
          ${field({ form: "disable", name: "reason", label: "Reason", type: "text", autocomplete: "off", hint: "Recorded in the account's events." })}
          ${field({ form: "disable", name: "until", label: "Until (optional)", type: "text", autocomplete: "off", optional: true, hint: "An ISO date-time such as 2026-12-31T00:00:00Z; empty: until enabled again." })}
          <button type="submit" class="danger">Disable</button>
        </form>`;
  return layout(
    `User ${user.email}`,
    admin,
    html`    <p class="aside"><a href="/admin">All users</a></p>
    <h1>${user.email}</h1>
    <p id="page-status" class="status" role="status" aria-live="polite"></p>
    <section aria-labelledby="profile-title" class="panel">
      <h2 id="profile-title">Profile</h2>
      <dl class="facts">
        <dt>Status</dt><dd id="user-status">${status(user, now)}</dd>
        <dt>Role</dt><dd>${user.role}</dd>
        <dt>Email</dt><dd>${user.email} ${user.emailVerifiedAt === null ? html`<span class="badge warn">not verified</span>` : html`<span class="badge">verified</span>`}</dd>
        <dt>Two-factor</dt><dd>${mfaOn ? "on" : "off"}</dd>
        <dt>Created</dt><dd>${minute(user.createdAt)}</dd>
        <dt>Last sign-in</dt><dd>${user.lastLoginAt === null ? "never" : minute(user.lastLoginAt)}</dd>
        <dt>Id</dt><dd><code>${user.id}</code></dd>
      </dl>
    </section>
    <section aria-labelledby="actions-title" class="panel">
      <h2 id="actions-title">Actions</h2>
      <div class="stack">
        <form id="role" method="post" action="/users/${user.id}" data-api="${api("PATCH")}" data-then="reload" data-confirm="Change the role of ${user.email}? Their sessions end." novalidate>
          ${formError("role")}
          <div class="field">
            <label for="role-role">Role</label>
            <select id="role-role" name="role">
              <option value="user"${user.role === "user" ? html` selected` : ""}>user</option>
              <option value="admin"${user.role === "admin" ? html` selected` : ""}>admin</option>
            </select>
          </div>
          <button type="submit" class="secondary">Change role</button>
        </form>
        ${disableForm}
        <div class="actions">
          ${
            user.role === "admin" || disabled
              ? ""
              : html`<form id="impersonate" method="post" action="/users/${user.id}/impersonate" data-api="${api("POST", "/impersonate")}" data-then="account" data-confirm="Sign in as ${user.email}? They will be told, and will see it in their activity." class="inline">
            <button type="submit" class="secondary">Sign in as this user</button>
          </form>`
          }
          <form id="reset-link" method="post" action="/users/${user.id}/reset-link" data-api="${api("POST", "/reset-link")}" data-then="message" class="inline">
            <button type="submit" class="secondary">Send a password reset link</button>
          </form>
          <form id="revoke" method="post" action="/users/${user.id}/sessions" data-api="${api("DELETE", "/sessions")}" data-then="reload" data-confirm="Sign ${user.email} out of every device?" class="inline">
            <button type="submit" class="secondary">Revoke every session</button>
          </form>
          ${
            mfaOn
              ? html`<form id="remove-mfa" method="post" action="/users/${user.id}/mfa" data-api="${api("DELETE", "/mfa")}" data-then="reload" data-confirm="Remove the authenticator app and recovery codes of ${user.email}?" class="inline">
            <button type="submit" class="secondary">Remove two-factor</button>
          </form>`
              : ""
          }
          <form id="delete-user" method="post" action="/users/${user.id}" data-api="${api("DELETE")}" data-then="admin" data-confirm="Delete ${user.email} for good? This cannot be undone." class="inline">
            <button type="submit" class="danger">Delete the account</button>
          </form>
        </div>
        ${formError("actions")}
      </div>
    </section>
    <section aria-labelledby="sessions-title" class="panel">
      <h2 id="sessions-title">Sessions</h2>
      ${sessions.length === 0 ? html`<p>Not signed in anywhere.</p>` : html`<ul class="sessions" id="user-sessions">${sessionRows}
      </ul>`}
    </section>${activitySection(activity)}${reauthDialog(adminMfa)}`,
  );
}

/** 403 for a signed-in user who may not see the console, in words. */
export function adminForbiddenPage(user: User, message: string): Html {
  return layout(
    "Forbidden",
    user,
    html`    <h1>Forbidden</h1>
    <p class="notice">${message}</p>
    <p><a href="/account">Back to your account</a></p>`,
  );
}

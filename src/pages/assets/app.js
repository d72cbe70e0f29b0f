// Latchkey's pages: plain forms enhanced to talk to the JSON API with fetch.
// Same origin only, so the HttpOnly session cookie travels by itself and no
// script ever sees it. Served as a file: the pages' CSP allows no inline script.
"use strict";

/** Where Latchkey is mounted ("" or e.g. "/auth"): the server writes it on <html data-base>. */
const BASE = document.documentElement.dataset.base || "";

/** { status, body } for a JSON API call; status 0 when the server cannot be reached. */
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    return { status: 0, body: { error: "The server could not be reached. Check your connection and try again." } };
  }
  let data = {};
  try {
    data = await res.json();
  } catch {
    // an empty or non-JSON body: the status says enough
  }
  return { status: res.status, body: data || {}, retryAfter: res.headers.get("retry-after") };
}

function setStatus(message) {
  const el = document.getElementById("page-status");
  if (el) el.textContent = message;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll("[data-error-for]")) {
    el.textContent = "";
    el.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Puts each issue next to its field; what has no field goes to the form's own error line. */
function showErrors(form, res) {
  const { body, status } = res;
  const general = [];
  let firstInvalid = null;
  for (const issue of body.issues || []) {
    const slot = issue.path ? form.querySelector(`[data-error-for="${CSS.escape(issue.path)}"]`) : null;
    const input = issue.path ? form.elements.namedItem(issue.path) : null;
    if (!slot || !input) {
      general.push(issue.message);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${issue.message}` : issue.message;
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
    firstInvalid ??= input;
  }
  if (!body.issues || general.length > 0) {
    const slot = form.querySelector('[data-error-for=""]');
    let message = general.join(" ") || body.error || `Request failed (${status}).`;
    if (status === 429 && res.retryAfter) message += ` Try again in ${res.retryAfter} seconds.`;
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    } else setStatus(message);
  }
  (firstInvalid || form.querySelector("input:not([type=hidden])"))?.focus();
}

function values(form) {
  const out = {};
  for (const el of form.elements) if (el.name && !(el.dataset.optional !== undefined && el.value === "")) out[el.name] = el.value;
  return out;
}

/** Shows recovery codes (once: the server never shows them again), with copy and download. */
function showRecoveryCodes(codes) {
  const box = document.getElementById("recovery");
  if (!box) return;
  document.getElementById("recovery-list").replaceChildren(
    ...codes.map((code) => {
      const li = document.createElement("li");
      li.textContent = code;
      return li;
    }),
  );
  box.dataset.codes = codes.join("\n");
  box.hidden = false;
  document.getElementById("recovery-copy").focus();
  const left = document.getElementById("recovery-left");
  if (left) left.textContent = String(codes.length);
}

// The re-authentication dialog: opened when a sensitive action answers
// 401 "Re-authentication required"; resolves true once POST /reauth worked.
let reauthDone = null;
function reauthenticate() {
  const dialog = document.getElementById("reauth");
  if (!dialog) return Promise.resolve(false);
  dialog.querySelector("form").reset();
  clearErrors(dialog.querySelector("form"));
  dialog.showModal();
  return new Promise((resolve) => {
    reauthDone = resolve;
    dialog.addEventListener("close", () => resolve(false), { once: true });
  });
}

// What happens after a form's API call succeeds, by its data-then attribute.
const AFTER = {
  account: () => location.assign(BASE + "/account"),
  reload: () => location.reload(),
  admin: () => location.assign(BASE + "/admin"),
  invited: (form, sent) => {
    form.reset();
    setStatus(`Invitation sent to ${sent.email}.`);
  },
  // A right password: signed in, or (second factor) the next step appears.
  login: (form, _sent, body) => {
    if (!body.mfaRequired) return location.assign(BASE + "/account");
    form.closest(".panels")?.querySelectorAll("section:not(#mfa-step)").forEach((el) => (el.hidden = true));
    const step = document.getElementById("mfa-step");
    step.hidden = false;
    step.querySelector("input").focus();
  },
  "totp-setup": (form, _sent, body) => {
    const svg = new DOMParser().parseFromString(body.qrSvg, "image/svg+xml").documentElement;
    document.getElementById("totp-qr").replaceChildren(document.importNode(svg, true));
    document.getElementById("totp-secret").textContent = body.secret.match(/.{1,4}/g).join(" ");
    form.hidden = true;
    const enrol = document.getElementById("totp-enrol");
    enrol.hidden = false;
    enrol.querySelector("input").focus();
  },
  "totp-enabled": (_form, _sent, body) => {
    document.getElementById("totp-enrol").hidden = true;
    document.getElementById("mfa-state").textContent = "On: signing in now asks for a code from your authenticator app.";
    setStatus("Two-factor authentication is on. Your other sessions were logged out.");
    showRecoveryCodes(body.recoveryCodes);
  },
  "recovery-codes": (_form, _sent, body) => {
    setStatus("New recovery codes made: the old ones no longer work.");
    showRecoveryCodes(body.recoveryCodes);
  },
  reauthed: () => {
    const done = reauthDone;
    reauthDone = null;
    document.getElementById("reauth").close();
    done?.(true);
  },
  home: () => location.assign(BASE || "/"),
  "signed-up": (form, sent) => {
    form.reset();
    setStatus(`Account created for ${sent.email}. You can log in now.`);
    const email = document.getElementById("login-email");
    const password = document.getElementById("login-password");
    if (email && password) {
      email.value = sent.email;
      password.focus();
    }
  },
  "password-changed": (form) => {
    form.reset();
    setStatus("Password changed. Your other sessions were logged out.");
    loadSessions();
  },
  // The API's words, the same for every address (forgot password).
  message: (form, _sent, body) => {
    form.reset();
    setStatus(body.message || "Done.");
  },
  // A one-time link's button worked: the token is spent, so the form goes
  // (pressing again could only fail) and the next step appears.
  "link-used": (form, _sent, body) => {
    setStatus(body.message || "Done.");
    form.remove();
    for (const el of document.querySelectorAll("[data-link-retry]")) el.hidden = true;
    const done = document.querySelector("[data-link-done]");
    if (done) {
      done.hidden = false;
      done.querySelector("a")?.focus(); // the button that had focus is gone: keyboard users land on the next step
    }
  },
  sessions: (_form, _sent, body) => {
    setStatus(typeof body.revoked === "number" ? `Logged out ${body.revoked} other session(s).` : "Other sessions logged out.");
    loadSessions();
  },
};

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
  event.preventDefault();
  if (form.getAttribute("aria-busy") === "true") return;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const [method, path] = form.dataset.api.split(" ");
  const sent = values(form);
  clearErrors(form);
  form.setAttribute("aria-busy", "true");
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  const hasFields = Object.keys(sent).length > 0;
  const res = await api(method, path, hasFields ? sent : undefined);
  form.removeAttribute("aria-busy");
  if (button) button.disabled = false;
  if (res.status >= 200 && res.status < 300) return AFTER[form.dataset.then]?.(form, sent, res.body);
  // A sensitive action on an old sign-in: prove it again, then the same form goes again (once).
  if (res.status === 401 && res.body.reauth) {
    if (await reauthenticate()) {
      delete form.dataset.confirm; // already confirmed
      form.requestSubmit();
    }
    return;
  }
  // A signed-in page whose session ended elsewhere: back to the start.
  // (A form that sends a password gets 401 for a wrong one: that is shown next to it.)
  if (res.status === 401 && document.body.dataset.signedIn && !("currentPassword" in sent) && !("password" in sent)) return location.assign(BASE || "/");
  showErrors(form, res);
});

function describeAgent(ua) {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : /curl\//.test(ua) ? "curl" : "A client";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function sessionItem(session) {
  const li = document.createElement("li");
  const info = document.createElement("div");
  const name = document.createElement("strong");
  name.textContent = describeAgent(session.userAgent);
  if (session.userAgent) name.title = session.userAgent;
  info.append(name);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "This device";
    info.append(" ", badge);
  }
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = `${session.ip ? `IP ${session.ip} · ` : ""}signed in ${when(session.createdAt)} · last active ${when(session.lastSeenAt)}`;
  info.append(meta);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.dataset.sessionId = session.id;
  button.dataset.current = session.current ? "true" : "";
  button.textContent = session.current ? "Log out" : "Revoke";
  button.setAttribute("aria-label", `${session.current ? "Log out this device" : "Revoke session"}: ${name.textContent}, signed in ${when(session.createdAt)}`);
  li.append(info, button);
  return li;
}

/** Fills the sessions section; hides it when the server has no session listing. */
async function loadSessions() {
  const section = document.querySelector("[data-sessions]");
  if (!section) return;
  const res = await api("GET", "/sessions");
  if (res.status === 404) {
    section.hidden = true;
    return;
  }
  if (res.status === 401) return location.assign(BASE || "/");
  const error = document.getElementById("sessions-error");
  if (res.status !== 200 || !Array.isArray(res.body.sessions)) {
    error.textContent = res.body.error || "Sessions could not be loaded.";
    error.hidden = false;
    section.hidden = false;
    return;
  }
  error.hidden = true;
  document.getElementById("session-list").replaceChildren(...res.body.sessions.map(sessionItem));
  section.hidden = false;
}

document.addEventListener("click", async (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target?.closest("[data-close-dialog]")) return target.closest("dialog").close();
  if (target?.closest("#recovery-copy")) {
    const codes = document.getElementById("recovery").dataset.codes;
    try {
      await navigator.clipboard.writeText(codes);
      setStatus("Recovery codes copied.");
    } catch {
      setStatus("Copying is not allowed here: select the codes and copy them, or download them.");
    }
    return;
  }
  if (target?.closest("#recovery-download")) {
    const blob = new Blob([document.getElementById("recovery").dataset.codes + "\n"], { type: "text/plain" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "latchkey-recovery-codes.txt";
    link.click();
    URL.revokeObjectURL(link.href);
    return;
  }
  const button = target ? target.closest("button[data-session-id]") : null;
  if (!button) return;
  if (button.dataset.current) {
    await api("POST", "/logout");
    return location.assign(BASE || "/");
  }
  button.disabled = true;
  const res = await api("DELETE", `/sessions/${encodeURIComponent(button.dataset.sessionId)}`);
  if (res.status === 401) return location.assign(BASE || "/");
  if (res.status >= 400) {
    const error = document.getElementById("sessions-error");
    error.textContent = res.body.error || "The session could not be revoked.";
    error.hidden = false;
  } else setStatus("Session revoked.");
  await loadSessions();
});

// A signed-in page restored from the back/forward cache after a logout must
// not stay on screen: ask the server whether the session still exists.
window.addEventListener("pageshow", async (event) => {
  if (!event.persisted || !document.body.dataset.signedIn) return;
  const res = await api("GET", "/me");
  if (res.status === 401) location.replace(BASE || "/");
});

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loadSessions);
else loadSessions();

// The console's only way to the server: the public API, with the signed-in client's
// token and appkey. The session lives in sessionStorage only (this tab, gone when it
// closes or on sign-out), never in localStorage or a cookie. It keeps the client
// secret too: every grant of the token endpoint that renews access (client
// credentials, and refresh_token, which also asks for the secret) needs it, and the
// alternative, a sign-in form every `--access-token-ttl` (15 minutes), makes a poor
// console. So an access token about to expire, or refused, is replaced by re-running
// the client-credentials grant; when that fails (the client was revoked, its secret
// changed), the console returns to the sign-in form saying why.

import { h, mount } from "./dom.js";

const KEY = "ccadmin.session";

/** The signed-in session, or null. */
export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}
function save(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }

let onSignedOut = () => {};
/** Called with a reason when the session ends on its own (refresh refused). */
export function whenSignedOut(f) { onSignedOut = f; }

/** Ends the session. */
export function signOut() { sessionStorage.removeItem(KEY); }

/** A problem answer of the API, thrown by `call`. */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.title = body?.title || `HTTP ${status}`;
    this.detail = body?.detail || "";
    this.violations = Array.isArray(body?.violations) ? body.violations : [];
  }
}

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch { return {}; }
}

async function grant(accountId, appkey, form) {
  const res = await fetch(`/api/auth/v1/${encodeURIComponent(accountId)}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { appkey, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Problem(res.status, body);
  return body;
}

function store(base, t) {
  const c = claims(t.access_token);
  const s = {
    ...base,
    token: t.access_token,
    expiresAt: Date.now() + (t.expires_in || 0) * 1000,
    roles: c.roles || [],
    subject: c.sub || base.clientId,
  };
  save(s);
  return s;
}

const clientCredentials = (s) => grant(s.accountId, s.appkey, {
  grant_type: "client_credentials", client_id: s.clientId, client_secret: s.secret,
});

/** Client credentials at the real token endpoint. */
export async function signIn({ accountId, clientId, secret, appkey }) {
  const base = { accountId, clientId, secret, appkey };
  return store(base, await clientCredentials(base));
}

let renewing = null;
/** A new access token: the client-credentials grant again, once for all callers. */
async function renew() {
  const s = session();
  if (!s || !s.secret) throw new Error("no session");
  renewing ??= clientCredentials(s).then((t) => store(s, t)).finally(() => { renewing = null; });
  return renewing;
}

/** True for a platform Administrator. */
export const isAdministrator = () => (session()?.roles || []).includes("Administrator");

async function headersFor(extra) {
  let s = session();
  if (!s) throw new Problem(401, { title: "Unauthorized", detail: "Not signed in." });
  if (s.expiresAt - Date.now() < 30_000) s = await renewOrSignOut();
  return { Authorization: `Bearer ${s.token}`, appkey: s.appkey, ...extra };
}

async function renewOrSignOut() {
  try { return await renew(); } catch (e) {
    signOut();
    const why = e instanceof Problem ? `${e.title}: ${e.detail}` : e.message;
    onSignedOut(`Your session expired and could not be renewed (${why}). Sign in again.`);
    throw new Problem(401, { title: "Unauthorized", detail: "The session expired." });
  }
}

/**
 * Calls the API: `call("GET", "/api/…", {query, body, raw})`. JSON in and out; a
 * problem answer throws a Problem. A 401 renews the token once and retries.
 */
export async function call(method, path, opts = {}, retried = false) {
  const q = opts.query ? "?" + new URLSearchParams(Object.entries(opts.query).filter(([, v]) => v !== "" && v !== undefined && v !== null)) : "";
  const extra = opts.body !== undefined ? { "content-type": "application/json" } : {};
  const res = await fetch(path + q, {
    method,
    headers: await headersFor(extra),
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  if (res.status === 401 && !retried) {
    await renewOrSignOut();
    return call(method, path, opts, true);
  }
  if (!res.ok) throw new Problem(res.status, await res.json().catch(() => null));
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res.text();
}

/**
 * Follows a Server-Sent Events path with fetch and a stream reader (the token stays in
 * a header, never in the URL). Calls `onEvent(data)` for each `transition`, and
 * `onState(open)`; reconnects after a second, resuming with Last-Event-ID. Returns a
 * function that stops it.
 */
export function follow(path, onEvent, onState = () => {}) {
  const ctl = new AbortController();
  let last = null;
  (async () => {
    while (!ctl.signal.aborted) {
      try {
        const extra = last !== null ? { "Last-Event-ID": String(last) } : {};
        const res = await fetch(path, { headers: await headersFor(extra), signal: ctl.signal });
        if (res.status === 401) { await renewOrSignOut(); continue; }
        // Refused for good (another account's path, an account gone): stop following.
        if (res.status === 403 || res.status === 404) { onState(false); return; }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = "message", data = "", id = null;
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
              else if (line.startsWith("id:")) id = line.slice(3).trim();
            }
            if (id !== null) last = id;
            if (event === "transition" && data) {
              try { onEvent(JSON.parse(data)); } catch { /* a malformed event is skipped */ }
            }
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) break;
      }
      onState(false);
      if (!session()) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => ctl.abort();
}

/**
 * Shows a problem: its title and detail in `box`, and each violation next to the
 * field of `form` named by its `field` (those without a field stay in the box).
 */
export function showProblem(box, e, form) {
  clearProblem(box, form);
  const p = e instanceof Problem ? e : new Problem(0, { title: "Request failed", detail: String(e?.message || e) });
  const loose = [];
  for (const v of p.violations) {
    const named = form ? [...form.querySelectorAll("[name]")] : [];
    const head = String(v.field || "").split(/[.[]/)[0];
    const input = named.find((el) => el.name === v.field) || named.find((el) => el.name === head);
    if (input) {
      const err = document.getElementById(input.id + "-err");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", input.id + "-err");
      if (err) { err.hidden = false; err.textContent = err.textContent ? `${err.textContent}; ${v.message}` : v.message; }
    } else loose.push(v);
  }
  mount(box, h("div", { class: "problem", role: "alert" },
    h("strong", {}, `${p.title}${p.status ? ` (${p.status})` : ""}`),
    p.detail ? h("span", {}, p.detail) : "",
    loose.length ? h("ul", {}, loose.map((v) => h("li", {}, h("code", {}, v.field), ": ", v.message))) : ""));
}

/** Removes what showProblem showed. */
export function clearProblem(box, form) {
  if (box) box.replaceChildren();
  if (!form) return;
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
  for (const el of form.querySelectorAll(".field-error")) { el.hidden = true; el.textContent = ""; }
}

// The console's shell: sign-in, the header (pages, working account, live state,
// sign-out), the hash router, and the signed-in account's event stream, whose
// transitions go to the open page.

import { h, mount, field, values } from "./dom.js";
import { session, signIn, signOut, whenSignedOut, isAdministrator, call, follow, showProblem, clearProblem } from "./api.js";
import { accountsPage, accountPage, orgPage, voicePage, auditPage, emulatorPage } from "./pages.js";

const MODE = document.querySelector('meta[name="ccadmin-mode"]')?.content || "standard";
const app = document.getElementById("app");
const ACCOUNT_KEY = "ccadmin.account";

let current = null;     // the open page: { el, onEvent, stop }
let stopEvents = null;  // the working account's stream
let liveEl = null;
let rendering = 0;

const emulator = () => MODE !== "standard" && isAdministrator();
const workingAccount = () => sessionStorage.getItem(ACCOUNT_KEY) || session()?.accountId;

const PAGES = [
  ["accounts", "Accounts"], ["organization", "Organization"], ["voice", "Voice"], ["audit", "Audit records"], ["emulator", "Emulator"],
];

function hint() {
  if (MODE === "demo") {
    return h("div", { class: "notice", role: "note" },
      h("p", {}, h("strong", {}, "Demo mode. "), "The demo credentials are public: the server printed them at start-up, and the README's Quick start lists them."),
      h("table", {}, h("thead", {}, h("tr", {}, ["Role", "Account ID", "Client ID", "Client secret", "App key", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, [["Administrator", "PLATFM", "demo-admin", "demo-admin-secret", "demo-admin-appkey"],
          ["Account Administrator", "ABCDEF", "demo-client", "demo-secret", "demo-appkey"]].map((r) =>
          h("tr", {}, r.map((c) => h("td", { class: "mono" }, c)), h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Fill in the ${r[0]}`, onclick: () => fill(r) }, "Fill in")))))));
  }
  return h("div", { class: "notice", role: "note" }, h("p", {},
    MODE === "emulator" ? h("strong", {}, "Emulator mode. ") : "",
    "Sign in with a client of your account. The first start writes the Administrator's credentials to ",
    h("code", {}, "<data-dir>/admin-credentials.json"), " (or takes them from ", h("code", {}, "CCADMIN_ADMIN_*"),
    "); ", h("code", {}, "ccadmin client create"), " makes more."));
}

function fill([, accountId, clientId, secret, appkey]) {
  const f = document.querySelector("form.signin-form");
  for (const [n, v] of Object.entries({ accountId, clientId, secret, appkey })) f.querySelector(`[name=${n}]`).value = v;
  f.querySelector("button[type=submit]").focus();
}

function signInPage(reason) {
  stop();
  const box = h("div");
  const f = h("form", { class: "signin-form", "aria-label": "Sign in", novalidate: true },
    field("Account ID", "accountId", { autocomplete: "username", value: "" }),
    field("Client ID", "clientId", { autocomplete: "off" }),
    field("Client secret", "secret", { type: "password", autocomplete: "current-password" }),
    field("App key", "appkey", { autocomplete: "off" }),
    h("button", { type: "submit" }, "Sign in"));
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblem(box, f);
    const v = values(f);
    try {
      await signIn(v);
      sessionStorage.removeItem(ACCOUNT_KEY);
      if (!location.hash || location.hash === "#/signin") location.hash = "#/accounts";
      render();
    } catch (err) { showProblem(box, err, f); }
  });
  mount(app,
    h("header", { class: "top" }, h("span", { class: "brand" }, "ccadmin console")),
    h("main", { id: "main" }, h("div", { class: "signin" },
      h("h1", {}, "Sign in"),
      reason ? h("p", { class: "problem", role: "alert" }, reason) : "",
      h("section", { class: "panel" }, f, box),
      hint())));
  f.querySelector("input").focus();
}

function stop() {
  current?.stop?.();
  current = null;
  stopEvents?.();
  stopEvents = null;
}

async function header(route) {
  const s = session();
  const admin = isAdministrator();
  let picker = "";
  if (admin) {
    let accounts = [];
    try { accounts = (await call("GET", "/api/admin/account/v1/accounts", { query: { pageSize: 50, orderBy: "name" } })).accounts; } catch { /* the picker shows the working account only */ }
    const w = workingAccount();
    if (!accounts.some((a) => a.accountId === w)) accounts.unshift({ accountId: w, name: w });
    const sel = h("select", { id: "working-account", onchange: (e) => setAccount(e.target.value) },
      accounts.map((a) => h("option", { value: a.accountId, selected: a.accountId === w }, `${a.name} (${a.accountId})`)));
    picker = h("span", {}, h("label", { for: "working-account" }, "Working account "), sel);
  }
  liveEl = h("span", { class: "live", role: "status" }, "connecting");
  const pages = PAGES.filter(([p]) => p !== "emulator" || emulator());
  return h("header", { class: "top" },
    h("a", { class: "brand", href: "#/accounts" }, "ccadmin console"),
    h("nav", { "aria-label": "Pages" }, h("ul", {}, pages.map(([p, label]) =>
      h("li", {}, h("a", { href: `#/${p}`, "aria-current": route === p ? "page" : undefined }, label))))),
    h("div", { class: "who" }, picker,
      h("span", {}, `${s.subject} in ${s.accountId} (${admin ? "Administrator" : "Account Administrator"})`),
      liveEl,
      h("button", { type: "button", class: "secondary", onclick: () => { stop(); signOut(); sessionStorage.removeItem(ACCOUNT_KEY); location.hash = ""; signInPage("Signed out."); } }, "Sign out")));
}

function setAccount(id) {
  sessionStorage.setItem(ACCOUNT_KEY, id);
  render();
}

async function render() {
  if (!session()) return signInPage();
  const mine = ++rendering;
  stop();
  const [, route = "accounts", arg] = (location.hash || "#/accounts").split("/");
  const ctx = { account: workingAccount(), signedIn: session().accountId, admin: isAdministrator(), mode: MODE, setAccount };
  const main = h("main", { id: "main", "aria-busy": "true" }, h("p", {}, "Loading…"));
  const head = await header(route);
  if (mine !== rendering) return;
  mount(app, head, main);
  let page;
  try {
    if (route === "accounts" && arg) page = await accountPage(ctx, arg);
    else if (route === "organization") page = await orgPage(ctx);
    else if (route === "voice") page = await voicePage(ctx);
    else if (route === "audit") page = await auditPage(ctx);
    else if (route === "emulator" && emulator()) page = await emulatorPage(ctx);
    else page = await accountsPage(ctx);
  } catch (e) {
    const box = h("div");
    showProblem(box, e);
    page = { el: box };
  }
  if (mine !== rendering) { page.stop?.(); return; }
  current = page;
  main.removeAttribute("aria-busy");
  mount(main, page.el);
  document.title = `${main.querySelector("h1")?.textContent || "ccadmin"} · ccadmin console`;
  stopEvents = follow(`/api/admin/account/v1/accounts/${encodeURIComponent(ctx.account)}/events`,
    (t) => current?.onEvent?.(t),
    (open) => { if (liveEl) { liveEl.textContent = open ? "live" : "reconnecting"; liveEl.classList.toggle("on", open); } });
}

whenSignedOut((reason) => signInPage(reason));
window.addEventListener("hashchange", render);
render();

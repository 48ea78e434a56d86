// The console's pages. Each is `async (ctx) => ({ el, onEvent?, stop? })`: it builds its
// forms once and re-renders only its data regions, so a live event never disturbs what
// the user is typing. `ctx`: { account, admin, mode, go(hash), setAccount(id) }.

import { h, mount, field, values, confirmButton, badge, debounce } from "./dom.js";
import { call, follow, showProblem, clearProblem, Problem } from "./api.js";

const ACC = "/api/admin/account/v1/accounts";
const VOICE = "/api/admin/voice/v1/accounts";
const enc = encodeURIComponent;

/** A page's error box: role=alert when it shows a problem. */
const errorBox = () => h("div", { class: "errors" });

/** Runs `f`, showing its problem in `box` (and next to the fields of `form`). */
async function attempt(box, form, f) {
  clearProblem(box, form);
  try { return await f(); } catch (e) { showProblem(box, e, form); return undefined; }
}

/** A "previous / page n of m / next" bar. */
function pager(p, go) {
  if (!p) return "";
  const pages = Math.max(1, Math.ceil((p.total || 0) / p.pageSize));
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: p.pageNumber <= 1, onclick: () => go(p.pageNumber - 1) }, "Previous page"),
    h("span", {}, `Page ${p.pageNumber} of ${pages} (${p.total} in all)`),
    h("button", { type: "button", class: "secondary", disabled: p.pageNumber >= pages, onclick: () => go(p.pageNumber + 1) }, "Next page"));
}

function form(label, children, onsubmit, cls = "inline") {
  const f = h("form", { class: cls, "aria-label": label, novalidate: true }, children);
  f.addEventListener("submit", (e) => { e.preventDefault(); onsubmit(f); });
  return f;
}

/* ------------------------------------------------------------------ accounts */

export async function accountsPage(ctx) {
  const box = errorBox();
  const list = h("div", { "aria-live": "polite" });
  let page = 1, filter = "";
  const load = async () => attempt(box, null, async () => {
    if (!ctx.admin) {
      // An Account Administrator sees its own account only (the list is for Administrators).
      const a = await call("GET", `${ACC}/${enc(ctx.signedIn)}`);
      mount(list, table([a]));
      return;
    }
    const f = filter.includes(":") || filter.includes("=") ? filter : filter ? `name:*${filter}*` : "";
    const res = await call("GET", ACC, { query: { pageNumber: page, pageSize: 10, filter: f, orderBy: "name" } });
    mount(list, table(res.accounts), pager(res.pagination, (n) => { page = n; load(); }));
  });
  const table = (accounts) => accounts.length === 0 ? h("p", {}, "No account matches.") :
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Account ID"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Country"), h("th", { scope: "col" }, "Created"), h("th", { scope: "col" }, h("span", { class: "muted" }, "Actions")))),
      h("tbody", {}, accounts.map((a) => h("tr", { "data-account": a.accountId },
        h("td", {}, h("a", { href: `#/accounts/${a.accountId}`, class: "mono" }, a.accountId)),
        h("td", {}, a.name, a.isDefault ? h("span", { class: "muted" }, " (default)") : ""),
        h("td", {}, a.countryCode || ""),
        h("td", {}, (a.createdAt || "").slice(0, 19).replace("T", " ")),
        h("td", { class: "actions" }, a.accountId === ctx.account ? h("span", { class: "muted" }, "working account") :
          h("button", { type: "button", class: "secondary", onclick: () => ctx.setAccount(a.accountId) }, `Work in ${a.name}`))))));
  const filterForm = ctx.admin ? form("Filter accounts", [
    field("Filter by name (or a filter expression)", "filter", { placeholder: "SyncG or accountId=ABCDEF", size: 32 }),
    h("button", { type: "submit" }, "Filter"),
  ], (f) => { filter = values(f).filter; page = 1; load(); }) : "";
  await load();
  const reload = debounce(load);
  return {
    el: h("div", {}, h("h1", {}, "Accounts"),
      h("section", { class: "panel", "aria-labelledby": "acc-h" }, h("h2", { id: "acc-h" }, ctx.admin ? "Every account" : "Your account"), filterForm, box, list)),
    onEvent: (t) => { if (t.resourceKind.startsWith("account.")) reload(); },
  };
}

export async function accountPage(ctx, id) {
  const box = errorBox();
  const body = h("div", { "aria-live": "polite" });
  const load = async () => attempt(box, null, async () => {
    const a = await call("GET", `${ACC}/${enc(id)}`);
    let statuses = [];
    try { statuses = await call("POST", `${ACC}:listStatuses`, { body: { accountIds: [id] } }); } catch { /* shown without statuses */ }
    const st = statuses[0] || {};
    const features = Object.keys(a.features || {});
    const fs = st.features || {};
    for (const k of Object.keys(fs)) if (!features.includes(k)) features.push(k);
    mount(body,
      h("section", { class: "panel", "aria-labelledby": "f-h" }, h("h2", { id: "f-h" }, "Fields"),
        h("dl", { class: "fields" },
          [["Account ID", a.accountId], ["Name", a.name], ["Description", a.description], ["Domains", (a.domains || []).map((d) => d.domainName + (d.isDefault ? " (default)" : "")).join(", ")],
            ["Account size", a.accountSize], ["Country", a.countryCode], ["Default account", a.isDefault ? "yes" : "no"], ["Enabled features", a.enabledFeatures || "none"],
            ["Created", a.createdAt], ["Last operation", st.status ? h("span", {}, `${st.action} `, badge(st.status), ` ${st.message || ""}`) : "none"]]
            .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "")]))),
      h("section", { class: "panel", "aria-labelledby": "ft-h" }, h("h2", { id: "ft-h" }, "Features"),
        features.length === 0 ? h("p", {}, "No features.") :
          h("table", {}, h("thead", {}, h("tr", {}, ["Feature", "Action", "Status", "Message", "Settings"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, features.map((f) => h("tr", { "data-feature": f },
              h("td", {}, f), h("td", {}, fs[f]?.action || ""), h("td", {}, badge(fs[f]?.status)), h("td", {}, fs[f]?.message || ""),
              h("td", {}, h("code", {}, JSON.stringify((a.features || {})[f] ?? null)))))))));
  });
  await load();
  const reload = debounce(load);
  // The header follows the working account; another account is followed here.
  const stop = id !== ctx.account ? follow(`${ACC}/${enc(id)}/events`, (t) => { if (t.resourceKind.startsWith("account.")) reload(); }) : undefined;
  return {
    stop,
    el: h("div", {}, h("p", {}, h("a", { href: "#/accounts" }, "← Accounts")), h("h1", {}, `Account ${id}`),
      id !== ctx.account ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => ctx.setAccount(id) }, "Make this the working account")) : "",
      box, body),
    onEvent: (t) => { if (t.accountId === id && t.resourceKind.startsWith("account.")) reload(); },
  };
}

/* -------------------------------------------------------------- organization */

export async function orgPage(ctx) {
  const account = ctx.account;
  const box = errorBox(), createBox = errorBox(), editBox = errorBox();
  const treeEl = h("div", { "aria-live": "polite" });
  const collapsed = new Set();
  let nodes = [], root = "", selected = null;
  const parentSelect = h("div");
  const editArea = h("div");

  const pathOf = (n) => `${n.parentPath}/${n.name}`;
  const loadAll = async () => {
    const acc = await call("GET", `${ACC}/${enc(account)}`);
    root = `Account${acc.name}`;
    const all = [];
    for (let p = 1; ; p++) {
      const res = await call("GET", `${ACC}/${enc(account)}/organization-nodes`, { query: { pageNumber: p, pageSize: 50 } });
      all.push(...res.organizationNodes);
      if (all.length >= res.pagination.total || res.organizationNodes.length === 0) break;
    }
    const status = {};
    for (let i = 0; i < all.length; i += 50) {
      const ids = all.slice(i, i + 50).map((n) => n.organizationNodeId);
      try {
        for (const s of await call("POST", `${ACC}/${enc(account)}/organization-nodes:listStatuses`, { body: { organizationNodeIds: ids } })) status[s.organizationNodeId] = s;
      } catch { /* the tree is shown without statuses */ }
    }
    for (const n of all) n.st = status[n.organizationNodeId];
    nodes = all;
  };
  const paths = () => [root, ...nodes.map(pathOf).sort()];
  const render = () => {
    const byParent = {};
    for (const n of nodes) (byParent[n.parentPath] ||= []).push(n);
    for (const k in byParent) byParent[k].sort((a, b) => a.name.localeCompare(b.name));
    const item = (label, path, n) => {
      const kids = byParent[path] || [];
      const open = !collapsed.has(path);
      return h("li", { "data-path": path },
        h("span", { class: "node" },
          kids.length ? h("button", { type: "button", class: "toggle", "aria-expanded": String(open), "aria-label": `${open ? "Collapse" : "Expand"} ${label}`,
            onclick: () => { open ? collapsed.add(path) : collapsed.delete(path); render(); } }, open ? "−" : "+") : h("span", { class: "spacer" }),
          n ? h("span", {}, label) : h("strong", {}, label),
          n?.st ? h("span", { class: "muted" }, `${n.st.action} `, badge(n.st.status), n.st.status === "FAILED" ? ` ${n.st.message || ""}` : "") : "",
          n ? h("button", { type: "button", class: "link", onclick: () => edit(n) }, h("span", {}, "Edit"), h("span", { class: "skip" }, ` ${n.name}`)) : ""),
        kids.length && open ? h("ul", {}, kids.map((k) => item(k.name, pathOf(k), k))) : "");
    };
    mount(treeEl, nodes.length === 0 ? h("p", {}, "No organization nodes yet.") : "", h("ul", { class: "tree" }, item(root, root, null)));
    // The create form's parent list changes only when the paths do, keeping the choice.
    const list = paths();
    const current = parentSelect.querySelector("select");
    if (!current || [...current.options].map((o) => o.value).join("\n") !== list.join("\n")) {
      const keep = current && list.includes(current.value) ? current.value : root;
      mount(parentSelect, field("Parent", "parentPath", { options: list, value: keep }));
    }
  };
  const load = async () => attempt(box, null, async () => { await loadAll(); render(); });

  const create = form("Create a node", [
    field("Name", "name"), parentSelect, field("Country code", "countryCode", { size: 4 }),
    h("button", { type: "submit" }, "Create node"),
  ], (f) => attempt(createBox, f, async () => {
    const v = values(f);
    const body = { name: v.name, parentPath: v.parentPath };
    if (v.countryCode) body.countryCode = v.countryCode;
    await call("POST", `${ACC}/${enc(account)}/organization-nodes`, { body });
    f.querySelector("[name=name]").value = "";
    await load();
  }));

  function edit(n) {
    selected = n;
    const mine = pathOf(n);
    const parents = paths().filter((p) => p !== mine && !p.startsWith(mine + "/"));
    const f = form(`Edit node ${n.name}`, [
      field("Name", "name", { value: n.name }),
      field("Parent", "parentPath", { options: parents, value: n.parentPath }),
      field("Country code", "countryCode", { value: n.countryCode || "", size: 4 }),
      h("button", { type: "submit" }, "Save node"),
      h("button", { type: "button", class: "secondary", onclick: () => { selected = null; mount(editArea); } }, "Cancel"),
    ], (f) => attempt(editBox, f, async () => {
      const v = values(f);
      const body = { name: v.name, parentPath: v.parentPath };
      if (v.countryCode) body.countryCode = v.countryCode;
      if (n.profiles?.length) body.profiles = n.profiles.map((p) => ({ profileId: p.profileId }));
      await call("PUT", `${ACC}/${enc(account)}/organization-nodes/${enc(n.organizationNodeId)}`, { body });
      selected = null;
      mount(editArea);
      await load();
    }));
    mount(editArea, h("h3", {}, `Rename or move ${n.name}`), f, editBox);
    f.querySelector("[name=name]").focus();
  }

  await load();
  const reload = debounce(load);
  return {
    el: h("div", {}, h("h1", {}, `Organization of ${account}`), box,
      h("div", { class: "grid2" },
        h("section", { class: "panel", "aria-labelledby": "t-h" }, h("h2", { id: "t-h" }, "Node tree"), treeEl),
        h("section", { class: "panel", "aria-labelledby": "c-h" }, h("h2", { id: "c-h" }, "Create a node"), create, createBox, editArea))),
    onEvent: (t) => { if (t.resourceKind === "org.node" || t.resourceKind === "account.rename") reload(); },
  };
}

/* --------------------------------------------------------------------- voice */

const ELEMENT_TYPES = {
  ACO: { path: "aco-elements", title: "Avaya Cloud Office element" },
  MSTeams: { path: "msteams-elements", title: "Microsoft Teams element" },
};

function elementFields(type, e = {}) {
  const common = [field("Name", "name", { value: e.name }), field("Description", "description", { value: e.description })];
  const dids = field("DID numbers (comma-separated)", "didNumbers", { value: (e.didNumbers || []).join(", ") });
  if (type === "ACO") {
    return [...common, field("Environment", "environment", { options: ["Production", "Development"], value: e.environment || "Production" }), dids,
      field("Chat enabled", "isChatEnabled", { type: "checkbox", value: e.isChatEnabled ?? true }),
      field("Extension calling", "isExtensionCalling", { type: "checkbox", value: e.isExtensionCalling ?? false })];
  }
  return [...common, field("Domain", "domain", { value: e.domain }), dids, field("Client ID", "clientId", { value: e.clientId }),
    field("Chat enabled", "isChatEnabled", { type: "checkbox", value: e.isChatEnabled ?? true })];
}

function elementBody(v) {
  const body = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "didNumbers") body.didNumbers = x ? x.split(",").map((s) => s.trim()).filter(Boolean) : [];
    else if (typeof x === "boolean" || x !== "") body[k] = x;
  }
  return body;
}

export async function voicePage(ctx) {
  const account = ctx.account;
  const V = `${VOICE}/${enc(account)}`;
  const box = errorBox();

  // Elements.
  const elementsEl = h("div", { class: "grid2", "aria-live": "polite" });
  const editing = {};
  const shown = {}; // per type: [what the section shows, the section]
  const loadElements = async () => attempt(box, null, async () => {
    const { elements } = await call("GET", `${V}/elements`);
    const sections = Object.entries(ELEMENT_TYPES).map(([type, t]) => {
      const e = elements.find((x) => x.elementType === type);
      // A form being filled in is never rebuilt under the user's hands: a section in
      // the same create or edit state keeps its DOM (and its error box).
      const state = e && !editing[type] ? `view ${JSON.stringify(e)}` : e ? `edit ${e.elementId}` : "create";
      if (shown[type] && shown[type][0] === state && !state.startsWith("view")) return shown[type][1];
      const ebox = errorBox();
      const section = h("section", { class: "panel", "aria-label": t.title, "data-element-type": type }, h("h3", {}, t.title));
      if (e && !editing[type]) {
        section.append(
          h("dl", { class: "fields" }, [["Name", e.name], ["Status", h("span", {}, badge(e.status), e.statusMessage ? ` ${e.statusMessage}` : "")], ["Description", e.description],
            type === "ACO" ? ["Environment", e.environment] : ["Domain", e.domain], ["DID numbers", (e.didNumbers || []).join(", ") || "none"], ["Element ID", h("code", {}, e.elementId)]]
            .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "")])),
          h("div", { class: "row" },
            h("button", { type: "button", class: "secondary", onclick: () => { editing[type] = true; loadElements(); } }, `Edit ${t.title}`),
            confirmButton(`Delete ${t.title}`, "Click again to delete", () => attempt(ebox, null, async () => {
              await call("DELETE", `${V}/${t.path}/${enc(e.elementId)}`); await loadElements();
            }))), ebox);
      } else {
        const f = form(e ? `Edit ${t.title}` : `Create ${t.title}`, [...elementFields(type, e || {}),
          h("button", { type: "submit" }, e ? "Save element" : `Create ${t.title}`),
          e ? h("button", { type: "button", class: "secondary", onclick: () => { editing[type] = false; loadElements(); } }, "Cancel") : ""],
        (f) => attempt(ebox, f, async () => {
          const body = elementBody(values(f));
          if (e) await call("PUT", `${V}/${t.path}/${enc(e.elementId)}`, { body });
          else await call("POST", `${V}/${t.path}`, { body });
          editing[type] = false;
          await loadElements();
        }));
        section.append(e ? "" : h("p", { class: "muted" }, "None yet."), f, ebox);
      }
      shown[type] = [state, section];
      return section;
    });
    // Only changed sections are replaced: a kept one stays attached, focus and all.
    sections.forEach((section, i) => {
      const old = elementsEl.children[i];
      if (old !== section) old ? old.replaceWith(section) : elementsEl.append(section);
    });
  });

  // Numbers.
  const numbersEl = h("div", { "aria-live": "polite" });
  const numBox = errorBox();
  const editNumber = h("div");
  let page = 1, filter = "";
  const loadNumbers = async () => attempt(numBox, null, async () => {
    const res = await call("GET", `${V}/phone-numbers`, { query: { pageNumber: page, pageSize: 10, filter } });
    mount(numbersEl, res.phoneNumbers.length === 0 ? h("p", {}, "No phone numbers.") :
      h("table", {}, h("thead", {}, h("tr", {}, ["Number", "Display name", "Country", "Type", "Status", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, res.phoneNumbers.map((n) => h("tr", { "data-number": n.phoneNumber, "data-id": n.phoneNumberId },
          h("td", { class: "mono" }, n.phoneNumber), h("td", {}, n.displayName || ""), h("td", {}, n.countryCode), h("td", {}, n.type),
          h("td", { class: "status" }, badge(n.status), n.statusMessage ? h("div", { class: "muted status-message" }, n.statusMessage) : ""),
          h("td", { class: "actions" },
            h("button", { type: "button", class: "secondary", "aria-label": `Edit ${n.phoneNumber}`, onclick: () => editNum(n) }, "Edit"),
            confirmButton("Release", "Confirm release", () => attempt(numBox, null, async () => { await call("DELETE", `${V}/phone-numbers/${enc(n.phoneNumberId)}`); await loadNumbers(); })),
            ctx.admin && n.status !== "DISABLED" && n.status !== "INPROGRESS" ? h("button", { type: "button", class: "secondary", onclick: () => attempt(numBox, null, async () => { await call("POST", `${V}/phone-numbers/${enc(n.phoneNumberId)}:disable`); await loadNumbers(); }) }, "Disable") : "",
            ctx.admin && n.status === "DISABLED" ? h("button", { type: "button", class: "secondary", onclick: () => attempt(numBox, null, async () => { await call("POST", `${V}/phone-numbers/${enc(n.phoneNumberId)}:enable`); await loadNumbers(); }) }, "Enable") : ""))))),
      pager(res.pagination, (p) => { page = p; loadNumbers(); }));
  });
  function editNum(n) {
    const ebox = errorBox();
    const f = form(`Edit ${n.phoneNumber}`, [
      field("Display name", "displayName", { value: n.displayName }),
      field("Preferred media location", "preferredMediaLocation", { value: n.preferredMediaLocation }),
      field("Calling party number", "isCallingPartyNumber", { type: "checkbox", value: n.isCallingPartyNumber }),
      h("button", { type: "submit" }, "Save number"),
      h("button", { type: "button", class: "secondary", onclick: () => mount(editNumber) }, "Cancel"),
    ], (f) => attempt(ebox, f, async () => {
      const v = values(f);
      const body = { isCallingPartyNumber: v.isCallingPartyNumber };
      if (v.displayName) body.displayName = v.displayName;
      if (v.preferredMediaLocation) body.preferredMediaLocation = v.preferredMediaLocation;
      await call("PUT", `${V}/phone-numbers/${enc(n.phoneNumberId)}`, { body });
      mount(editNumber);
      await loadNumbers();
    }));
    mount(editNumber, h("h3", {}, `Edit ${n.phoneNumber}`), f, ebox);
    f.querySelector("input").focus();
  }
  const filterForm = form("Filter phone numbers", [
    field("Filter", "filter", { placeholder: "status:ACTIVE,countryCode:US", size: 32 }),
    h("button", { type: "submit" }, "Filter numbers"),
  ], (f) => { filter = values(f).filter; page = 1; loadNumbers(); });

  // Adding from the available numbers.
  const searchBox = errorBox();
  const results = h("div", { "aria-live": "polite" });
  const countryHolder = h("div");
  const loadCountries = async (type, keep) => {
    let list = [];
    try { list = await call("GET", `${V}/countries`, { query: { type } }); } catch { /* typed by hand below */ }
    mount(countryHolder, field("Country", "countryCode", { options: list.length ? list : ["US"], value: keep || (list.includes("US") ? "US" : list[0]) }));
  };
  let lastSearch = null;
  const search = async (f, pageNumber = 1) => attempt(searchBox, f, async () => {
    const v = values(f);
    lastSearch = f;
    const q = { countryCode: v.countryCode, type: v.type, areaCode: v.areaCode, phoneNumber: v.phoneNumber, pageNumber, pageSize: 10 };
    const res = await call("GET", `${V}/available-phone-numbers`, { query: q });
    mount(results, res.phoneNumbers.length === 0 ? h("p", {}, "No available number matches.") :
      h("table", {}, h("thead", {}, h("tr", {}, ["Number", "Country", "Type", "Documents", "Add"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, res.phoneNumbers.map((n) => h("tr", { "data-available": n.phoneNumber },
          h("td", { class: "mono" }, n.phoneNumber), h("td", {}, n.countryCode), h("td", {}, n.type), h("td", {}, n.documentationRequired ? "required" : "not required"),
          h("td", {}, h("button", { type: "button", "aria-label": `Add ${n.phoneNumber}`, onclick: () => attempt(searchBox, null, async () => {
            await call("POST", `${V}/phone-numbers`, { body: { phoneNumber: n.phoneNumber, countryCode: n.countryCode } });
            await Promise.all([loadNumbers(), search(lastSearch, pageNumber)]);
          }) }, "Add")))))),
      pager(res.pagination, (p) => search(lastSearch, p)));
  });
  const typeField = field("Type", "type", { options: ["LOCAL", "TOLLFREE"] });
  typeField.querySelector("select").addEventListener("change", (e) => loadCountries(e.target.value));
  const searchForm = form("Search available numbers", [countryHolder, typeField, field("Area code", "areaCode", { size: 6 }), field("Digits", "phoneNumber", { size: 12 }),
    h("button", { type: "submit" }, "Search")], (f) => search(f));

  await Promise.all([loadElements(), loadNumbers(), loadCountries("LOCAL")]);
  const reloadNumbers = debounce(loadNumbers), reloadElements = debounce(loadElements);
  return {
    el: h("div", {}, h("h1", {}, `Voice of ${account}`), box,
      h("section", { class: "panel", "aria-labelledby": "n-h" }, h("h2", { id: "n-h" }, "Phone numbers"), filterForm, numBox, numbersEl, editNumber),
      h("section", { class: "panel", "aria-labelledby": "a-h" }, h("h2", { id: "a-h" }, "Add a number"), searchForm, searchBox, results),
      h("h2", {}, "Elements"), elementsEl),
    onEvent: (t) => {
      if (t.resourceKind === "number.activation") reloadNumbers();
      if (t.resourceKind === "voice.aco" || t.resourceKind === "voice.msteams") reloadElements();
    },
  };
}

/* --------------------------------------------------------------------- audit */

export async function auditPage(ctx) {
  const account = ctx.account;
  const box = errorBox();
  const out = h("div", { "aria-live": "polite" });
  const now = new Date();
  const start = new Date(now.getTime() - 30 * 86400_000).toISOString();
  const end = new Date(now.getTime() + 365 * 86400_000).toISOString();
  let page = 1;
  const filterOf = (f) => {
    const v = values(f);
    const body = { startDate: v.startDate, endDate: v.endDate, type: "ACCOUNT" };
    for (const k of ["event", "author", "ipAddress", "searchKeyword"]) if (v[k]) body[k] = v[k];
    return body;
  };
  const run = (f) => attempt(box, f, async () => {
    const res = await call("POST", `${ACC}/${enc(account)}/audit-records:search`, { body: filterOf(f), query: { pageNumber: page, pageSize: 20 } });
    mount(out, res.auditRecords.length === 0 ? h("p", {}, "No audit record matches.") :
      h("table", {}, h("thead", {}, h("tr", {}, ["Date", "Event", "Author", "IP address", "Data"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, res.auditRecords.map((r) => h("tr", {}, h("td", { class: "nowrap" }, r.date.slice(0, 19).replace("T", " ")), h("td", {}, r.event), h("td", {}, r.author), h("td", {}, r.ipAddress),
          h("td", {}, h("code", {}, JSON.stringify(r.auditData))))))),
      pager(res.pagination, (p) => { page = p; run(f); }));
  });
  const exportCsv = (f) => attempt(box, f, async () => {
    const res = await call("POST", `${ACC}/${enc(account)}/audit-records:export`, { body: filterOf(f), raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: `audit-${account}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  const f = form("Search audit records", [
    field("From", "startDate", { value: start, size: 26 }), field("To", "endDate", { value: end, size: 26 }),
    field("Event", "event", { options: [["", "any"], "CREATED", "UPDATED", "DELETED"] }),
    field("Author", "author"), field("IP address", "ipAddress", { size: 14 }), field("Keyword", "searchKeyword"),
    h("button", { type: "submit" }, "Search records"),
    h("button", { type: "button", class: "secondary", onclick: () => exportCsv(f) }, "Export CSV"),
  ], (f) => { page = 1; run(f); });
  await run(f);
  return {
    el: h("div", {}, h("h1", {}, `Audit records of ${account}`),
      h("section", { class: "panel", "aria-label": "Search" }, f, box), h("section", { class: "panel", "aria-label": "Records" }, out)),
  };
}

/* ------------------------------------------------------------------ emulator */

export async function emulatorPage(ctx) {
  const E = "/_ccadmin";
  const box = errorBox();

  const clockEl = h("div", { "aria-live": "polite" });
  const clockBox = errorBox();
  const showClock = (c) => mount(clockEl, h("p", {}, "Server clock: ", h("strong", { class: "mono" }, c.now), c.frozen ? h("span", {}, " ", badge("FROZEN")) : " (running)"));
  const loadClock = async () => attempt(clockBox, null, async () => showClock(await call("GET", `${E}/clock`)));
  const advance = form("Advance the clock", [field("Advance by", "by", { value: "5s", size: 8 }), h("button", { type: "submit" }, "Advance")],
    (f) => attempt(clockBox, f, async () => showClock(await call("POST", `${E}/clock:advance`, { body: { by: values(f).by } }))));
  const clockButtons = h("div", { class: "row" },
    h("button", { type: "button", class: "secondary", onclick: () => attempt(clockBox, null, async () => showClock(await call("POST", `${E}/clock:freeze`))) }, "Freeze"),
    h("button", { type: "button", class: "secondary", onclick: () => attempt(clockBox, null, async () => showClock(await call("POST", `${E}/clock:unfreeze`))) }, "Unfreeze"),
    h("button", { type: "button", class: "secondary", onclick: () => attempt(clockBox, null, async () => { await call("POST", `${E}/jobs:settle`); await Promise.all([loadClock(), loadJobs()]); }) }, "Settle every job"));

  const rulesEl = h("div");
  const loadRules = async () => attempt(box, null, async () => {
    const r = await call("GET", `${E}/rules`);
    mount(rulesEl, h("table", {}, h("thead", {}, h("tr", {}, ["Job kind", "Current rule", "Change"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, r.kinds.map((k) => {
        const rule = r.rules.find((x) => x.resourceKind === k.resourceKind);
        const rbox = errorBox();
        const f = form(`Rule for ${k.resourceKind}`, [
          field("Delay", "delay", { value: rule?.delay || "", size: 7, placeholder: "2s" }),
          field("Outcome", "outcome", { options: [["", "(none)"], ...k.outcomes], value: rule?.outcome || "" }),
          field("Failure probability", "failureProbability", { value: rule ? String(rule.failureProbability) : "", size: 5, placeholder: "0.25" }),
          h("button", { type: "submit" }, "Save rule"),
          rule ? h("button", { type: "button", class: "secondary", onclick: () => attempt(rbox, null, async () => { await call("DELETE", `${E}/rules/${enc(k.resourceKind)}`); await loadRules(); }) }, "Clear rule") : "",
        ], (f) => attempt(rbox, f, async () => {
          const v = values(f), body = {};
          if (v.delay) body.delay = v.delay;
          if (v.outcome) body.outcome = v.outcome;
          if (v.failureProbability) body.failureProbability = Number(v.failureProbability);
          await call("PUT", `${E}/rules/${enc(k.resourceKind)}`, { body });
          await loadRules();
        }));
        return h("tr", { "data-kind": k.resourceKind }, h("th", { scope: "row", class: "mono" }, k.resourceKind),
          h("td", {}, rule ? [rule.delay ? `delay ${rule.delay}` : "", rule.outcome ? ` outcome ${rule.outcome}` : "", rule.failureProbability ? ` p(fail) ${rule.failureProbability}` : ""].join("").trim() || "set (defaults)" : h("span", { class: "muted" }, "none")),
          h("td", {}, f, rbox));
      }))), h("p", { class: "muted" }, `Seed: ${r.seed}`));
  });

  const jobsEl = h("div");
  let jobState = "";
  const loadJobs = async () => attempt(box, null, async () => {
    const { jobs } = await call("GET", `${E}/jobs`, { query: { state: jobState, limit: 10000 } });
    const recent = jobs.slice(-25).reverse();
    mount(jobsEl, recent.length === 0 ? h("p", {}, "No jobs.") :
      h("table", {}, h("thead", {}, h("tr", {}, ["Kind", "Account", "Resource", "State", "Attempts", "Run at", "Last error"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, recent.map((j) => h("tr", {}, h("td", { class: "mono" }, j.kind), h("td", {}, j.accountId), h("td", { class: "mono" }, j.resourceId),
          h("td", {}, badge(j.state)), h("td", {}, `${j.attempts}/${j.maxAttempts}`), h("td", {}, j.runAt), h("td", {}, j.lastError || ""))))),
      h("p", { class: "muted" }, `${jobs.length} jobs; the latest 25 shown.`));
  });
  const jobFilter = form("Filter jobs", [field("State", "state", { options: [["", "any"], "pending", "running", "succeeded", "failed", "cancelled"] }), h("button", { type: "submit" }, "Show jobs")],
    (f) => { jobState = values(f).state; loadJobs(); });

  const feed = h("ol", { class: "feed", reversed: true, "aria-label": "Transitions, newest first" });
  const items = [];
  let jobsChanged = () => {};
  const stopFeed = follow(`${E}/events`, (t) => {
    jobsChanged();
    items.unshift(t);
    if (items.length > 100) items.pop();
    drawFeed();
  });
  // A long journal replays at once: one redraw per burst.
  const drawFeed = debounce(() => {
    mount(feed, items.map((t) => h("li", {}, h("span", { class: "mono" }, `#${t.seq} ${t.at.slice(11, 23)} `), `${t.accountId} ${t.resourceKind} `, h("span", { class: "mono" }, t.resourceId), ` ${t.from || "new"} → `, badge(t.to), t.message ? ` ${t.message}` : "", ` (${t.cause})`)));
  }, 50);

  const resetBox = errorBox();
  const resetForm = form("Reset", [field("Account ID (empty: everything)", "accountId", { size: 8 }),
    confirmButton("Reset", "Click again to reset", async () => attempt(resetBox, resetForm, async () => {
      const v = values(resetForm);
      await call("POST", `${E}/reset`, { body: v.accountId ? { accountId: v.accountId } : {} });
      mount(resetBox, h("p", { class: "notice", role: "status" }, v.accountId ? `Account ${v.accountId} reset.` : "Everything reset."));
      await Promise.all([loadJobs(), loadRules(), loadClock()]);
    }))], () => {});

  const verifyBox = errorBox();
  const verifyForm = form("Verify a number's documents", [field("Account ID", "accountId", { value: ctx.account, size: 8 }), field("Phone number ID", "phoneNumberId", { size: 36 }),
    h("button", { type: "submit" }, "Verify")], (f) => attempt(verifyBox, f, async () => {
    const v = values(f);
    const n = await call("POST", `${E}/verifications`, { body: v });
    mount(verifyBox, h("p", { class: "notice", role: "status" }, `${n.phoneNumber} is now `, badge(n.status)));
  }));

  await Promise.all([loadClock(), loadRules(), loadJobs()]);
  const reloadJobs = debounce(loadJobs, 300);
  jobsChanged = reloadJobs;
  const timer = setInterval(loadClock, 5000);
  return {
    el: h("div", {}, h("h1", {}, "Emulator"), box,
      h("div", { class: "grid2" },
        h("section", { class: "panel", "aria-labelledby": "cl-h" }, h("h2", { id: "cl-h" }, "Clock"), clockEl, advance, clockButtons, clockBox),
        h("section", { class: "panel", "aria-labelledby": "fd-h" }, h("h2", { id: "fd-h" }, "Live transitions (every account)"), feed)),
      h("section", { class: "panel", "aria-labelledby": "ru-h" }, h("h2", { id: "ru-h" }, "Rules per job kind"), rulesEl),
      h("section", { class: "panel", "aria-labelledby": "jb-h" }, h("h2", { id: "jb-h" }, "Jobs"), jobFilter, jobsEl),
      h("div", { class: "grid2" },
        h("section", { class: "panel", "aria-labelledby": "rs-h" }, h("h2", { id: "rs-h" }, "Reset"), resetForm, resetBox),
        h("section", { class: "panel", "aria-labelledby": "vf-h" }, h("h2", { id: "vf-h" }, "Verifications"), verifyForm, verifyBox))),
    stop: () => { stopFeed(); clearInterval(timer); },
  };
}

export { Problem };

// A tiny DOM helper: h() builds real elements, mount() replaces a container's
// children. No virtual DOM: a page builds its forms once and re-renders only the
// regions whose data changed, so typing and focus are never disturbed.

/** h("button", {class: "x", onclick: f}, "text", child, [more]) -> HTMLElement */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A unique element id. */
export const uid = (p = "f") => `${p}-${++ids}`;

/**
 * A labelled form field. `name` is the API's field path, so that a problem's
 * violations find their field; the error paragraph sits right after the input.
 */
export function field(label, name, opts = {}) {
  const id = uid(name.replace(/[^a-zA-Z0-9]/g, "_"));
  const { type = "text", options, value, required, placeholder, autocomplete, size } = opts;
  let input;
  if (options) {
    input = h("select", { id, name },
      options.map((o) => {
        const [v, t] = Array.isArray(o) ? o : [o, o];
        return h("option", { value: v, selected: String(v) === String(value ?? "") }, t);
      }));
  } else if (type === "checkbox") {
    input = h("input", { id, name, type, checked: !!value });
    return h("div", { class: "field check" }, input, h("label", { for: id }, label), h("p", { class: "field-error", id: id + "-err", hidden: true }));
  } else {
    input = h("input", { id, name, type, value: value ?? "", required, placeholder, autocomplete, size });
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    h("p", { class: "field-error", id: id + "-err", hidden: true }));
}

/** The named values of a form: checkboxes as booleans, the rest as trimmed strings. */
export function values(form) {
  const out = {};
  for (const el of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    out[el.name] = el.type === "checkbox" ? el.checked : el.value.trim();
  }
  return out;
}

/** A button that asks for a second click before it acts (no modal dialogs). */
export function confirmButton(label, confirmLabel, action, cls = "danger") {
  const b = h("button", { type: "button", class: cls }, label);
  let armed = false, timer;
  b.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      b.textContent = confirmLabel;
      b.classList.add("armed");
      timer = setTimeout(() => { armed = false; b.textContent = label; b.classList.remove("armed"); }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    b.textContent = label;
    b.classList.remove("armed");
    await action();
  });
  return b;
}

const GOOD = ["ACTIVE", "COMPLETED", "SUCCESS", "DELETED", "succeeded"];
const BUSY = ["INPROGRESS", "IN_PROGRESS", "DELETE_IN_PROGRESS", "pending", "running"];
const BAD = ["FAILED", "DELETE_FAILED", "failed"];

/** A status badge whose colour says good, busy, bad or other; the text says which. */
export function badge(status) {
  if (!status) return "";
  const cls = GOOD.includes(status) ? "ok" : BUSY.includes(status) ? "busy" : BAD.includes(status) ? "bad" : "off";
  return h("span", { class: `badge ${cls}`, "data-status": status }, status);
}

/** Runs `f` at most once per `ms`, after the last call. */
export function debounce(f, ms = 150) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); };
}

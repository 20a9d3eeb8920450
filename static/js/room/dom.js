// DOM helpers. What participants type reaches the page only as text nodes and attribute
// values set here, never as HTML.
export const $ = (id) => document.getElementById(id);

export function show(element, visible = true) {
  element.hidden = !visible;
}

// h("button", { class: "x", onclick: fn }, "text", child)
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

// A copy of the markup in <template id=...> of room.html.
export const fromTemplate = (id) => $(id).content.firstElementChild.cloneNode(true);

export const initials = (name) =>
  name.trim().split(/\s+/).slice(0, 2).map((part) => [...part][0].toUpperCase()).join("") || "?";

// Bursts of events (a join brings several) make one render.
export function batched(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      fn();
    });
  };
}

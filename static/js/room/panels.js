// The side panel shows chat or people, one at a time; on a phone it covers the stage.
import { $, show } from "./dom.js";

const panels = {
  chat: { panel: $("chat-panel"), button: $("toggle-chat") },
  people: { panel: $("people-panel"), button: $("toggle-people") },
};
const listeners = [];

export const isOpen = (name) => !panels[name].panel.hidden;

export function onPanelChange(listener) {
  listeners.push(listener);
}

export function setPanel(name, open) {
  for (const [other, { panel, button }] of Object.entries(panels)) {
    // Opening one panel closes the other; closing one leaves the other as it was.
    const visible = other === name ? open : !open && !panel.hidden;
    show(panel, visible);
    button.setAttribute("aria-expanded", String(visible));
  }
  listeners.forEach((listener) => listener(name, open));
}

export const togglePanel = (name) => setPanel(name, !isOpen(name));

for (const [name, { panel, button }] of Object.entries(panels)) {
  button.addEventListener("click", () => togglePanel(name));
  panel.querySelector("[data-close-panel]").addEventListener("click", () => {
    setPanel(name, false);
    button.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    setPanel(name, false);
    button.focus();
  });
}

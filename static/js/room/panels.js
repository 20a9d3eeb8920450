// The side panel shows chat, people or (hosts, where allowed) recording, one at a time; on a
// phone it covers the stage. Panel "x" is <aside id="x-panel">, opened by #toggle-x.
import { $, show } from "./dom.js";

const panels = {};
for (const panel of document.querySelectorAll(".side-panel")) panels[panel.id.slice(0, -6)] = panel;
const listeners = [];

export const isOpen = (name) => !panels[name].hidden;
export const onPanelChange = (listener) => listeners.push(listener);

export function setPanel(name, open) {
  for (const [other, panel] of Object.entries(panels)) {
    // Opening one closes the other; closing one leaves the other as it was.
    show(panel, other === name ? open : !open && !panel.hidden);
    $(`toggle-${other}`).setAttribute("aria-expanded", !panel.hidden);
  }
  listeners.forEach((listener) => listener(name, open));
}

for (const [name, panel] of Object.entries(panels)) {
  const button = $(`toggle-${name}`);
  const close = () => {
    setPanel(name, false);
    button.focus();
  };
  button.addEventListener("click", () => setPanel(name, !isOpen(name)));
  panel.querySelector("[data-close-panel]").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => event.key === "Escape" && close());
}

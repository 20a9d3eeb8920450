// The menu of reactions, loaded on the first click on React (reactions.js): what everyone
// loads is budgeted, and showing others' reactions does not need it.
import { $, h, show } from "./dom.js";
import { send } from "./data.js";
import { REACTIONS, float } from "./reactions.js";
import { nameOf, session } from "./session.js";

const [menu, button] = [$("reaction-menu"), $("toggle-reactions")];

function setMenu(open) {
  show(menu, open);
  button.setAttribute("aria-expanded", open);
}

export const toggle = () => setMenu(menu.hidden);

for (const [kind, [emoji, label]] of Object.entries(REACTIONS)) {
  const react = () => {
    float(kind, `${nameOf(session.room.localParticipant)} (you)`);
    send(session.room, "reaction", { type: "reaction", kind }, { reliable: false }).catch(() => {});
    setMenu(false); // one pick per opening
    button.focus();
  };
  menu.append(h("button", { type: "button", class: "reaction-choice", "aria-label": label, title: label, onclick: react }, emoji));
}
menu.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  setMenu(false);
  button.focus();
});

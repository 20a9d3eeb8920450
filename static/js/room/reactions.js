// Reactions: lossy data messages on topic "reaction" (a late one is worthless), shown as a
// short floating bubble. Only reactions from our own list are shown, never what was sent.
import { $, h, show } from "./dom.js";
import { onData, send } from "./data.js";
import { nameOf, session } from "./session.js";

const REACTIONS = {
  thumbs_up: ["👍", "Thumbs up"],
  clap: ["👏", "Applause"],
  laugh: ["😂", "Laughing"],
  party: ["🎉", "Celebrate"],
  heart: ["❤️", "Heart"],
  wow: ["😮", "Surprised"],
};
const MIN_GAP_MS = 250; // per sender: a flood would hide the stage
const [menu, button] = [$("reaction-menu"), $("toggle-reactions")];
const lastFrom = new Map();

function float(kind, name) {
  const [emoji, label] = REACTIONS[kind];
  const bubble = h(
    "div",
    { class: "reaction" },
    h("span", { class: "reaction-emoji", "aria-hidden": "true" }, emoji),
    h("span", { class: "reaction-name", title: name }, name),
    h("span", { class: "visually-hidden" }, `: ${label}`),
  );
  bubble.style.setProperty("--offset", `${Math.floor(Math.random() * 30)}%`); // several stay readable
  $("reactions").append(bubble);
  bubble.addEventListener("animationend", () => bubble.remove());
  setTimeout(() => bubble.remove(), 5000); // also without animations
}

function setMenu(open) {
  show(menu, open);
  button.setAttribute("aria-expanded", open);
}

for (const [kind, [emoji, label]] of Object.entries(REACTIONS)) {
  const react = () => {
    float(kind, `${nameOf(session.room.localParticipant)} (you)`);
    send(session.room, "reaction", { type: "reaction", kind }, { reliable: false }).catch(() => {});
    setMenu(false); // one pick per opening
    button.focus();
  };
  menu.append(h("button", { type: "button", class: "reaction-choice", "aria-label": label, title: label, onclick: react }, emoji));
}
button.addEventListener("click", () => setMenu(menu.hidden));
menu.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  setMenu(false);
  button.focus();
});

onData("reaction", (payload, sender) => {
  if (!sender || !Object.hasOwn(REACTIONS, payload.kind)) return;
  const now = Date.now();
  if (now - (lastFrom.get(sender.identity) || 0) < MIN_GAP_MS) return;
  lastFrom.set(sender.identity, now);
  float(payload.kind, nameOf(sender));
});

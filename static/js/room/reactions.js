// Reactions: lossy data messages on topic "reaction" (a late one is worthless), shown as a
// short floating bubble. Only names from our own list are shown, never what was sent.
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
const MIN_GAP_MS = 250; // per sender: a flood of reactions would hide the stage
const el = { menu: $("reaction-menu"), button: $("toggle-reactions"), layer: $("reactions") };
const lastFrom = new Map();

function float(kind, name) {
  const [emoji, label] = REACTIONS[kind];
  const bubble = h(
    "div",
    { class: "reaction" },
    h("span", { class: "reaction-emoji", "aria-hidden": "true" }, emoji),
    h("span", { class: "reaction-name" }, name),
    h("span", { class: "visually-hidden" }, `: ${label}`),
  );
  // Spread bubbles across the stage's lower left so that several stay readable.
  bubble.style.setProperty("--offset", `${Math.floor(Math.random() * 30)}%`);
  el.layer.append(bubble);
  const remove = () => bubble.remove();
  bubble.addEventListener("animationend", remove);
  setTimeout(remove, 5000); // in case animations are off
}

async function react(kind) {
  const room = session.room;
  if (!room) return;
  float(kind, `${nameOf(room.localParticipant)} (you)`);
  await send(room, "reaction", { type: "reaction", kind }, { reliable: false }).catch(() => {});
}

function setMenu(open) {
  show(el.menu, open);
  el.button.setAttribute("aria-expanded", String(open));
}

el.menu.append(
  ...Object.entries(REACTIONS).map(([kind, [emoji, label]]) =>
    h("button", { type: "button", class: "reaction-choice", "aria-label": label, title: label, onclick: () => react(kind) }, emoji),
  ),
);
el.button.addEventListener("click", () => setMenu(el.menu.hidden));
el.menu.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  setMenu(false);
  el.button.focus();
});

onData("reaction", (payload, sender) => {
  if (!sender || !Object.hasOwn(REACTIONS, payload.kind)) return;
  const now = Date.now();
  if (now - (lastFrom.get(sender.identity) || 0) < MIN_GAP_MS) return;
  lastFrom.set(sender.identity, now);
  float(payload.kind, nameOf(sender));
});

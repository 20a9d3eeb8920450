// Reactions: lossy data messages on topic "reaction" (a late one is worthless), shown as a
// short floating bubble. Only reactions from our own list are shown, never what was sent.
// The menu to send one (reaction-menu.js) loads on the first click on React.
import { $, h } from "./dom.js";
import { onData } from "./data.js";
import { nameOf } from "./session.js";

export const REACTIONS = {
  thumbs_up: ["👍", "Thumbs up"],
  clap: ["👏", "Applause"],
  laugh: ["😂", "Laughing"],
  party: ["🎉", "Celebrate"],
  heart: ["❤️", "Heart"],
  wow: ["😮", "Surprised"],
};
const MIN_GAP_MS = 250; // per sender: a flood would hide the stage
const lastFrom = new Map();

export function float(kind, name) {
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

$("toggle-reactions").addEventListener("click", () => import("./reaction-menu.js").then((menu) => menu.toggle()));

onData("reaction", (payload, sender) => {
  if (!sender || !Object.hasOwn(REACTIONS, payload.kind)) return;
  const now = Date.now();
  if (now - (lastFrom.get(sender.identity) || 0) < MIN_GAP_MS) return;
  lastFrom.set(sender.identity, now);
  float(payload.kind, nameOf(sender));
});

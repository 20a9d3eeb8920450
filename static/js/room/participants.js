// The people panel: everyone with role, microphone, camera and hand; hosts first, then by
// name. Each row has an empty `.participant-actions` box that moderation.js (hosts only)
// fills through setRowActions.
import { $, batched, fromTemplate, initials } from "./dom.js";
import { PEOPLE_EVENTS, everyone, isHost, isLocal, nameOf, onEvents, onRoom, roleOf, session } from "./session.js";

const list = $("people-list");
const ROLE_LABELS = { host: "Host", guest: "Guest", participant: "" };
const rows = new Map(); // identity -> <li>
let fillActions = null;

// fill(row, participant, room) runs each time a row is drawn; null takes the host controls
// away again (a co-host lost the role).
export function setRowActions(fill) {
  fillActions = fill;
  if (!fill) for (const row of rows.values()) row.querySelector(".participant-actions")?.replaceChildren();
  render();
}

export const render = batched(() => {
  const room = session.room;
  if (!room) return;
  const people = everyone(room).sort(
    (a, b) => isHost(b) - isHost(a) || nameOf(a).localeCompare(nameOf(b), undefined, { sensitivity: "base" }),
  );
  $("people-count").textContent = `(${people.length})`;
  const present = new Set(people.map((p) => p.identity));
  for (const [identity, row] of rows) {
    if (present.has(identity)) continue;
    row.remove();
    rows.delete(identity);
  }
  people.forEach((participant, index) => {
    const row = rows.get(participant.identity) || fromTemplate("person-template");
    rows.set(participant.identity, row);
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
    fill(row, participant);
    try {
      fillActions?.(row, participant, room);
    } catch (error) {
      console.warn("A participant row callback failed", error);
    }
  });
});

function setState(row, name, on, what) {
  const node = row.querySelector(`.state-${name}`);
  node.dataset.on = on;
  node.lastChild.textContent = `${what} ${on ? "on" : "off"}`;
}

function fill(row, participant) {
  const name = nameOf(participant);
  const role = roleOf(participant);
  row.dataset.identity = participant.identity;
  row.dataset.role = role;
  row.querySelector(".avatar").textContent = initials(name);
  const shown = row.querySelector(".name-text");
  shown.textContent = shown.title = isLocal(participant) ? `${name} (you)` : name;
  const badge = row.querySelector(".role-badge");
  badge.textContent = ROLE_LABELS[role];
  badge.hidden = !ROLE_LABELS[role];
  row.querySelector(".state-hand").hidden = !participant.attributes.hand;
  setState(row, "mic", participant.isMicrophoneEnabled, "Microphone");
  setState(row, "camera", participant.isCameraEnabled, "Camera");
}

onRoom((room) => {
  rows.clear();
  list.replaceChildren();
  onEvents(room, PEOPLE_EVENTS, render);
});

// The people panel: everyone with role, microphone, camera and hand; hosts first, then by
// name. Each row has an empty `.participant-actions` box that moderation.js (hosts only)
// fills through onParticipantRow.
import { $, batched, fromTemplate, initials } from "./dom.js";
import { LK, everyone, isHost, isLocal, nameOf, onRoom, roleOf, session } from "./session.js";

const list = $("people-list");
const ROLE_LABELS = { host: "Host", guest: "Guest", participant: "" };
const rows = new Map(); // identity -> <li>
const rowCallbacks = [];

// callback(rowElement, participant, room) runs each time a row is (re)rendered.
export function onParticipantRow(callback) {
  if (!rowCallbacks.includes(callback)) rowCallbacks.push(callback); // once, however often installed
  render();
}

// Host controls taken away (a co-host lost the role): rows are drawn without them again.
export function offParticipantRow(callback) {
  rowCallbacks.splice(rowCallbacks.indexOf(callback) >>> 0, 1);
  for (const row of rows.values()) row.querySelector(".participant-actions")?.replaceChildren();
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
    for (const callback of rowCallbacks) {
      try {
        callback(row, participant, room);
      } catch (error) {
        console.warn("A participant row callback failed", error);
      }
    }
  });
});

function setState(row, name, on, text) {
  const node = row.querySelector(`.state-${name}`);
  node.dataset.on = on;
  node.lastChild.textContent = text;
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
  const mic = participant.isMicrophoneEnabled;
  const camera = participant.isCameraEnabled;
  setState(row, "mic", mic, mic ? "Microphone on" : "Microphone off");
  setState(row, "camera", camera, camera ? "Camera on" : "Camera off");
}

onRoom((room) => {
  rows.clear();
  list.replaceChildren();
  const E = LK.RoomEvent;
  for (const event of [
    E.ParticipantConnected, E.ParticipantDisconnected, E.TrackPublished, E.TrackUnpublished,
    E.TrackMuted, E.TrackUnmuted, E.LocalTrackPublished, E.LocalTrackUnpublished,
    E.ParticipantNameChanged, E.ParticipantAttributesChanged, E.ParticipantMetadataChanged,
  ]) room.on(event, render);
});

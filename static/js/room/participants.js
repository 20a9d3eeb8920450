// The people panel: everyone with their role, microphone, camera and hand, hosts first and
// then by name. Each row has an empty `.participant-actions` box; moderation.js (hosts
// only) fills it through onParticipantRow.
import { $, batched, h, icon, initials } from "./dom.js";
import { LK, isHost, isLocal, nameOf, onRoom, roleOf, session } from "./session.js";

const el = { list: $("people-list"), count: $("people-count") };
const ICONS = {
  hand: "M21 7a1.5 1.5 0 0 0-3 0v5h-1V4a1.5 1.5 0 0 0-3 0v7h-1V2.5a1.5 1.5 0 0 0-3 0V11H9V5a1.5 1.5 0 0 0-3 0v10.3l-2.1-2.1a1.6 1.6 0 0 0-2.3 2.2L7 21a5 5 0 0 0 3.6 1.5H15a6 6 0 0 0 6-6z",
  mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z",
  camera: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z",
};
const ROLE_LABELS = { host: "Host", guest: "Guest", participant: "" };

const rows = new Map(); // identity -> <li>
const rowCallbacks = [];

// callback(rowElement, participant, room), called each time a row is (re)rendered.
export function onParticipantRow(callback) {
  if (!rowCallbacks.includes(callback)) rowCallbacks.push(callback); // once, however often installed
  render();
}

export const render = batched(renderNow);

const byName = (a, b) => nameOf(a).localeCompare(nameOf(b), undefined, { sensitivity: "base" });

function renderNow() {
  const room = session.room;
  if (!room) return;
  const people = [room.localParticipant, ...room.remoteParticipants.values()];
  people.sort((a, b) => Number(isHost(b)) - Number(isHost(a)) || byName(a, b));
  el.count.textContent = `(${people.length})`;
  const present = new Set(people.map((p) => p.identity));
  for (const [identity, row] of rows) {
    if (!present.has(identity)) {
      row.remove();
      rows.delete(identity);
    }
  }
  people.forEach((participant, index) => {
    const row = rowFor(participant);
    if (el.list.children[index] !== row) el.list.insertBefore(row, el.list.children[index] || null);
    fill(row, participant);
    for (const callback of rowCallbacks) {
      try {
        callback(row, participant, room);
      } catch (error) {
        console.warn("A participant row callback failed", error);
      }
    }
  });
}

function state(name) {
  return h("span", { class: `state state-${name}` }, icon(ICONS[name]), h("span", { class: "visually-hidden" }));
}

function rowFor(participant) {
  if (!rows.has(participant.identity)) {
    const row = h(
      "li",
      { class: "person", "data-identity": participant.identity },
      h("span", { class: "avatar avatar-small", "aria-hidden": "true" }),
      h("span", { class: "person-name" }, h("span", { class: "name-text" }), h("span", { class: "role-badge" })),
      h("span", { class: "person-state" }, state("hand"), state("mic"), state("camera")),
      h("div", { class: "participant-actions" }),
    );
    rows.set(participant.identity, row);
  }
  return rows.get(participant.identity);
}

function setState(row, name, on, onText, offText) {
  const node = row.querySelector(`.state-${name}`);
  node.dataset.on = String(on);
  node.lastChild.textContent = on ? onText : offText;
}

function fill(row, participant) {
  const name = nameOf(participant);
  row.querySelector(".avatar").textContent = initials(name);
  row.querySelector(".name-text").textContent = isLocal(participant) ? `${name} (you)` : name;
  const role = ROLE_LABELS[roleOf(participant)];
  const badge = row.querySelector(".role-badge");
  badge.textContent = role;
  badge.hidden = !role;
  row.dataset.role = roleOf(participant);
  setState(row, "hand", Boolean(participant.attributes.hand), "Hand raised", "");
  row.querySelector(".state-hand").hidden = !participant.attributes.hand;
  setState(row, "mic", participant.isMicrophoneEnabled, "Microphone on", "Microphone off");
  setState(row, "camera", participant.isCameraEnabled, "Camera on", "Camera off");
}

onRoom((room) => {
  rows.clear();
  el.list.replaceChildren();
  const E = LK.RoomEvent;
  const events = [
    E.Connected, E.ParticipantConnected, E.ParticipantDisconnected, E.TrackPublished,
    E.TrackUnpublished, E.TrackMuted, E.TrackUnmuted, E.LocalTrackPublished, E.LocalTrackUnpublished,
    E.ParticipantNameChanged, E.ParticipantAttributesChanged, E.ParticipantMetadataChanged,
  ];
  for (const event of events) room.on(event, render);
});

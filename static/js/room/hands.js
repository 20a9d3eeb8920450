// Raised hands live in the participant's own attributes ({"hand": "<ISO time>"}), so a late
// joiner sees them too. Hosts get the queue in the order hands went up and can lower one:
// a data message on topic "hand" asks that participant's page to lower it.
import { $, batched, h, show } from "./dom.js";
import { onData, send } from "./data.js";
import { showNotice } from "./connection.js";
import { LK, amHost, isHost, isLocal, nameOf, onRoom, session } from "./session.js";

const el = {
  button: $("toggle-hand"),
  queue: $("hand-queue"),
  list: $("hand-list"),
  badge: $("hands-count"),
};

const raisedAt = (participant) => {
  const time = Date.parse(participant.attributes.hand || "");
  return Number.isNaN(time) ? Infinity : time; // a garbled time still counts, at the end
};

async function setHand(up) {
  const room = session.room;
  if (!room) return;
  try {
    await room.localParticipant.setAttributes({ hand: up ? new Date().toISOString() : "" });
  } catch {
    showNotice(up ? "Your hand could not be raised. Try again." : "Your hand could not be lowered. Try again.");
  }
  render();
}

export function toggleHand() {
  const room = session.room;
  if (room) setHand(!room.localParticipant.attributes.hand);
}

function lowerHandOf(participant) {
  if (isLocal(participant)) setHand(false);
  else send(session.room, "hand", { type: "lower" }, { to: [participant.identity] }).catch(() => {
    showNotice(`${nameOf(participant)}'s hand could not be lowered. Try again.`);
  });
}

export const render = batched(renderNow);

function renderNow() {
  const room = session.room;
  if (!room) return;
  const up = Boolean(room.localParticipant.attributes.hand);
  el.button.setAttribute("aria-pressed", String(up));
  el.button.querySelector(".control-label").textContent = up ? "Lower hand" : "Raise hand";

  const people = [room.localParticipant, ...room.remoteParticipants.values()];
  const raised = people.filter((p) => p.attributes.hand).sort((a, b) => raisedAt(a) - raisedAt(b));
  const hostView = amHost() && raised.length > 0;
  show(el.queue, hostView);
  show(el.badge, hostView);
  el.badge.textContent = hostView ? String(raised.length) : "";
  el.list.replaceChildren(
    ...raised.map((participant) =>
      h(
        "li",
        { "data-identity": participant.identity },
        h("span", { class: "hand-name" }, nameOf(participant)),
        h(
          "button",
          {
            type: "button",
            class: "button button-small",
            "aria-label": `Lower ${nameOf(participant)}'s hand`,
            onclick: () => lowerHandOf(participant),
          },
          "Lower",
        ),
      ),
    ),
  );
}

// Only a host may lower someone else's hand; the page obeys and says who did it.
onData("hand", (payload, sender) => {
  if (payload.type !== "lower" || !sender || !isHost(sender)) return;
  if (!session.room.localParticipant.attributes.hand) return;
  setHand(false);
  showNotice(`${nameOf(sender)} lowered your hand`);
});

el.button.addEventListener("click", toggleHand);

onRoom((room) => {
  room.on(LK.RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (amHost() && !isLocal(participant) && changed.hand) {
      showNotice(`${nameOf(participant)} raised their hand`);
    }
    render();
  });
  room.on(LK.RoomEvent.ParticipantConnected, render);
  room.on(LK.RoomEvent.ParticipantDisconnected, render);
  room.on(LK.RoomEvent.Connected, render);
});

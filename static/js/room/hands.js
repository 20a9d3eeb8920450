// Raised hands live in each participant's own attributes ({"hand": "<ISO time>"}), so late
// joiners see them too. Hosts see the queue in the order hands went up and can lower one:
// a data message on topic "hand" asks that participant's page to lower it.
import { $, batched, h, show } from "./dom.js";
import { onData, send } from "./data.js";
import { showNotice } from "./connection.js";
import { LK, amHost, everyone, isHost, isLocal, nameOf, onRoom, session } from "./session.js";

const [button, queue, list, badge] = ["toggle-hand", "hand-queue", "hand-list", "hands-count"].map($);
const raisedAt = (p) => Date.parse(p.attributes.hand) || Infinity; // a garbled time goes last

async function setHand(up) {
  try {
    await session.room.localParticipant.setAttributes({ hand: up ? new Date().toISOString() : "" });
  } catch {
    showNotice(`Your hand could not be ${up ? "raised" : "lowered"}. Try again.`);
  }
  render();
}

function lower(participant) {
  if (isLocal(participant)) return setHand(false);
  send(session.room, "hand", { type: "lower" }, { to: [participant.identity] }).catch(() =>
    showNotice(`${nameOf(participant)}'s hand could not be lowered. Try again.`),
  );
}

export const render = batched(() => {
  const room = session.room;
  if (!room) return;
  const up = Boolean(room.localParticipant.attributes.hand);
  button.setAttribute("aria-pressed", up);
  button.querySelector(".control-label").textContent = up ? "Lower hand" : "Raise hand";
  const raised = everyone(room).filter((p) => p.attributes.hand).sort((a, b) => raisedAt(a) - raisedAt(b));
  const hostView = amHost() && raised.length > 0;
  show(queue, hostView);
  show(badge, hostView);
  badge.textContent = raised.length;
  list.replaceChildren(
    ...raised.map((p) =>
      h(
        "li",
        {},
        h("span", { class: "hand-name" }, nameOf(p)),
        h("button", { type: "button", class: "button button-small", "aria-label": `Lower ${nameOf(p)}'s hand`, onclick: () => lower(p) }, "Lower"),
      ),
    ),
  );
});

// Only a host may lower someone else's hand; the page obeys and says who did.
onData("hand", (payload, sender) => {
  if (payload.type !== "lower" || !sender || !isHost(sender) || !session.room.localParticipant.attributes.hand) return;
  setHand(false);
  showNotice(`${nameOf(sender)} lowered your hand`);
});

button.addEventListener("click", () => session.room && setHand(!session.room.localParticipant.attributes.hand));

onRoom((room) => {
  room.on(LK.RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (changed.hand && amHost() && !isLocal(participant)) showNotice(`${nameOf(participant)} raised their hand`);
    render();
  });
  // Someone may arrive with a hand already up.
  room.on(LK.RoomEvent.ParticipantConnected, render);
  room.on(LK.RoomEvent.ParticipantDisconnected, render);
});

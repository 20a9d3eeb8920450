// Raised hands live in each participant's attributes ({"hand": "<ISO time>"}), so late
// joiners see them too. The app's server writes them (participants cannot write their own),
// with its own clock, so the queue hosts see is in the order hands really went up.
import { api } from "../api.js";
import { $, batched, h, show } from "./dom.js";
import { showNotice } from "./connection.js";
import { LK, amHost, everyone, isLocal, nameOf, onRoom, page, session } from "./session.js";

const [button, queue, list, badge] = ["toggle-hand", "hand-queue", "hand-list", "hands-count"].map($);
const raisedAt = (p) => Date.parse(p.attributes.hand) || Infinity; // a garbled time goes last

const post = (path, body) => api(page.tokenUrl.replace(/tokens$/, path), { body });
let loweredByMe = false;

async function setHand(up) {
  loweredByMe = !up;
  try {
    await post("hand", { raised: up });
  } catch {
    showNotice(`Your hand could not be ${up ? "raised" : "lowered"}. Try again.`);
  }
}

function lower(participant) {
  if (isLocal(participant)) return setHand(false);
  post(`participants/${encodeURIComponent(participant.identity)}/lower_hand`).catch(() =>
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

button.addEventListener("click", () => session.room && setHand(!session.room.localParticipant.attributes.hand));

onRoom((room) => {
  room.on(LK.RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (changed.hand && amHost() && !isLocal(participant)) showNotice(`${nameOf(participant)} raised their hand`);
    if ("hand" in changed && !changed.hand && isLocal(participant) && !loweredByMe) showNotice("A host lowered your hand");
    render();
  });
  // Someone may arrive with a hand already up.
  room.on(LK.RoomEvent.ParticipantConnected, render);
  room.on(LK.RoomEvent.ParticipantDisconnected, render);
});

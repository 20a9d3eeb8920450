// Raised hands live in each participant's attributes ({"hand": "<ISO time>"}), so late
// joiners see them too. The app's server writes them (participants cannot write their own),
// with its own clock, so the queue hosts see (moderation.js) is in the order hands went up.
import { api } from "../api.js";
import { $ } from "./dom.js";
import { showNotice } from "./connection.js";
import { LK, isLocal, onRoom, page, session } from "./session.js";

const button = $("toggle-hand");
let loweredByMe = false;

export async function setHand(up) {
  loweredByMe = !up;
  try {
    await api(page.tokenUrl.replace(/tokens$/, "hand"), { body: { raised: up } });
  } catch {
    showNotice(`Your hand could not be ${up ? "raised" : "lowered"}. Try again.`);
  }
}

export function render() {
  const up = Boolean(session.room?.localParticipant.attributes.hand);
  button.setAttribute("aria-pressed", up);
  button.querySelector(".control-label").textContent = up ? "Lower hand" : "Raise hand";
}

button.addEventListener("click", () => session.room && setHand(!session.room.localParticipant.attributes.hand));

onRoom((room) =>
  room.on(LK.RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (!isLocal(participant)) return;
    if ("hand" in changed && !changed.hand && !loweredByMe) showNotice("A host lowered your hand");
    render();
  }),
);

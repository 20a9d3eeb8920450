// The state of the call as people see it: status pill, banner, short notices, and the end of
// the call. Network loss is told apart from being removed or the meeting ending, and is
// repaired by joining again with a fresh token.
import { onData } from "./data.js";
import { $, h, show } from "./dom.js";
import { LK, onRoom, session, wasConnected } from "./session.js";

const [status, banner, ended, endedTitle, endedText, rejoinButton] = [
  "connection-status", "banner", "ended", "ended-title", "ended-text", "rejoin",
].map($);
const STATUS_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  host: "Waiting for the host",
  lobby: "Waiting to be let in",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
};

export function setStatus(name) {
  status.dataset.state = name;
  status.textContent = STATUS_TEXT[name];
}

let bannerTimer;
export function showBanner(text, kind = "warning", hideAfterMs = 0) {
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.dataset.kind = kind;
  show(banner);
  if (hideAfterMs) bannerTimer = setTimeout(() => show(banner, false), hideAfterMs);
}

export function showNotice(text) {
  const toast = $("toasts").appendChild(h("p", { class: "toast" }, String(text)));
  setTimeout(() => toast.remove(), 6000);
}

function showOnly(section) {
  for (const id of ["prejoin", "stage", "ended"]) show($(id), id === section);
}

export function showStage() {
  showOnly("stage");
  setStatus("connected");
}

const R = LK.DisconnectReason;
// [heading, text, may rejoin]. Other reasons are network trouble, repaired by recover().
const ENDINGS = {
  [R.CLIENT_INITIATED]: ["You left the meeting", "Rejoin whenever you like.", true],
  [R.PARTICIPANT_REMOVED]: ["You were removed from the meeting", "A host removed you from this meeting.", false],
  [R.ROOM_DELETED]: ["The host ended the meeting", "The meeting has ended for everyone.", false],
  [R.DUPLICATE_IDENTITY]: ["You joined from another tab", "Rejoin here to move the call back to this page.", true],
};
const LOST = ["The connection was lost", "Check your network, then rejoin.", true];
// The server says why before it ends a session for an account change (disabled, password
// reset), so the page does not blame a host.
let signedOut = null;
onData("moderation", (payload, sender) => {
  if (!sender && payload.type === "signed_out") signedOut = ["You were signed out", String(payload.reason || ""), false];
});

export function showEnded([title, text, mayRejoin]) {
  setStatus("disconnected");
  show(banner, false);
  endedTitle.textContent = title;
  endedText.textContent = text;
  show(rejoinButton, mayRejoin);
  showOnly("ended");
  (mayRejoin ? rejoinButton : endedTitle).focus();
}

const RETRY_DELAYS_MS = [0, 2000, 4000, 8000, 15000];
let rejoin = async () => {};
let recovering = false;

// main.js owns the join sequence: fetch a fresh ticket, connect.
export const setRejoin = (fn) => (rejoin = fn);

// livekit-client gave up reconnecting (its token may also have expired): join again.
async function recover() {
  if (recovering) return;
  recovering = true;
  setStatus("reconnecting");
  showBanner("Connection lost. Rejoining…");
  try {
    for (const delay of RETRY_DELAYS_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return await rejoin();
      } catch (error) {
        // A refusal on purpose (meeting over, removed...) is final: say why.
        if (error.code && !["livekit_unavailable", "too_many_requests"].includes(error.code)) {
          return showEnded(["You cannot rejoin", error.message, false]);
        }
      }
    }
    showEnded(LOST);
  } finally {
    recovering = false;
  }
}

window.addEventListener("online", () => {
  if (!ended.hidden && endedTitle.textContent === LOST[0]) recover();
});

onRoom((room) => {
  const S = LK.ConnectionState;
  let reconnecting = false;
  room.on(LK.RoomEvent.ConnectionStateChanged, (state) => {
    // A lost signal connection alone is a reconnect for people too.
    if (state === S.Reconnecting || state === S.SignalReconnecting) {
      reconnecting = true;
      setStatus("reconnecting");
      showBanner("Connection lost. Reconnecting…");
    } else if (state === S.Connected && reconnecting) {
      reconnecting = false;
      setStatus("connected");
      showBanner("Reconnected", "success", 3000);
    }
  });
  room.on(LK.RoomEvent.Disconnected, (reason) => {
    // Only the current call's end counts, not an old room closing during a rejoin.
    if (room !== session.room || !wasConnected(room)) return;
    if (reason === R.PARTICIPANT_REMOVED && signedOut) showEnded(signedOut);
    // endedHere: this page pressed "End for all" (moderation.js)
    else if (reason === R.ROOM_DELETED && session.endedHere) showEnded(["You ended the meeting", ENDINGS[reason][1], false]);
    else if (ENDINGS[reason]) showEnded(ENDINGS[reason]);
    else recover();
  });
});

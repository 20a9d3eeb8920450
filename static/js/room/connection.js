// The state of the call as people see it: the status pill, the banner, short notices, and
// what happens when the call ends. Network loss is told apart from being removed or the
// host ending the meeting, and it is repaired by rejoining with a fresh token.
import { $, h, show } from "./dom.js";
import { LK, onRoom, session, wasConnected } from "./session.js";

const el = {
  status: $("connection-status"),
  banner: $("banner"),
  toasts: $("toasts"),
  prejoin: $("prejoin"),
  stage: $("stage"),
  ended: $("ended"),
  endedTitle: $("ended-title"),
  endedText: $("ended-text"),
  rejoin: $("rejoin"),
};

const STATUS_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
};

export function setStatus(name) {
  el.status.dataset.state = name;
  el.status.textContent = STATUS_TEXT[name];
}

let bannerTimer = null;
export function showBanner(text, kind = "warning", hideAfterMs = 0) {
  clearTimeout(bannerTimer);
  el.banner.textContent = text;
  el.banner.dataset.kind = kind;
  show(el.banner);
  if (hideAfterMs) bannerTimer = setTimeout(() => show(el.banner, false), hideAfterMs);
}

export function hideBanner() {
  clearTimeout(bannerTimer);
  show(el.banner, false);
}

// A short message that goes away by itself (hands raised, a host muted you...).
export function showNotice(text) {
  const toast = h("p", { class: "toast" }, String(text));
  el.toasts.append(toast);
  setTimeout(() => toast.remove(), 6000);
}

export function showStage() {
  show(el.prejoin, false);
  show(el.ended, false);
  show(el.stage);
  setStatus("connected");
}

const R = LK.DisconnectReason;
// [heading, text, may rejoin]; reasons not listed are network trouble and get repaired.
const ENDINGS = {
  [R.CLIENT_INITIATED]: ["You left the meeting", "Rejoin whenever you like.", true],
  [R.PARTICIPANT_REMOVED]: ["You were removed from the meeting", "A host removed you from this meeting.", false],
  [R.ROOM_DELETED]: ["The host ended the meeting", "The meeting has ended for everyone.", false],
  [R.DUPLICATE_IDENTITY]: [
    "You joined from another tab",
    "This meeting is open elsewhere with your name. Rejoin here to move it back.",
    true,
  ],
};
const LOST = ["The connection was lost", "Check your network, then rejoin.", true];

export function showEnded([title, text, mayRejoin]) {
  setStatus("disconnected");
  hideBanner();
  el.endedTitle.textContent = title;
  el.endedText.textContent = text;
  show(el.rejoin, mayRejoin);
  show(el.stage, false);
  show(el.prejoin, false);
  show(el.ended);
  (mayRejoin ? el.rejoin : el.endedTitle).focus();
}

// ---- repairing a lost connection ------------------------------------------------------

const RETRY_DELAYS_MS = [0, 2000, 4000, 8000, 15000];
let rejoin = async () => {};
let recovering = false;

// `fn` fetches a fresh ticket and connects; main.js owns that sequence.
export function setRejoin(fn) {
  rejoin = fn;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// LiveKit's own reconnect gave up (or its token expired): join again with a new token.
async function recover() {
  if (recovering) return;
  recovering = true;
  setStatus("reconnecting");
  showBanner("Connection lost. Rejoining…");
  try {
    for (const delay of RETRY_DELAYS_MS) {
      await sleep(delay);
      try {
        await rejoin();
        return;
      } catch (error) {
        // The server refused on purpose (meeting over, removed...): say why, stop trying.
        if (error.code && error.code !== "livekit_unavailable" && error.code !== "too_many_requests") {
          showEnded(["You cannot rejoin", error.message, false]);
          return;
        }
      }
    }
    showEnded(LOST);
  } finally {
    recovering = false;
  }
}

window.addEventListener("online", () => {
  if (!el.ended.hidden && el.endedTitle.textContent === LOST[0]) recover();
});

onRoom((room) => {
  const E = LK.RoomEvent;
  // A lost signal connection alone ("signalReconnecting") is a reconnect for people too.
  let reconnecting = false;
  room.on(E.ConnectionStateChanged, (state) => {
    if (state === LK.ConnectionState.Reconnecting || state === LK.ConnectionState.SignalReconnecting) {
      reconnecting = true;
      setStatus("reconnecting");
      showBanner("Connection lost. Reconnecting…");
    } else if (state === LK.ConnectionState.Connected && reconnecting) {
      reconnecting = false;
      setStatus("connected");
      showBanner("Reconnected", "success", 3000);
    }
  });
  room
    .on(E.Disconnected, (reason) => {
      // Only the current call's end matters: an old room closing during a rejoin does not.
      if (room !== session.room || !wasConnected(room)) return;
      const ending = ENDINGS[reason];
      if (ending) showEnded(ending);
      else recover();
    });
});

// The meeting page: pre-join check, then the call. Each part lives in its own module;
// this one joins them: it asks for a ticket, connects, and hands the room to the others.
import { $, show } from "./dom.js";
import { LK, attachRoom, markConnected, session } from "./session.js";
import "./data.js";
import "./audio.js";
import "./chat.js";
import "./reactions.js";
import "./settings.js";
import * as connection from "./connection.js";
import * as controls from "./controls.js";
import * as hands from "./hands.js";
import * as layout from "./layout.js";
import * as participants from "./participants.js";
import * as prejoin from "./prejoin.js";
import { loadPrefs } from "./devices.js";
import { fetchTicket } from "./ticket.js";

const el = {
  form: $("join-form"),
  name: $("display-name"),
  accessCode: $("access-code"),
  joinButton: $("join-button"),
  joinError: $("join-error"),
  joinWaiting: $("join-waiting"),
  lobbyWaiting: $("lobby-waiting"),
  stage: $("stage"),
  rejoin: $("rejoin"),
  endedText: $("ended-text"),
};
const HOST_POLL_MS = 3000;

function ticketRequest() {
  const request = { display_name: el.name.value.trim() };
  if (el.accessCode) request.access_code = el.accessCode.value;
  return request;
}

function showLobbyPosition(position) {
  el.lobbyWaiting.textContent = Number.isInteger(position)
    ? `Waiting for a host to let you in. You are number ${position} in line.`
    : "Waiting for a host to let you in.";
  show(el.lobbyWaiting);
  el.joinButton.textContent = "Waiting to be let in…";
}

function showJoinError(message) {
  el.joinError.textContent = message;
  show(el.joinError);
}

function roomOptions() {
  const prefs = loadPrefs();
  const options = {
    adaptiveStream: true, // only tiles on screen receive video, at the size they are shown
    dynacast: true, // and publishers stop sending layers nobody watches
    videoCaptureDefaults: { deviceId: prefs.videoinput || undefined, resolution: LK.VideoPresets.h720.resolution },
    audioCaptureDefaults: { deviceId: prefs.audioinput || undefined },
  };
  if (prefs.audiooutput) options.audioOutput = { deviceId: prefs.audiooutput };
  return options;
}

async function connect(ticket, { first }) {
  const room = new LK.Room(roomOptions());
  session.room = room;
  session.ticket = ticket;
  attachRoom(room);
  try {
    await room.connect(ticket.livekit_url, ticket.token);
  } catch (error) {
    session.room = null;
    throw error;
  }
  markConnected(room);
  // The click on "Join" is the user gesture that lets remote audio play.
  room.startAudio().catch(() => {});
  connection.showStage();
  layout.render();
  participants.render();
  hands.render();
  controls.update();
  if (first) Object.assign(controls.wanted, prejoin.choice);
  await controls.publish(room, first ? prejoin.takeTracks() : [], { joinMuted: first && ticket.join_muted });
  installModeration(room, ticket);
}

async function join(event) {
  if (event) event.preventDefault();
  if (!el.name.value.trim()) {
    showJoinError("Enter the name others will see.");
    el.name.focus();
    return;
  }
  show(el.joinError, false);
  el.joinButton.disabled = true;
  el.joinButton.textContent = "Joining…";
  connection.setStatus("connecting");
  try {
    const ticket = await fetchTicket(ticketRequest(), { onPosition: showLobbyPosition });
    show(el.joinWaiting, false);
    show(el.lobbyWaiting, false);
    await connect(ticket, { first: true });
    $("toggle-mic").hidden ? $("leave").focus() : $("toggle-mic").focus();
  } catch (error) {
    if (error.code === "waiting_for_host") {
      // The host is not there yet: wait visibly and ask again until they are.
      show(el.joinWaiting);
      el.joinButton.textContent = "Waiting for the host…";
      setTimeout(join, HOST_POLL_MS);
      return;
    }
    show(el.joinWaiting, false);
    show(el.lobbyWaiting, false);
    connection.setStatus("idle");
    showJoinError(error.message || "Could not join. Try again.");
    el.joinButton.disabled = false;
    el.joinButton.textContent = "Join meeting";
  }
}

// A rejoin always asks for a new token: the old one may have expired while the network was down.
async function rejoin() {
  const ticket = await fetchTicket(ticketRequest(), {
    onPosition: () => (el.endedText.textContent = "Waiting for a host to let you in again."),
  });
  await connect(ticket, { first: false });
}

// Hosts get moderation tools (moderation.js) with each call they join; the page works the
// same without that module.
function installModeration(room, ticket) {
  if (ticket.role !== "host") return;
  const api = { room, onParticipantRow: participants.onParticipantRow, showNotice: connection.showNotice };
  import("./moderation.js").then((m) => m.install(api)).catch(() => {});
}

// Shortcuts press the visible button, so they do exactly what a click does.
const SHORTCUTS = { m: "toggle-mic", v: "toggle-camera", h: "toggle-hand", c: "toggle-chat" };
function onShortcut(event) {
  if (!session.room || el.stage.hidden || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable], dialog")) return;
  const button = $(SHORTCUTS[event.key.toLowerCase()] || "");
  if (!button || button.hidden) return;
  event.preventDefault();
  button.click();
}

el.form.addEventListener("submit", join);
el.rejoin.addEventListener("click", async () => {
  el.rejoin.disabled = true;
  connection.setStatus("connecting");
  try {
    await rejoin();
  } catch (error) {
    connection.setStatus("disconnected");
    el.endedText.textContent = error.message || "Could not rejoin. Try again.";
  } finally {
    el.rejoin.disabled = false;
  }
});
connection.setRejoin(rejoin);
document.addEventListener("keydown", onShortcut);
window.addEventListener("pagehide", () => session.room && session.room.disconnect());
if (!el.name.value) el.name.focus();
prejoin.start();

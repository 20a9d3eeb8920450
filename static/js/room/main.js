// The meeting page: the check before joining, then the call. Each part lives in its own
// module; this one asks for a ticket, connects, and hands the room to the others.
import { pageData } from "../api.js";
import { $, show } from "./dom.js";
import { LK, attachRoom, isHost, markConnected, markJoin, metadataOf, page, session } from "./session.js";
import "./data.js";
import "./audio.js";
import "./chat.js";
import "./reactions.js";
import * as connection from "./connection.js";
import * as controls from "./controls.js";
import * as hands from "./hands.js";
import * as layout from "./layout.js";
import * as participants from "./participants.js";
import * as prejoin from "./prejoin.js";
import { loadPrefs, noticeUnplugged } from "./devices.js";
import { fetchTicket } from "./ticket.js";

const [nameInput, joinButton, joinError, joinWaiting, lobbyWaiting, endedText] = [
  "display-name", "join-button", "join-error", "join-waiting", "lobby-waiting", "ended-text",
].map($);
const HOST_POLL_MS = 3000;
// End-to-end encrypted meetings only: the key and the Rooms' encryption, before any Room.
const e2ee = page.e2ee && (await import("./e2ee.js"));

const ticketRequest = () => ({ display_name: nameInput.value.trim(), access_code: $("access-code")?.value });

function showLobbyPosition(position) {
  lobbyWaiting.textContent = `Waiting for a host to let you in.${
    Number.isInteger(position) ? ` You are number ${position} in line.` : ""
  }`;
  show(lobbyWaiting);
  connection.setStatus("lobby");
  joinButton.textContent = "Waiting to be let in…";
}

function roomOptions() {
  const prefs = loadPrefs();
  return {
    adaptiveStream: true, // tiles receive video only while shown, at the size shown
    dynacast: true, // publishers stop sending layers nobody watches
    videoCaptureDefaults: { deviceId: prefs.videoinput, resolution: LK.VideoPresets.h720.resolution },
    audioCaptureDefaults: { deviceId: prefs.audioinput },
    ...(prefs.audiooutput && { audioOutput: { deviceId: prefs.audiooutput } }),
    ...(e2ee && e2ee.options()),
  };
}

const newRoom = () => new LK.Room(roomOptions());

// A ticket from the lobby brings the room prepared while waiting.
async function connect(ticket, first) {
  const room = ticket.room || newRoom();
  Object.assign(session, { room, ticket });
  attachRoom(room);
  room.once(LK.RoomEvent.SignalConnected, () => markJoin("signal"));
  // A mark only (tests, benchmark): the first remote video may come before your own is out.
  const marked = () => performance.getEntriesByName("join:subscribed").length;
  room.on(LK.RoomEvent.TrackSubscribed, (track) => track.kind === "video" && !marked() && performance.mark("join:subscribed"));
  try {
    markJoin("token");
    await e2ee?.prepare(room);
    await room.connect(ticket.livekit_url, ticket.token);
  } catch (error) {
    session.room = null;
    throw error;
  }
  markConnected(room);
  markJoin("webrtc");
  room.startAudio().catch(() => {}); // the click on "Join" lets remote sound play
  if (first) Object.assign(controls.wanted, prejoin.choice);
  // Others show as their tracks arrive; yours go out meanwhile (early "Mute": controls.js).
  connection.showStage();
  layout.renderNow(); // the tracks that came with the connection, on screen in this task
  markJoin("stage");
  const tracks = first ? prejoin.takeTracks() : [];
  const published = controls.publish(room, tracks, { joinMuted: first && ticket.join_muted });
  // publish() set the buttons; the layout again for your tile's "Starting camera…".
  [layout.render, participants.render, hands.render].forEach((render) => render());
  installRoleTools(room, ticket.role === "host");
  room.on(LK.RoomEvent.RoomMetadataChanged, () => features(room));
  watchForPromotion(room);
  await published;
  markJoin("published");
  layout.render(); // your tile no longer says the camera is starting
}

// Moderation (hosts) and, where the meeting may be recorded, the recording sign and tools.
let removeRecordingTools = null;
let removeHostTools = null;

// Hosts load what the room's metadata turns on (captions.js, stream.js); others once it is.
const ON = { captions: /^(starting|running|unavailable)$/, stream: /^(starting|live)$/ };
const features = (room, host) => Object.keys(ON).map((key) =>
  (host || ON[key].test(metadataOf(room)[key])) &&
  import(`./${key}.js`).then((m) => m.install(room, connection.showNotice)));

function installRoleTools(room, host) {
  const loaded = features(room, host && !page.e2ee); // the server can't caption or stream E2EE
  if (host) {
    const api = { room, setRowActions: participants.setRowActions, showNotice: connection.showNotice };
    loaded.push(import("./moderation.js").then((m) => (removeHostTools = m.install(api))));
  }
  if (pageData("recording-data").allowed) {
    const api = { room, isHost: host, showNotice: connection.showNotice };
    loaded.push(import("./recording.js").then((m) => {
      removeRecordingTools?.();
      removeRecordingTools = m.install(api);
    }));
  }
  return Promise.all(loaded).catch(() => {});
}

// A person made co-host mid-call gets the host tools without rejoining, and loses them the
// same way: only the server writes metadata, and it still checks every host action itself.
function watchForPromotion(room) {
  room.on(LK.RoomEvent.ParticipantMetadataChanged, async (_previous, participant) => {
    if (participant !== room.localParticipant || (session.ticket.role === "host") === isHost(participant)) return;
    const promoted = isHost(participant);
    session.ticket.role = promoted ? "host" : "participant";
    if (promoted) await installRoleTools(room, true);
    else removeHostTools?.();
    [participants.render, controls.update].forEach((render) => render());
    connection.showNotice(
      promoted ? "A host made you a co-host: the host controls are in the People panel." : "A host took your co-host role.",
    );
  });
}

async function join(event) {
  event?.preventDefault();
  if (!nameInput.value.trim()) {
    joinError.textContent = "Enter the name others will see.";
    show(joinError);
    return nameInput.focus();
  }
  show(joinError, false);
  joinButton.disabled = true;
  joinButton.textContent = "Joining…";
  markJoin("click");
  try {
    const ticket = await fetchTicket(ticketRequest(), { onPosition: showLobbyPosition, newRoom });
    show(joinWaiting, false);
    show(lobbyWaiting, false);
    connection.setStatus("connecting"); // not while waiting
    await connect(ticket, true);
    $("toggle-mic").hidden ? $("leave").focus() : $("toggle-mic").focus();
  } catch (error) {
    if (error.code === "waiting_for_host") {
      // The host is not there yet: wait visibly, ask again until they are.
      show(joinWaiting);
      connection.setStatus("host");
      joinButton.textContent = "Waiting for the host…";
      return setTimeout(join, HOST_POLL_MS);
    }
    show(joinWaiting, false);
    show(lobbyWaiting, false);
    connection.setStatus("idle");
    joinError.textContent = error.message || "Could not join. Try again.";
    show(joinError);
    joinButton.disabled = false;
    joinButton.textContent = "Join meeting";
  }
}

// A rejoin always asks for a new token: the old one may have expired meanwhile.
async function rejoin() {
  const onPosition = () => {
    connection.setStatus("lobby");
    endedText.textContent = "Waiting for a host to let you in again.";
  };
  await connect(await fetchTicket(ticketRequest(), { onPosition, newRoom }), false);
}

// Shortcuts press the visible button, so they do exactly what a click does; not while typing.
const SHORTCUTS = { m: "toggle-mic", v: "toggle-camera", h: "toggle-hand", c: "toggle-chat" };
document.addEventListener("keydown", (event) => {
  if ($("stage").hidden || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
  const button = $(SHORTCUTS[event.key.toLowerCase()]);
  if (!button || button.hidden) return;
  event.preventDefault();
  button.click();
});

$("join-form").addEventListener("submit", join);
$("rejoin").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  connection.setStatus("connecting");
  try {
    await rejoin();
  } catch (error) {
    connection.setStatus("disconnected");
    endedText.textContent = error.message || "Could not rejoin. Try again.";
  }
  $("rejoin").disabled = false;
});
connection.setRejoin(rejoin);
noticeUnplugged(() => session.room, connection.showNotice);
$("open-settings").addEventListener("click", () => import("./settings.js").then((settings) => settings.open()));
window.addEventListener("pagehide", () => session.room?.disconnect());
if (!nameInput.value) nameInput.focus();
// Start early: while people check their camera, the browser looks up and reaches the media
// server (DNS, TCP, TLS); that warm-up lives in the browser, not in this Room object.
if (page.livekitUrl) newRoom().prepareConnection(page.livekitUrl);
prejoin.begin();

// The meeting page: pre-join check, then the call. Uses the livekit-client UMD bundle
// (global `LivekitClient`), loaded with `defer` before this module runs.
import { csrfToken, show, hide } from "./common.js";

const LK = window.LivekitClient;
const page = JSON.parse(document.getElementById("page-data").textContent);

const el = {
  status: document.getElementById("connection-status"),
  prejoin: document.getElementById("prejoin"),
  preview: document.getElementById("preview-video"),
  previewPlaceholder: document.getElementById("preview-placeholder"),
  form: document.getElementById("join-form"),
  name: document.getElementById("display-name"),
  prejoinMic: document.getElementById("prejoin-mic"),
  prejoinCamera: document.getElementById("prejoin-camera"),
  deviceNote: document.getElementById("device-note"),
  joinError: document.getElementById("join-error"),
  joinWaiting: document.getElementById("join-waiting"),
  accessCode: document.getElementById("access-code"),
  joinButton: document.getElementById("join-button"),
  stage: document.getElementById("stage"),
  banner: document.getElementById("banner"),
  tiles: document.getElementById("tiles"),
  audioSink: document.getElementById("audio-sink"),
  toggleMic: document.getElementById("toggle-mic"),
  toggleCamera: document.getElementById("toggle-camera"),
  leave: document.getElementById("leave"),
  ended: document.getElementById("ended"),
  endedTitle: document.getElementById("ended-title"),
  endedText: document.getElementById("ended-text"),
  rejoin: document.getElementById("rejoin"),
};

const state = {
  micOn: !page.joinMuted && page.canPublish,
  cameraOn: page.canPublish,
  previewTracks: [],
  room: null,
  tiles: new Map(), // identity -> tile element
};

// ---- status -------------------------------------------------------------------------

const STATUS_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
};

function setStatus(name) {
  el.status.dataset.state = name;
  el.status.textContent = STATUS_TEXT[name];
}

let bannerTimer = null;
function showBanner(text, kind, hideAfterMs = 0) {
  clearTimeout(bannerTimer);
  el.banner.textContent = text;
  el.banner.dataset.kind = kind;
  show(el.banner);
  if (hideAfterMs) bannerTimer = setTimeout(() => hide(el.banner), hideAfterMs);
}

// ---- pre-join -----------------------------------------------------------------------

function describeMediaError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
      return "The browser blocked the camera and microphone. Allow them in the address bar, then reload. You can still join without them.";
    case "NotFoundError":
      return "No camera or microphone was found. You can join and listen.";
    case "NotReadableError":
      return "Your camera or microphone is in use by another application.";
    default:
      return "Your camera or microphone could not be started. You can still join.";
  }
}

async function startPreview() {
  stopPreview();
  if (!state.micOn && !state.cameraOn) {
    el.previewPlaceholder.textContent = "Camera is off";
    show(el.previewPlaceholder);
    return;
  }
  el.previewPlaceholder.textContent = "Starting your camera…";
  try {
    state.previewTracks = await LK.createLocalTracks({
      audio: state.micOn,
      video: state.cameraOn ? { resolution: LK.VideoPresets.h540.resolution } : false,
    });
    hide(el.deviceNote);
  } catch (error) {
    el.deviceNote.textContent = describeMediaError(error);
    show(el.deviceNote);
    state.previewTracks = [];
  }
  const video = state.previewTracks.find((t) => t.kind === LK.Track.Kind.Video);
  if (video) {
    video.attach(el.preview);
    hide(el.previewPlaceholder);
  } else {
    el.previewPlaceholder.textContent = "Camera is off";
    show(el.previewPlaceholder);
  }
}

function stopPreview() {
  for (const track of state.previewTracks) track.stop();
  state.previewTracks = [];
}

function setToggle(button, on, onText, offText) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? onText : offText;
}

el.prejoinMic.addEventListener("click", () => {
  state.micOn = !state.micOn;
  setToggle(el.prejoinMic, state.micOn, "Microphone on", "Microphone off");
  startPreview();
});

el.prejoinCamera.addEventListener("click", () => {
  state.cameraOn = !state.cameraOn;
  setToggle(el.prejoinCamera, state.cameraOn, "Camera on", "Camera off");
  startPreview();
});

// ---- joining ------------------------------------------------------------------------

class TicketRefused extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function fetchTicket(displayName) {
  const request = { display_name: displayName };
  if (el.accessCode) request.access_code = el.accessCode.value;
  const response = await fetch(page.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(request),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || { message: `The server answered ${response.status}.` };
    throw new TicketRefused(error.message, error.code);
  }
  return body;
}

const HOST_POLL_MS = 3000;

function showJoinError(message) {
  el.joinError.textContent = message;
  show(el.joinError);
}

async function join(event) {
  if (event) event.preventDefault();
  const displayName = el.name.value.trim();
  if (!displayName) {
    showJoinError("Enter the name others will see.");
    el.name.focus();
    return;
  }
  hide(el.joinError);
  el.joinButton.disabled = true;
  el.joinButton.textContent = "Joining…";
  setStatus("connecting");
  try {
    const ticket = await fetchTicket(displayName);
    hide(el.joinWaiting);
    await connect(ticket);
  } catch (error) {
    if (error.code === "waiting_for_host") {
      // The host is not there yet: wait visibly and ask again until they are.
      show(el.joinWaiting);
      el.joinButton.textContent = "Waiting for the host…";
      setTimeout(join, HOST_POLL_MS);
      return;
    }
    hide(el.joinWaiting);
    setStatus("idle");
    showJoinError(error.message || "Could not join. Try again.");
    el.joinButton.disabled = false;
    el.joinButton.textContent = "Join meeting";
  }
}

async function connect(ticket) {
  const room = new LK.Room({ adaptiveStream: true, dynacast: true });
  state.room = room;
  wireRoomEvents(room);
  await room.connect(ticket.livekit_url, ticket.token);
  // The click on "Join" is the user gesture that lets remote audio play.
  room.startAudio().catch(() => {});
  hide(el.prejoin);
  hide(el.ended);
  show(el.stage);
  setStatus("connected");
  addTile(room.localParticipant, true);
  for (const participant of room.remoteParticipants.values()) addTile(participant, false);
  // The server decides: webinar attendees cannot publish, and some meetings start muted.
  el.toggleMic.hidden = el.toggleCamera.hidden = !ticket.can_publish;
  if (ticket.join_muted) state.micOn = false;
  if (ticket.can_publish) await publishLocalTracks(room);
  else stopPreview();
  el.leave.focus();
}

async function publishLocalTracks(room) {
  // Publish the preview tracks themselves: no second camera start, faster first frame.
  const tracks = state.previewTracks;
  state.previewTracks = [];
  if (tracks.length === 0) {
    // A rejoin: the preview is gone, so start the devices that were on before.
    const local = room.localParticipant;
    await toggleDevice(() => local.setMicrophoneEnabled(state.micOn));
    await toggleDevice(() => local.setCameraEnabled(state.cameraOn));
    return;
  }
  // Read the choices first: each publication fires updateControls(), which re-reads
  // state from the participant while the other track is not published yet.
  const wanted = { [LK.Track.Kind.Audio]: state.micOn, [LK.Track.Kind.Video]: state.cameraOn };
  for (const track of tracks) {
    if (wanted[track.kind]) await room.localParticipant.publishTrack(track);
    else track.stop();
  }
  updateControls();
}

el.form.addEventListener("submit", join);
window.addEventListener("resize", () => state.room && layoutTiles());

// ---- in-call controls ---------------------------------------------------------------

function updateControls() {
  const local = state.room && state.room.localParticipant;
  if (!local) return;
  state.micOn = local.isMicrophoneEnabled;
  state.cameraOn = local.isCameraEnabled;
  el.toggleMic.setAttribute("aria-pressed", String(state.micOn));
  el.toggleMic.querySelector(".control-label").textContent = state.micOn ? "Mute" : "Unmute";
  el.toggleCamera.setAttribute("aria-pressed", String(state.cameraOn));
  el.toggleCamera.querySelector(".control-label").textContent = state.cameraOn
    ? "Stop video"
    : "Start video";
  refreshTile(local);
}

async function toggleDevice(enable) {
  try {
    await enable();
  } catch (error) {
    showBanner(describeMediaError(error), "error", 6000);
  }
  updateControls();
}

el.toggleMic.addEventListener("click", () =>
  toggleDevice(() => state.room.localParticipant.setMicrophoneEnabled(!state.micOn)),
);
el.toggleCamera.addEventListener("click", () =>
  toggleDevice(() => state.room.localParticipant.setCameraEnabled(!state.cameraOn)),
);
el.leave.addEventListener("click", () => state.room && state.room.disconnect());
el.rejoin.addEventListener("click", async () => {
  el.rejoin.disabled = true;
  setStatus("connecting");
  try {
    await connect(await fetchTicket(el.name.value.trim()));
  } catch (error) {
    setStatus("disconnected");
    el.endedText.textContent = error.message || "Could not rejoin. Try again.";
  } finally {
    el.rejoin.disabled = false;
  }
});

// ---- tiles --------------------------------------------------------------------------

function initials(name) {
  const parts = (name || "?").trim().split(/\s+/).slice(0, 2);
  return parts.map((part) => part[0].toUpperCase()).join("");
}

function addTile(participant, isLocal) {
  if (state.tiles.has(participant.identity)) return;
  const tile = document.createElement("figure");
  tile.className = isLocal ? "tile local" : "tile remote";
  tile.dataset.identity = participant.identity;
  const video = document.createElement("video");
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  const avatar = document.createElement("div");
  avatar.className = "avatar";
  avatar.setAttribute("aria-hidden", "true");
  const caption = document.createElement("figcaption");
  const name = document.createElement("span");
  name.className = "tile-name";
  const mic = document.createElement("span");
  mic.className = "mic-state";
  caption.append(mic, name);
  tile.append(video, avatar, caption);
  el.tiles.append(tile);
  state.tiles.set(participant.identity, tile);
  layoutTiles();
  refreshTile(participant);
}

function removeTile(identity) {
  const tile = state.tiles.get(identity);
  if (!tile) return;
  tile.remove();
  state.tiles.delete(identity);
  layoutTiles();
}

function refreshTile(participant) {
  const tile = state.tiles.get(participant.identity);
  if (!tile) return;
  const isLocal = participant === state.room.localParticipant;
  const name = participant.name || participant.identity;
  tile.querySelector(".tile-name").textContent = isLocal ? `${name} (you)` : name;
  tile.querySelector(".avatar").textContent = initials(name);
  const micOn = participant.isMicrophoneEnabled;
  const mic = tile.querySelector(".mic-state");
  mic.dataset.on = String(micOn);
  mic.textContent = micOn ? "" : "Muted";
  mic.setAttribute("aria-label", micOn ? "Microphone on" : "Microphone muted");
  const camera = participant.getTrackPublication(LK.Track.Source.Camera);
  const video = tile.querySelector("video");
  const visible = Boolean(camera && camera.track && !camera.isMuted);
  if (visible) camera.track.attach(video);
  tile.dataset.video = String(visible);
}

function layoutTiles() {
  const count = Math.max(1, state.tiles.size);
  el.tiles.dataset.count = String(state.tiles.size);
  // A near-square grid; on a portrait screen the longer side gets the extra tiles.
  const longSide = Math.ceil(Math.sqrt(count));
  const portrait = el.tiles.clientHeight > el.tiles.clientWidth;
  const columns = portrait ? Math.ceil(count / longSide) : longSide;
  el.tiles.style.setProperty("--columns", String(columns));
}

// ---- room events --------------------------------------------------------------------

const ENDED_TEXT = {
  [LK.DisconnectReason.CLIENT_INITIATED]: ["You left the meeting", "Rejoin whenever you like."],
  [LK.DisconnectReason.PARTICIPANT_REMOVED]: [
    "You were removed from the meeting",
    "A host removed you from this meeting.",
  ],
  [LK.DisconnectReason.ROOM_DELETED]: ["The meeting has ended", "The host ended the meeting for everyone."],
  [LK.DisconnectReason.DUPLICATE_IDENTITY]: [
    "You joined from another tab",
    "This meeting is open elsewhere with your identity.",
  ],
};

function onDisconnected(reason) {
  setStatus("disconnected");
  for (const identity of [...state.tiles.keys()]) removeTile(identity);
  el.audioSink.replaceChildren();
  const [title, text] = ENDED_TEXT[reason] || [
    "The connection was lost",
    "Check your network, then rejoin.",
  ];
  el.endedTitle.textContent = title;
  el.endedText.textContent = text;
  hide(el.stage);
  hide(el.banner);
  show(el.ended);
  el.rejoin.focus();
}

function wireRoomEvents(room) {
  const E = LK.RoomEvent;
  room
    .on(E.ParticipantConnected, (p) => addTile(p, false))
    .on(E.ParticipantDisconnected, (p) => removeTile(p.identity))
    .on(E.TrackSubscribed, (track, _pub, participant) => {
      if (track.kind === LK.Track.Kind.Audio) el.audioSink.append(track.attach());
      refreshTile(participant);
    })
    .on(E.TrackUnsubscribed, (track, _pub, participant) => {
      track.detach();
      refreshTile(participant);
    })
    .on(E.TrackMuted, (_pub, participant) => refreshTile(participant))
    .on(E.TrackUnmuted, (_pub, participant) => refreshTile(participant))
    .on(E.LocalTrackPublished, () => updateControls())
    .on(E.LocalTrackUnpublished, () => updateControls())
    .on(E.ParticipantNameChanged, (_name, participant) => refreshTile(participant))
    .on(E.ActiveSpeakersChanged, (speakers) => {
      const speaking = new Set(speakers.map((p) => p.identity));
      for (const [identity, tile] of state.tiles) {
        tile.classList.toggle("speaking", speaking.has(identity));
      }
    })
    .on(E.Reconnecting, () => {
      setStatus("reconnecting");
      showBanner("Connection lost. Reconnecting…", "warning");
    })
    .on(E.Reconnected, () => {
      setStatus("connected");
      showBanner("Reconnected", "success", 3000);
    })
    .on(E.Disconnected, onDisconnected);
}

// ---- start --------------------------------------------------------------------------

setToggle(el.prejoinMic, state.micOn, "Microphone on", "Microphone off");
setToggle(el.prejoinCamera, state.cameraOn, "Camera on", "Camera off");
if (!el.name.value) el.name.focus();
if (page.canPublish) startPreview();
else el.previewPlaceholder.textContent = "You will watch and listen";
window.addEventListener("pagehide", () => state.room && state.room.disconnect());

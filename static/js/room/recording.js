// Recording in the meeting room: a "Recording" sign for everyone while the room records, and
// Start/Stop buttons for hosts where the meeting allows recording.
//
// The sign follows the room's metadata ({"recording": true, "recording_id": 12}), which the
// server sets once the recording service accepted the job and clears when it ends. Late
// joiners get the metadata on connect, so they see the sign too. The page never shows a
// recording on its own say-so: a start that the server refused shows its message instead.
import { api, pageData } from "../api.js";
import { LK, metadataOf } from "./session.js";

const METADATA_CHANGED = LK?.RoomEvent?.RoomMetadataChanged || "roomMetadataChanged";
const NOT_AVAILABLE = "Recording is not available right now.";

function addStylesheet() {
  if (document.getElementById("recordings-css")) return;
  const link = document.createElement("link");
  link.id = "recordings-css";
  link.rel = "stylesheet";
  link.href = new URL("../../css/recordings.css", import.meta.url).href;
  document.head.append(link);
}

function buildIndicator() {
  const sign = document.createElement("p");
  sign.className = "recording-indicator";
  sign.id = "recording-indicator";
  sign.setAttribute("role", "status");
  sign.hidden = true;
  const dot = document.createElement("span");
  dot.className = "rec-dot";
  dot.setAttribute("aria-hidden", "true");
  const text = document.createElement("span");
  text.textContent = "Recording";
  sign.append(dot, text);
  return sign;
}

function buildControls() {
  const box = document.createElement("div");
  box.className = "recording-controls";
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Recording");

  const layout = document.createElement("select");
  layout.setAttribute("aria-label", "Recording layout");
  for (const [value, label] of [
    ["grid", "Grid"],
    ["speaker", "Speaker"],
  ]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    layout.append(option);
  }

  const audioLabel = document.createElement("label");
  const audioOnly = document.createElement("input");
  audioOnly.type = "checkbox";
  audioLabel.append(audioOnly, document.createTextNode("Audio only"));

  const button = document.createElement("button");
  button.type = "button";
  button.className = "control-button";
  button.textContent = "Start recording";
  button.dataset.recording = "false";
  box.append(layout, audioLabel, button);
  return { box, layout, audioOnly, button };
}

// Called by the room page once connected. `showNotice(message)` shows a message to this
// person (the page's own banner); returns a function that removes what was added.
export function install({ room, isHost, showNotice }) {
  const config = pageData("recording-data");
  const notify = showNotice || ((message) => window.alert(message));
  addStylesheet();
  const mount = document.getElementById("stage") || document.body;
  const sign = buildIndicator();
  mount.append(sign);
  const state = { recordingId: null, busy: false };
  let controls = null;

  function render() {
    const meta = metadataOf(room);
    const recording = meta.recording === true;
    state.recordingId = recording ? meta.recording_id : null;
    sign.hidden = !recording;
    if (!controls) return;
    controls.button.dataset.recording = String(recording);
    controls.button.textContent = recording ? "Stop recording" : "Start recording";
    controls.layout.disabled = recording || state.busy;
    controls.audioOnly.disabled = recording || state.busy;
    controls.button.disabled = state.busy;
  }

  async function toggle() {
    if (state.busy) return;
    state.busy = true;
    const stopping = state.recordingId !== null;
    controls.button.textContent = stopping ? "Stopping…" : "Starting…";
    controls.button.disabled = true;
    try {
      if (stopping) {
        await api(`${config.recordingsUrl}/${state.recordingId}/stop`, { fallback: NOT_AVAILABLE });
        notify("Recording stopped. It appears on the recordings page when the file is ready.");
      } else {
        await api(config.startUrl, {
          body: { layout: controls.layout.value, audio_only: controls.audioOnly.checked },
          fallback: NOT_AVAILABLE,
        });
        notify("Recording is starting. Everyone sees the recording sign once it runs.");
      }
    } catch (error) {
      notify(error.message);
    } finally {
      state.busy = false;
      render(); // the sign and button follow the room's metadata, not the click
    }
  }

  // Hosts open the controls from the controls bar (#toggle-recording), in the Recording side
  // panel: a box over the stage covered tiles and the screen-share strip.
  const opener = document.getElementById("toggle-recording");
  if (isHost && config.allowed) {
    controls = buildControls();
    controls.button.addEventListener("click", toggle);
    (document.getElementById("recording-tools") || mount).append(controls.box);
    if (opener) opener.hidden = false;
  }
  room.on(METADATA_CHANGED, render);
  render();

  function remove() {
    if (room.off) room.off(METADATA_CHANGED, render);
    sign.remove();
    if (controls) controls.box.remove();
    if (opener?.getAttribute("aria-expanded") === "true") opener.click(); // close the panel
    if (opener) opener.hidden = true;
  }
  if (room.once) room.once("disconnected", remove);
  return remove;
}

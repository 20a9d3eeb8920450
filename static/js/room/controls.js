// Microphone, camera and screen share in the call, and the two ways a host can touch your
// microphone: muting it on the server (you are told) and asking you to unmute (you decide).
import { $, show } from "./dom.js";
import { onData } from "./data.js";
import { showNotice } from "./connection.js";
import { LK, isHost, onEvents, onRoom, publishing, session } from "./session.js";

const [mic, camera, screen, prompt] = ["toggle-mic", "toggle-camera", "toggle-screen", "unmute-prompt"].map($);

// What the person wants on: a rejoin restores it. Only their own actions change it, not a
// dropped call that unpublishes everything.
export const wanted = { micOn: false, cameraOn: false };
let ownChanges = 0; // > 0 while this page itself switches a device

const SCREEN_OPTIONS = {
  audio: true, // the browser's picker offers the tab's sound; people may leave it out
  contentHint: "detail", // text and slides stay sharp rather than smooth
  selfBrowserSurface: "exclude",
  surfaceSwitching: "include",
};

function label(button, on, onText, offText, kind) {
  const starting = publishing.has(kind);
  button.setAttribute("aria-pressed", on);
  if (kind) button.setAttribute("aria-busy", starting);
  button.querySelector(".control-label").textContent = starting ? "Starting…" : on ? onText : offText;
}

const canPublish = (room) => room.localParticipant.permissions?.canPublish ?? session.ticket.can_publish;

export function update() {
  const local = session.room?.localParticipant;
  if (!local) return;
  const allowed = canPublish(session.room);
  show(mic, allowed);
  show(camera, allowed);
  show(screen, allowed && Boolean(navigator.mediaDevices?.getDisplayMedia));
  label(mic, local.isMicrophoneEnabled, "Mute", "Unmute", "audio");
  label(camera, local.isCameraEnabled, "Stop video", "Start video", "video");
  label(screen, local.isScreenShareEnabled, "Stop sharing", "Share screen");
  if (local.isMicrophoneEnabled) show(prompt, false);
}

async function change(what, action) {
  const local = session.room?.localParticipant;
  if (!local) return;
  ownChanges++;
  try {
    await action(local);
    Object.assign(wanted, { micOn: local.isMicrophoneEnabled, cameraOn: local.isCameraEnabled });
  } catch (error) {
    // Closing the screen picker is a choice, not an error.
    if (what !== "screen share" || error.name !== "NotAllowedError") {
      import("./media-errors.js").then((m) => showNotice(m.describeMediaError(error, what)));
    }
  } finally {
    ownChanges--;
    update();
  }
}

// A click while that device is still going out acts once it is out (not on a second one).
const toggle = (kind, what, action) => change(what, (local) => Promise.resolve(publishing.get(kind)).then(() => action(local)));
const toggleMic = () => toggle("audio", "microphone", (local) => local.setMicrophoneEnabled(!local.isMicrophoneEnabled));

// After connecting: publish the preview's tracks (first join; one it could not start is not
// retried) or restart what was on (rejoin); microphone and camera side by side.
export async function publish(room, previewTracks, { joinMuted }) {
  const on = { audio: wanted.micOn && !joinMuted, video: wanted.cameraOn };
  if (!canPublish(room)) on.audio = on.video = false; // a webinar attendee watches
  for (const track of previewTracks) if (!on[track.kind]) track.stop();
  const preview = (kind) => previewTracks.find((track) => track.kind === kind);
  const kinds = ["audio", "video"].filter((kind) => on[kind] && (preview(kind) || !previewTracks.length));
  for (const kind of kinds) {
    publishing.set(kind, change(kind === "audio" ? "microphone" : "camera", (local) => {
      const started = preview(kind) ? local.publishTrack(preview(kind))
        : kind === "audio" ? local.setMicrophoneEnabled(true) : local.setCameraEnabled(true);
      return started.finally(() => publishing.delete(kind));
    }));
  }
  update();
  await Promise.all(publishing.values());
}

function onTrackMuted(publication, participant) {
  if (participant !== session.room.localParticipant || publication.source !== LK.Track.Source.Microphone) return;
  if (ownChanges) return;
  wanted.micOn = false;
  const unplugged = publication.track?.mediaStreamTrack.readyState === "ended";
  showNotice(unplugged ? "Your microphone stopped working." : "The host muted your microphone");
}

// A host, or the server for one, asks; only the participant can unmute.
onData("moderation", (payload, sender) => {
  const local = session.room.localParticipant;
  if (payload.type !== "ask_unmute" || (sender && !isHost(sender))) return;
  if (local.isMicrophoneEnabled || !canPublish(session.room)) return;
  show(prompt);
  $("prompt-unmute").focus();
});

for (const [id, unmute] of [["prompt-unmute", true], ["prompt-stay-muted", false]]) {
  $(id).addEventListener("click", () => {
    show(prompt, false);
    if (unmute && !session.room.localParticipant.isMicrophoneEnabled) toggleMic();
    mic.focus();
  });
}
mic.addEventListener("click", toggleMic);
camera.addEventListener("click", () => toggle("video", "camera", (local) => local.setCameraEnabled(!local.isCameraEnabled)));
screen.addEventListener("click", () =>
  change("screen share", (local) => local.setScreenShareEnabled(!local.isScreenShareEnabled, SCREEN_OPTIONS)),
);
$("leave").addEventListener("click", () => session.room?.disconnect());

onRoom((room) => {
  show(prompt, false);
  room.on(LK.RoomEvent.TrackMuted, (publication, participant) => {
    onTrackMuted(publication, participant);
    update();
  });
  onEvents(room, ["TrackUnmuted", "LocalTrackPublished", "LocalTrackUnpublished", "ParticipantPermissionsChanged"], update);
});

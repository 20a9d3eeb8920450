// Microphone, camera and screen share in the call, and the two ways a host can touch your
// microphone: muting it on the server (you are told) and asking you to unmute (you decide).
import { $, show } from "./dom.js";
import { onData } from "./data.js";
import { showNotice } from "./connection.js";
import { describeMediaError } from "./devices.js";
import { LK, isHost, onRoom, session } from "./session.js";

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

function label(button, on, onText, offText) {
  button.setAttribute("aria-pressed", on);
  button.querySelector(".control-label").textContent = on ? onText : offText;
}

const canPublish = (room) => room.localParticipant.permissions?.canPublish ?? session.ticket.can_publish;

export function update() {
  const local = session.room?.localParticipant;
  if (!local) return;
  const publishing = canPublish(session.room);
  show(mic, publishing);
  show(camera, publishing);
  show(screen, publishing && Boolean(navigator.mediaDevices?.getDisplayMedia));
  label(mic, local.isMicrophoneEnabled, "Mute", "Unmute");
  label(camera, local.isCameraEnabled, "Stop video", "Start video");
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
    if (what !== "screen share" || error.name !== "NotAllowedError") showNotice(describeMediaError(error, what));
  } finally {
    ownChanges--;
    update();
  }
}

const toggleMic = () => change("microphone", (local) => local.setMicrophoneEnabled(!local.isMicrophoneEnabled));

// After connecting: publish the preview's tracks (first join) or restart what was on (rejoin).
export async function publish(room, previewTracks, { joinMuted }) {
  const on = { audio: wanted.micOn && !joinMuted, video: wanted.cameraOn };
  if (!canPublish(room)) on.audio = on.video = false; // a webinar attendee watches
  await change("camera or microphone", async (local) => {
    for (const track of previewTracks) {
      if (on[track.kind]) await local.publishTrack(track);
      else track.stop();
    }
    if (!previewTracks.length && on.audio) await local.setMicrophoneEnabled(true);
    if (!previewTracks.length && on.video) await local.setCameraEnabled(true);
  });
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
camera.addEventListener("click", () => change("camera", (local) => local.setCameraEnabled(!local.isCameraEnabled)));
screen.addEventListener("click", () =>
  change("screen share", (local) => local.setScreenShareEnabled(!local.isScreenShareEnabled, SCREEN_OPTIONS)),
);
$("leave").addEventListener("click", () => session.room?.disconnect());

onRoom((room) => {
  show(prompt, false);
  const E = LK.RoomEvent;
  room.on(E.TrackMuted, (publication, participant) => {
    onTrackMuted(publication, participant);
    update();
  });
  for (const event of [E.TrackUnmuted, E.LocalTrackPublished, E.LocalTrackUnpublished, E.ParticipantPermissionsChanged]) {
    room.on(event, update);
  }
});

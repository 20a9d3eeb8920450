// Microphone, camera and screen share during the call, and the two ways a host can touch
// your microphone: muting it on the server (you are told) and asking you to unmute (you decide).
import { $, show } from "./dom.js";
import { onData } from "./data.js";
import { showNotice } from "./connection.js";
import { describeMediaError } from "./devices.js";
import { LK, isHost, onRoom, session } from "./session.js";

const S = LK.Track.Source;
const el = {
  mic: $("toggle-mic"),
  camera: $("toggle-camera"),
  screen: $("toggle-screen"),
  leave: $("leave"),
  prompt: $("unmute-prompt"),
  promptUnmute: $("prompt-unmute"),
  promptStay: $("prompt-stay-muted"),
};

// What the person wants on; kept in step with the call so that a rejoin restores it.
export const wanted = { micOn: false, cameraOn: false };
let selfChanges = 0; // > 0 while this page itself is switching a device

const SCREEN_OPTIONS = {
  audio: true, // the browser's picker lets people share a tab's sound, or not
  contentHint: "detail", // text and slides stay sharp rather than smooth
  selfBrowserSurface: "exclude",
  surfaceSwitching: "include",
};

function label(button, on, onText, offText) {
  button.setAttribute("aria-pressed", String(on));
  button.querySelector(".control-label").textContent = on ? onText : offText;
}

function canPublish(room) {
  const permissions = room.localParticipant.permissions;
  return permissions ? permissions.canPublish : Boolean(session.ticket && session.ticket.can_publish);
}

export function update() {
  const room = session.room;
  if (!room) return;
  const local = room.localParticipant;
  const publishing = canPublish(room);
  for (const button of [el.mic, el.camera, el.screen]) show(button, publishing);
  show(el.screen, publishing && Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia));
  label(el.mic, local.isMicrophoneEnabled, "Mute", "Unmute");
  label(el.camera, local.isCameraEnabled, "Stop video", "Start video");
  label(el.screen, local.isScreenShareEnabled, "Stop sharing", "Share screen");
  if (local.isMicrophoneEnabled) show(el.prompt, false);
}

// Only the person's own actions change what a rejoin restores; a dropped call that
// unpublishes everything must not.
function remember(local) {
  wanted.micOn = local.isMicrophoneEnabled;
  wanted.cameraOn = local.isCameraEnabled;
}

async function change(what, action) {
  const room = session.room;
  if (!room) return;
  selfChanges += 1;
  try {
    await action(room.localParticipant);
    remember(room.localParticipant);
  } catch (error) {
    // Closing the screen picker is a choice, not an error.
    if (!(what === "screen" && error.name === "NotAllowedError")) {
      showNotice(describeMediaError(error, what === "screen" ? "screen share" : what));
    }
  } finally {
    selfChanges -= 1;
    update();
  }
}

export const toggleMic = () => change("microphone", (local) => local.setMicrophoneEnabled(!local.isMicrophoneEnabled));
export const toggleCamera = () => change("camera", (local) => local.setCameraEnabled(!local.isCameraEnabled));
const toggleScreen = () =>
  change("screen", (local) => local.setScreenShareEnabled(!local.isScreenShareEnabled, SCREEN_OPTIONS));

// After connecting: publish the preview's tracks (first join) or restart the devices that
// were on (rejoin). Attendees of a webinar publish nothing.
export async function publish(room, previewTracks, { joinMuted }) {
  if (!canPublish(room)) {
    previewTracks.forEach((track) => track.stop());
    update();
    return;
  }
  const on = { [LK.Track.Kind.Audio]: wanted.micOn && !joinMuted, [LK.Track.Kind.Video]: wanted.cameraOn };
  selfChanges += 1;
  try {
    for (const track of previewTracks) {
      if (on[track.kind]) await room.localParticipant.publishTrack(track);
      else track.stop();
    }
    if (previewTracks.length === 0) {
      if (on[LK.Track.Kind.Audio]) await room.localParticipant.setMicrophoneEnabled(true);
      if (on[LK.Track.Kind.Video]) await room.localParticipant.setCameraEnabled(true);
    }
    remember(room.localParticipant);
  } catch (error) {
    showNotice(describeMediaError(error));
  } finally {
    selfChanges -= 1;
  }
  update();
}

function onTrackMuted(publication, participant) {
  const room = session.room;
  if (participant !== room.localParticipant || publication.source !== S.Microphone) return;
  if (selfChanges > 0) return;
  wanted.micOn = false;
  const ended = publication.track && publication.track.mediaStreamTrack.readyState === "ended";
  showNotice(ended ? "Your microphone stopped working." : "The host muted your microphone");
}

// A host (or the server on a host's behalf) asks; only the participant can unmute.
onData("moderation", (payload, sender) => {
  if (payload.type !== "ask_unmute" || (sender && !isHost(sender))) return;
  const room = session.room;
  if (!room || room.localParticipant.isMicrophoneEnabled || !canPublish(room)) return;
  show(el.prompt);
  el.promptUnmute.focus();
});

el.promptUnmute.addEventListener("click", () => {
  show(el.prompt, false);
  if (!session.room.localParticipant.isMicrophoneEnabled) toggleMic();
  el.mic.focus();
});
el.promptStay.addEventListener("click", () => {
  show(el.prompt, false);
  el.mic.focus();
});
el.mic.addEventListener("click", toggleMic);
el.camera.addEventListener("click", toggleCamera);
el.screen.addEventListener("click", toggleScreen);
el.leave.addEventListener("click", () => session.room && session.room.disconnect());

onRoom((room) => {
  show(el.prompt, false);
  const E = LK.RoomEvent;
  room
    .on(E.TrackMuted, (publication, participant) => {
      onTrackMuted(publication, participant);
      update();
    })
    .on(E.TrackUnmuted, update)
    .on(E.LocalTrackPublished, update)
    .on(E.LocalTrackUnpublished, update)
    .on(E.ParticipantPermissionsChanged, update);
});

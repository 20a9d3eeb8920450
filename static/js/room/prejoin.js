// The pre-join check: live preview, level meter, device choice and "start muted" toggles.
// The tracks started here are the ones published on joining: no second camera start.
import { $, show } from "./dom.js";
import { LK, page } from "./session.js";
import * as devices from "./devices.js";

const el = {
  form: $("join-form"),
  preview: $("preview-video"),
  placeholder: $("preview-placeholder"),
  level: $("mic-level"),
  mic: $("prejoin-mic"),
  camera: $("prejoin-camera"),
  note: $("device-note"),
};

const prefs = devices.loadPrefs();
// The meeting's "join muted" setting wins over what this browser remembers.
export const choice = {
  micOn: page.canPublish && !page.joinMuted && prefs.micOn !== false,
  cameraOn: page.canPublish && prefs.cameraOn !== false,
};

let videoTrack = null;
let audioTrack = null;
let meter = null;
const problems = { camera: "", microphone: "" };

function showProblems() {
  const text = [problems.camera, problems.microphone].filter(Boolean).join(" ");
  el.note.textContent = text;
  show(el.note, Boolean(text));
}

const ideal = (deviceId) => (deviceId ? { ideal: deviceId } : undefined);

async function startCamera() {
  stopCamera();
  problems.camera = "";
  if (choice.cameraOn) {
    el.placeholder.textContent = "Starting your camera…";
    show(el.placeholder);
    try {
      const deviceId = ideal(devices.loadPrefs().videoinput);
      videoTrack = await LK.createLocalVideoTrack({ deviceId, resolution: LK.VideoPresets.h720.resolution });
      videoTrack.attach(el.preview);
      show(el.placeholder, false);
    } catch (error) {
      problems.camera = devices.describeMediaError(error, "camera");
    }
  }
  if (!videoTrack) el.placeholder.textContent = choice.cameraOn ? "Camera unavailable" : "Camera is off";
  showProblems();
}

function stopCamera() {
  if (videoTrack) videoTrack.stop();
  videoTrack = null;
  show(el.placeholder);
}

async function startMicrophone() {
  stopMicrophone();
  problems.microphone = "";
  if (choice.micOn) {
    try {
      const deviceId = ideal(devices.loadPrefs().audioinput);
      audioTrack = await LK.createLocalAudioTrack({ deviceId });
      startMeter(audioTrack);
    } catch (error) {
      problems.microphone = devices.describeMediaError(error, "microphone");
    }
  }
  showProblems();
}

function stopMicrophone() {
  stopMeter();
  if (audioTrack) audioTrack.stop();
  audioTrack = null;
}

// The meter shows that the chosen microphone really hears something before joining.
function startMeter(track) {
  const analyser = LK.createAudioAnalyser(track, { smoothingTimeConstant: 0.6 });
  const timer = setInterval(() => {
    const level = Math.min(1, analyser.calculateVolume() * 4);
    el.level.style.transform = `scaleX(${level.toFixed(2)})`;
  }, 100);
  meter = { analyser, timer };
}

function stopMeter() {
  if (!meter) return;
  clearInterval(meter.timer);
  meter.analyser.cleanup().catch(() => {});
  meter = null;
  el.level.style.transform = "scaleX(0)";
}

function setToggle(button, on, onText, offText) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? onText : offText;
}

function renderToggles() {
  setToggle(el.mic, choice.micOn, "Microphone on", "Microphone off");
  setToggle(el.camera, choice.cameraOn, "Camera on", "Camera off");
}

async function refreshDeviceLists() {
  const list = await devices.listDevices();
  const current = devices.loadPrefs();
  // An unplugged device: fall back to the default rather than showing a dead preview.
  if (videoTrack && devices.missing(list, "videoinput", current.videoinput)) {
    devices.savePrefs({ videoinput: "" });
    await startCamera();
  }
  if (audioTrack && devices.missing(list, "audioinput", current.audioinput)) {
    devices.savePrefs({ audioinput: "" });
    await startMicrophone();
  }
  devices.fillSelects(el.form, list, activeChoices());
}

function activeChoices() {
  const current = devices.loadPrefs();
  const settingOf = (track) => track && track.mediaStreamTrack.getSettings().deviceId;
  return {
    videoinput: settingOf(videoTrack) || current.videoinput,
    audioinput: settingOf(audioTrack) || current.audioinput,
    audiooutput: current.audiooutput,
  };
}

function wire() {
  el.mic.addEventListener("click", async () => {
    choice.micOn = !choice.micOn;
    renderToggles();
    if (!page.joinMuted) devices.savePrefs({ micOn: choice.micOn });
    await startMicrophone();
  });
  el.camera.addEventListener("click", async () => {
    choice.cameraOn = !choice.cameraOn;
    renderToggles();
    devices.savePrefs({ cameraOn: choice.cameraOn });
    await startCamera();
  });
  for (const select of el.form.querySelectorAll("select[data-device-kind]")) {
    select.addEventListener("change", async () => {
      const kind = select.dataset.deviceKind;
      devices.savePrefs({ [kind]: select.value });
      if (kind === "videoinput") await startCamera();
      if (kind === "audioinput") await startMicrophone();
    });
  }
  devices.watchDevices(() => {
    if (!el.form.closest("[hidden]")) refreshDeviceLists();
  });
}

export async function start() {
  renderToggles();
  wire();
  if (!page.canPublish) {
    el.placeholder.textContent = "You will watch and listen";
  } else {
    await Promise.all([startCamera(), startMicrophone()]);
  }
  // Labels are only listed once the browser granted access, so fill the lists after starting.
  await refreshDeviceLists();
}

// Hand the running preview tracks to the call (it publishes them) and stop the meter.
export function takeTracks() {
  stopMeter();
  const tracks = [videoTrack, audioTrack].filter(Boolean);
  videoTrack = audioTrack = null;
  return tracks;
}

export function stop() {
  stopCamera();
  stopMicrophone();
}

// The check before joining: live preview, microphone level, device choice and "start
// muted" toggles. The tracks started here are the ones published on joining.
import { $, show } from "./dom.js";
import { LK, page } from "./session.js";
import * as devices from "./devices.js";

const [form, preview, placeholder, level, note] = ["join-form", "preview-video", "preview-placeholder", "mic-level", "device-note"].map($);

const prefs = devices.loadPrefs();
// The meeting's "join muted" setting wins over what this browser remembers.
export const choice = {
  micOn: page.canPublish && !page.joinMuted && prefs.micOn !== false,
  cameraOn: page.canPublish && prefs.cameraOn !== false,
};
const tracks = { video: null, audio: null };
// Background effects (effects.js) load on first use, or at once when this browser keeps one.
let effects = prefs.effect && import("./effects.js");
const effect = (input) => (effects ||= import("./effects.js")).then((m) => m.use(tracks.video, input));
const problems = { video: "", audio: "" };
let meter = null;

function create(kind, deviceId) {
  const options = deviceId ? { deviceId: { exact: deviceId } } : {};
  if (kind === "audio") return LK.createLocalAudioTrack(options);
  return LK.createLocalVideoTrack({ ...options, resolution: LK.VideoPresets.h720.resolution });
}

async function start(kind) {
  stop(kind);
  problems[kind] = "";
  const on = kind === "video" ? choice.cameraOn : choice.micOn;
  const saved = devices.loadPrefs()[`${kind}input`];
  try {
    // A remembered device that is gone: carry on with the default one.
    if (on) tracks[kind] = await create(kind, saved).catch((error) => {
      if (saved && ["OverconstrainedError", "NotFoundError"].includes(error.name)) return create(kind);
      throw error;
    });
  } catch (error) {
    const { describeMediaError } = await import("./media-errors.js");
    problems[kind] = describeMediaError(error, kind === "video" ? "camera" : "microphone");
  }
  if (kind === "video") {
    tracks.video?.attach(preview);
    if (effects) effect();
    show(placeholder, !tracks.video);
    placeholder.textContent = on ? "Camera unavailable" : "Camera is off";
  } else {
    if (tracks.audio) startMeter(tracks.audio);
    show(level.parentElement, Boolean(tracks.audio));
  }
  note.textContent = `${problems.video} ${problems.audio}`.trim();
  show(note, Boolean(note.textContent));
}

function stop(kind) {
  if (kind === "audio") stopMeter();
  tracks[kind]?.stop();
  tracks[kind] = null;
}

// The meter shows that the chosen microphone hears something before anyone else does.
function startMeter(track) {
  const analyser = LK.createAudioAnalyser(track, { smoothingTimeConstant: 0.6 });
  const timer = setInterval(() => {
    level.style.transform = `scaleX(${Math.min(1, analyser.calculateVolume() * 4).toFixed(2)})`;
  }, 100);
  meter = { analyser, timer };
}

function stopMeter() {
  if (!meter) return;
  clearInterval(meter.timer);
  meter.analyser.cleanup().catch(() => {});
  meter = null;
  level.style.transform = "scaleX(0)";
}

function renderToggles() {
  for (const [id, on, what] of [["prejoin-mic", choice.micOn, "Microphone"], ["prejoin-camera", choice.cameraOn, "Camera"]]) {
    $(id).setAttribute("aria-pressed", on);
    $(id).textContent = `${what} ${on ? "on" : "off"}`;
  }
}

// Device names are listed only once the browser granted access: fill the lists after that,
// and again when something is plugged in or out.
async function refreshLists() {
  const list = await devices.listDevices();
  for (const kind of ["video", "audio"]) {
    const track = tracks[kind]?.mediaStreamTrack;
    if (track && (track.readyState === "ended" || devices.missing(list, `${kind}input`, track.getSettings().deviceId))) {
      await start(kind); // unplugged: carry on with another device
    }
  }
  const inUse = (kind) => tracks[kind]?.mediaStreamTrack.getSettings().deviceId;
  const saved = devices.loadPrefs();
  devices.fillSelects(form, list, {
    videoinput: inUse("video") || saved.videoinput,
    audioinput: inUse("audio") || saved.audioinput,
    audiooutput: saved.audiooutput,
  });
}

function wire() {
  $("prejoin-mic").addEventListener("click", () => {
    choice.micOn = !choice.micOn;
    if (!page.joinMuted) devices.savePrefs({ micOn: choice.micOn });
    renderToggles();
    start("audio");
  });
  $("prejoin-camera").addEventListener("click", () => {
    choice.cameraOn = !choice.cameraOn;
    devices.savePrefs({ cameraOn: choice.cameraOn });
    renderToggles();
    start("video");
  });
  for (const select of form.querySelectorAll("select[data-device-kind]")) {
    select.addEventListener("change", () => {
      devices.savePrefs({ [select.dataset.deviceKind]: select.value });
      if (select.dataset.deviceKind !== "audiooutput") start(select.dataset.deviceKind.slice(0, 5));
    });
  }
  $("effects-prejoin")?.addEventListener("change", (event) => effect(event.target));
  devices.watchDevices(() => !$("prejoin").hidden && refreshLists());
}

export async function begin() {
  renderToggles();
  wire();
  if (page.canPublish) await Promise.all([start("video"), start("audio")]);
  else placeholder.textContent = "You will watch and listen";
  await refreshLists();
}

// The call takes over the running tracks (it publishes them).
export function takeTracks() {
  stopMeter();
  const taken = [tracks.video, tracks.audio].filter(Boolean);
  tracks.video = tracks.audio = null;
  return taken;
}

// Cameras, microphones and speakers: listing them and remembering the choice in this
// browser. Why one did not start is media-errors.js, loaded when one fails.
import { readJSON } from "../api.js";
import { $, h } from "./dom.js";

const STORE_KEY = "meetings.devices";
const KIND_NAMES = { videoinput: "Camera", audioinput: "Microphone", audiooutput: "Speaker" };

// {videoinput, audioinput, audiooutput: deviceId, micOn, cameraOn: bool}; {} (the defaults)
// where storage is blocked or holds garbage.
export const loadPrefs = () => readJSON(() => localStorage.getItem(STORE_KEY));

export function savePrefs(changes) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ ...loadPrefs(), ...changes }));
  } catch {
    // Storage may be refused (private mode); the choice still holds for this visit.
  }
}

export const listDevices = () => navigator.mediaDevices?.enumerateDevices().catch(() => []) ?? Promise.resolve([]);

// Fill each <select data-device-kind> under `root`, selecting chosen[kind] when present.
export function fillSelects(root, devices, chosen) {
  for (const select of root.querySelectorAll("select[data-device-kind]")) {
    const kind = select.dataset.deviceKind;
    const usable = devices.filter((device) => device.kind === kind && device.deviceId);
    const options = usable.map((device, index) =>
      h("option", { value: device.deviceId }, device.label || `${KIND_NAMES[kind]} ${index + 1}`),
    );
    if (!options.length) options.push(h("option", { value: "" }, `No ${KIND_NAMES[kind].toLowerCase()} found`));
    select.replaceChildren(...options);
    select.disabled = !usable.length;
    if (usable.some((device) => device.deviceId === chosen[kind])) select.value = chosen[kind];
    // Only browsers that can route sound to a chosen speaker offer the choice.
    if (kind === "audiooutput") {
      select.closest(".field").hidden = !usable.length || !("setSinkId" in HTMLMediaElement.prototype);
    }
  }
}

// A device in use that the list no longer has was unplugged.
export const missing = (devices, kind, deviceId) =>
  Boolean(deviceId) && deviceId !== "default" && !devices.some((d) => d.kind === kind && d.deviceId === deviceId);

export const watchDevices = (onChange) => navigator.mediaDevices?.addEventListener("devicechange", onChange);

// livekit-client moves an unplugged microphone or camera to another device by itself;
// people should still know why their sound or picture changed.
export function noticeUnplugged(room, showNotice) {
  watchDevices(async () => {
    if (!room() || $("stage").hidden) return;
    const list = await listDevices();
    for (const kind of ["audioinput", "videoinput"]) {
      if (missing(list, kind, room().getActiveDevice(kind))) showNotice(`Your ${KIND_NAMES[kind].toLowerCase()} was unplugged.`);
    }
  });
}

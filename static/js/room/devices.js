// Cameras, microphones and speakers: listing them, remembering the choice per browser, and
// saying in plain words why one could not start.
import { h } from "./dom.js";

const STORE_KEY = "meetings.devices";
const KIND_NAMES = { videoinput: "Camera", audioinput: "Microphone", audiooutput: "Speaker" };

// Choices survive reloads in this browser only: {videoinput, audioinput, audiooutput, micOn, cameraOn}.
export function loadPrefs() {
  try {
    const prefs = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
    return prefs && typeof prefs === "object" ? prefs : {};
  } catch {
    return {}; // storage disabled or garbage: start from the defaults
  }
}

export function savePrefs(changes) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ ...loadPrefs(), ...changes }));
  } catch {
    // Private mode may refuse storage; the choice still applies to this visit.
  }
}

export const canChooseSpeaker = () => "setSinkId" in HTMLMediaElement.prototype;

export async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return [];
  try {
    return await navigator.mediaDevices.enumerateDevices();
  } catch {
    return [];
  }
}

// Fill every <select data-device-kind> under `root` and pick `chosen[kind]` (or the default).
export function fillSelects(root, devices, chosen) {
  for (const select of root.querySelectorAll("select[data-device-kind]")) {
    const kind = select.dataset.deviceKind;
    const usable = devices.filter((device) => device.kind === kind && device.deviceId);
    const field = select.closest(".field");
    const hideSpeaker = kind === "audiooutput" && (!canChooseSpeaker() || usable.length === 0);
    if (field) field.hidden = hideSpeaker;
    const options = usable.map((device, index) =>
      h("option", { value: device.deviceId }, device.label || `${KIND_NAMES[kind]} ${index + 1}`),
    );
    if (options.length === 0) options.push(h("option", { value: "" }, `No ${KIND_NAMES[kind].toLowerCase()} found`));
    select.replaceChildren(...options);
    select.disabled = usable.length === 0;
    const wanted = chosen[kind];
    if (wanted && usable.some((device) => device.deviceId === wanted)) select.value = wanted;
  }
}

// A device that was in use and is not in the list any more was unplugged.
export function missing(devices, kind, deviceId) {
  if (!deviceId || deviceId === "default") return false;
  return !devices.some((device) => device.kind === kind && device.deviceId === deviceId);
}

export function watchDevices(onChange) {
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", onChange);
  }
}

export function describeMediaError(error, what = "camera or microphone") {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `The browser blocked your ${what}. Allow it in the address bar, then reload. You can still join without it.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No ${what} was found. Plug one in, or join without it.`;
    case "NotReadableError":
    case "AbortError":
      return `Your ${what} is in use by another application. Close it there, then try again.`;
    default:
      return `Your ${what} could not be started. You can still join.`;
  }
}

// The settings dialog during the call: switch camera, microphone and speaker without
// rejoining, and the low bandwidth mode. Also notices when a device in use is unplugged.
import { $ } from "./dom.js";
import { showNotice } from "./connection.js";
import * as devices from "./devices.js";
import { setLowBandwidth } from "./layout.js";
import { session } from "./session.js";

const el = { dialog: $("settings"), open: $("open-settings"), lowBandwidth: $("low-bandwidth") };
const WHAT = { videoinput: "camera", audioinput: "microphone", audiooutput: "speaker" };

function activeChoices(room) {
  const chosen = {};
  for (const kind of Object.keys(WHAT)) chosen[kind] = room.getActiveDevice(kind) || devices.loadPrefs()[kind];
  return chosen;
}

async function fill() {
  const room = session.room;
  if (room) devices.fillSelects(el.dialog, await devices.listDevices(), activeChoices(room));
}

async function choose(kind, deviceId) {
  const room = session.room;
  if (!room || !deviceId) return;
  try {
    await room.switchActiveDevice(kind, deviceId);
    devices.savePrefs({ [kind]: deviceId });
  } catch (error) {
    showNotice(devices.describeMediaError(error, WHAT[kind]));
    fill();
  }
}

// livekit-client restarts an unplugged microphone or camera on another device by itself;
// the person should still know why their picture or sound changed.
async function onDeviceChange() {
  const room = session.room;
  if (!room || $("stage").hidden) return;
  const list = await devices.listDevices();
  for (const kind of ["audioinput", "videoinput"]) {
    const active = room.getActiveDevice(kind);
    if (!devices.missing(list, kind, active)) continue;
    const fallback = list.find((device) => device.kind === kind && device.deviceId);
    if (fallback) {
      await room.switchActiveDevice(kind, fallback.deviceId).catch(() => {});
      showNotice(`Your ${WHAT[kind]} was unplugged. Now using ${fallback.label || "another one"}.`);
    } else {
      showNotice(`Your ${WHAT[kind]} was unplugged.`);
    }
  }
  if (el.dialog.open) fill();
}

el.open.addEventListener("click", async () => {
  await fill();
  el.dialog.showModal();
});
for (const select of el.dialog.querySelectorAll("select[data-device-kind]")) {
  select.addEventListener("change", () => choose(select.dataset.deviceKind, select.value));
}
el.lowBandwidth.addEventListener("change", () => {
  setLowBandwidth(el.lowBandwidth.checked);
  showNotice(el.lowBandwidth.checked ? "Low bandwidth mode on: video only from the speaker and screen shares." : "Low bandwidth mode off.");
});
devices.watchDevices(onDeviceChange);

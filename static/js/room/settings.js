// The settings dialog in the call: switch camera, microphone and speaker without rejoining,
// and low bandwidth mode. Also tells people when a device in use was unplugged.
import { $ } from "./dom.js";
import { showNotice } from "./connection.js";
import * as devices from "./devices.js";
import { setLowBandwidth } from "./layout.js";
import { session } from "./session.js";

const dialog = $("settings");
const WHAT = { videoinput: "camera", audioinput: "microphone", audiooutput: "speaker" };

async function fill() {
  const room = session.room;
  const chosen = {};
  for (const kind in WHAT) chosen[kind] = room.getActiveDevice(kind) || devices.loadPrefs()[kind];
  devices.fillSelects(dialog, await devices.listDevices(), chosen);
}

// livekit-client moves an unplugged microphone or camera to another device by itself;
// people should still know why their sound or picture changed.
async function onDeviceChange() {
  const room = session.room;
  if (!room || $("stage").hidden) return;
  const list = await devices.listDevices();
  for (const kind of ["audioinput", "videoinput"]) {
    if (devices.missing(list, kind, room.getActiveDevice(kind))) showNotice(`Your ${WHAT[kind]} was unplugged.`);
  }
  if (dialog.open) fill();
}

$("open-settings").addEventListener("click", async () => {
  await fill();
  dialog.showModal();
});
for (const select of dialog.querySelectorAll("select[data-device-kind]")) {
  select.addEventListener("change", async () => {
    const kind = select.dataset.deviceKind;
    try {
      await session.room.switchActiveDevice(kind, select.value);
      devices.savePrefs({ [kind]: select.value });
    } catch (error) {
      showNotice(devices.describeMediaError(error, WHAT[kind]));
      fill();
    }
  });
}
$("low-bandwidth").addEventListener("change", (event) => {
  setLowBandwidth(event.target.checked);
  showNotice(`Low bandwidth mode ${event.target.checked ? "on: video only from the speaker and screen shares" : "off"}.`);
});
devices.watchDevices(onDeviceChange);

// The settings dialog in the call: switch camera, microphone and speaker without rejoining,
// and low bandwidth mode. Loaded on the first click on Settings (main.js), so people who
// never open it do not download it.
import { $ } from "./dom.js";
import { showNotice } from "./connection.js";
import * as devices from "./devices.js";
import { describeMediaError } from "./media-errors.js";
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

export async function open() {
  await fill();
  dialog.showModal();
}

for (const select of dialog.querySelectorAll("select[data-device-kind]")) {
  select.addEventListener("change", async () => {
    const kind = select.dataset.deviceKind;
    try {
      await session.room.switchActiveDevice(kind, select.value);
      devices.savePrefs({ [kind]: select.value });
    } catch (error) {
      showNotice(describeMediaError(error, WHAT[kind]));
      fill();
    }
  });
}
$("low-bandwidth").addEventListener("change", (event) => {
  setLowBandwidth(event.target.checked);
  showNotice(`Low bandwidth mode ${event.target.checked ? "on: video only from the speaker and screen shares" : "off"}.`);
});
// Background effects: effects.js loads on the first change (it may be there from before joining).
$("effects-call")?.addEventListener("change", (event) => import("./effects.js").then((m) => m.choose(event.target)));
devices.watchDevices(() => dialog.open && fill());

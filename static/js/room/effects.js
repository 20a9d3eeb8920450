// Background effects on your camera: blur (two strengths) or a picture behind you, before
// joining and in the call, remembered by this browser. Loaded only when someone picks an
// effect or this browser remembers one (prejoin.js, settings.js): the effects weigh 10 MB
// (@livekit/track-processors with MediaPipe's WASM and model, all served from static/vendor)
// and people who never use them download none of it.
//
// The model is MediaPipe's legacy selfie segmentation (npm @mediapipe/selfie_segmentation).
// tasks-vision's ImageSegmenter refuses it as shipped (no normalisation metadata); the set-up
// adds that metadata (scripts/vendor/segmenter-metadata.mjs). Nothing is fetched from outside.
import { $, h, show } from "./dom.js";
import { loadPrefs, savePrefs } from "./devices.js";
import { LK, onRoom, session } from "./session.js";

const STATIC = new URL("../../", import.meta.url); // the static prefix of this build
const MEDIAPIPE = new URL("vendor/mediapipe", STATIC).href;
const IMAGE_KEY = "meetings.effects.image"; // your own picture, as a JPEG data URL
const BLUR = { "blur-slight": 8, "blur-strong": 24 }; // px; the processor's default is 10
const UNSUPPORTED = "Background effects are not available in this browser.";

const menus = [...document.querySelectorAll("[data-effects]")];
let chosen = loadPrefs().effect || "none";
let preview = null; // the camera track of the check before joining
let ownImage = null; // your picture where this browser would not store it
let vendor = null;

const loadVendor = () => (vendor ||= import(new URL("vendor/track-processors.js", STATIC).href));

function storedImage() {
  try {
    return ownImage || localStorage.getItem(IMAGE_KEY);
  } catch {
    return ownImage;
  }
}

// What the processor is given for an effect; null for none (or your picture, when gone).
function optionsFor(effect) {
  if (effect in BLUR) return { mode: "background-blur", blurRadius: BLUR[effect] };
  if (effect.startsWith("image:")) {
    return { mode: "virtual-background", imagePath: new URL(`img/backgrounds/${effect.slice(6)}.jpg`, STATIC).href };
  }
  const image = effect === "custom" && storedImage();
  return image ? { mode: "virtual-background", imagePath: image } : null;
}

// The call's camera once there is one; before that, the preview (the same track after joining).
const cameraTrack = () => session.room?.localParticipant.getTrackPublication(LK.Track.Source.Camera)?.track ?? preview;

const menuState = () => (chosen === "none" ? "off" : "on");

function render(state, message = "") {
  for (const menu of menus) {
    menu.dataset.state = state;
    menu.setAttribute("aria-busy", state === "applying");
    for (const input of menu.querySelectorAll("input[type=radio]")) input.checked = input.value === (state === "error" ? "none" : chosen);
    const thumb = menu.querySelector(".effect-own img");
    if (thumb && storedImage()) thumb.src = storedImage();
    const status = menu.querySelector(".effects-status");
    status.textContent = message;
    status.classList.toggle("error", state === "error");
    show(status, Boolean(message));
  }
}

// WebGL drawn by the CPU (SwiftShader, llvmpipe: no graphics card, or one the browser will not
// use): the effects still work, at a few frames a second (README, "Background effects").
function drawnByTheCpu() {
  const gl = h("canvas").getContext("webgl2");
  const info = gl?.getExtension("WEBGL_debug_renderer_info");
  return /swiftshader|llvmpipe|software/i.test(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "");
}
const SLOW = "This computer draws without its graphics card: with an effect on, your video will be jerky.";

async function applyTo(track) {
  const wanted = optionsFor(chosen);
  const current = track.getProcessor();
  if (!wanted) return current && track.stopProcessor();
  const { BackgroundProcessor, supportsBackgroundProcessors } = await loadVendor();
  if (!supportsBackgroundProcessors()) throw Object.assign(new Error(UNSUPPORTED), { unsupported: true });
  if (current?.switchTo) return current.switchTo(wanted);
  const assetPaths = { tasksVisionFileSet: MEDIAPIPE, modelAssetPath: `${MEDIAPIPE}/selfie_segmentation.tflite` };
  // "Applying…" lasts until the first frame is drawn with the effect (the processor shows the
  // camera as it is meanwhile), or 30 s on a machine too slow to say.
  let drawn;
  const firstFrame = new Promise((resolve) => (drawn = resolve));
  await track.setProcessor(BackgroundProcessor({ ...wanted, assetPaths, onFrameProcessed: () => drawn() }));
  await Promise.race([firstFrame, new Promise((resolve) => setTimeout(resolve, 30_000))]);
}

// One change at a time; the last one chosen wins (arrow keys move through the radios fast).
let running = null;
let again = false;
let slow = null;

function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const track = cameraTrack();
      if (!track || track.kind !== "video") {
        render(menuState()); // chosen; applied once there is a camera
        break;
      }
      render("applying", chosen === "none" ? "" : "Applying…");
      try {
        await applyTo(track);
        render(menuState(), chosen !== "none" && (slow ??= drawnByTheCpu()) ? SLOW : "");
      } catch (error) {
        if (error.unsupported) return unsupported();
        console.error("background effect", error);
        render("error", "The background effect could not start. Your camera is shown as it is.");
        await track.stopProcessor().catch(() => {});
      }
    } while (again);
  })().finally(() => (running = null));
  return running;
}

function unsupported() {
  for (const menu of menus) menu.querySelectorAll("input").forEach((input) => (input.disabled = true));
  render("unsupported", UNSUPPORTED);
}

// Your own picture stays in this browser: cropped to the camera's 16:9, at most 1280x720,
// kept as a JPEG in localStorage (or for this visit only where storage is refused).
async function keepImage(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(bitmap.width / 16, bitmap.height / 9);
  const [sw, sh] = [16 * scale, 9 * scale];
  const canvas = h("canvas", { width: Math.min(1280, Math.round(sw)), height: Math.min(720, Math.round(sh)) });
  canvas.getContext("2d").drawImage(bitmap, (bitmap.width - sw) / 2, (bitmap.height - sh) / 2, sw, sh, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  ownImage = canvas.toDataURL("image/jpeg", 0.85);
  try {
    localStorage.setItem(IMAGE_KEY, ownImage);
    ownImage = null;
  } catch {
    // Storage refused or full: the picture holds for this visit.
  }
}

// A radio or the file picker of either menu changed (prejoin.js and settings.js pass it on).
export async function choose(input) {
  if (input.type === "file") {
    const [file] = input.files;
    input.value = "";
    if (!file) return;
    try {
      await keepImage(file);
    } catch {
      return render("error", "That file could not be read as a picture. Try a JPEG or PNG.");
    }
    input = { value: "custom" };
  }
  if (input.value === "custom" && !storedImage()) {
    render(menuState(), "Choose your picture first.");
    return input.closest("[data-effects]").querySelector("input[type=file]").click();
  }
  chosen = input.value;
  savePrefs({ effect: chosen === "none" ? undefined : chosen });
  await refresh();
}

// A camera published later (turned on in the call, a rejoin) gets the effect too.
const follow = (room) =>
  room.on(LK.RoomEvent.LocalTrackPublished, (publication) => {
    if (publication.source === LK.Track.Source.Camera) refresh();
  });
onRoom(follow);
if (session.room) follow(session.room);
render(chosen === "none" ? "off" : "waiting"); // for a camera (use() or a published one)
// A remembered effect shows in the folded menu before joining.
if (chosen !== "none") $("effects-prejoin-more")?.setAttribute("open", "");

// prejoin.js: the preview's camera (again after a device change), and what was picked.
export function use(track, input) {
  preview = track;
  return input ? choose(input) : refresh();
}

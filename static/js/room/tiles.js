// One tile per camera or screen share: video (or initials), name, mic state, raised hand,
// connection quality and a pin button. A tile shows video only while it is on screen:
// detaching hidden tiles lets adaptiveStream tell the server to stop sending them.
import { h, icon, initials } from "./dom.js";
import { LK, isLocal, nameOf } from "./session.js";

const PIN = "M16 3l5 5-3 1-4 4 1 5-2 2-4-4-5 5-1-1 5-5-4-4 2-2 5 1 4-4z";
const HAND = "M21 7a1.5 1.5 0 0 0-3 0v5h-1V4a1.5 1.5 0 0 0-3 0v7h-1V2.5a1.5 1.5 0 0 0-3 0V11H9V5a1.5 1.5 0 0 0-3 0v10.3l-2.1-2.1a1.6 1.6 0 0 0-2.3 2.2L7 21a5 5 0 0 0 3.6 1.5H15a6 6 0 0 0 6-6z";
const QUALITY_TEXT = { excellent: "Excellent", good: "Good", poor: "Poor", lost: "Lost" };

const attached = new WeakMap(); // tile -> the track playing in its <video>

export function createTile(item, onPin) {
  const local = isLocal(item.participant);
  const screen = item.source === LK.Track.Source.ScreenShare;
  const classes = ["tile", local ? "local" : "remote"];
  if (screen) classes[1] = local ? "screen local-screen" : "screen";
  const tile = h(
    "figure",
    { class: classes.join(" "), "data-identity": item.participant.identity, "data-key": item.key },
    h("video", { autoplay: true, playsinline: true }),
    h("div", { class: "avatar", "aria-hidden": "true" }),
    h(
      "figcaption",
      {},
      h("span", { class: "mic-state" }),
      h("span", { class: "tile-name" }),
      h("span", { class: "hand-state", hidden: true }, icon(HAND), h("span", { class: "visually-hidden" }, "Hand raised")),
      h("span", { class: "quality" }, h("span", { class: "visually-hidden" })),
    ),
    h("button", { type: "button", class: "pin", "aria-pressed": "false", onclick: () => onPin(item.key) }, icon(PIN)),
  );
  tile.querySelector("video").muted = true; // sound plays from the audio sink, not tiles
  if (screen && local) tile.append(h("p", { class: "screen-note" }, "You are sharing your screen"));
  return tile;
}

export function refreshTile(tile, item, { shown, pinned }) {
  const participant = item.participant;
  const screen = item.source === LK.Track.Source.ScreenShare;
  const name = nameOf(participant);
  const label = screen ? `${name}'s screen` : isLocal(participant) ? `${name} (you)` : name;
  tile.querySelector(".tile-name").textContent = label;
  tile.querySelector(".avatar").textContent = screen ? "" : initials(name);
  tile.setAttribute("aria-label", label);

  const micOn = participant.isMicrophoneEnabled;
  const mic = tile.querySelector(".mic-state");
  mic.dataset.on = String(micOn);
  mic.textContent = micOn || screen ? "" : "Muted";
  tile.querySelector(".hand-state").hidden = screen || !participant.attributes.hand;

  const quality = String(participant.connectionQuality || "unknown");
  const qualityEl = tile.querySelector(".quality");
  qualityEl.dataset.quality = quality;
  qualityEl.hidden = !(quality in QUALITY_TEXT);
  qualityEl.firstChild.textContent = `Connection ${(QUALITY_TEXT[quality] || "").toLowerCase()}`;

  const pin = tile.querySelector(".pin");
  pin.setAttribute("aria-pressed", String(pinned));
  pin.setAttribute("aria-label", `${pinned ? "Unpin" : "Pin"} ${label}`);
  syncVideo(tile, item, shown);
}

function syncVideo(tile, item, shown) {
  const video = tile.querySelector("video");
  const publication = item.participant.getTrackPublication(item.source);
  // Your own screen is not played back to you: a picture of itself helps nobody.
  const ownScreen = isLocal(item.participant) && item.source === LK.Track.Source.ScreenShare;
  const track =
    shown && !ownScreen && publication && publication.track && !publication.isMuted
      ? publication.track
      : null;
  const current = attached.get(tile);
  if (current && current !== track) {
    current.detach(video);
    attached.delete(tile);
  }
  if (track && current !== track) {
    track.attach(video);
    attached.set(tile, track);
  }
  // Moving a tile in the page pauses its video; play it again where it landed.
  if (track && video.paused) video.play().catch(() => {});
  tile.dataset.video = String(Boolean(track));
}

export function releaseTile(tile) {
  const track = attached.get(tile);
  if (track) track.detach(tile.querySelector("video"));
  attached.delete(tile);
  tile.remove();
}

export function markSpeaking(tile, speaking) {
  tile.classList.toggle("speaking", speaking);
}

// One tile per camera or screen share: video or initials, name, mic, hand, connection
// quality, pin. Its video plays only while it is on screen (see layout.js for why).
import { fromTemplate, h, initials } from "./dom.js";
import { LK, isLocal, nameOf, publishing } from "./session.js";

const QUALITY = { excellent: "excellent", good: "good", poor: "poor", lost: "lost" };
const playing = new WeakMap(); // tile -> the track attached to its <video>

export function createTile(item, onPin) {
  const tile = fromTemplate("tile-template");
  const local = isLocal(item.participant);
  if (item.source !== LK.Track.Source.ScreenShare) {
    tile.classList.add(local ? "local" : "remote");
    if (local) tile.append(h("p", { class: "screen-note starting-note", hidden: true }, "Starting camera…"));
  } else if (local) {
    // Your own screen is not played back to you: a picture of itself helps nobody.
    tile.classList.add("screen", "local-screen");
    tile.append(h("p", { class: "screen-note" }, "You are sharing your screen"));
  } else {
    tile.classList.add("screen");
  }
  tile.dataset.identity = item.participant.identity;
  tile.querySelector("video").muted = true; // sound comes from the audio sink
  tile.querySelector(".pin").addEventListener("click", () => onPin(item.key));
  return tile;
}

export function refreshTile(tile, item, { shown, pinned }) {
  const participant = item.participant;
  const screen = tile.classList.contains("screen");
  const name = nameOf(participant);
  const label = screen ? `${name}'s screen` : isLocal(participant) ? `${name} (you)` : name;
  tile.setAttribute("aria-label", label);
  const caption = tile.querySelector(".tile-name");
  caption.textContent = caption.title = label;
  tile.querySelector(".avatar").textContent = screen ? "" : initials(name);
  // Your microphone on its way out is not "Muted".
  const micOn = participant.isMicrophoneEnabled || (isLocal(participant) && publishing.has("audio"));
  const mic = tile.querySelector(".mic-state");
  mic.dataset.on = micOn;
  mic.textContent = micOn || screen ? "" : "Muted";
  tile.querySelector(".hand-state").hidden = screen || !participant.attributes.hand;
  const quality = QUALITY[participant.connectionQuality];
  const bars = tile.querySelector(".quality");
  bars.dataset.quality = quality;
  bars.hidden = !quality;
  bars.firstChild.textContent = `Connection ${quality}`;
  // Others are on screen before your own camera is out: say it is coming.
  const starting = tile.querySelector(".starting-note");
  if (starting) {
    starting.hidden = !publishing.has("video");
    tile.classList.toggle("starting", !starting.hidden);
  }
  const pin = tile.querySelector(".pin");
  pin.setAttribute("aria-pressed", pinned);
  pin.setAttribute("aria-label", `${pinned ? "Unpin" : "Pin"} ${label}`);
  showVideo(tile, item, shown && !(screen && isLocal(participant)));
}

function showVideo(tile, item, shown) {
  const video = tile.querySelector("video");
  const publication = item.participant.getTrackPublication(item.source);
  const track = shown && publication?.track && !publication.isMuted ? publication.track : null;
  const current = playing.get(tile);
  if (current !== track) {
    current?.detach(video);
    track?.attach(video);
    playing.set(tile, track);
  }
  // Moving a tile in the document pauses its video; play it where it landed.
  if (track && video.paused) video.play().catch(() => {});
  tile.dataset.video = Boolean(track);
}

export function releaseTile(tile) {
  playing.get(tile)?.detach(tile.querySelector("video"));
  tile.remove();
}

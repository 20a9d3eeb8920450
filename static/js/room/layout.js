// What is on the stage: a grid that pages (as many tiles per page as fit the window) or a
// speaker view (one large tile, the others in a strip that pages too). Only the tiles of
// the current page are in the document; the others are detached so that adaptiveStream
// stops their video. Pinning, a new screen share and the active speaker pick the large tile.
import { $, batched, show } from "./dom.js";
import { LK, isLocal, onRoom, session } from "./session.js";
import { createTile, markSpeaking, refreshTile, releaseTile } from "./tiles.js";

const S = LK.Track.Source;
const el = {
  view: document.querySelector(".stage-view"),
  tiles: $("tiles"),
  strip: $("strip"),
  pager: $("pager"),
  prev: $("page-prev"),
  next: $("page-next"),
  label: $("page-label"),
  toggle: $("toggle-layout"),
};

const GAP = 8; // px: the gap of .tiles and .strip in room.css
const MAX_PER_PAGE = 16;

const state = {
  layout: "grid", // "grid" or "speaker"
  page: 0,
  pinned: null, // key of the pinned item
  speaker: null, // identity of the remote participant who spoke last
  screens: new Set(), // keys of the remote screen shares at the last render
  layoutBeforeShare: null, // where to return when the screen share that took the stage ends
  lowBandwidth: false,
};
const tiles = new Map(); // item key -> tile element

export const render = batched(renderNow);

// Screen shares first (they are why people look), then you, then everyone in join order.
function itemsOf(room) {
  const people = [room.localParticipant, ...room.remoteParticipants.values()];
  const item = (participant, source) => ({ key: `${source}:${participant.identity}`, participant, source });
  const screens = people.filter((p) => p.getTrackPublication(S.ScreenShare)).map((p) => item(p, S.ScreenShare));
  screens.sort((a, b) => Number(isLocal(a.participant)) - Number(isLocal(b.participant)));
  return [...screens, ...people.map((p) => item(p, S.Camera))];
}

function featured(items) {
  const pinned = items.find((item) => item.key === state.pinned);
  if (pinned) return pinned;
  state.pinned = null;
  const remoteScreen = items.find((i) => i.source === S.ScreenShare && !isLocal(i.participant));
  const cameras = items.filter((i) => i.source === S.Camera);
  const speaker = cameras.find((i) => i.participant.identity === state.speaker);
  return remoteScreen || speaker || cameras.find((i) => !isLocal(i.participant)) || cameras[0];
}

// A screen share someone starts takes the stage; when the last one ends the layout returns.
function followScreenShares(items) {
  const keys = items.filter((i) => i.source === S.ScreenShare && !isLocal(i.participant)).map((i) => i.key);
  if (keys.some((key) => !state.screens.has(key))) {
    if (state.layoutBeforeShare === null) state.layoutBeforeShare = state.layout;
    state.layout = "speaker";
    state.pinned = null;
  } else if (keys.length === 0 && state.layoutBeforeShare !== null) {
    state.layout = state.layoutBeforeShare;
    state.layoutBeforeShare = null;
  }
  state.screens = new Set(keys);
}

function renderNow() {
  const room = session.room;
  if (!room) return;
  const items = itemsOf(room);
  followScreenShares(items);
  const main = featured(items);
  const speakerView = state.layout === "speaker";
  el.tiles.dataset.layout = state.layout;
  el.toggle.setAttribute("aria-pressed", String(speakerView));
  show(el.strip, speakerView && items.length > 1);
  if (speakerView) {
    place(el.tiles, [main]);
    place(el.strip, paginate(items.filter((i) => i !== main), stripCapacity));
  } else {
    place(el.strip, []);
    const shown = paginate(items, gridCapacity);
    place(el.tiles, shown);
    sizeGrid(shown.length);
  }
  const keys = new Set(items.map((i) => i.key));
  for (const [key, tile] of tiles) {
    if (!keys.has(key)) {
      releaseTile(tile);
      tiles.delete(key);
    }
  }
  for (const item of items) {
    const tile = tiles.get(item.key);
    refreshTile(tile, item, { shown: tile.isConnected, pinned: item.key === state.pinned });
  }
  applyBandwidth(room, speakerView && main.source === S.Camera ? main.participant.identity : state.speaker);
}

function tileFor(item) {
  if (!tiles.has(item.key)) tiles.set(item.key, createTile(item, togglePin));
  return tiles.get(item.key);
}

// Put exactly these tiles, in this order, into the container; others leave the document.
function place(container, items) {
  const wanted = items.map(tileFor);
  for (const child of [...container.children]) if (!wanted.includes(child)) child.remove();
  wanted.forEach((tile, index) => {
    if (container.children[index] !== tile) container.insertBefore(tile, container.children[index] || null);
  });
}

// Measure with the pager hidden first: it takes room only when there is a second page.
function paginate(items, capacityOf) {
  show(el.pager, false);
  let capacity = capacityOf();
  let pages = Math.max(1, Math.ceil(items.length / capacity));
  if (pages > 1) {
    show(el.pager);
    capacity = capacityOf();
    pages = Math.max(1, Math.ceil(items.length / capacity));
  }
  state.page = Math.min(state.page, pages - 1);
  el.label.textContent = `Page ${state.page + 1} of ${pages}`;
  el.prev.disabled = state.page === 0;
  el.next.disabled = state.page >= pages - 1;
  return items.slice(state.page * capacity, (state.page + 1) * capacity);
}

const fits = (space, size) => Math.max(1, Math.floor((space + GAP) / (size + GAP)));
const isSmall = () => el.view.clientWidth < 600;

function gridCapacity() {
  const [minWidth, minHeight] = isSmall() ? [150, 150] : [300, 170];
  const count = fits(el.tiles.clientWidth, minWidth) * fits(el.tiles.clientHeight, minHeight);
  return Math.min(MAX_PER_PAGE, count);
}

function stripCapacity() {
  return fits(el.strip.clientWidth, isSmall() ? 112 : 176);
}

// The column count that gives the largest tiles; 16:9 tiles, squarer on portrait screens.
function sizeGrid(count) {
  const width = el.tiles.clientWidth;
  const height = el.tiles.clientHeight;
  const aspect = width < height ? 1 : 16 / 9;
  let best = { columns: 1, tileWidth: 0 };
  for (let columns = 1; columns <= Math.max(1, count); columns++) {
    const rows = Math.ceil(count / columns);
    const byWidth = (width - GAP * (columns - 1)) / columns;
    const byHeight = ((height - GAP * (rows - 1)) / rows) * aspect;
    const tileWidth = Math.min(byWidth, byHeight);
    if (tileWidth > best.tileWidth) best = { columns, tileWidth };
  }
  const tileWidth = Math.floor(best.tileWidth);
  el.tiles.style.setProperty("--row-width", `${best.columns * tileWidth + (best.columns - 1) * GAP}px`);
  el.tiles.style.setProperty("--tile-width", `${tileWidth}px`);
  el.tiles.style.setProperty("--tile-height", `${Math.floor(best.tileWidth / aspect)}px`);
}

// Low bandwidth: receive camera video only from the person speaking (screen shares stay).
function applyBandwidth(room, keepIdentity) {
  for (const participant of room.remoteParticipants.values()) {
    const camera = participant.getTrackPublication(S.Camera);
    if (!camera) continue;
    const wanted = !state.lowBandwidth || participant.identity === keepIdentity;
    if (camera.isDesired !== wanted) camera.setSubscribed(wanted);
  }
}

export function setLowBandwidth(on) {
  state.lowBandwidth = on;
  render();
}

export function setLayout(layout) {
  state.layout = layout;
  state.layoutBeforeShare = null; // the person chose: a share ending does not undo it
  if (layout === "grid") state.pinned = null;
  state.page = 0;
  render();
}

function togglePin(key) {
  if (state.pinned === key) {
    state.pinned = null;
  } else {
    state.pinned = key;
    state.layout = "speaker";
    state.layoutBeforeShare = null;
    state.page = 0;
  }
  render();
}

function onActiveSpeakers(speakers) {
  const identities = new Set(speakers.map((p) => p.identity));
  for (const [key, tile] of tiles) {
    markSpeaking(tile, key.startsWith(`${S.Camera}:`) && identities.has(tile.dataset.identity));
  }
  // You do not need to see yourself large: only other people take the stage.
  const remote = speakers.find((p) => !isLocal(p));
  if (remote && remote.identity !== state.speaker) {
    state.speaker = remote.identity;
    if (state.layout === "speaker" || state.lowBandwidth) render();
  }
}

function reset() {
  for (const tile of tiles.values()) releaseTile(tile);
  tiles.clear();
  Object.assign(state, { page: 0, pinned: null, speaker: null, screens: new Set(), layoutBeforeShare: null });
}

el.toggle.addEventListener("click", () => setLayout(state.layout === "speaker" ? "grid" : "speaker"));
el.prev.addEventListener("click", () => {
  state.page = Math.max(0, state.page - 1);
  render();
});
el.next.addEventListener("click", () => {
  state.page += 1;
  render();
});
new ResizeObserver(render).observe(el.view);

onRoom((room) => {
  reset();
  const E = LK.RoomEvent;
  const events = [
    E.ParticipantConnected, E.ParticipantDisconnected, E.TrackPublished, E.TrackUnpublished,
    E.TrackSubscribed, E.TrackUnsubscribed, E.TrackMuted, E.TrackUnmuted, E.LocalTrackPublished,
    E.LocalTrackUnpublished, E.ParticipantNameChanged, E.ParticipantAttributesChanged,
    E.ParticipantMetadataChanged, E.ConnectionQualityChanged,
  ];
  for (const event of events) room.on(event, render);
  room.on(E.ActiveSpeakersChanged, onActiveSpeakers);
  room.on(E.Disconnected, () => room === session.room && reset());
});

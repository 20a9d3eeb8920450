// The stage: a grid that pages (as many tiles per page as fit) or a speaker view (one large
// tile, the others in a strip that pages too). Only the current page's tiles are in the
// document; the others are detached, so adaptiveStream stops their video. A pin, a new
// screen share or the active speaker picks the large tile.
import { $, batched, show } from "./dom.js";
import { LK, PEOPLE_EVENTS, everyone, isLocal, onEvents, onRoom, session } from "./session.js";
import { createTile, refreshTile, releaseTile } from "./tiles.js";

const S = LK.Track.Source;
const view = document.querySelector(".stage-view");
const [stage, strip, pager, label, prev, next, toggle] = [
  "tiles", "strip", "pager", "page-label", "page-prev", "page-next", "toggle-layout",
].map($);
const GAP = 8; // px, the gap in room.css
const MAX_PER_PAGE = 16;

const state = {
  layout: "grid",
  page: 0,
  pinned: null, // item key
  speaker: null, // identity of the remote participant who spoke last
  screens: new Set(), // keys of the remote screen shares at the last render
  beforeShare: null, // the layout to return to when the share that took the stage ends
  lowBandwidth: false,
};
const tiles = new Map(); // item key -> tile

export const render = batched(renderNow);

// Screen shares first (yours last), then you, then everyone in the order they came: only
// people who may speak. A webinar's listen-only attendees are counted and listed in People.
function itemsOf(room) {
  const people = everyone(room);
  const item = (participant, source) => ({ key: `${source}:${participant.identity}`, participant, source });
  const sharing = people.filter((p) => p.getTrackPublication(S.ScreenShare)).reverse();
  const speakers = people.filter((p) => p.permissions?.canPublish !== false);
  return [...sharing.map((p) => item(p, S.ScreenShare)), ...speakers.map((p) => item(p, S.Camera))];
}

const othersScreen = (item) => item.source === S.ScreenShare && !isLocal(item.participant);

function featured(items) {
  const pinned = items.find((item) => item.key === state.pinned);
  const cameras = items.filter((item) => item.source === S.Camera);
  return (
    pinned ||
    items.find(othersScreen) ||
    cameras.find((item) => item.participant.identity === state.speaker) ||
    cameras[1] || // the first other person
    cameras[0]
  );
}

// Someone's new screen share takes the stage; when the last one ends, the layout returns.
function followScreenShares(items) {
  const keys = items.filter(othersScreen).map((item) => item.key);
  if (keys.some((key) => !state.screens.has(key))) {
    state.beforeShare ??= state.layout;
    state.layout = "speaker";
    state.pinned = null;
  } else if (!keys.length && state.beforeShare) {
    state.layout = state.beforeShare;
    state.beforeShare = null;
  }
  state.screens = new Set(keys);
}

export function renderNow() {
  const room = session.room;
  if (!room || !view.clientWidth) return; // nothing to measure before the stage shows
  const items = itemsOf(room);
  followScreenShares(items);
  const main = featured(items);
  const speakerView = state.layout === "speaker";
  stage.dataset.layout = state.layout;
  toggle.setAttribute("aria-pressed", speakerView);
  show(strip, speakerView && items.length > 1);
  if (speakerView) {
    place(stage, main ? [main] : []);
    place(strip, paginate(items.filter((item) => item !== main), stripCapacity));
  } else {
    place(strip, []);
    const shown = paginate(items, gridCapacity);
    place(stage, shown);
    sizeGrid(shown.length);
  }
  for (const [key, tile] of tiles) {
    if (items.some((item) => item.key === key)) continue;
    releaseTile(tile);
    tiles.delete(key);
  }
  for (const item of items) {
    const tile = tiles.get(item.key); // none yet for someone who was never on screen
    if (tile) refreshTile(tile, item, { shown: tile.isConnected, pinned: item.key === state.pinned });
  }
  const speaker = speakerView && main?.source === S.Camera ? main.participant.identity : state.speaker;
  limitBandwidth(room, speaker);
}

// Exactly these tiles, in this order, in the container; the others leave the document.
function place(container, items) {
  const wanted = items.map((item) => {
    if (!tiles.has(item.key)) tiles.set(item.key, createTile(item, togglePin));
    return tiles.get(item.key);
  });
  for (const child of [...container.children]) if (!wanted.includes(child)) child.remove();
  wanted.forEach((tile, index) => {
    if (container.children[index] !== tile) container.insertBefore(tile, container.children[index] || null);
  });
}

// Measured with the pager hidden first: it takes room only when there is a second page.
function paginate(items, capacityOf) {
  let capacity, pages;
  for (const withPager of [false, true]) {
    show(pager, withPager);
    capacity = capacityOf();
    pages = Math.ceil(items.length / capacity) || 1;
    if (pages === 1) break;
  }
  state.page = Math.min(state.page, pages - 1);
  label.textContent = `Page ${state.page + 1} of ${pages}`;
  prev.disabled = state.page === 0;
  next.disabled = state.page === pages - 1;
  return items.slice(state.page * capacity, (state.page + 1) * capacity);
}

const fits = (space, size) => Math.max(1, Math.floor((space + GAP) / (size + GAP)));
const small = () => view.clientWidth < 600;
const gridCapacity = () => {
  const [width, height] = small() ? [150, 150] : [300, 170];
  return Math.min(MAX_PER_PAGE, fits(stage.clientWidth, width) * fits(stage.clientHeight, height));
};
const stripCapacity = () => fits(strip.clientWidth, small() ? 112 : 176);

// The column count that gives the largest tiles: 16:9, or square on a portrait screen.
function sizeGrid(count) {
  const { clientWidth: width, clientHeight: height } = stage;
  const aspect = width < height ? 1 : 16 / 9;
  let best = { columns: 1, size: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const size = Math.min((width - GAP * (columns - 1)) / columns, ((height - GAP * (rows - 1)) / rows) * aspect);
    if (size > best.size) best = { columns, size: Math.floor(size) };
  }
  stage.style.setProperty("--row-width", `${best.columns * (best.size + GAP) - GAP}px`);
  stage.style.setProperty("--tile-width", `${best.size}px`);
  stage.style.setProperty("--tile-height", `${Math.floor(best.size / aspect)}px`);
}

// Low bandwidth: camera video only from the person speaking; screen shares still come.
function limitBandwidth(room, speaker) {
  for (const participant of room.remoteParticipants.values()) {
    const camera = participant.getTrackPublication(S.Camera);
    const wanted = !state.lowBandwidth || participant.identity === speaker;
    if (camera && camera.isDesired !== wanted) camera.setSubscribed(wanted);
  }
}

export function setLowBandwidth(on) {
  state.lowBandwidth = on;
  render();
}

function setLayout(layout, pinned = null) {
  Object.assign(state, { layout, pinned, page: 0, beforeShare: null }); // the person chose
  render();
}

const togglePin = (key) => setLayout("speaker", state.pinned === key ? null : key);

function onActiveSpeakers(speakers) {
  const speaking = new Set(speakers.map((p) => p.identity));
  for (const [key, tile] of tiles) {
    tile.classList.toggle("speaking", key.startsWith(S.Camera) && speaking.has(tile.dataset.identity));
  }
  // Only other people take the stage: you do not need to see yourself large.
  const remote = speakers.find((p) => !isLocal(p));
  if (remote && remote.identity !== state.speaker) {
    state.speaker = remote.identity;
    if (state.layout === "speaker" || state.lowBandwidth) render();
  }
}

function reset() {
  tiles.forEach(releaseTile);
  tiles.clear();
  Object.assign(state, { page: 0, pinned: null, speaker: null, screens: new Set(), beforeShare: null });
}

toggle.addEventListener("click", () => setLayout(state.layout === "grid" ? "speaker" : "grid"));
for (const [button, step] of [[prev, -1], [next, 1]]) {
  button.addEventListener("click", () => {
    state.page += step;
    render();
  });
}
new ResizeObserver(render).observe(view);

onRoom((room) => {
  reset();
  const more = ["TrackSubscribed", "TrackUnsubscribed", "ConnectionQualityChanged", "ParticipantPermissionsChanged"];
  onEvents(room, [...PEOPLE_EVENTS, ...more], render);
  room.on(LK.RoomEvent.ActiveSpeakersChanged, onActiveSpeakers);
  room.on(LK.RoomEvent.Disconnected, () => room === session.room && reset());
});

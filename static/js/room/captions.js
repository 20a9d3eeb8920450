// Live captions in the meeting room: the "Captions on" sign for everyone, the captions over
// the stage, each person's own choices (shown or hidden, size; remembered in this browser),
// and for hosts the switch that turns captions on or off for the whole meeting.
//
// The sign follows the room's metadata ({"captions": "running"}), which the app sets; late
// joiners get it on connect. A host's click only asks the app: what the page shows changes
// when the metadata does. The captioner sends what people say as text streams on the
// transcription topic, on behalf of the speaker; interim text of a segment is replaced by the
// next, until its final version. Screen readers hear final segments only.
//
// Loaded on demand by main.js: for hosts, and for everyone once the metadata says captions
// are on. Everything people say reaches the page as text nodes only (textContent).
import { api, pageData, readJSON } from "../api.js";
import { $ } from "./dom.js";
import { LK, metadataOf, nameOf, session } from "./session.js";

const TOPIC = "lk.transcription";
const EVENTS = LK.RoomEvent;
const STORE_KEY = "meetings.captions"; // {shown: bool, size: "small" | "medium" | "large"}
const SIZES = ["small", "medium", "large"];
const ON = ["starting", "running", "unavailable"]; // a captioner may be listening
const SIGN = {
  starting: "Captions on",
  running: "Captions on",
  unavailable: "Captions unavailable",
  failed: "Captions could not start", // hosts only
};
const HOST_STATE = {
  off: "Off. Nobody sees captions.",
  starting: "Starting. Everyone sees the “Captions on” sign.",
  running: "On for everyone. Each person can hide them with CC.",
  unavailable: "On, but speech recognition does not answer right now. The meeting goes on.",
  failed: "Captions could not start. Try again, or tell your operator.",
};
const LINGER_MS = 5000; // a final caption stays this long, then fades
const STALE_MS = 10000; // an interim that never became final goes too
const FADE_MS = 600; // as .caption.fading in captions.css
const ENTRIES = 4; // kept on screen; the box shows the last two lines of them
const SPOKEN = 5; // final segments kept in the live region
const ASK_MS = 15000; // how long a host's request shows as "Turning on…" without the metadata

const installed = new WeakSet();

const loadPrefs = () => readJSON(() => localStorage.getItem(STORE_KEY));

function savePrefs(changes) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({ ...loadPrefs(), ...changes }));
  } catch {
    // Storage may be refused (private mode); the choice still holds for this visit.
  }
}

export const prefs = () => {
  const { shown, size } = loadPrefs();
  return { shown: shown !== false, size: SIZES.includes(size) ? size : "medium" };
};

export const statusOf = (room) => {
  const status = metadataOf(room).captions;
  return ON.includes(status) || status === "failed" ? status : "off";
};

function addStylesheet() {
  if ($("captions-css")) return;
  const link = document.createElement("link");
  link.id = "captions-css";
  link.rel = "stylesheet";
  link.href = new URL("../../css/captions.css", import.meta.url).href;
  document.head.append(link);
}

function element(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function buildSign() {
  const sign = element("p", { id: "captions-indicator", className: "captions-indicator", hidden: true });
  sign.setAttribute("role", "status");
  const mark = element("span", { className: "cc-mark", textContent: "CC" });
  mark.setAttribute("aria-hidden", "true");
  sign.append(mark, element("span", { className: "captions-sign-text" }));
  return sign;
}

// The captions over the stage (for the eyes: screen readers get `spoken`, finals only).
function buildOverlay() {
  const overlay = element("div", { id: "captions", className: "captions", hidden: true });
  overlay.setAttribute("aria-hidden", "true");
  const lines = element("div", { id: "caption-lines", className: "caption-lines" });
  overlay.append(lines);
  const spoken = element("div", { id: "captions-live", className: "visually-hidden" });
  spoken.setAttribute("aria-live", "polite");
  return { overlay, lines, spoken };
}

// Who spoke: the stream is sent on the speaker's behalf; should it come from the captioner
// itself, the owner of the transcribed track says who.
function speakerOf(room, identity, trackSid) {
  const person = room.getParticipantByIdentity(identity);
  if (person && !person.isAgent) return nameOf(person);
  const everyone = [room.localParticipant, ...room.remoteParticipants.values()];
  const owner = trackSid && everyone.find((p) => p.trackPublications?.has(trackSid));
  return owner ? nameOf(owner) : identity;
}

// Called by main.js once per room (again is a no-op). `showNotice(message)` shows a message to
// this person; returns a function that removes what was added.
export function install(room, showNotice) {
  if (installed.has(room)) return () => {};
  installed.add(room);
  const config = pageData("captions-data");
  addStylesheet();
  const stage = $("stage") || document.body;
  const sign = buildSign();
  const { overlay, lines, spoken } = buildOverlay();
  ($("tiles")?.parentElement || stage).append(overlay);
  stage.append(sign, spoken);

  const ccButton = $("toggle-captions");
  const settings = $("captions-settings");
  const sizeSelect = $("captions-size");
  const hostBox = $("captions-host");
  const hostButton = $("captions-toggle");
  const hostState = $("captions-host-state");
  const hostError = $("captions-error");
  const segments = new Map(); // segment id -> {node, text, timer}
  const finished = new Set(); // segment ids already final: a late interim is dropped
  let asked = null; // {enabled, until}: a host's request the metadata has not answered yet

  // Hosts and co-hosts; a co-host made or unmade mid-call changes the ticket's role (main.js).
  const isHost = () => (session.ticket ? session.ticket.role === "host" : config.mayToggle);

  function applyPrefs() {
    const { shown, size } = prefs();
    overlay.dataset.size = size;
    if (sizeSelect) sizeSelect.value = size;
    if (ccButton) ccButton.setAttribute("aria-pressed", String(shown));
    if (!shown) clearAll();
  }

  function clearAll() {
    for (const entry of segments.values()) clearTimeout(entry.timer);
    segments.clear();
    lines.replaceChildren();
    overlay.hidden = true;
  }

  function render() {
    const status = statusOf(room);
    const on = ON.includes(status);
    const host = isHost();
    const text = SIGN[status];
    sign.hidden = !(on || (host && status === "failed"));
    sign.dataset.status = status;
    sign.querySelector(".captions-sign-text").textContent = text || "";
    if (ccButton) ccButton.hidden = !on;
    if (!on) clearAll();
    if (!hostBox) return;
    hostBox.hidden = !host || !config.url;
    if (asked && (on === asked.enabled || Date.now() > asked.until)) asked = null;
    hostButton.dataset.status = status;
    hostButton.disabled = Boolean(asked);
    hostButton.textContent = asked
      ? asked.enabled ? "Turning captions on…" : "Turning captions off…"
      : on ? "Turn captions off" : "Turn captions on";
    hostState.textContent = HOST_STATE[status];
  }

  // A host asks the app; the switch and the sign follow the room's metadata once it changes.
  async function askToggle() {
    if (asked) return;
    const enabled = !ON.includes(statusOf(room));
    asked = { enabled, until: Date.now() + ASK_MS };
    hostError.hidden = true;
    render();
    try {
      await api(config.url, { body: { enabled }, fallback: "Captions could not be changed right now." });
      setTimeout(render, ASK_MS + 100);
    } catch (error) {
      asked = null;
      hostError.textContent = error.message;
      hostError.hidden = false;
      if (!$("settings")?.open) showNotice(error.message); // closed meanwhile: told anyway
    }
    render();
  }

  function forget(id) {
    const entry = segments.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    segments.delete(id);
    entry.node.classList.add("fading");
    setTimeout(() => {
      entry.node.remove();
      if (!lines.childElementCount) overlay.hidden = true;
    }, FADE_MS);
  }

  function draw(id, speaker, text, final) {
    let entry = segments.get(id);
    if (!text.trim()) return final && forget(id);
    if (!entry) {
      const node = element("p", { className: "caption" });
      node.append(element("span", { className: "caption-speaker" }), " ", element("span", { className: "caption-text" }));
      node.dataset.segment = id;
      entry = { node };
      segments.set(id, entry);
      lines.append(node);
      while (lines.childElementCount > ENTRIES) {
        const oldest = lines.firstElementChild;
        segments.delete(oldest.dataset.segment);
        oldest.remove();
      }
    }
    entry.node.querySelector(".caption-speaker").textContent = speaker;
    entry.node.dataset.final = String(final);
    overlay.hidden = false;
    entry.text = text.trim();
    fit(entry.node, entry.text);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => forget(id), final ? LINGER_MS : STALE_MS);
  }

  // The speaker's name and the newest words in two lines: earlier words give way ("…").
  function fit(node, text) {
    const span = node.querySelector(".caption-text");
    const most = 2 * parseFloat(getComputedStyle(lines).lineHeight) + 1;
    const words = text.split(/\s+/);
    span.textContent = text;
    while (node.offsetHeight > most && words.length > 1) {
      words.shift();
      span.textContent = `…${words.join(" ")}`;
    }
  }

  // A phone turned or a window resized wraps the lines anew: fit them again, once a frame.
  let refit = 0;
  addEventListener("resize", () => {
    cancelAnimationFrame(refit);
    refit = requestAnimationFrame(() => segments.forEach((entry) => fit(entry.node, entry.text)));
  });

  function speak(speaker, text) {
    spoken.append(element("p", { textContent: `${speaker}: ${text.trim()}` }));
    while (spoken.childElementCount > SPOKEN) spoken.firstElementChild.remove();
  }

  async function receive(reader, { identity }) {
    const attributes = reader.info.attributes || {};
    const id = attributes["lk.segment_id"] || reader.info.id;
    const final = attributes["lk.transcription_final"] === "true";
    const speaker = speakerOf(room, identity, attributes["lk.transcribed_track_id"]);
    let text = "";
    try {
      for await (const chunk of reader) {
        text += chunk;
        if (!final && shouldDraw(id)) draw(id, speaker, text, false);
      }
    } catch {
      return; // the stream broke off: its segment comes again or fades
    }
    if (!shouldDraw(id)) return;
    draw(id, speaker, text, final);
    if (final) {
      finished.add(id);
      if (finished.size > 500) finished.delete(finished.values().next().value);
      if (text.trim()) speak(speaker, text);
    }
  }

  const shouldDraw = (id) => prefs().shown && ON.includes(statusOf(room)) && !finished.has(id);

  function onLocalChange(_previous, participant) {
    if (participant === room.localParticipant) render();
  }

  function toggleShown() {
    const shown = !prefs().shown;
    savePrefs({ shown });
    applyPrefs();
    showNotice(shown ? "Captions shown." : "Captions hidden for you. Others still see them.");
  }

  function changeSize() {
    savePrefs({ size: sizeSelect.value });
    applyPrefs();
  }

  room.registerTextStreamHandler(TOPIC, receive);
  room.on(EVENTS.RoomMetadataChanged, render);
  room.on(EVENTS.ParticipantMetadataChanged, onLocalChange);
  ccButton?.addEventListener("click", toggleShown);
  sizeSelect?.addEventListener("change", changeSize);
  hostButton?.addEventListener("click", askToggle);
  if (settings) settings.hidden = false;
  applyPrefs();
  render();

  function remove() {
    room.unregisterTextStreamHandler(TOPIC);
    room.off(EVENTS.RoomMetadataChanged, render);
    room.off(EVENTS.ParticipantMetadataChanged, onLocalChange);
    ccButton?.removeEventListener("click", toggleShown);
    sizeSelect?.removeEventListener("change", changeSize);
    hostButton?.removeEventListener("click", askToggle);
    clearAll();
    [sign, overlay, spoken].forEach((node) => node.remove());
    if (ccButton) ccButton.hidden = true;
    if (settings) settings.hidden = true;
  }
  room.once(EVENTS.Disconnected, remove);
  return remove;
}

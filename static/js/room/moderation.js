// Host controls, loaded for hosts and co-hosts once connected: the lobby queue, per-person
// actions in the People panel, and meeting-wide actions. Every button calls the REST API;
// the server checks the caller's role, acts through LiveKit and writes the audit log. The
// page shows what the server answered, never what it hoped for.
import { api } from "../api.js";
import { $, batched, h } from "./dom.js";
import { setHand } from "./hands.js";
import { LK, everyone, isLocal, metadataOf, nameOf, page, session } from "./session.js";

const LOBBY_POLL_MS = 2000;
let notify = () => {};

// A meeting action: `path` is relative to the meeting's API (…/meetings/<slug>/<path>).
const call = (path, options) => api(page.tokenUrl.replace(/tokens$/, path), { fallback: "The action failed.", ...options });

// A button that runs one API action: disabled while it runs, then the server's answer.
// `path` may be a function, for a button whose action depends on the current state.
function actionButton(label, path, done, { danger, aria, confirm, body, before } = {}) {
  const button = h("button", { type: "button", class: `button button-small${danger ? " button-danger" : ""}`, "aria-label": aria }, label);
  button.addEventListener("click", async () => {
    if (confirm && !window.confirm(confirm)) return;
    before?.(); // runs before the call: the room may close before the answer arrives
    button.disabled = true;
    try {
      const answer = await call(typeof path === "function" ? path() : path, { body });
      notify(done(answer));
    } catch (error) {
      notify(error.message);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// ---- per person, in the People panel ------------------------------------------------------

function participantActions(row, participant, room) {
  const holder = row.querySelector(".participant-actions");
  if (!holder || participant === room.localParticipant) return;
  const who = nameOf(participant);
  const path = (action) => `participants/${encodeURIComponent(participant.identity)}/${action}`;
  const meta = metadataOf(participant);
  const buttons = [];
  const mainHost = metadataOf(room).host_identity;
  if (meta.role === "host" && participant.identity !== mainHost && participant.identity.startsWith("u-")) {
    buttons.push(actionButton("Take co-host role", path("revoke_co_host"), () => `${who} is no longer a co-host.`, { aria: `Take ${who}'s co-host role` }));
  }
  if (meta.role !== "host") {
    buttons.push(
      participant.isMicrophoneEnabled
        ? actionButton("Mute", path("mute"), () => `${who} is muted.`, { aria: `Mute ${who}`, body: { source: "microphone" } })
        : actionButton("Ask to unmute", path("ask_unmute"), () => `${who} was asked to unmute.`, { aria: `Ask ${who} to unmute` }),
    );
    if (participant.isCameraEnabled) {
      buttons.push(actionButton("Stop video", path("mute"), () => `${who}'s camera is off.`, { aria: `Stop ${who}'s camera`, body: { source: "camera" } }));
    }
    if (page.webinar) {
      const [action, label, now] = meta.speaker ? ["demote", "Make attendee", "an attendee"] : ["promote", "Make speaker", "a speaker"];
      buttons.push(actionButton(label, path(action), () => `${who} is now ${now}.`, { aria: `${label}: ${who}` }));
    }
    if (participant.identity.startsWith("u-")) {
      buttons.push(actionButton("Make co-host", path("make_co_host"), () => `${who} is now a co-host.`, { aria: `Make ${who} a co-host` }));
    }
    buttons.push(
      actionButton("Remove", path("remove"), (answer) => `${who} was removed.${answer.guests_wait ? " Guests now wait in the lobby for the rest of this meeting." : ""}`, {
        danger: true,
        aria: `Remove ${who}`,
        confirm: `Remove ${who} from this meeting? They cannot rejoin it.`,
      }),
    );
  }
  holder.replaceChildren(...buttons);
}

// ---- raised hands: the queue in the People panel, oldest first ------------------------------

const raisedAt = (p) => Date.parse(p.attributes.hand) || Infinity; // a garbled time goes last

function lowerHand(participant) {
  if (isLocal(participant)) return setHand(false);
  call(`participants/${encodeURIComponent(participant.identity)}/lower_hand`).catch(() =>
    notify(`${nameOf(participant)}'s hand could not be lowered. Try again.`),
  );
}

// Returns the function that takes the queue away again.
function watchHands(room) {
  const [queue, list, badge] = ["hand-queue", "hand-list", "hands-count"].map($);
  let stopped = false;
  const render = batched(() => {
    if (stopped) return;
    const raised = everyone(room).filter((p) => p.attributes.hand).sort((a, b) => raisedAt(a) - raisedAt(b));
    queue.hidden = badge.hidden = !raised.length;
    badge.textContent = raised.length;
    list.replaceChildren(
      ...raised.map((p) =>
        h(
          "li",
          {},
          h("span", { class: "hand-name" }, nameOf(p)),
          h("button", { type: "button", class: "button button-small", "aria-label": `Lower ${nameOf(p)}'s hand`, onclick: () => lowerHand(p) }, "Lower"),
        ),
      ),
    );
  });
  const onAttributes = (changed, participant) => {
    if (changed.hand && !isLocal(participant)) notify(`${nameOf(participant)} raised their hand`);
    render();
  };
  // Someone may arrive with a hand already up.
  const E = LK.RoomEvent;
  const listeners = [[E.ParticipantAttributesChanged, onAttributes], [E.ParticipantConnected, render], [E.ParticipantDisconnected, render]];
  listeners.forEach(([event, listener]) => room.on(event, listener));
  render();
  return () => {
    stopped = true;
    listeners.forEach(([event, listener]) => room.off(event, listener));
    queue.hidden = badge.hidden = true;
  };
}

// ---- the host section at the top of the People panel ---------------------------------------

function buildPanel(state) {
  const lock = actionButton("Lock meeting", () => (state.locked ? "unlock" : "lock"), () => {
    setLocked(state, !state.locked);
    return state.locked ? "The meeting is locked: nobody new can join." : "The meeting is open again.";
  });
  lock.id = "lock-toggle";
  state.lockButton = lock;
  const section = h(
    "section",
    { id: "host-panel", class: "host-panel", "aria-label": "Host controls" },
    h(
      "div",
      { class: "host-actions" },
      actionButton("Mute all", "mute_all", (answer) => `Muted ${answer.muted} microphone(s).`),
      lock,
      actionButton("End for all", "end", () => "Ending the meeting…", {
        danger: true,
        confirm: "End the meeting for everyone?",
        before: () => (session.endedHere = true),
      }),
    ),
    h(
      "section",
      { class: "lobby", "aria-labelledby": "lobby-title", hidden: !page.lobby },
      h("h3", { id: "lobby-title" }, "Lobby ", h("span", { class: "badge", id: "lobby-count" }, "0")),
      h(
        "p",
        { class: "guests-wait", hidden: true },
        "Guests wait here since you removed someone. ",
        actionButton("Let guests in directly", "guest_lobby", () => "Guests join directly again.", { body: { on: false } }),
      ),
      h("p", { class: "muted lobby-empty" }, "Nobody is waiting."),
      h("ul", { class: "lobby-list", "aria-live": "polite" }),
      h("div", { class: "lobby-bulk", hidden: true }),
    ),
    h("p", { class: "visually-hidden", id: "lobby-announcer", "aria-live": "assertive" }),
  );
  return section;
}

function setLocked(state, locked) {
  state.locked = locked;
  state.lockButton.textContent = locked ? "Unlock meeting" : "Lock meeting";
  state.lockButton.setAttribute("aria-pressed", String(locked));
}

const waited = (seconds) => (seconds < 60 ? "just now" : `${Math.floor(seconds / 60)} min`);
const admitButton = (person) =>
  actionButton("Admit", `lobby/${person.id}/admit`, () => `${person.display_name} is coming in.`, { aria: `Admit ${person.display_name}` });

function renderLobby(panel, items) {
  $("lobby-count").textContent = String(items.length);
  panel.querySelector(".lobby-empty").hidden = items.length > 0;
  panel.querySelector(".lobby-list").replaceChildren(
    ...items.map((person, index) =>
      h(
        "li",
        { "data-lobby-id": person.id },
        h("span", { class: "lobby-name" }, `${index + 1}. ${person.display_name}`),
        h("span", { class: "muted" }, `${person.signed_in ? "signed in · " : ""}waiting ${waited(person.waiting_seconds)}`),
        admitButton(person),
        actionButton("Deny", `lobby/${person.id}/deny`, () => `${person.display_name} was turned away.`, {
          danger: true,
          aria: `Deny ${person.display_name}`,
        }),
      ),
    ),
  );
  const bulk = panel.querySelector(".lobby-bulk");
  bulk.hidden = items.length < 2;
  const all = h("button", { type: "button", class: "button button-small" }, "Admit all");
  all.addEventListener("click", async () => {
    all.disabled = true;
    for (const person of items) await call(`lobby/${person.id}/admit`).catch((error) => notify(error.message));
  });
  bulk.replaceChildren(all);
}

// While the People panel is closed, arrivals show over the stage with an Admit button.
function renderToast(toast, items) {
  toast.hidden = items.length === 0 || !$("people-panel").hidden;
  if (toast.hidden) return;
  const [first] = items;
  const text = items.length === 1 ? `${first.display_name} is waiting to join` : `${items.length} people are waiting to join`;
  const admit = items.length === 1 ? [admitButton(first)] : [];
  admit.forEach((button) => button.classList.add("button-primary"));
  const open = h("button", { type: "button", class: "button button-small", onclick: () => $("toggle-people").click() }, "See lobby");
  toast.replaceChildren(h("span", {}, text), ...admit, open);
}

// A short two-tone chime: someone is at the door even when the host looks elsewhere.
function chime() {
  try {
    const audio = new AudioContext();
    const gain = audio.createGain();
    gain.gain.value = 0.08;
    gain.connect(audio.destination);
    [880, 660].forEach((frequency, index) => {
      const tone = audio.createOscillator();
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(audio.currentTime + index * 0.15);
      tone.stop(audio.currentTime + index * 0.15 + 0.12);
    });
    setTimeout(() => audio.close(), 600);
  } catch {
    // No audio output: the badge, the notice and the announcement still tell the host.
  }
}

function watchLobby(panel, state) {
  const seen = new Set();
  async function poll() {
    try {
      const answer = await call("lobby", { method: "GET" });
      const arrivals = answer.items.filter((person) => !seen.has(person.id));
      arrivals.forEach((person) => seen.add(person.id));
      if (arrivals.length) {
        chime();
        $("lobby-announcer").textContent = `${arrivals.map((person) => person.display_name).join(", ")} waiting in the lobby`;
      }
      renderLobby(panel, answer.items);
      renderToast(state.toast, answer.items);
      if (answer.locked !== state.locked) setLocked(state, answer.locked);
      panel.querySelector(".guests-wait").hidden = !answer.guests_wait;
      panel.querySelector(".lobby").hidden = !page.lobby && !answer.guests_wait;
    } catch {
      // Asked again on the next tick; the connection banner covers network loss.
    }
    if (!state.stopped) state.timer = setTimeout(poll, LOBBY_POLL_MS);
  }
  poll();
}

function addStylesheet() {
  if ($("moderation-css")) return;
  const href = new URL("../../css/moderation.css", import.meta.url).href;
  document.head.append(h("link", { id: "moderation-css", rel: "stylesheet", href }));
}

// Called by the room page for hosts and co-hosts once connected.
export function install({ room, setRowActions, showNotice }) {
  notify = showNotice || notify;
  addStylesheet();
  const state = { locked: false, timer: null, toast: h("div", { class: "lobby-toast", role: "status", hidden: true }) };
  const panel = buildPanel(state);
  $("people-panel").querySelector(".panel-head").after(panel);
  ($("stage") || document.body).append(state.toast);
  watchLobby(panel, state);
  setRowActions(participantActions);
  const stopHands = watchHands(room);
  const uninstall = () => {
    state.stopped = true;
    clearTimeout(state.timer);
    panel.remove();
    state.toast.remove();
    setRowActions(null);
    stopHands();
  };
  room.once("disconnected", uninstall);
  return uninstall;
}

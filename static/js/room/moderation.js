// Host controls in the meeting: the lobby queue, per-person actions and meeting-wide actions.
// Loaded only for hosts and co-hosts. Every button calls the REST API; the server checks the
// caller's role, acts through LiveKit and writes the audit log. The page never pretends: it
// shows what the server answered.
import { csrfToken } from "../common.js";

const LOBBY_POLL_MS = 2000;
const pageData = JSON.parse(document.getElementById("page-data").textContent);
const apiBase = pageData.tokenUrl.replace(/\/tokens$/, "");

let notify = () => {};

async function call(path, body = {}) {
  const response = await fetch(`${apiBase}/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  }).catch(() => null);
  if (!response) throw new Error("The app is not reachable. Check your connection.");
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((answer.error && answer.error.message) || "The action failed.");
  return answer;
}

// Run an action from a button: busy while it runs, the server's message if it fails.
async function act(button, path, body, done) {
  button.disabled = true;
  try {
    const answer = await call(path, body);
    if (done) notify(done(answer));
  } catch (error) {
    notify(error.message);
  } finally {
    button.disabled = false;
  }
}

function button(label, onClick, { danger = false, ariaLabel } = {}) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = `button button-small${danger ? " button-danger" : ""}`;
  node.textContent = label;
  if (ariaLabel) node.setAttribute("aria-label", ariaLabel);
  node.addEventListener("click", () => onClick(node));
  return node;
}

function metadataOf(participant) {
  try {
    return JSON.parse(participant.metadata || "{}") || {};
  } catch {
    return {};
  }
}

// ---- per person -----------------------------------------------------------------------

function participantActions(row, participant, room) {
  const holder = row.querySelector(".participant-actions");
  if (!holder || participant === room.localParticipant) return;
  holder.replaceChildren();
  const who = participant.name || participant.identity;
  const path = (action) => `participants/${encodeURIComponent(participant.identity)}/${action}`;
  const meta = metadataOf(participant);
  if (meta.role === "host") return; // hosts are not moderated by other hosts
  if (participant.isMicrophoneEnabled) {
    holder.append(
      button("Mute", (b) => act(b, path("mute"), { source: "microphone" }, () => `${who} is muted.`), {
        ariaLabel: `Mute ${who}`,
      }),
    );
  } else {
    holder.append(
      button("Ask to unmute", (b) => act(b, path("ask_unmute"), {}, () => `${who} was asked to unmute.`), {
        ariaLabel: `Ask ${who} to unmute`,
      }),
    );
  }
  if (participant.isCameraEnabled) {
    holder.append(
      button("Stop video", (b) => act(b, path("mute"), { source: "camera" }, () => `${who}'s camera is off.`), {
        ariaLabel: `Stop ${who}'s camera`,
      }),
    );
  }
  if (pageData.webinar) {
    const speaker = Boolean(meta.speaker);
    const action = speaker ? "demote" : "promote";
    const label = speaker ? "Make attendee" : "Make speaker";
    holder.append(
      button(label, (b) => act(b, path(action), {}, () => `${who} is now ${speaker ? "an attendee" : "a speaker"}.`), {
        ariaLabel: `${label}: ${who}`,
      }),
    );
  }
  if (participant.identity.startsWith("u-")) {
    holder.append(
      button("Make co-host", (b) => act(b, path("make_co_host"), {}, () => `${who} is now a co-host.`), {
        ariaLabel: `Make ${who} a co-host`,
      }),
    );
  }
  holder.append(
    button(
      "Remove",
      (b) => {
        if (window.confirm(`Remove ${who} from this meeting? They cannot rejoin it.`)) {
          act(b, path("remove"), {}, () => `${who} was removed.`);
        }
      },
      { danger: true, ariaLabel: `Remove ${who}` },
    ),
  );
}

// ---- the host panel: lobby and meeting-wide actions --------------------------------------

// The host section sits at the top of the People panel, where the people it acts on are.
function buildPanel() {
  const panel = document.createElement("section");
  panel.id = "host-panel";
  panel.className = "host-panel";
  panel.setAttribute("aria-label", "Host controls");
  panel.innerHTML = `
    <div class="host-actions"></div>
    <section class="lobby" aria-labelledby="lobby-title">
      <h3 id="lobby-title">Lobby <span class="badge" id="lobby-count">0</span></h3>
      <p class="muted lobby-empty">Nobody is waiting.</p>
      <ul class="lobby-list" aria-live="polite"></ul>
      <div class="lobby-bulk" hidden></div>
    </section>
    <p class="visually-hidden" id="lobby-announcer" aria-live="assertive"></p>`;
  return panel;
}

// While the People panel is closed, arrivals show up over the stage with an Admit button.
function buildToast() {
  const toast = document.createElement("div");
  toast.className = "lobby-toast";
  toast.setAttribute("role", "status");
  toast.hidden = true;
  return toast;
}

function renderToast(toast, items) {
  const peopleOpen = !document.getElementById("people-panel")?.hidden;
  toast.hidden = items.length === 0 || peopleOpen;
  if (toast.hidden) return;
  const first = items[0];
  const text = document.createElement("span");
  text.textContent =
    items.length === 1 ? `${first.display_name} is waiting to join` : `${items.length} people are waiting to join`;
  const admit = button("Admit", (b) => act(b, `lobby/${first.id}/admit`, {}, () => `${first.display_name} is coming in.`), {
    ariaLabel: `Admit ${first.display_name}`,
  });
  admit.classList.add("button-primary");
  const open = button("See lobby", () => document.getElementById("toggle-people")?.click());
  toast.replaceChildren(text, ...(items.length === 1 ? [admit] : []), open);
}

function meetingActions(panel, state) {
  const holder = panel.querySelector(".host-actions");
  const lock = button("Lock meeting", (b) =>
    act(b, state.locked ? "unlock" : "lock", {}, () => {
      state.locked = !state.locked;
      renderLock(lock, state.locked);
      return state.locked ? "The meeting is locked: nobody new can join." : "The meeting is open again.";
    }),
  );
  lock.id = "lock-toggle";
  state.renderLock = (locked) => renderLock(lock, locked);
  holder.append(
    button("Mute all", (b) => act(b, "mute_all", {}, (answer) => `Muted ${answer.muted} microphone(s).`)),
    lock,
    button(
      "End for all",
      (b) => {
        if (window.confirm("End the meeting for everyone?")) act(b, "end", {}, () => "Ending the meeting…");
      },
      { danger: true },
    ),
  );
}

function renderLock(lockButton, locked) {
  lockButton.textContent = locked ? "Unlock meeting" : "Lock meeting";
  lockButton.setAttribute("aria-pressed", String(locked));
}

function waitedFor(seconds) {
  if (seconds < 60) return "just now";
  return `${Math.floor(seconds / 60)} min`;
}

function renderLobby(panel, items) {
  const list = panel.querySelector(".lobby-list");
  panel.querySelector("#lobby-count").textContent = String(items.length);
  panel.querySelector(".lobby-empty").hidden = items.length > 0;
  panel.classList.toggle("has-waiting", items.length > 0);
  list.replaceChildren(
    ...items.map((person, index) => {
      const item = document.createElement("li");
      item.dataset.lobbyId = person.id;
      const name = document.createElement("span");
      name.className = "lobby-name";
      name.textContent = `${index + 1}. ${person.display_name}`;
      const waited = document.createElement("span");
      waited.className = "muted";
      waited.textContent = `${person.signed_in ? "signed in · " : ""}waiting ${waitedFor(person.waiting_seconds)}`;
      const admit = button("Admit", (b) => act(b, `lobby/${person.id}/admit`, {}, () => `${person.display_name} is coming in.`), {
        ariaLabel: `Admit ${person.display_name}`,
      });
      const deny = button("Deny", (b) => act(b, `lobby/${person.id}/deny`, {}, () => `${person.display_name} was turned away.`), {
        danger: true,
        ariaLabel: `Deny ${person.display_name}`,
      });
      item.append(name, waited, admit, deny);
      return item;
    }),
  );
  const bulk = panel.querySelector(".lobby-bulk");
  bulk.hidden = items.length < 2;
  bulk.replaceChildren(
    button("Admit all", async (b) => {
      b.disabled = true;
      for (const person of items) await call(`lobby/${person.id}/admit`).catch((error) => notify(error.message));
      b.disabled = false;
    }),
  );
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
    // No audio output: the badge and the announcement still tell the host.
  }
}

function watchLobby(panel, state) {
  const seen = new Set();
  async function poll() {
    try {
      const response = await fetch(`${apiBase}/lobby`, { credentials: "same-origin" });
      if (response.ok) {
        const answer = await response.json();
        const arrivals = answer.items.filter((person) => !seen.has(person.id));
        arrivals.forEach((person) => seen.add(person.id));
        if (arrivals.length) {
          chime();
          panel.querySelector("#lobby-announcer").textContent =
            `${arrivals.map((person) => person.display_name).join(", ")} waiting in the lobby`;
        }
        renderLobby(panel, answer.items);
        renderToast(state.toast, answer.items);
        if (answer.locked !== state.locked) {
          state.locked = answer.locked;
          state.renderLock(state.locked);
        }
      }
    } catch {
      // Polling resumes on the next tick; the connection banner covers network loss.
    }
    state.timer = setTimeout(poll, LOBBY_POLL_MS);
  }
  poll();
}

function addStylesheet() {
  if (document.getElementById("moderation-css")) return;
  const link = document.createElement("link");
  link.id = "moderation-css";
  link.rel = "stylesheet";
  link.href = new URL("../../css/moderation.css", import.meta.url).href;
  document.head.append(link);
}

// Called by the room page for hosts and co-hosts once connected.
export function install({ room, onParticipantRow, showNotice }) {
  notify = showNotice || notify;
  addStylesheet();
  const state = { locked: false, timer: null, toast: buildToast() };
  const panel = buildPanel();
  const people = document.getElementById("people-panel");
  people.querySelector(".panel-head").after(panel);
  (document.getElementById("stage") || document.body).append(state.toast);
  meetingActions(panel, state);
  // Without a lobby nobody queues; the section would only say so forever.
  panel.querySelector(".lobby").hidden = !pageData.lobby;
  watchLobby(panel, state);
  onParticipantRow(participantActions);
  room.once("disconnected", () => {
    clearTimeout(state.timer);
    panel.remove();
    state.toast.remove();
  });
}

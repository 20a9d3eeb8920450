// Chat: reliable data messages on topic "chat". Messages are plain text: the page builds
// them with text nodes, and only http(s) addresses become links (rel=noopener). The sender's
// name comes from their LiveKit identity, never from the message itself.
import { $, h, show } from "./dom.js";
import { onData, send } from "./data.js";
import { isOpen, onPanelChange } from "./panels.js";
import { nameOf, session } from "./session.js";

const MAX_CHARS = 2000;
const [log, empty, form, input, note, badge] = ["log", "empty", "form", "input", "note", "unread"].map((id) => $(`chat-${id}`));
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
let unread = 0;

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'")\]]+$/; // "see https://x.org." ends the sentence, not the link

function safeHref(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// Text and <a> nodes for one message.
function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const address = match[0].replace(TRAILING_PUNCTUATION, "");
    const href = safeHref(address);
    if (!href) continue;
    nodes.push(text.slice(last, match.index), h("a", { href, target: "_blank", rel: "noopener noreferrer" }, address));
    last = match.index + address.length;
  }
  nodes.push(text.slice(last));
  return nodes.filter((node) => node !== "");
}

const length = (text) => [...text].length; // characters as people count them, not UTF-16 units

function addMessage(name, text, mine) {
  const now = new Date();
  const meta = h(
    "p",
    { class: "message-meta" },
    h("span", { class: "message-name", title: name }, mine ? `${name} (you)` : name),
    h("time", { datetime: now.toISOString() }, clock.format(now)),
  );
  log.append(h("div", { class: mine ? "message mine" : "message" }, meta, h("p", { class: "message-text" }, ...linkify(text))));
  show(empty, false);
  log.scrollTop = log.scrollHeight;
  if (!mine && !isOpen("chat")) setUnread(unread + 1);
}

function setUnread(count) {
  unread = count;
  badge.replaceChildren(String(count), h("span", { class: "visually-hidden" }, " unread"));
  show(badge, count > 0);
}

function setNote(text = "") {
  note.textContent = text;
  show(note, Boolean(text));
}

function tooLong(text) {
  const count = length(text);
  if (count > MAX_CHARS) setNote(`Messages can be at most 2,000 characters; this one has ${count.toLocaleString()}.`);
  return count > MAX_CHARS;
}

async function submit(event) {
  event.preventDefault();
  const text = input.value.trim();
  const room = session.room;
  if (!text || !room || tooLong(text)) return;
  try {
    await send(room, "chat", { type: "chat", text });
  } catch {
    return setNote("Your message could not be sent. Check your connection and try again.");
  }
  setNote();
  input.value = "";
  addMessage(nameOf(room.localParticipant), text, true);
}

form.addEventListener("submit", submit);
input.addEventListener("input", () => {
  if (!tooLong(input.value.trim())) setNote();
});
// Enter sends, Shift+Enter starts a new line, as in every chat people know.
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
onPanelChange((name, open) => {
  if (name === "chat" && open) {
    setUnread(0);
    input.focus();
  }
});

onData("chat", (payload, sender) => {
  if (typeof payload.text !== "string") return;
  const text = payload.text.trim();
  if (!text || length(text) > MAX_CHARS) return; // others' pages enforce the same limit
  addMessage(sender ? nameOf(sender) : "Meeting", text, false);
});

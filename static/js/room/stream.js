// Live streaming in the meeting room: the "Live" sign by the meeting's title for everyone
// while the meeting streams, and for hosts the Live stream part of Settings: RTMP
// destinations (one per line, as YouTube or Twitch show them), the watch page, Start and
// Stop, and each output's state, a failure's reason included.
//
// The sign follows the room's metadata ({"stream": "live"}), which the app sets. Loaded on
// demand by main.js: for hosts, and for everyone once the metadata says the meeting streams.
import { api } from "../api.js";
import { $, h } from "./dom.js";
import { LK, metadataOf, page, session } from "./session.js";

const ON = ["starting", "live"];
const STATE = {
  starting: "Starting: the stream goes out in a few seconds.",
  live: "Live.",
  ended: "Not streaming.",
  failed: "The stream stopped.",
};
const POLL_MS = 4000;
const installed = new WeakSet();

function addStylesheet() {
  if ($("stream-css")) return;
  document.head.append(h("link", { id: "stream-css", rel: "stylesheet", href: new URL("../../css/stream.css", import.meta.url).href }));
}

function buildSign() {
  const dot = h("span", { class: "rec-dot", "aria-hidden": "true" });
  return h("span", { id: "live-indicator", class: "live-indicator", role: "status", hidden: true }, dot, "Live");
}

// The hosts' part of Settings; its labels are tied to their fields for screen readers.
function buildHostPanel() {
  const placeholder = "rtmp://a.rtmp.youtube.com/live2/your-stream-key";
  const watchLink = h("a", { href: `/w/${encodeURIComponent(page.slug)}`, target: "_blank" }, "the watch page");
  const button = (id, text, hidden) => h("button", { type: "button", id, class: "button button-small", hidden }, text);
  return h(
    "fieldset",
    { id: "stream-settings", class: "stream-settings" },
    h("legend", {}, "Live stream"),
    h("p", { id: "stream-state", class: "hint" }, STATE.ended),
    h("ul", { id: "stream-outputs", class: "stream-outputs" }),
    h("label", { for: "stream-urls" }, "RTMP destinations, one per line"),
    h("textarea", { id: "stream-urls", class: "input", rows: 2, spellcheck: "false", placeholder }),
    h("div", { class: "switch" }, h("input", { type: "checkbox", id: "stream-watch", checked: true }),
      h("label", { for: "stream-watch" }, "Also on ", watchLink)),
    button("stream-start", "Start streaming", false),
    button("stream-stop", "Stop streaming", true),
    h("p", { id: "stream-error", class: "error", role: "alert", hidden: true }),
  );
}

const describe = (output) => {
  const where = output.kind === "hls" ? "Watch page" : output.destination;
  return output.status === "failed" ? `${where}: failed: ${output.reason}` : `${where}: ${output.status}`;
};

// Called by main.js once per room (again is a no-op); returns a function that removes it.
export function install(room) {
  if (installed.has(room)) return () => {};
  installed.add(room);
  addStylesheet();
  const sign = buildSign();
  document.querySelector(".room-title")?.append(sign);
  const isHost = () => session.ticket?.role === "host";
  const url = `/api/v1/meetings/${encodeURIComponent(page.slug)}/streams`;
  let panel = null;
  let polling = null;

  function showError(message) {
    $("stream-error").textContent = message;
    $("stream-error").hidden = !message;
  }

  function showStream(stream) {
    const on = Boolean(stream && ON.includes(stream.status));
    const failed = stream?.status === "failed";
    $("stream-state").textContent = stream ? STATE[stream.status] + (failed && stream.reason ? ` ${stream.reason}` : "") : STATE.ended;
    const shown = on || failed ? stream.outputs : [];
    $("stream-outputs").replaceChildren(...shown.map((o) => h("li", {}, describe(o))));
    $("stream-start").hidden = on;
    $("stream-stop").hidden = !on;
    $("stream-urls").disabled = on;
    $("stream-watch").disabled = on;
    // Outputs change without the room's metadata (one fails, the watch page goes live).
    clearTimeout(polling);
    if (on) polling = setTimeout(refresh, POLL_MS);
  }

  async function refresh() {
    if (!panel) return;
    try {
      const { streams } = await api(url, { method: "GET" });
      showStream(streams[0]);
    } catch (error) {
      showError(error.message);
    }
  }

  async function ask(method, body) {
    showError("");
    const button = $(method === "POST" ? "stream-start" : "stream-stop");
    button.disabled = true;
    try {
      const { stream } = await api(url, { method, body, fallback: "The stream did not start." });
      if (method === "POST") $("stream-urls").value = ""; // keys stay off screen (a screen share)
      showStream(stream);
    } catch (error) {
      showError(error.message);
      refresh();
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    const rtmp_urls = $("stream-urls").value.split("\n").map((line) => line.trim()).filter(Boolean);
    ask("POST", { rtmp_urls, hls: $("stream-watch").checked });
  }

  function render() {
    const status = metadataOf(room).stream;
    sign.hidden = status !== "live";
    if (isHost() && !panel) {
      panel = buildHostPanel();
      $("settings")?.querySelector(".settings-form > .hint:last-of-type")?.before(panel);
      $("stream-start").addEventListener("click", start);
      $("stream-stop").addEventListener("click", () => ask("DELETE"));
    }
    if (panel) panel.hidden = !isHost();
    refresh();
  }

  room.on(LK.RoomEvent.RoomMetadataChanged, render);
  render();
  return () => {
    room.off(LK.RoomEvent.RoomMetadataChanged, render);
    clearTimeout(polling);
    sign.remove();
    panel?.remove();
  };
}

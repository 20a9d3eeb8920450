// The watch page: play the meeting's HLS stream (hls.js, or the browser's own HLS), and follow
// the stream's state: starting soon, live (with the number of people watching), ended.
const POLL_MS = 5000;
const data = JSON.parse(document.getElementById("page-data").textContent);
const $ = (id) => document.getElementById(id);
const video = $("watch-video");
let playing = null; // the playlist URL being played
let player = null;

const show = (state) => {
  $("watch").dataset.state = state.state;
  $("watch-player").hidden = state.state !== "live";
  $("watch-soon").hidden = state.state !== "soon";
  $("watch-ended").hidden = state.state !== "ended";
  $("watch-live").hidden = state.state !== "live";
  $("watch-viewers").textContent = state.state === "live" ? `${state.viewers} watching` : "";
};

const stop = () => {
  if (player) player.destroy();
  player = null;
  playing = null;
  video.removeAttribute("src");
};

const play = (playlist) => {
  if (playing === playlist) return;
  stop();
  playing = playlist;
  // hls.js's worker would need a blob: script, which the page's policy does not allow.
  if (window.Hls && window.Hls.isSupported()) {
    player = new window.Hls({ enableWorker: false, liveSyncDurationCount: 2 });
    player.on(window.Hls.Events.ERROR, (_event, error) => {
      if (error.fatal) fail("The stream could not be played. It is tried again in a moment.");
    });
    player.loadSource(playlist);
    player.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = playlist;
  } else {
    fail("This browser cannot play the stream. Try a current Firefox, Chrome, Edge or Safari.");
    return;
  }
  video.play().catch(() => {}); // muted autoplay; the controls are there otherwise
};

const fail = (message) => {
  $("watch-error").textContent = message;
  $("watch-error").hidden = false;
  stop();
};

const poll = async () => {
  try {
    const answer = await fetch(data.stateUrl, { headers: { Accept: "application/json" } });
    if (!answer.ok) throw new Error(`status ${answer.status}`);
    const state = await answer.json();
    show(state);
    if (state.state === "live") {
      $("watch-error").hidden = true;
      play(state.playlist);
    } else {
      stop();
    }
  } catch {
    // The next poll tries again; a page that cannot reach the server keeps what it shows.
  } finally {
    setTimeout(poll, POLL_MS);
  }
};

window.addEventListener("load", poll);

// "Not open yet": a live countdown, then a reload that shows the pre-join page. The page also
// reloads every half minute: a host who opens the meeting early lets everyone in.
const countdown = document.getElementById("countdown");

function pad(n) {
  return String(n).padStart(2, "0");
}

function tick() {
  const remaining = new Date(countdown.dataset.opensAt).getTime() - Date.now();
  if (remaining <= 0) {
    window.location.reload();
    return;
  }
  const seconds = Math.floor(remaining / 1000);
  const hours = Math.floor(seconds / 3600);
  const text = `${hours > 0 ? `${hours}:` : ""}${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  countdown.textContent = `Opens in ${text}`;
  setTimeout(tick, 1000 - (remaining % 1000));
}

const HOST_CHECK_MS = 30_000;

if (countdown) {
  tick();
  setTimeout(() => window.location.reload(), HOST_CHECK_MS);
}

// The scheduling form: the browser's time zone for new meetings, a zone list, and only the
// recurrence and access fields that apply.
const form = document.getElementById("meeting-form");
const isNew = form.dataset.new === "true";
const zoneInput = form.querySelector('input[name="time_zone"]');
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

if (isNew && (!zoneInput.value || zoneInput.value === "UTC")) zoneInput.value = browserZone;
if (Intl.supportedValuesOf) {
  const list = document.getElementById("time-zones");
  for (const zone of Intl.supportedValuesOf("timeZone")) list.append(new Option(zone));
}

const start = form.querySelector('input[name="starts_at"]');
if (isNew && !start.value) {
  const next = new Date();
  next.setSeconds(0, 0);
  next.setMinutes(next.getMinutes() < 30 ? 30 : 60);
  const pad = (n) => String(n).padStart(2, "0");
  start.value = `${next.getFullYear()}-${pad(next.getMonth() + 1)}-${pad(next.getDate())}T${pad(next.getHours())}:${pad(next.getMinutes())}`;
}

// The server reads the start time in the Time zone field's zone. Its hint says so, and
// when that zone is not the host's own, what the time is where the host is.
const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
const startHint = document.getElementById(`${start.id}-hint`);
const readIn = startHint.textContent;

// The instant a wall-clock time (as a UTC-based number) has in `zone`.
function instantIn(wall, zone) {
  const parts = (at) => new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23",
    year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })
    .formatToParts(at).reduce((all, { type, value }) => ({ ...all, [type]: Number(value) }), {});
  let guess = wall;
  for (let i = 0; i < 2; i++) { // twice: the offset may differ on either side of a change
    const p = parts(guess);
    guess = wall - (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - guess);
  }
  return new Date(guess);
}

function showStartElsewhere() {
  // A zone typed in another case ("europe/berlin") is the listed one.
  const typed = zones.find((zone) => zone.toLowerCase() === zoneInput.value.trim().toLowerCase());
  if (typed) zoneInput.value = typed;
  const [date, time] = start.value.split("T");
  startHint.textContent = readIn;
  if (!typed || !time || typed === browserZone) return;
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const at = instantIn(Date.UTC(year, month - 1, day, hour, minute), typed);
  const here = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(at);
  startHint.textContent = `Read in ${typed} time: ${here} where you are (${browserZone}).`;
}
zoneInput.addEventListener("change", showStartElsewhere);
start.addEventListener("input", showStartElsewhere);
showStartElsewhere();

const repeat = form.querySelector('select[name="repeat"]');
function showRelevant() {
  const access = form.querySelector('input[name="access"]:checked');
  const visible = {
    "data-show-when-repeat": repeat.value !== "",
    "data-show-when-weekly": repeat.value === "weekly",
    "data-show-when-invited": access && access.value === "invited",
  };
  for (const [attribute, on] of Object.entries(visible)) {
    for (const node of form.querySelectorAll(`[${attribute}]`)) node.hidden = !on;
  }
}
form.addEventListener("change", showRelevant);
showRelevant();

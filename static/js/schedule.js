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

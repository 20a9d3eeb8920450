// The scheduling form: send the browser's time zone, and suggest the next half hour.
const form = document.getElementById("meeting-form");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

form.querySelector('input[name="time_zone"]').value = zone;
for (const node of document.querySelectorAll("[data-time-zone]")) node.textContent = zone;

const start = form.querySelector('input[name="starts_at"]');
if (!start.value) {
  const next = new Date();
  next.setSeconds(0, 0);
  next.setMinutes(next.getMinutes() < 30 ? 30 : 60);
  const pad = (n) => String(n).padStart(2, "0");
  start.value = `${next.getFullYear()}-${pad(next.getMonth() + 1)}-${pad(next.getDate())}T${pad(next.getHours())}:${pad(next.getMinutes())}`;
}

// Attendance and dashboard pages: clock times (hours and minutes) in the reader's own time
// zone, which the page names once. The server renders them in UTC for readers without JS.

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

for (const node of document.querySelectorAll("time.clock")) {
  const when = new Date(node.getAttribute("datetime"));
  if (Number.isNaN(when.getTime())) continue;
  node.textContent = clock.format(when);
  node.title = when.toISOString();
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  for (const node of document.querySelectorAll(".time-zone")) node.textContent = zone;
}

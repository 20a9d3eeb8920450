// What every page does: local times, copy buttons, confirmations. Calls to the app's API
// go through api.js.

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});

// Times are rendered in UTC by the server and shown in the reader's own zone here.
function localiseTimes() {
  for (const node of document.querySelectorAll("time.local-time")) {
    const when = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    const format = { day: dayFormat, time: timeFormat }[node.dataset.format] || fullFormat;
    node.textContent = format.format(when);
    node.title = when.toISOString();
  }
}

function wireCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const original = button.textContent;
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Press Ctrl+C";
        const input = document.getElementById("join-link");
        if (input) input.select();
      }
      setTimeout(() => (button.textContent = original), 2000);
    });
  }
}

// Forms that destroy something ask first (the server does not depend on it).
function wireConfirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

localiseTimes();
wireCopyButtons();
wireConfirmations();

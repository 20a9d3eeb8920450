// "Copy encrypted link" for the hosts of end-to-end encrypted meetings (meeting page and
// dashboard). Each button names its meeting (data-slug) and its absolute link (data-link).
import { encryptedLink, keyFor, newKey, storeKey } from "./e2ee-keys.js";

async function copy(button, text) {
  const original = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    window.prompt("Copy the encrypted link:", text); // no clipboard access: the host copies it
  }
  setTimeout(() => (button.textContent = original), 2000);
}

for (const button of document.querySelectorAll("button[data-e2ee-copy]")) {
  const { slug, link } = button.dataset;
  button.addEventListener("click", () => copy(button, encryptedLink(link, keyFor(slug))));
}

// A new key: links with the old one stop working for whoever joins after.
for (const button of document.querySelectorAll("button[data-e2ee-new]")) {
  const { slug, link } = button.dataset;
  button.addEventListener("click", () => {
    const ask = "Make a new key? The encrypted link you shared before stops working for people who join after now; share the new link.";
    if (!window.confirm(ask)) return;
    copy(button, encryptedLink(link, storeKey(slug, newKey())));
  });
}

// The key is made as soon as a host sees the meeting, so the link copied later is the same.
for (const section of document.querySelectorAll("[data-e2ee-slug]")) keyFor(section.dataset.e2eeSlug);

// The keys of end-to-end encrypted meetings, as the host's browser keeps them. The key is made
// here and travels only in the link's fragment (#key=...), which browsers never send to a
// server: the app, its database and its logs never see it. This browser remembers it per
// meeting (localStorage) so its host can copy the link again; another browser has no key.

const storageKey = (slug) => `e2ee-key:${slug}`;

// 32 random bytes as base64url: 43 characters, safe in a URL fragment.
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function storedKey(slug) {
  try {
    const key = localStorage.getItem(storageKey(slug));
    return KEY_PATTERN.test(key || "") ? key : null;
  } catch {
    return null; // storage turned off: the host copies the link once, from this page
  }
}

export function storeKey(slug, key) {
  try {
    localStorage.setItem(storageKey(slug), key);
  } catch {
    // The key still works for this page; it is only not remembered.
  }
  return key;
}

// The key this browser has for the meeting, made now if it has none.
export const keyFor = (slug) => storedKey(slug) || storeKey(slug, newKey());

// `link` is the meeting's absolute link, from the server's PUBLIC_URL; only the fragment is ours.
export const encryptedLink = (link, key) => `${link.split("#")[0]}#key=${key}`;

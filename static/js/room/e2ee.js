// End-to-end encrypted meetings (page.e2ee); main.js imports this module before it makes any
// Room, and only in those meetings. The key comes from the link's fragment (#key=...), which
// the browser never sends to a server; it is removed from the address bar at once (a shared
// screen would show it) and kept in memory. Hosts' browsers also keep it per meeting
// (e2ee-keys.js), so a host can copy the encrypted link again and join from the meeting page.
//
// livekit-client 2.23.0 encrypts media and, with the Room's `encryption` option (not the
// deprecated `e2ee` one), data packets too: the chat, reactions and hands go out as
// `encryptedPacket`s (RTCEngine.sendDataPacket), so chat needs no encryption of its own; it
// gets a tag, below, that tells the meeting's messages from ones sent in clear.
import { $, show } from "./dom.js";
import { LK, isLocal, nameOf, onRoom, page } from "./session.js";
import { showBanner } from "./connection.js";
import { sealWith } from "./data.js";
import { KEY_PATTERN, encryptedLink, storeKey, storedKey } from "../e2ee-keys.js";

const fromLink = new URLSearchParams(location.hash.slice(1)).get("key");
if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
const linked = KEY_PATTERN.test(fromLink || "") ? fromLink : null;
const key = page.e2ee.host ? (linked ? storeKey(page.slug, linked) : storedKey(page.slug)) : linked;

if (!key) {
  // No key, no call: nothing to join, nothing garbled. main.js waits on this import forever.
  show($("prejoin"), false);
  show($("e2ee-no-key"));
  document.documentElement.dataset.e2ee = "no-key";
  $("e2ee-no-key-title").focus();
  await new Promise(() => {});
}
document.documentElement.dataset.e2ee = "on";

// livekit-client hands on data packets sent in clear (by a client with a ticket but no key) and
// reports the ones it decrypted as unencrypted too, so ours carry an HMAC made with the key;
// data.js drops participants' messages without a valid one.
const TAG_BYTES = 32;
const macKey = await crypto.subtle.importKey(
  "raw", new TextEncoder().encode(`meetings data messages:${key}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"],
);
sealWith({
  async sign(bytes) {
    const sealed = new Uint8Array(TAG_BYTES + bytes.length);
    sealed.set(new Uint8Array(await crypto.subtle.sign("HMAC", macKey, bytes)));
    sealed.set(bytes, TAG_BYTES);
    return sealed;
  },
  async open(bytes) {
    const [tag, body] = [bytes.subarray(0, TAG_BYTES), bytes.subarray(TAG_BYTES)];
    const valid = bytes.length > TAG_BYTES && (await crypto.subtle.verify("HMAC", macKey, tag, body).catch(() => false));
    return valid ? body : null;
  },
});

// A worker per Room (a rejoin makes a new one); the one of the Room before is done with.
let worker = null;
export function options() {
  worker?.terminate();
  worker = new Worker(page.e2ee.workerUrl, { type: "module" });
  return { encryption: { keyProvider: new LK.ExternalE2EEKeyProvider(), worker } };
}

// Before connecting: the key in (a string: PBKDF2, as the other SDKs derive it), then every
// track of ours encrypted.
export async function prepare(room) {
  await room.options.encryption.keyProvider.setKey(key);
  await room.setE2EEEnabled(true);
}

// Frames that do not decrypt are dropped by the worker (a frozen tile, never garbage): say why.
const mismatched = new Set();
onRoom((room) =>
  room.on(LK.RoomEvent.EncryptionError, (_error, participant) => {
    if (!participant || isLocal(participant) || mismatched.has(participant.identity)) return;
    mismatched.add(participant.identity);
    document.documentElement.dataset.e2ee = "key-mismatch";
    showBanner(
      `This link's key does not match ${nameOf(participant)}'s: you cannot see or hear each other. ` +
        "One of you has an old link; ask the host for the current encrypted link.",
      "error",
    );
  }),
);

const copy = $("e2ee-copy");
if (copy) {
  show(copy);
  copy.addEventListener("click", async () => {
    const link = encryptedLink(page.e2ee.link, key);
    await navigator.clipboard.writeText(link).then(
      () => (copy.textContent = "Copied"),
      () => window.prompt("Copy the encrypted link:", link),
    );
    setTimeout(() => (copy.textContent = "Copy encrypted link"), 2000);
  });
}

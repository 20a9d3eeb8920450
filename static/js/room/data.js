// Data messages between participants: JSON objects on a topic. Anything that is not a
// small JSON object is dropped here, and a handler that throws on odd input only loses
// that one message: a participant cannot break someone else's page by sending junk.
import { LK, onRoom } from "./session.js";

const MAX_BYTES = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const handlers = new Map(); // topic -> handler(payload, participant | undefined)

export function onData(topic, handler) {
  handlers.set(topic, handler);
}

// `to`: identities to address (everyone when empty). Lossy suits reactions: a late one is useless.
export function send(room, topic, payload, { reliable = true, to } = {}) {
  const bytes = encoder.encode(JSON.stringify(payload));
  return room.localParticipant.publishData(bytes, { reliable, topic, destinationIdentities: to });
}

export function decode(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_BYTES) return null;
  try {
    const payload = JSON.parse(decoder.decode(bytes));
    return payload && typeof payload === "object" && !Array.isArray(payload) ? payload : null;
  } catch {
    return null;
  }
}

onRoom((room) => {
  room.on(LK.RoomEvent.DataReceived, (bytes, participant, _kind, topic) => {
    const handler = handlers.get(topic);
    const payload = handler && decode(bytes);
    if (!payload) return;
    try {
      handler(payload, participant);
    } catch (error) {
      console.warn(`Ignored a "${topic}" message that could not be handled`, error);
    }
  });
});

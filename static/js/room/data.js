// Data messages between participants: a JSON object on a topic. Anything else is dropped,
// and a handler that throws loses only that message: junk from one participant cannot
// break anyone else's page.
import { LK, onRoom } from "./session.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const handlers = new Map(); // topic -> [handler(payload, sender or undefined for the server)]

export const onData = (topic, handler) => handlers.set(topic, [...(handlers.get(topic) || []), handler]);

// Lossy (reliable: false) suits reactions: a late one is worthless.
export function send(room, topic, payload, { reliable = true, to } = {}) {
  const bytes = encoder.encode(JSON.stringify(payload));
  return room.localParticipant.publishData(bytes, { reliable, topic, destinationIdentities: to });
}

function decode(bytes) {
  if (bytes.length > 16384) return null;
  try {
    const payload = JSON.parse(decoder.decode(bytes));
    return payload?.constructor === Object ? payload : null;
  } catch {
    return null;
  }
}

onRoom((room) =>
  room.on(LK.RoomEvent.DataReceived, (bytes, sender, _kind, topic) => {
    const listeners = handlers.get(topic) || [];
    const payload = listeners.length && decode(bytes);
    for (const handler of payload ? listeners : []) {
      try {
        handler(payload, sender);
      } catch (error) {
        console.warn(`Ignored a "${topic}" message`, error);
      }
    }
  }),
);

// Data messages between participants: a JSON object on a topic. Anything else is dropped,
// and a handler that throws loses only that message: junk from one participant cannot
// break anyone else's page.
import { LK, onRoom } from "./session.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const handlers = new Map(); // topic -> [handler(payload, sender or undefined for the server)]

export const onData = (topic, handler) => handlers.set(topic, [...(handlers.get(topic) || []), handler]);

let seal = null; // E2EE meetings: e2ee.js tags ours and checks others' (see there)
export const sealWith = (s) => (seal = s);

// Lossy (reliable: false) suits reactions: a late one is worthless.
export async function send(room, topic, payload, { reliable = true, to } = {}) {
  const bytes = encoder.encode(JSON.stringify(payload));
  return room.localParticipant.publishData(seal ? await seal.sign(bytes) : bytes, { reliable, topic, destinationIdentities: to });
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

let inOrder = Promise.resolve(); // seal.open is async: messages keep their order
onRoom((room) =>
  room.on(LK.RoomEvent.DataReceived, (bytes, sender, _kind, topic, _encryption, identity) => {
    if (identity && !sender) return; // not known yet: never taken for the server (no identity)
    inOrder = inOrder.then(() => (identity && seal ? seal.open(bytes) : bytes)).then((b) => deliver(b, sender, topic));
  }),
);

function deliver(bytes, sender, topic) {
  const listeners = handlers.get(topic) || [];
  const payload = listeners.length && bytes && decode(bytes);
  for (const handler of payload ? listeners : []) {
    try {
      handler(payload, sender);
    } catch (error) {
      console.warn(`Ignored a "${topic}" message`, error);
    }
  }
}

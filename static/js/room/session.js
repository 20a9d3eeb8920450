// What the parts of the meeting page share: the server's page data, the livekit-client
// bundle (global `LivekitClient`, loaded with `defer` before these modules), and the call.
// A rejoin replaces `session.room`: read it when needed, do not keep it.
import { pageData, readJSON } from "../api.js";

export const LK = window.LivekitClient;
export const page = pageData();
export const session = { room: null, ticket: null };
// Your own "audio" and "video" while they go out (kind -> promise): the call shows before.
export const publishing = new Map();

// A failed connect must not show an "ended" screen: only rooms that connected can end.
const connected = new WeakSet();
export const markConnected = (room) => connected.add(room);
export const wasConnected = (room) => connected.has(room);

// The JSON the server writes on a participant ({"role": ...}) or the room.
export const metadataOf = (participantOrRoom) => readJSON(() => participantOrRoom.metadata);

export function roleOf(participant) {
  const { role } = metadataOf(participant);
  return ["host", "guest"].includes(role) ? role : "participant";
}

export const isHost = (participant) => roleOf(participant) === "host";
export const nameOf = (participant) => participant.name || participant.identity;
export const isLocal = (participant) => participant === session.room?.localParticipant;
// The people in the call. The media worker's recorder joins as an agent: it is no one's tile,
// row or count (its work shows as the recording sign).
export const everyone = (room) => [room.localParticipant, ...[...room.remoteParticipants.values()].filter((p) => !p.isAgent)];

// What each module attaches to every room the page connects to.
const attachers = [];
export const onRoom = (attach) => attachers.push(attach);
export const attachRoom = (room) => attachers.forEach((attach) => attach(room));
export const onEvents = (room, names, handler) => names.forEach((name) => room.on(LK.RoomEvent[name], handler));
// What changes how a person looks in the call: the stage and the People panel redraw on these.
export const PEOPLE_EVENTS = [
  "ParticipantConnected", "ParticipantDisconnected", "TrackPublished", "TrackUnpublished", "TrackMuted",
  "TrackUnmuted", "LocalTrackPublished", "LocalTrackUnpublished", "ParticipantNameChanged",
  "ParticipantAttributesChanged", "ParticipantMetadataChanged",
];

// Where a join stands, as User Timing marks ("join:token"...) and on <html data-join-phase>:
// a test names the phase a slow join stopped in, and the benchmark reads the times.
export function markJoin(phase) {
  performance.mark(`join:${phase}`);
  document.documentElement.dataset.joinPhase = phase;
}

// What every part of the meeting page shares: the server's page data, the livekit-client
// bundle (global `LivekitClient`, loaded with `defer` before these modules run), and the
// current call. A rejoin replaces `session.room`, so read it when needed instead of keeping it.
import { $ } from "./dom.js";

export const LK = window.LivekitClient;
export const page = JSON.parse($("page-data").textContent);

export const session = {
  room: null, // the connected LivekitClient.Room, or null between calls
  ticket: null, // the join ticket of the current call (role, can_publish, join_muted...)
};

// Rooms that finished connecting: a failed connect ends without an "ended" screen.
const connectedRooms = new WeakSet();
export const markConnected = (room) => connectedRooms.add(room);
export const wasConnected = (room) => connectedRooms.has(room);

const ROLES = new Set(["host", "participant", "guest"]);

// The server puts {"role": ...} in each token's metadata; anything else counts as a plain
// participant rather than breaking the page.
export function roleOf(participant) {
  try {
    const role = JSON.parse(participant.metadata || "{}").role;
    return ROLES.has(role) ? role : "participant";
  } catch {
    return "participant";
  }
}

export const isHost = (participant) => roleOf(participant) === "host";
export const nameOf = (participant) => participant.name || participant.identity;
export const isLocal = (participant) =>
  Boolean(session.room) && participant === session.room.localParticipant;
export const amHost = () => Boolean(session.ticket) && session.ticket.role === "host";

// Listeners that other modules add to every room this page connects to.
const roomListeners = [];
export function onRoom(attach) {
  roomListeners.push(attach);
}
export function attachRoom(room) {
  for (const attach of roomListeners) attach(room);
}

// The lobby as the waiting person sees it: a request the server holds until a host decides,
// and the room's connection warmed up meanwhile.
import { api } from "../api.js";
import { page } from "./session.js";

const POLL_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves with the same ticket a 201 from the token endpoint gives, and the room prepared;
// rejects with an Error whose `code` says why (lobby_denied, removed, meeting_ended…).
export async function waitForAdmission(waiting, { onPosition, newRoom }) {
  const url = page.tokenUrl.replace(/tokens$/, `lobby/${encodeURIComponent(waiting.lobby_id)}?wait=25`);
  const room = newRoom();
  room.prepareConnection(waiting.livekit_url);
  onPosition(waiting.position);
  for (;;) {
    // A quick answer (a busy server holds none, or an error) is asked again after a second.
    const next = Date.now() + POLL_MS;
    try {
      const answer = await api(url, { method: "GET", fallback: "Could not join. Try again." });
      if (answer.token) return { ...answer, room };
      onPosition(answer.position);
    } catch (error) {
      // No answer, a busy server or too many asks: the place is kept on the server.
      if (error.status && error.status < 500 && error.status !== 429) {
        error.code ||= "lobby_error";
        throw error;
      }
    }
    await sleep(next - Date.now());
  }
}

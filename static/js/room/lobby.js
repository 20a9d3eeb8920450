// The lobby as the waiting person sees it: ask the server every second until a host decides.
// The server keeps the queue; this page only reports its place and collects the token.
import { api } from "../api.js";
import { page } from "./session.js";

const POLL_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves with the same ticket a 201 from the token endpoint gives; rejects with an Error
// whose `code` says why (lobby_denied, removed, meeting_ended, meeting_over…).
export async function waitForAdmission(waiting, { onPosition = () => {} } = {}) {
  const url = page.tokenUrl.replace(/tokens$/, `lobby/${encodeURIComponent(waiting.lobby_id)}`);
  onPosition(waiting.position);
  for (;;) {
    await sleep(POLL_MS);
    let answer;
    try {
      answer = await api(url, { method: "GET", fallback: "Could not join. Try again." });
    } catch (error) {
      // No answer, a busy server or too many asks: the place is kept on the server, ask again.
      if (!error.status || error.status >= 500 || error.status === 429) continue;
      error.code ||= "lobby_error";
      throw error;
    }
    if (answer.token) return answer;
    onPosition(answer.position);
  }
}

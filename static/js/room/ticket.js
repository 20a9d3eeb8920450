// Asking the app for a join ticket (a LiveKit token for this meeting), through the lobby
// when the meeting has one.
import { api } from "../api.js";
import { page } from "./session.js";

// Resolves with the ticket; rejects with an Error whose `code` is the server's reason.
export async function fetchTicket(request, options) {
  const answer = await api(page.tokenUrl, { body: request });
  if (answer.status !== "waiting") return answer;
  // 202: wait in the lobby. lobby.js (loaded only then, so the page works without it)
  // resolves with the same ticket once a host lets the person in.
  const { waitForAdmission } = await import("./lobby.js");
  return waitForAdmission(answer, options);
}

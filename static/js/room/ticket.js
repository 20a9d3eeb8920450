// Asking the app for a join ticket (a LiveKit token for this meeting), through the lobby
// when the meeting has one.
import { csrfToken } from "../common.js";
import { page } from "./session.js";

// Resolves with the ticket; rejects with an Error whose `code` is the server's reason.
export async function fetchTicket(request, { onPosition }) {
  const response = await fetch(page.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(request),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error?.message || `The server answered ${response.status}.`);
    error.code = body.error?.code;
    throw error;
  }
  if (response.status !== 202) return body;
  // 202: wait in the lobby. lobby.js (loaded only then, so the page works without it)
  // resolves with the same ticket once a host lets the person in.
  const { waitForAdmission } = await import("./lobby.js");
  return waitForAdmission(body, { onPosition });
}

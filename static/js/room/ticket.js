// Asking the app for a join ticket (a LiveKit token for this meeting), through the lobby
// when the meeting has one.
import { csrfToken } from "../common.js";
import { page } from "./session.js";

export class TicketRefused extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function requestTicket(request) {
  const response = await fetch(page.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(request),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || { message: `The server answered ${response.status}.` };
    throw new TicketRefused(error.message, error.code);
  }
  return { status: response.status, body };
}

// Resolves with the ticket. A 202 means "wait in the lobby": lobby.js (loaded only then, so
// the page works without it) resolves once a host lets the person in.
export async function fetchTicket(request, { onPosition } = {}) {
  const { status, body } = await requestTicket(request);
  if (status !== 202) return body;
  const { waitForAdmission } = await import("./lobby.js");
  return waitForAdmission(body, { onPosition });
}

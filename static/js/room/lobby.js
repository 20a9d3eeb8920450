// The lobby as the waiting person sees it: ask the server every second until a host decides.
// The server keeps the queue; this page only reports its place and collects the token.

const POLL_MS = 1000;
const pageData = JSON.parse(document.getElementById("page-data").textContent);

function placeUrl(lobbyId) {
  return pageData.tokenUrl.replace(/tokens$/, `lobby/${encodeURIComponent(lobbyId)}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves with the same ticket a 201 from the token endpoint gives; rejects with an Error
// whose `code` says why (lobby_denied, removed, meeting_ended, meeting_over…).
export async function waitForAdmission(waiting, { onPosition = () => {} } = {}) {
  const url = placeUrl(waiting.lobby_id);
  onPosition(waiting.position);
  for (;;) {
    await sleep(POLL_MS);
    let response;
    let body;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      body = await response.json();
    } catch {
      continue; // a network blip: the place is kept on the server, ask again
    }
    if (response.ok && body.token) return body;
    if (response.ok) {
      onPosition(body.position);
      continue;
    }
    if (response.status >= 500 || response.status === 429) continue;
    const error = new Error((body.error && body.error.message) || "Could not join. Try again.");
    error.code = (body.error && body.error.code) || "lobby_error";
    throw error;
  }
}

// How page scripts reach the app: the page's data from the server, and the JSON API with the
// CSRF token of <meta name="csrf-token">.

// The JSON read() returns, or {} when it is missing or garbled.
export function readJSON(read) {
  try {
    return JSON.parse(read()) || {};
  } catch {
    return {};
  }
}

// The JSON of <script type="application/json" id="page-data">.
export const pageData = (id = "page-data") => readJSON(() => document.getElementById(id).textContent);

// Resolves with the JSON answer; rejects with an Error to show: the server's error message
// (or `fallback`), its `code`, and the HTTP `status` (none when the app was not reached).
export async function api(url, { method = "POST", body = method === "GET" ? null : {}, fallback } = {}) {
  const token = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const headers = { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": token };
  const response = await fetch(url, { method, headers, body: body && JSON.stringify(body) }).catch(() => null);
  if (!response) throw new Error("The app is not reachable. Check your connection.");
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  const { message, code } = answer.error || {};
  throw Object.assign(new Error(message || fallback || `The server answered ${response.status}.`), { code, status: response.status });
}

// Why a camera, microphone or screen share did not start, in plain words. Loaded only when
// one fails (prejoin.js, controls.js, settings.js): most visits never need it.
export function describeMediaError(error, what = "camera or microphone") {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return `The browser blocked your ${what}. Allow it in the address bar, then reload. You can still join without it.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return `No ${what} was found. Plug one in, or join without it.`;
    case "NotReadableError":
    case "AbortError":
      return `Your ${what} is in use by another application. Close it there, then try again.`;
    default:
      return `Your ${what} could not be started. You can still join.`;
  }
}

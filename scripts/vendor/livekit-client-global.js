// The page already runs livekit-client (its UMD bundle, window.LivekitClient): the bundled
// track processors use that one instead of carrying a second copy.
export const getLogger = (...args) => window.LivekitClient.getLogger(...args);

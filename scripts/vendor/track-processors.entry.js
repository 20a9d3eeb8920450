// What the room's background effects use of @livekit/track-processors, bundled with MediaPipe's
// tasks-vision into static/vendor/track-processors.js by `make` (esbuild): one file, loaded by
// the page only when someone turns an effect on.
export {
  BackgroundProcessor,
  supportsBackgroundProcessors,
  supportsModernBackgroundProcessors,
} from "@livekit/track-processors";

#!/usr/bin/env bash
# Copies the browser files the pages load from npm packages (pinned by package-lock.json) into
# static/vendor/, so that nothing is fetched from a CDN at run time. Used by `make` and the
# Dockerfile alike. Run from the project directory after `npm ci`.
set -euo pipefail
out=static/vendor
mkdir -p "$out/mediapipe"
cp node_modules/livekit-client/dist/livekit-client.umd.js "$out/livekit-client.umd.js"
# End-to-end encryption runs in livekit-client's own worker (an ES module worker).
cp node_modules/livekit-client/dist/livekit-client.e2ee.worker.mjs "$out/livekit-client.e2ee.worker.js"
# The watch page plays HLS with hls.js where the browser has no HLS of its own.
cp node_modules/hls.js/dist/hls.light.min.js "$out/hls.light.min.js"
# Background effects: the track processors and MediaPipe's tasks-vision in one ES module
# (livekit-client itself is the page's), MediaPipe's WASM files and the segmentation model.
node_modules/.bin/esbuild scripts/vendor/track-processors.entry.js --bundle --format=esm \
  --minify --log-level=warning --alias:livekit-client=./scripts/vendor/livekit-client-global.js \
  --outfile="$out/track-processors.js"
# Only the SIMD build: every browser the room supports has WASM SIMD (Chrome 91, Firefox 89,
# Safari 16.4); compressing the other 9 MB cost every set-up half a minute for none of them.
cp node_modules/@mediapipe/tasks-vision/wasm/vision_wasm_internal.{js,wasm} "$out/mediapipe/"
# The segmentation model, given the metadata tasks-vision's ImageSegmenter requires (the file
# as shipped is refused: see the script).
node scripts/vendor/segmenter-metadata.mjs node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite \
  "$out/mediapipe/selfie_segmentation.tflite"

// ESLint for the page scripts in static/js: `npm run lint`. The vendored livekit-client bundle
// (static/vendor, built from npm) is not ours to lint. CommonJS, so package.json needs no
// "type": the page scripts are ES modules by the config below, not by package.json.
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  { ignores: ["static/vendor/", "node_modules/", "tests/artifacts/", "bench/work/"] },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: globals.browser },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
];

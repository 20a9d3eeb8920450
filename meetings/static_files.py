"""Static files: served by WhiteNoise under a versioned prefix, pre-compressed, cached for a year.

`url_for('static', filename=...)` gives `/static/<build-id>/<filename>`. The build id is a short
hash of the static tree's contents, so any change to any file gives every file a new URL and
a far-future `immutable` cache is safe. A directory prefix (not a per-file hash) keeps the room's
ES modules, which import each other with relative paths (`./chat.js`), on the same version.
Plain `/static/<filename>` still answers, with a short cache, for links made before a deploy,
and so does a previous build's prefix: a room page opened before a deploy still finds the
modules it imports later (moderation.js once a host joins).
"""

import hashlib
import os
import re
from pathlib import Path
from wsgiref.headers import Headers

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.responders import MissingFileError, StaticFile

URL_PREFIX = "/static"
BUILD_ID_LENGTH = 10
IMMUTABLE = "public, max-age=31536000, immutable"
UNVERSIONED_MAX_AGE = 60  # seconds: /static/<file> may change at the next deploy
# Written by `python -m whitenoise.compress static/` next to each file; not part of the build.
COMPRESSED_SUFFIXES = (".gz", ".br")
ANY_BUILD = re.compile(rf"^{URL_PREFIX}/[0-9a-f]{{{BUILD_ID_LENGTH}}}/(?P<filename>.+)$")


def init_app(app: Flask) -> None:
    """Route `static` to the versioned prefix and put WhiteNoise in front of the app."""
    root = Path(app.config["STATIC_DIR"]).resolve()
    build_id = static_build_id(root)
    app.config["STATIC_BUILD_ID"] = build_id
    app.static_folder = str(root)
    app.static_url_path = f"{URL_PREFIX}/{build_id}"
    # Flask serves what WhiteNoise did not find at start-up (a file added later); the endpoint
    # keeps its usual name so templates say url_for('static', filename=...).
    app.add_url_rule(
        f"{app.static_url_path}/<path:filename>",
        endpoint="static",
        view_func=app.send_static_file,
    )
    app.wsgi_app = StaticFiles(
        app.wsgi_app, root, build_id, autorefresh=app.config["STATIC_AUTOREFRESH"]
    )


def static_build_id(root: Path) -> str:
    """A short hash of every file's path and bytes under `root` (compressed copies excluded)."""
    digest = hashlib.sha256()
    for path in sorted(_source_files(root)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:BUILD_ID_LENGTH]


def _source_files(root: Path):
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if not name.endswith(COMPRESSED_SUFFIXES):
                yield Path(directory) / name


class StaticFiles(WhiteNoise):
    """WhiteNoise with a year of `immutable` caching under the versioned prefix only.

    In development (`autorefresh`) files are looked up on every request and revalidated by the
    browser each time, so an edit shows on reload although the build id was computed at start.
    """

    def __init__(self, application, root: Path, build_id: str, *, autorefresh: bool) -> None:
        self.versioned_prefix = f"{URL_PREFIX}/{build_id}/"
        super().__init__(
            application,
            autorefresh=autorefresh,
            max_age=UNVERSIONED_MAX_AGE,
            allow_all_origins=False,
            add_headers_function=_add_security_headers,
        )
        self.add_files(str(root), prefix=self.versioned_prefix)
        self.add_files(str(root), prefix=f"{URL_PREFIX}/")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        other_build = ANY_BUILD.match(path)
        if other_build and not path.startswith(self.versioned_prefix):
            # Today's file under its plain URL: short cache, never stored as the old build's.
            plain = f"{URL_PREFIX}/{other_build['filename']}"
            environ = {**environ, "PATH_INFO": plain}
        return super().__call__(environ, start_response)

    def add_cache_headers(self, headers, path, url) -> None:
        if self.autorefresh:
            headers["Cache-Control"] = "no-cache"
        elif url.startswith(self.versioned_prefix):
            headers["Cache-Control"] = IMMUTABLE
        else:
            headers["Cache-Control"] = f"public, max-age={UNVERSIONED_MAX_AGE}"

    def get_static_file(self, path, url, stat_cache=None):
        # As WhiteNoise's, except that a .gz/.br older than its file is not offered: a file
        # edited after the last `make` must not be answered with its previous bytes.
        if stat_cache is None and not os.path.exists(path):
            raise MissingFileError(path)
        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        self.add_cache_headers(headers, path, url)
        self.add_headers_function(headers, path, url)
        encodings = {
            encoding: alternative
            for encoding, alternative in (("gzip", path + ".gz"), ("br", path + ".br"))
            if _is_fresh(alternative, path, stat_cache)
        }
        return StaticFile(path, headers.items(), stat_cache=stat_cache, encodings=encodings)


def _is_fresh(alternative: str, path: str, stat_cache: dict | None) -> bool:
    stat = os.stat if stat_cache is None else stat_cache.get
    try:
        alternative_stat, source_stat = stat(alternative), stat(path)
    except OSError:
        return False
    if alternative_stat is None or source_stat is None:
        return False
    # whitenoise.compress gives each compressed copy its source's mtime.
    return alternative_stat.st_mtime >= source_stat.st_mtime


def _add_security_headers(headers, _path, _url) -> None:
    # Flask's after_request does not see these answers; keep the header every answer has.
    headers["X-Content-Type-Options"] = "nosniff"

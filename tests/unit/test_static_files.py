"""Static files: versioned URLs cached a year, gzip/brotli on the wire, new URL for new bytes."""

import gzip
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from flask import Flask
from whitenoise.compress import Compressor

from config import TestingConfig
from meetings import create_app
from meetings.static_files import static_build_id

PROJECT_STATIC = Path(__file__).resolve().parents[2] / "static"
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')
YEAR = "max-age=31536000"


def assets_of(html: str) -> list[str]:
    return ASSET.findall(html)


def fetch(client, url: str, **headers: str):
    # buffered: the file WhiteNoise opened is closed once read, as gunicorn closes it.
    return client.get(url, headers=headers, buffered=True)


@pytest.fixture
def static_copy(tmp_path: Path) -> Path:
    """The app's static tree without vendor/ and without compressed copies."""
    root = tmp_path / "static"
    shutil.copytree(PROJECT_STATIC, root, ignore=shutil.ignore_patterns("vendor", "*.gz", "*.br"))
    return root


@pytest.fixture
def app_on(tmp_path: Path) -> Callable[..., Flask]:
    """An app serving static files from `root` (as a deploy of that tree would)."""

    def make(root: Path, **overrides) -> Flask:
        database = f"sqlite:///{tmp_path / 'static.db'}"
        return create_app(
            TestingConfig,
            {"SQLALCHEMY_DATABASE_URI": database, "STATIC_DIR": str(root), **overrides},
        )

    return make


def compress(root: Path) -> None:
    compressor = Compressor(quiet=True)  # .gz and .br, as `make` writes them
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if compressor.should_compress(name):
                compressor.compress(os.path.join(directory, name))


def test_a_returning_visitor_downloads_nothing_again(app, client, make_meeting):
    build_id = app.config["STATIC_BUILD_ID"]
    page = client.get(f"/m/{make_meeting().slug}").get_data(as_text=True)
    assets = assets_of(page)
    assert any(url.endswith("js/room/main.js") for url in assets)
    assert any(url.endswith("css/room.css") for url in assets)
    for url in assets:
        assert url.startswith(f"/static/{build_id}/"), url
        if "/vendor/" in url and not (PROJECT_STATIC / "vendor").is_dir():
            continue  # built by `make`; the URL is what matters here
        response = fetch(client, url)
        assert response.status_code == 200, url
        cache = response.headers["Cache-Control"]
        # A browser keeps the file a year and does not even revalidate it on reload.
        assert YEAR in cache and "immutable" in cache and "public" in cache, url


def test_every_page_links_its_files_by_version(app, client, make_user, make_meeting, login):
    host = make_user()
    meeting = make_meeting(host=host)
    login(host)
    prefix = f"/static/{app.config['STATIC_BUILD_ID']}/"
    for page in (
        "/dashboard",
        f"/meetings/{meeting.slug}/edit",
        "/recordings",
        f"/m/{meeting.slug}",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assets = assets_of(response.get_data(as_text=True))
        assert assets, page
        assert all(url.startswith(prefix) for url in assets), (page, assets)


def test_browsers_that_accept_gzip_get_the_file_gzipped(static_copy, app_on):
    compress(static_copy)
    app = app_on(static_copy)
    client = app.test_client()
    url = f"/static/{app.config['STATIC_BUILD_ID']}/css/room.css"
    original = (static_copy / "css" / "room.css").read_bytes()

    response = fetch(client, url, **{"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) < len(original) / 2
    assert gzip.decompress(response.get_data()) == original

    plain = fetch(client, url)
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data() == original


def test_browsers_that_accept_brotli_get_the_smallest_file(static_copy, app_on):
    compress(static_copy)
    app = app_on(static_copy)
    url = f"/static/{app.config['STATIC_BUILD_ID']}/css/room.css"
    original = (static_copy / "css" / "room.css").read_bytes()
    response = fetch(app.test_client(), url, **{"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.get_data()) < len(gzip.compress(original, 9))
    assert brotli.decompress(response.get_data()) == original


def test_a_file_edited_after_compressing_is_never_sent_stale(static_copy, app_on):
    compress(static_copy)
    chat = static_copy / "js" / "room" / "chat.js"
    chat.write_text(chat.read_text() + "\n// edited after make\n")
    later = chat.stat().st_mtime + 5
    os.utime(chat, (later, later))
    app = app_on(static_copy)
    url = f"/static/{app.config['STATIC_BUILD_ID']}/js/room/chat.js"
    response = fetch(app.test_client(), url, **{"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == chat.read_bytes()


def test_a_deploy_with_a_changed_file_gives_every_file_a_new_url(static_copy, app_on):
    before = app_on(static_copy)
    old_id = before.config["STATIC_BUILD_ID"]
    assert static_build_id(static_copy) == old_id  # derived from the bytes alone

    chat = static_copy / "js" / "room" / "chat.js"
    chat.write_text(chat.read_text() + "\n// new feature\n")
    after = app_on(static_copy)
    new_id = after.config["STATIC_BUILD_ID"]
    assert new_id != old_id
    client = after.test_client()
    # A visitor who cached the old main.js fetches it again: its URL changed with chat.js,
    # so the unchanged main.js and the chat.js it imports stay of the same build.
    response = fetch(client, f"/static/{new_id}/js/room/chat.js")
    assert response.get_data() == chat.read_bytes()
    assert "immutable" in response.headers["Cache-Control"]

    # A room page opened before the deploy still loads what it imports later, briefly cached.
    late_import = fetch(client, f"/static/{old_id}/js/room/moderation.js")
    assert late_import.status_code == 200
    assert "immutable" not in late_import.headers["Cache-Control"]


def test_plain_static_urls_still_work_with_a_short_cache(client):
    response = fetch(client, "/static/css/app.css")
    assert response.status_code == 200
    assert response.get_data() == (PROJECT_STATIC / "css" / "app.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_missing_static_file_is_a_404(app, client):
    build_id = app.config["STATIC_BUILD_ID"]
    for url in (
        f"/static/{build_id}/js/room/nope.js",
        "/static/js/nope.js",
        f"/static/{build_id}/../config.py",
        "/static/0123456789/js/nope.js",
    ):
        assert fetch(client, url).status_code == 404, url


def test_the_livekit_bundle_does_not_hold_up_the_room_page(client, make_meeting):
    page = client.get(f"/m/{make_meeting().slug}").get_data(as_text=True)
    bundle = re.search(r"<script[^>]*livekit-client\.umd\.js[^>]*>", page).group(0)
    # Deferred: the page is parsed and painted while the 600 KB bundle downloads; it still
    # runs before the room's modules, which run in document order after it.
    assert " defer " in bundle or bundle.startswith("<script defer")
    assert page.index("livekit-client.umd.js") < page.index("js/room/main.js")


def test_development_shows_an_edited_file_on_reload(static_copy, app_on):
    app = app_on(static_copy, STATIC_AUTOREFRESH=True)
    client = app.test_client()
    url = f"/static/{app.config['STATIC_BUILD_ID']}/js/common.js"
    assert fetch(client, url).headers["Cache-Control"] == "no-cache"
    common = static_copy / "js" / "common.js"
    common.write_text("// rewritten while the server runs\n")
    assert fetch(client, url).get_data() == common.read_bytes()

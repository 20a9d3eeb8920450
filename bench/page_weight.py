"""Scenario page_weight: bytes on the wire (CDP Network.loadingFinished encodedDataLength,
headers included, so compressed when the server compresses) for the meeting page before
joining and once in the call, split into the app's own files and static/vendor, with a cold
cache and again warm (same browser context). Chromium sends its own Accept-Encoding, as any
visitor's browser does; the result records it and the Content-Encoding of each answer."""

import gzip
import re
from collections import defaultdict
from urllib.parse import urlsplit

from bench.browser import chromium
from bench.stack import BASELINE_PATH, BenchStack
from bench.time_to_join import publisher_ticket
from tests.support.browser_pages import PREVIEW_SHOWS_CAMERA
from tests.support.synthetic import BackgroundParticipants

TARGET_APP_JS_CSS_BYTES = 80 * 1024
STATIC_TYPES = (".js", ".css")
CONNECTED = "() => document.getElementById('connection-status').textContent.trim() === 'Connected'"
# What a guest in a meeting without recording has no use for, on either page.
FEATURE_FILES = ("/static/css/recordings.css", "/static/js/room/recording.js",
                 "/static/css/moderation.css", "/static/js/room/moderation.js",
                 "/static/js/room/lobby.js", "/static/js/room/settings.js")  # fmt: skip
# Static URLs carry the build id (/static/<hash>/js/...); the split below ignores it.
BUILD_PREFIX = re.compile(r"^/static/[0-9a-f]{10}/")


def static_path(url: str) -> str:
    """The URL's path with any build id removed: /static/<hash>/vendor/x -> /static/vendor/x."""
    return BUILD_PREFIX.sub("/static/", urlsplit(url).path)


class WireLog:
    """Responses the page received, from the DevTools protocol: url, encoding, bytes."""

    def __init__(self, page):
        self.urls: dict[str, str] = {}
        self.encodings: dict[str, str] = {}
        self.accept_encoding: set[str] = set()
        self.bytes: dict[str, int] = defaultdict(int)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSentExtraInfo", self._request_sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)

    def _request_sent(self, event: dict) -> None:
        # The headers as sent on the wire, Accept-Encoding included (added by the network
        # stack, so absent from requestWillBeSent).
        headers = {k.lower(): v for k, v in event.get("headers", {}).items()}
        if "accept-encoding" in headers:
            self.accept_encoding.add(headers["accept-encoding"])

    def _response(self, event: dict) -> None:
        response = event["response"]
        self.urls[event["requestId"]] = response["url"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.encodings[response["url"]] = headers.get("content-encoding", "identity")

    def _finished(self, event: dict) -> None:
        url = self.urls.get(event["requestId"])
        if url is not None:
            self.bytes[url] += int(event["encodedDataLength"])

    def take(self) -> dict[str, int]:
        taken = dict(self.bytes)
        self.bytes.clear()
        return taken


def classify(by_url: dict[str, int]) -> dict:
    vendor = app = app_js_css = 0
    for url, size in by_url.items():
        path = static_path(url)
        if path.startswith("/static/vendor/"):
            vendor += size
        else:
            app += size
            if path.startswith("/static/") and path.endswith(STATIC_TYPES):
                app_js_css += size
    return {
        "app_bytes": app,
        "app_js_css_bytes": app_js_css,
        "vendor_bytes": vendor,
        "total_bytes": app + vendor,
        "requests": len(by_url),
    }


def run(stack: BenchStack) -> dict:
    host = stack.make_host()
    slug, _room = stack.make_meeting(host, "Bench page weight")
    ticket = publisher_ticket(stack, slug)
    pages: dict = {"pre_join": {}, "in_call": {}}
    encodings: dict[str, str] = {}
    fetched: set[str] = set()
    html: dict = {}
    with BackgroundParticipants([ticket], publish_video=True), chromium() as browser:
        context = browser.new_context(base_url=stack.base_url)
        page = context.new_page()
        wire = WireLog(page)
        for cache in ("cold", "warm"):
            page.goto(f"/m/{slug}", wait_until="networkidle")
            page.wait_for_function(PREVIEW_SHOWS_CAMERA)
            taken = wire.take()
            if cache == "cold":
                html = document_weight(taken, wire.encodings, f"/m/{slug}")
            fetched |= {static_path(url) for url in taken}
            pages["pre_join"][cache] = classify(taken)
            page.get_by_label("Your name").fill("Weigher")
            page.get_by_role("button", name="Join meeting").click()
            page.wait_for_function(CONNECTED)
            page.wait_for_load_state("networkidle")
            taken = wire.take()
            fetched |= {static_path(url) for url in taken}
            in_call = classify(taken)
            # The call costs what the pre-join page cost plus what joining fetched.
            pages["in_call"][cache] = add(pages["pre_join"][cache], in_call)
        encodings = dict(wire.encodings)
        accept_encoding = sorted(wire.accept_encoding)
        context.close()
    static_encodings = {
        static_path(url): encoding
        for url, encoding in encodings.items()
        if static_path(url).startswith("/static/") and static_path(url).endswith(STATIC_TYPES)
    }
    compressed = any(v not in ("identity", "") for v in static_encodings.values())
    largest = max(p["cold"]["app_js_css_bytes"] for p in pages.values())
    gzipped = gzip_sizes(stack, encodings)
    unused = sorted(path for path in fetched if path in FEATURE_FILES)
    return {
        "note": note(compressed, largest, gzipped),
        "pages": pages,
        "pre_join_html": html,
        "unused_feature_files": unused,
        "browser_accept_encoding": accept_encoding,
        "server_compresses": compressed,
        "static_encodings": static_encodings,
        "gzip_would_be": gzipped,
        "baseline": {"path": BASELINE_PATH, "bytes": sum_for(BASELINE_PATH, stack)},
        "target": {
            "app_js_css_bytes_below": TARGET_APP_JS_CSS_BYTES,
            "largest_app_js_css_bytes": largest,
            "met": largest < TARGET_APP_JS_CSS_BYTES,
            "html_compressed": html.get("encoding") in ("br", "gzip"),
            "no_unused_feature_files": not unused,
        },
    }


def document_weight(taken: dict[str, int], encodings: dict[str, str], path: str) -> dict:
    """The pre-join page's HTML itself: bytes on the wire and how the server encoded it."""
    url = next(url for url in taken if urlsplit(url).path == path)
    return {"bytes": taken[url], "encoding": encodings.get(url, "identity")}


def note(compressed: bool, largest: int, gzipped: dict) -> str:
    if compressed:
        verdict = "meets" if largest < TARGET_APP_JS_CSS_BYTES else "misses"
        return (
            f"static files are sent pre-compressed; the page's own JS+CSS weighs "
            f"{largest / 1024:.1f} KB on the wire cold, which {verdict} the target."
        )
    verdict = "would meet" if gzipped["app_js_css_bytes"] < TARGET_APP_JS_CSS_BYTES else "misses"
    return (
        f"the app sends every file uncompressed (no Content-Encoding), so the page's own JS+CSS "
        f"weighs {largest / 1024:.1f} KB on the wire; gzipped it is "
        f"{gzipped['app_js_css_bytes'] / 1024:.1f} KB (and the vendor bundle "
        f"{gzipped['vendor_bytes'] / 1024:.1f} KB), which {verdict} the target: what limits it "
        "is the missing pre-compression of static files, not the code's size."
    )


def add(a: dict, b: dict) -> dict:
    return {key: a[key] + b[key] for key in a}


def gzip_sizes(stack: BenchStack, encodings: dict[str, str]) -> dict:
    """For reference: the app's JS+CSS and the vendor bundle gzipped (level 9), as a
    pre-compressing static server would send them."""
    from bench.http_load import in_thread

    def fetch_all() -> dict:
        import urllib.request

        app_js_css = vendor = 0
        for url in encodings:
            path = static_path(url)
            if not (path.startswith("/static/") and path.endswith(STATIC_TYPES)):
                continue
            # urllib sends no Accept-Encoding: the file as stored, gzipped here.
            with urllib.request.urlopen(stack.base_url + path, timeout=10) as response:  # noqa: S310
                size = len(gzip.compress(response.read(), 9))
            if path.startswith("/static/vendor/"):
                vendor += size
            else:
                app_js_css += size
        return {"app_js_css_bytes": app_js_css, "vendor_bytes": vendor}

    return in_thread(fetch_all)


def sum_for(path: str, stack: BenchStack) -> int:
    from bench.http_load import in_thread

    def fetch() -> int:
        import urllib.request

        with urllib.request.urlopen(stack.base_url + path, timeout=10) as response:  # noqa: S310
            return len(response.read())

    return in_thread(fetch)

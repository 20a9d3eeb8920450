"""Sending less (issue 18): pages and API answers go out compressed to browsers that accept
it, and a page links only the stylesheets its meeting can use."""

import gzip

import brotli

CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"


def test_the_join_page_goes_out_brotli_compressed_and_reads_the_same(client, make_meeting):
    url = f"/m/{make_meeting().slug}"
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": CHROMIUM_ACCEPTS})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in packed.headers["Vary"]  # caches keep the two apart
    html = brotli.decompress(packed.get_data()).decode()
    assert "Ready to join?" in html and "Weekly sync" in html
    assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_a_browser_without_brotli_gets_gzip(client, make_meeting):
    packed = client.get(f"/m/{make_meeting().slug}", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Ready to join?" in gzip.decompress(packed.get_data()).decode()


def test_api_answers_are_compressed_too(client):
    answer = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": CHROMIUM_ACCEPTS})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "br"
    assert b'"openapi"' in brotli.decompress(answer.get_data())


def test_the_recording_style_is_linked_only_where_the_meeting_may_be_recorded(client, make_meeting):
    plain = client.get(f"/m/{make_meeting().slug}").get_data(as_text=True)
    recorded = client.get(f"/m/{make_meeting(recording_allowed=True).slug}")
    assert "recordings.css" not in plain
    assert "This meeting may be recorded" not in plain
    assert "recordings.css" in recorded.get_data(as_text=True)
